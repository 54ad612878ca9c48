// The root command: its help, its subcommands (loaded lazily to keep start-up fast) and, by
// default, running a command: `sep [OPTIONS] -- COMMAND [ARGS...]`.
import { type CommandDef, defineCommand } from "citty";
import { runEndOptions, runOptions } from "./commands/run-options.ts";
import { VERSION } from "./version.ts";

export const subCommands: Record<string, () => Promise<CommandDef<any>>> = {
  agent: () => import("./commands/agent/index.ts").then((m) => m.default),
  config: () => import("./commands/config.ts").then((m) => m.default),
  doctor: () => import("./commands/doctor.ts").then((m) => m.default),
  init: () => import("./commands/init.ts").then((m) => m.default),
  plan: () => import("./commands/plan.ts").then((m) => m.default),
  queue: () => import("./commands/queue/index.ts").then((m) => m.default),
  run: () => import("./commands/run/index.ts").then((m) => m.default),
  wait: () => import("./commands/wait.ts").then((m) => m.default),
  status: () => import("./commands/status.ts").then((m) => m.default),
  top: () => import("./commands/top.ts").then((m) => m.default),
};

export const main = defineCommand({
  meta: {
    name: "sep",
    version: VERSION,
    description:
      "Run heavy commands one at a time, in arrival order, inside a memory and a time limit that cover their whole process tree, with every run recorded.\n\n  sep [OPTIONS] -- COMMAND [ARGS...]   run COMMAND when its turn comes; exit with its exit code",
  },
  args: { ...runOptions, ...runEndOptions },
  subCommands,
});
