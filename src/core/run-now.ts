// `sep -- COMMAND`: a run of one job. Its records are created only when the turn has come, so an
// invocation that gives up waiting (--wait-timeout) or is interrupted while waiting leaves none.
import type { ResolvedConfig } from "../config.ts";
import { errorMessage, SepError } from "../errors.ts";
import { logger } from "../logger.ts";
import { pruneRuns } from "./history.ts";
import { type JobOverrides, jobLimits, newJobRecord, type RunReporter, runJobInTurn } from "./job-in-turn.ts";
import { processStartTime } from "./process-tree.ts";
import { newRunId, type RunRecord, RunWriter } from "./runs.ts";
import { writeJsonAtomic } from "./store.ts";

export interface RunNowOptions {
  argv: string[];
  cwd: string;
  name?: string;
  overrides?: JobOverrides;
  /** give up waiting for the turn after this many ms (exit 75) */
  waitTimeoutMs?: number;
  /** also write the job record here */
  reportPath?: string;
  reporter?: RunReporter;
}

/** Runs argv when its turn comes; resolves to sep's exit code. */
export async function runNow(config: ResolvedConfig, options: RunNowOptions): Promise<number> {
  const createdAt = new Date();
  const runId = newRunId(createdAt);
  const name = options.name ?? options.argv.join(" ");
  const limits = jobLimits(config, options.overrides);
  const job = newJobRecord({ runId, n: 1, name, argv: options.argv, cwd: options.cwd, queuedAt: createdAt, limits });
  const run = newRunRecord(runId, name, createdAt);
  run.jobs.push(job);

  let writer: RunWriter | undefined;
  const outcome = await runJobInTurn({
    config,
    run,
    job,
    limits,
    waitTimeoutMs: options.waitTimeoutMs,
    records: () => (writer = openRecords(config, run)),
    reporter: options.reporter,
    lastJob: true,
    // Queued from the moment its ticket is taken: the ticket order is the arrival order.
    onTicket: () => {
      job.queuedAt = new Date().toISOString();
    },
  });
  if (!outcome.ran) return outcome.exitCode;

  if (options.reportPath) writeReport(options.reportPath, job);
  options.reporter?.runEnded?.(run);
  if (writer) pruneOldRuns(config);
  return outcome.exitCode;
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

export function writeReport(path: string, job: RunRecord["jobs"][number]): void {
  try {
    writeJsonAtomic(path, job);
  } catch (error) {
    logger.warn(`could not write the report ${path} (${errorMessage(error)})`);
  }
}
