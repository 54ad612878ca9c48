// `sep -- COMMAND`: wait for the turn, run the command as a one-job run, record it, return its code.
import { basename } from "node:path";
import type { ResolvedConfig } from "../config.ts";
import { errorMessage, SepError } from "../errors.ts";
import { logger } from "../logger.ts";
import { signalNumber } from "./conclusion.ts";
import { runJob, type JobResult } from "./executor.ts";
import { interrupted, interruptSignal } from "./interrupts.ts";
import { killLeftovers } from "./leftovers.ts";
import { type Holder, type Turn, WaitAbortedError, waitForTurn } from "./lock.ts";
import { processStartTime } from "./process-tree.ts";
import { finishRun, jobId, type JobRecord, newRunId, reconcileRun, type RunRecord, RunWriter } from "./runs.ts";
import { writeJsonAtomic } from "./store.ts";

export interface RunNowOptions {
  argv: string[];
  name?: string;
  /** give up waiting for the turn after this many ms (exit 75) */
  waitTimeoutMs?: number;
  /** also write the job record here */
  reportPath?: string;
  cwd: string;
}

/** Runs argv when its turn comes; resolves to sep's exit code. */
export async function runNow(config: ResolvedConfig, options: RunNowOptions): Promise<number> {
  const createdAt = new Date();
  const runId = newRunId(createdAt);
  const id = jobId(runId, 1);
  const name = options.name ?? options.argv.join(" ");
  const holder: Holder = {
    pid: process.pid,
    pidStartTime: processStartTime(process.pid) ?? undefined,
    runId,
    jobId: id,
    name,
    argv: options.argv,
    cwd: options.cwd,
    logDir: config.logDir,
    createdAt: createdAt.toISOString(),
  };

  let turn: Turn;
  try {
    turn = await waitForTurn({
      lockDir: config.lockDir,
      slots: config.slots,
      holder,
      waitTimeoutMs: options.waitTimeoutMs,
      signal: interrupted,
      onWaiting: ({ ahead, holders }) => logger.info(describeWait(ahead, holders)),
    });
  } catch (error) {
    if (error instanceof WaitAbortedError) {
      const signal = interruptSignal() ?? "SIGINT";
      logger.warn(`interrupted by ${signal} while waiting for a turn; nothing ran`);
      return 128 + signalNumber(signal);
    }
    throw error;
  }

  try {
    if (turn.leftover) await cleanUpAfter(turn.leftover, config);
    const job = newJobRecord(runId, id, name, options, config, createdAt);
    const run = newRunRecord(runId, name, job, createdAt);
    job.startedAt = run.startedAt = new Date().toISOString();
    job.status = run.status = "in_progress";
    const writer = openRecords(config, run);

    logger.debug(`run ${runId}: starting ${JSON.stringify(options.argv)} in ${options.cwd}`);
    const result = await runJob({
      id,
      argv: options.argv,
      cwd: options.cwd,
      env: process.env,
      timeoutMs: config.timeout * 1000,
      memoryLimitBytes: config.memoryLimitMb * 1024 * 1024,
      checkIntervalMs: config.checkInterval * 1000,
      killGraceMs: config.killGrace * 1000,
      logPath: writer ? job.logPath : undefined,
      onSpawn: (pid) => {
        holder.pgid = pid;
        holder.leaderStartTime = processStartTime(pid) ?? undefined;
        holder.startedAt = job.startedAt ?? undefined;
        turn.recordHolder(holder);
      },
      onWarning: (message) => {
        logger.warn(message);
        (job.warnings ??= []).push(message);
      },
    });

    completeJob(job, result);
    finishRun(run, result.completedAt);
    save(writer, job);
    if (options.reportPath) writeReport(options.reportPath, job);
    say(job, result);
    return result.verdict.exitCode;
  } finally {
    turn.release();
  }
}

function describeWait(ahead: number, holders: Holder[]): string {
  const running = holders.map((h) => `${h.name} (pid ${h.pid}${h.startedAt ? `, running ${ago(h.startedAt)}` : ""})`);
  const queue = ahead > 0 ? `; ${ahead} ${ahead === 1 ? "invocation" : "invocations"} ahead of this one` : "";
  return running.length > 0 ? `waiting for ${running.join(", ")} to finish${queue}` : `waiting for a turn${queue}`;
}

function ago(iso: string): string {
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  return seconds < 60 ? `${seconds}s` : `${Math.floor(seconds / 60)}m${seconds % 60}s`;
}

/** The previous holder of our slot died without cleaning up: kill what it left, close its run. */
async function cleanUpAfter(leftover: Holder, config: ResolvedConfig): Promise<void> {
  const killed = await killLeftovers(leftover, config.killGrace * 1000);
  if (killed.length > 0) {
    logger.warn(
      `the previous holder (sep pid ${leftover.pid}, ${leftover.name}) died and left ${killed.length} process(es) running: killed ${killed.join(", ")}`,
    );
  }
  try {
    if (reconcileRun(leftover.logDir, leftover.runId)) logger.warn(`run ${leftover.runId} was left in progress by a dead sep; marked cancelled`);
  } catch (error) {
    logger.warn(`could not mark run ${leftover.runId} cancelled: ${errorMessage(error)}`);
  }
}

function newJobRecord(runId: string, id: string, name: string, options: RunNowOptions, config: ResolvedConfig, queuedAt: Date): JobRecord {
  return {
    id,
    runId,
    n: 1,
    name,
    argv: options.argv,
    cwd: options.cwd,
    status: "queued",
    conclusion: null,
    exitCode: null,
    signal: null,
    queuedAt: queuedAt.toISOString(),
    startedAt: null,
    completedAt: null,
    durationMs: null,
    peakMemoryBytes: null,
    limits: {
      timeoutMs: config.timeout > 0 ? config.timeout * 1000 : null,
      memoryLimitBytes: config.memoryLimitMb > 0 ? config.memoryLimitMb * 1024 * 1024 : null,
    },
    logPath: "",
  };
}

function newRunRecord(runId: string, title: string, job: JobRecord, createdAt: Date): RunRecord {
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
    jobs: [job],
  };
}

/**
 * Create the run's records. A log dir that cannot be written (read-only, full, not a directory)
 * does not stop the user's command: sep says what is lost and runs it unrecorded. A state dir that
 * is a symlink or someone else's is refused (exit 1): writing there would not be safe.
 */
function openRecords(config: ResolvedConfig, run: RunRecord): RunWriter | undefined {
  const writer = new RunWriter(config.logDir, run);
  for (const job of run.jobs) job.logPath = writer.jobLogPath(job.n);
  try {
    writer.create();
    return writer;
  } catch (error) {
    for (const job of run.jobs) job.logPath = "";
    if (error instanceof SepError && error.code === "E_UNSAFE_STATE_DIR") throw error;
    logger.warn(`cannot write run records under ${config.logDir} (${errorMessage(error)}); this run will not be recorded and its output not logged`);
    return undefined;
  }
}

function save(writer: RunWriter | undefined, job: JobRecord): void {
  if (!writer) return;
  try {
    writer.saveJob(job);
  } catch (error) {
    logger.warn(`could not write the record of job ${job.id} (${errorMessage(error)}); its last state is lost`);
  }
}

function completeJob(job: JobRecord, result: JobResult): void {
  job.status = "completed";
  job.conclusion = result.verdict.conclusion;
  job.exitCode = result.verdict.exitCode;
  job.signal = result.ending.signal;
  job.startedAt = result.startedAt.toISOString();
  job.completedAt = result.completedAt.toISOString();
  job.durationMs = result.completedAt.getTime() - result.startedAt.getTime();
  job.peakMemoryBytes = result.peakMemoryBytes;
  if (result.kill) job.kill = result.kill;
}

function writeReport(path: string, job: JobRecord): void {
  try {
    writeJsonAtomic(path, job);
  } catch (error) {
    logger.warn(`could not write the report ${path} (${errorMessage(error)})`);
  }
}

/** One line for anything that was not a plain exit of the command. */
function say(job: JobRecord, result: JobResult): void {
  const mb = (bytes: number | undefined) => `${Math.round((bytes ?? 0) / 1024 / 1024)} MB`;
  if (result.startupMessage) logger.error(result.startupMessage);
  switch (job.conclusion) {
    case "timed_out":
      logger.error(`${basename(job.argv[0] ?? "")} hit the time limit of ${(job.limits.timeoutMs ?? 0) / 1000}s: killed its process tree (exit 124)`);
      break;
    case "memory_exceeded": {
      const top = (job.kill?.processes ?? []).slice(0, 3).map((p) => `${p.pid} ${p.command.slice(0, 60)} ${mb(p.rssBytes)}`);
      logger.error(
        `${basename(job.argv[0] ?? "")} used ${mb(job.kill?.measuredBytes)}, over the memory limit of ${mb(job.limits.memoryLimitBytes ?? 0)}: killed its process tree (exit 137)${top.length ? `; largest: ${top.join("; ")}` : ""}`,
      );
      break;
    }
    case "cancelled":
      logger.warn(`interrupted by ${job.kill?.reason ?? "a signal"}: killed the job's process tree; run marked cancelled`);
      break;
  }
}
