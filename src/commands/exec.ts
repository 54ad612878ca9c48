// `sep [OPTIONS] -- COMMAND [ARGS...]`: run one command when its turn comes.
import { UsageError } from "../errors.ts";
import { installInterruptHandlers } from "../core/interrupts.ts";
import { RUN_ID_PATTERN } from "../core/records/history.ts";
import { runNow } from "../core/run-now.ts";
import { insideHoldingJob } from "../core/turn/nested.ts";
import { parseFlags, parseMegabytes, parseSeconds } from "./args.ts";
import { loadConfig, planJobs, runReporter } from "./context.ts";
import { runEndOptions, runOptions } from "./run-options.ts";

/** Parses the run options in head and runs command; resolves to sep's exit code. */
export async function runFromCli(head: string[], command: string[] | undefined): Promise<number> {
  const { values: args, positionals } = parseFlags(head, { ...runOptions, ...runEndOptions }, "sep");
  if (command === undefined) {
    const guess = positionals.length > 0 ? positionals.join(" ") : "COMMAND";
    throw new UsageError(`missing "--" before the command`, `write it as: sep [OPTIONS] -- ${guess}`);
  }
  if (positionals.length > 0) {
    throw new UsageError(`unexpected ${JSON.stringify(positionals[0])} before "--"`, `options go before "--", the command after it: sep [OPTIONS] -- COMMAND`);
  }
  if (command.length === 0) throw new UsageError(`no command after "--"`, "write it as: sep [OPTIONS] -- COMMAND [ARGS...]");

  // Signals must be caught before anything waits or runs: an un-handled SIGINT would kill sep and
  // leave its detached job running.
  installInterruptHandlers();
  const config = await loadConfig(args);
  const jobs = await planJobs(command, args, config, "run");
  const supervisedRunId = supervisedRun();
  if (supervisedRunId === undefined && !insideHoldingJob(config)) {
    // Not the background sep of a detaching one, and not nested inside a job: an identical command
    // already waiting joins it, and --detach-after hands the job to a background sep.
    const { joinTwin, waitingTwin } = await import("../agent/join.ts");
    const twin = jobs.length === 1 ? waitingTwin(config.lockDir, jobs[0]!.argv, process.cwd()) : undefined;
    const joined = twin ? await joinTwin(twin, { detachAfterMs: config.detachAfter * 1000 }) : undefined;
    if (joined !== undefined) return joined;
    if (config.detachAfter > 0) {
      const { runDetachable } = await import("../agent/detach.ts");
      return runDetachable(config, config.detachAfter * 1000);
    }
  }
  return runNow(config, {
    jobs,
    command,
    cwd: process.cwd(),
    name: typeof args.name === "string" ? args.name : undefined,
    waitTimeoutMs: parseSeconds(args["wait-timeout"], "--wait-timeout"),
    reserveMb: parseMegabytes(args.reserve, "--reserve"),
    reportPath: typeof args.report === "string" ? args.report : undefined,
    reporter: await runReporter(config),
    supervisedRunId,
  });
}

/**
 * The run this sep owns as the background sep of a detaching `sep --` (SEP_SUPERVISED_RUN); taken
 * out of the environment so the job and anything it starts never inherit it.
 */
function supervisedRun(): string | undefined {
  const runId = process.env.SEP_SUPERVISED_RUN;
  delete process.env.SEP_SUPERVISED_RUN;
  if (runId === undefined) return undefined;
  if (!RUN_ID_PATTERN.test(runId)) throw new UsageError(`SEP_SUPERVISED_RUN is not a run id (got ${JSON.stringify(runId)} in the environment)`, "unset it: sep sets it only for the background sep of a detaching `sep --`");
  return runId;
}
