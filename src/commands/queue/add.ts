// `sep queue add [OPTIONS] -- COMMAND...`: store a job; nothing runs until `sep queue start`.
import { resolve } from "node:path";
import { defineCommand } from "citty";
import { addAllToQueue } from "../../core/queue/entries.ts";
import { UsageError } from "../../errors.ts";
import { logger } from "../../logger.ts";
import { writeStdout } from "../../output.ts";
import { givenOverrides, loadConfig, planJobs } from "../context.ts";
import { parseMegabytes, parseSeconds } from "../args.ts";
import { runOptions } from "../run-options.ts";

export default defineCommand({
  meta: { name: "add", description: "Store a job (argv, cwd and the limits given) for `sep queue start`; runs nothing" },
  args: runOptions,
  run: async ({ args, data }) => {
    const command = (data as { command?: string[] } | undefined)?.command;
    if (command === undefined) throw new UsageError(`missing "--" before the command`, "write it as: sep queue add [OPTIONS] -- COMMAND [ARGS...]");
    if (command.length === 0) throw new UsageError(`no command after "--"`, "write it as: sep queue add [OPTIONS] -- COMMAND [ARGS...]");
    const config = await loadConfig(args);
    const overrides = givenOverrides(config);
    const waitTimeoutMs = parseSeconds(args["wait-timeout"], "--wait-timeout");
    const reserveMb = parseMegabytes(args.reserve, "--reserve");
    // Relative to where the job was added, as it would be for `sep --report`, not to the drain's cwd.
    const reportPath = args.report === undefined ? undefined : resolve(args.report);
    const jobs = await planJobs(command, args, config, "queue");
    const several = jobs.length > 1;
    const group = several ? (args.name ?? command.join(" ")) : undefined;
    // All of a command's jobs are stored together, under consecutive numbers.
    const entries = addAllToQueue(
      config.lockDir,
      jobs.map((job) => ({
        argv: job.argv,
        cwd: process.cwd(),
        name: several ? job.name : args.name,
        overrides,
        waitTimeoutMs,
        ...(reserveMb === undefined ? {} : { reserveMb }),
        reportPath: several ? undefined : reportPath,
        env: job.env,
        group,
      })),
    );
    const ids = entries.map((entry) => entry.id);
    await writeStdout(`${ids.join("\n")}\n`);
    const what = several ? `${command.join(" ")} as ${jobs.length} jobs (${ids[0]}…${ids.at(-1)})` : `${ids[0]}: ${args.name ?? command.join(" ")}`;
    logger.info(`stored ${what} — nothing ran yet; run the queue with \`sep queue start\``);
    return 0;
  },
});
