// `sep queue …`: the durable queue (add, start, status, remove, clear, pause, resume, stop).
import { defineCommand } from "citty";

export default defineCommand({
  meta: { name: "queue", description: "Store jobs now, run them later in FIFO order with `sep queue start`" },
  subCommands: {
    add: () => import("./add.ts").then((m) => m.default),
    start: () => import("./start.ts").then((m) => m.default),
    status: () => import("./status.ts").then((m) => m.default),
    remove: () => import("./remove.ts").then((m) => m.default),
    clear: () => import("./clear.ts").then((m) => m.default),
    pause: () => import("./pause.ts").then((m) => m.default),
    resume: () => import("./resume.ts").then((m) => m.default),
    stop: () => import("./stop.ts").then((m) => m.default),
  },
});
