// `sep run …`: the run history. Subcommands load lazily; each returns sep's exit code (cli.ts walks
// down to the leaf and exits with what its run() returns).
import { defineCommand } from "citty";

export default defineCommand({
  meta: { name: "run", description: "The run history: list, view, watch, prune and cancel runs" },
  subCommands: {
    list: () => import("./list.ts").then((m) => m.default),
    view: () => import("./view.ts").then((m) => m.default),
    watch: () => import("./watch.ts").then((m) => m.default),
    prune: () => import("./prune.ts").then((m) => m.default),
    cancel: () => import("./cancel.ts").then((m) => m.default),
  },
});
