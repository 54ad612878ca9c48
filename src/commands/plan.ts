// `sep plan [--json] [--atomify|--no-atomify] [--enforce-runners|--no-enforce-runners] -- COMMAND`:
// show the jobs a command would become (atomification) and every rewrite, and run nothing.
import { defineCommand } from "citty";
import { UsageError } from "../errors.ts";
import { logger } from "../logger.ts";
import { writeStdout } from "../output.ts";
import { atomifyFlags, atomifyOptions, legacyNotes } from "./atomify-options.ts";
import { loadConfig } from "./context.ts";

export default defineCommand({
  meta: {
    name: "plan",
    description: "Show the jobs a command would be split into (as `sep queue add` would store them) and every rewrite; runs nothing",
  },
  args: {
    json: { type: "boolean", description: "Print a JSON array of atoms: [{ argv, env?, name? }]" },
    ...atomifyOptions,
    verbose: { type: "boolean", alias: "v", description: "Say what sep does, step by step" },
    quiet: { type: "boolean", alias: "q", description: "No notes on stderr" },
  },
  async run({ args, data }) {
    const command = (data as { command?: string[] } | undefined)?.command;
    if (command === undefined) throw new UsageError(`missing "--" before the command`, "write it as: sep plan [OPTIONS] -- COMMAND [ARGS...]");
    if (command.length === 0) throw new UsageError(`no command after "--"`, "write it as: sep plan [OPTIONS] -- COMMAND [ARGS...]");
    const config = await loadConfig(args, atomifyFlags(args));
    const { planCommand, formatArgv } = await import("../atomify/index.ts");
    const plan = await planCommand(command, {
      cwd: process.cwd(),
      root: config.root,
      config,
      atomify: config.atomify,
      enforceRunners: config.enforceRunners,
    });
    for (const note of legacyNotes(args)) logger.info(note);
    for (const note of plan.notes) logger.info(note);
    if (!plan.tool) logger.info(`${formatArgv(command.slice(0, 1))} is not a tool sep splits or rewrites; it runs exactly as written`);
    const env = plan.atoms[0]?.env;
    if (env) logger.info(`each job runs with ${Object.entries(env).map(([k, v]) => `${k}=${v}`).join(" ")}`);
    if (args.json) await writeStdout(`${JSON.stringify(plan.atoms, null, 2)}\n`);
    else await writeStdout(plan.atoms.map((atom) => `${formatArgv(atom.argv)}\n`).join(""));
    return 0;
  },
});
