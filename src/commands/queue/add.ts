// `sep queue add [OPTIONS] -- COMMAND...`: store a job; nothing runs until `sep queue start`.
import { resolve } from "node:path";
import { defineCommand } from "citty";
import { addToQueue } from "../../core/queue.ts";
import { UsageError } from "../../errors.ts";
import { logger } from "../../logger.ts";
import { givenOverrides, loadConfig } from "../context.ts";
import { parseSeconds } from "../exec.ts";
import { runOptions } from "../run-options.ts";

export default defineCommand({
  meta: { name: "add", description: "Store a job (argv, cwd and the limits given) for `sep queue start`; runs nothing" },
  args: runOptions,
  run: async ({ args, data }) => {
    const command = (data as { command?: string[] } | undefined)?.command;
    if (command === undefined) throw new UsageError(`missing "--" before the command`, "write it as: sep queue add [OPTIONS] -- COMMAND [ARGS...]");
    if (command.length === 0) throw new UsageError(`no command after "--"`, "write it as: sep queue add [OPTIONS] -- COMMAND [ARGS...]");
    const config = await loadConfig(args);
    const entry = addToQueue(config.lockDir, {
      argv: command,
      cwd: process.cwd(),
      name: args.name,
      overrides: givenOverrides(args, config),
      waitTimeoutMs: parseSeconds(args["wait-timeout"], "--wait-timeout"),
      // Relative to where the job was added, as it would be for `sep --report`, not to the drain's cwd.
      reportPath: args.report === undefined ? undefined : resolve(args.report),
    });
    process.stdout.write(`${entry.id}\n`);
    logger.info(`stored ${entry.id}: ${entry.name ?? command.join(" ")} — nothing ran yet; run the queue with \`sep queue start\``);
    return 0;
  },
});
