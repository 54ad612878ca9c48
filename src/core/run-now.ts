// `sep -- COMMAND`: a run of one job (or of the command's atoms, with --atomify). Its records are
// created only when the first turn has come, so an invocation that gives up waiting
// (--wait-timeout) or is interrupted while waiting leaves none.
import type { ResolvedConfig } from "../config.ts";
import { errorMessage, SepError } from "../errors.ts";
import { logger } from "../logger.ts";
import { pruneRuns } from "./history.ts";
import { concludeUnrun, type JobOverrides, jobLimits, newJobRecord, type RunReporter, runJobInTurn } from "./job-in-turn.ts";
import { processStartTime } from "./process-tree.ts";
import { WaitTimeoutError } from "./lock.ts";
import { finishRun, newRunId, type RunRecord, RunWriter } from "./runs.ts";
import { writeJsonAtomic } from "./store.ts";

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
      for (const rest of run.jobs.slice(index)) concludeUnrun(rest, rest === job ? "cancelled" : "skipped");
      finishRun(run, new Date());
      run.conclusion = "cancelled";
      run.exitCode = outcome.exitCode;
      writer?.saveRun();
      return outcome.exitCode;
    }
    if (outcome.exitCode !== 0) firstFailure ??= outcome.exitCode;
  }

  if (options.reportPath) writeReport(options.reportPath, several ? run : run.jobs[0]!);
  options.reporter?.runEnded?.(run);
  if (writer) pruneOldRuns(config);
  return firstFailure ?? 0;
}

/** Keep the newest `keepRuns` runs (config); older completed ones are deleted after each run. */
export function pruneOldRuns(config: ResolvedConfig): void {
  try {
    const { errors } = pruneRuns(config.logDir, config.keepRuns);
    for (const { id, message } of errors) logger.warn(`could not delete old run ${id}: ${message}`);
  } catch (error) {
    logger.warn(`could not prune old runs in ${config.logDir}: ${errorMessage(error)}`);
  }
}

export function newRunRecord(runId: string, title: string, createdAt: Date): RunRecord {
  return {
    id: runId,
    title,
    status: "queued",
    conclusion: null,
    exitCode: null,
    createdAt: createdAt.toISOString(),
    startedAt: null,
    completedAt: null,
    durationMs: null,
    peakMemoryBytes: null,
    owner: { pid: process.pid, startTime: processStartTime(process.pid) ?? null },
    jobs: [],
  };
}

/**
 * Create the run's records. A log dir that cannot be written (read-only, full, not a directory)
 * does not stop the user's command: sep says what is lost and runs it unrecorded. A state dir that
 * is a symlink or someone else's is refused (exit 1): writing there would not be safe.
 */
export function openRecords(config: ResolvedConfig, run: RunRecord): RunWriter | undefined {
  const writer = new RunWriter(config.logDir, run);
  try {
    writer.create();
    return writer;
  } catch (error) {
    if (error instanceof SepError && error.code === "E_UNSAFE_STATE_DIR") throw error;
    logger.warn(`cannot write run records under ${config.logDir} (${errorMessage(error)}); this run will not be recorded and its output not logged`);
    return undefined;
  }
}

export function writeReport(path: string, record: RunRecord | RunRecord["jobs"][number]): void {
  try {
    writeJsonAtomic(path, record);
  } catch (error) {
    logger.warn(`could not write the report ${path} (${errorMessage(error)})`);
  }
}
