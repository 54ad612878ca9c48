// `sep -- COMMAND`: a run of one job (or of the command's atoms, with --atomify). Its records are
// created only when the first turn has come, so an invocation that gives up waiting
// (--wait-timeout) or is interrupted while waiting leaves none.
import type { ResolvedConfig } from "../config.ts";
import { logger } from "../logger.ts";
import { concludeUnrun, type JobOverrides, jobLimits, newJobRecord, type RunReporter, runJobInTurn } from "./job-in-turn.ts";
import { WaitTimeoutError } from "./turn/lock.ts";
import { openRecords, pruneOldRuns, writeReport } from "./records/recording.ts";
import { finishRun, newRunId, newRunRecord, type RunWriter } from "./records/runs.ts";

/** One job to run: an argv, and variables it gets on top of sep's environment. */
export interface JobToRun {
  argv: string[];
  env?: Record<string, string>;
  /** its label; default: the argv */
  name?: string;
}

export interface RunNowOptions {
  /** the jobs of the run, in order: one for a plain `sep -- CMD`, the atoms of CMD with --atomify */
  jobs: JobToRun[];
  /** the command as given (the run's title, and each job's group when there are several) */
  command: string[];
  cwd: string;
  name?: string;
  overrides?: JobOverrides;
  /** give up waiting for a turn after this many ms (exit 75) */
  waitTimeoutMs?: number;
  /** also write the record here: the job's, or the run's when there are several jobs */
  reportPath?: string;
  reporter?: RunReporter;
}

/**
 * Runs the jobs, each when its turn comes, as one run; resolves to sep's exit code: 0 when all
 * succeeded, else the first failed job's. Every job runs even after a failure, as in a queue drain;
 * an interrupt stops the run (the rest are recorded as skipped).
 */
export async function runNow(config: ResolvedConfig, options: RunNowOptions): Promise<number> {
  const createdAt = new Date();
  const runId = newRunId(createdAt);
  const several = options.jobs.length > 1;
  const group = several ? (options.name ?? options.command.join(" ")) : undefined;
  const limits = jobLimits(config, options.overrides);
  const run = newRunRecord(runId, options.name ?? options.command.join(" "), createdAt);
  for (const [index, spec] of options.jobs.entries()) {
    const name = several ? (spec.name ?? spec.argv.join(" ")) : (options.name ?? spec.argv.join(" "));
    run.jobs.push(newJobRecord({ runId, n: index + 1, name, argv: spec.argv, cwd: options.cwd, queuedAt: createdAt, limits, group }));
  }

  let writer: RunWriter | undefined;
  let firstFailure: number | undefined;
  let stoppedWith: number | undefined;
  for (const [index, job] of run.jobs.entries()) {
    const last = index === run.jobs.length - 1;
    const outcome = await runJobInTurn({
      config,
      run,
      job,
      limits,
      waitTimeoutMs: options.waitTimeoutMs,
      records: () => (writer ??= openRecords(config, run)),
      reporter: options.reporter,
      total: several ? run.jobs.length : undefined,
      lastJob: last,
      env: options.jobs[index]?.env,
      // Queued from the moment its ticket is taken: the ticket order is the arrival order.
      onTicket: () => {
        if (index === 0) job.queuedAt = run.createdAt = new Date().toISOString();
      },
    }).catch((error: unknown) => {
      // The first job giving up waiting means nothing ran (exit 75, no record); a later one ends
      // the run like an interrupt would, with the code.
      if (index === 0 || !(error instanceof WaitTimeoutError)) throw error;
      logger.warn(`${job.name}: ${error.message}`);
      return { ran: false as const, exitCode: error.exitCode, why: "aborted" as const };
    });
    if (!outcome.ran) {
      if (index === 0) return outcome.exitCode; // nothing ran, nothing recorded
      // A later job stopped before it started: the run ends here, the rest are skipped.
      for (const rest of run.jobs.slice(index)) concludeUnrun(rest, rest === job ? "cancelled" : "skipped");
      finishRun(run, new Date());
      run.conclusion = "cancelled";
      run.exitCode = stoppedWith = outcome.exitCode;
      try {
        writer?.saveRun();
      } catch (error) {
        logger.warn(`could not write the record of run ${run.id}: ${(error as Error).message}`);
      }
      break;
    }
    if (outcome.exitCode !== 0) firstFailure ??= outcome.exitCode;
  }

  if (options.reportPath) writeReport(options.reportPath, several ? run : run.jobs[0]!);
  options.reporter?.runEnded?.(run);
  if (writer) pruneOldRuns(config);
  return stoppedWith ?? firstFailure ?? 0;
}
