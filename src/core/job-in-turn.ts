// One job of a run, from waiting for its turn to its final record: shared by `sep -- CMD` (a run of
// one job) and `sep queue start` (a run of every stored job).
import type { ResolvedConfig } from "../config.ts";
import { errorMessage } from "../errors.ts";
import { logger } from "../logger.ts";
import type { Conclusion, KillReason } from "./conclusion.ts";
import { JOB_MARKER, type JobResult, runJob } from "./executor.ts";
import { interrupted, interruptExitCode, interruptSignal } from "./interrupts.ts";
import { killLeftovers } from "./turn/leftovers.ts";
import { type Holder, readHolders, type Turn, WaitAbortedError, type WaitingInfo, waitForTurn } from "./turn/lock.ts";
import { isSameProcess, ownStartTime, processStartTime } from "./proc/index.ts";
import { finishRun, type JobRecord, reconcileRun, type RunRecord, type RunWriter } from "./records/runs.ts";

/** The limits one job runs under: the configuration's, or the job's own (stored by `queue add`). */
export interface JobLimits {
  timeoutMs: number;
  memoryLimitBytes: number;
  checkIntervalMs: number;
  killGraceMs: number;
}

/** Per-job values a user can give on the command line; undefined = the configuration's. */
export interface JobOverrides {
  timeout?: number;
  memoryLimitMb?: number;
  checkInterval?: number;
  killGrace?: number;
}

export function jobLimits(config: ResolvedConfig, overrides: JobOverrides = {}): JobLimits {
  return {
    timeoutMs: (overrides.timeout ?? config.timeout) * 1000,
    memoryLimitBytes: (overrides.memoryLimitMb ?? config.memoryLimitMb) * 1024 * 1024,
    checkIntervalMs: (overrides.checkInterval ?? config.checkInterval) * 1000,
    killGraceMs: (overrides.killGrace ?? config.killGrace) * 1000,
  };
}

export function newJobRecord(fields: { runId: string; n: number; name: string; argv: string[]; cwd: string; queuedAt: Date; limits: JobLimits; group?: string }): JobRecord {
  const { limits } = fields;
  return {
    ...(fields.group === undefined ? {} : { group: fields.group }),
    id: `${fields.runId}.${fields.n}`,
    runId: fields.runId,
    n: fields.n,
    name: fields.name,
    argv: fields.argv,
    cwd: fields.cwd,
    status: "queued",
    conclusion: null,
    exitCode: null,
    signal: null,
    queuedAt: fields.queuedAt.toISOString(),
    startedAt: null,
    completedAt: null,
    durationMs: null,
    peakMemoryBytes: null,
    limits: {
      timeoutMs: limits.timeoutMs > 0 ? limits.timeoutMs : null,
      memoryLimitBytes: limits.memoryLimitBytes > 0 ? limits.memoryLimitBytes : null,
    },
    logPath: "",
  };
}

/** A job that never ran (skipped after a failure, the pipeline timeout, or a stop). */
export function concludeUnrun(job: JobRecord, conclusion: Extract<Conclusion, "skipped" | "cancelled">, now = new Date()): void {
  job.status = "completed";
  job.conclusion = conclusion;
  job.completedAt = now.toISOString();
}

/** Who is told as jobs wait, start and end: the terminal's lines, GitHub Actions groups, … */
export interface RunReporter {
  /** the turn did not come at the first try: who holds the slots, how many wait ahead */
  waiting?(info: WaitingInfo): void;
  /** the job's turn has come and it is about to start; total = jobs known so far in its run */
  jobStarting?(job: JobRecord, total?: number): void;
  jobEnded?(job: JobRecord, total?: number): void;
  runEnded?(run: RunRecord): void;
}

/** All of reporters: told of a start in order, of an end in reverse order (so they nest). */
export function reporters(...list: (RunReporter | undefined)[]): RunReporter {
  const present = list.filter((r): r is RunReporter => r !== undefined);
  const reversed = [...present].reverse();
  return {
    waiting: (info) => {
      for (const r of present) r.waiting?.(info);
    },
    jobStarting: (job, total) => {
      for (const r of present) r.jobStarting?.(job, total);
    },
    jobEnded: (job, total) => {
      for (const r of reversed) r.jobEnded?.(job, total);
    },
    runEnded: (run) => {
      for (const r of reversed) r.runEnded?.(run);
    },
  };
}

export interface JobInTurnOptions {
  config: ResolvedConfig;
  run: RunRecord;
  job: JobRecord;
  limits: JobLimits;
  /** the run's records, once they exist: called when the turn has come, before the job starts */
  records(): RunWriter | undefined;
  waitTimeoutMs?: number;
  /** stops the job from outside; its reason is a KillReason */
  abort?: AbortSignal;
  reporter?: RunReporter;
  /** jobs known so far in the run, for "job 2/5" */
  total?: number;
  /** this job is the run's only one: the run is concluded with it (`sep -- CMD`) */
  lastJob?: boolean;
  /** called when the invocation has its ticket: its place in the line is taken */
  onTicket?(): void;
  /** variables the job gets on top of sep's environment */
  env?: Record<string, string>;
  /** called just before the spawn, when nothing can stop the job from starting any more */
  onStart?(): void;
}

/**
 * Does this sep run inside a sep job that holds a slot of this scope right now? SEP_JOB_ID is
 * inherited by every descendant of a job; a sep started inside one — a git hook under
 * `sep -- git commit`, a script under `sep -- ./ci.sh` — already runs in that job's turn, and
 * taking a turn of its own would wait for itself forever. It runs at once, still inside its own
 * limits and the outer job's. The marker alone is not trusted: the outer job must be a live holder
 * of this scope's slots (a variable copied into a shell by hand, or a job of another project's
 * queue, takes its turn as usual).
 */
export function insideHoldingJob(config: ResolvedConfig, env: NodeJS.ProcessEnv = process.env): boolean {
  const outer = env[JOB_MARKER];
  if (!outer) return false;
  return readHolders(config.lockDir, config.slots).some(
    (holder) => holder.jobId === outer && isSameProcess(holder.pid, holder.pidStartTime),
  );
}

const NESTED_TURN: Turn = { slot: -1, recordHolder: () => {}, release: () => {} };

export type JobInTurnOutcome =
  | { ran: true; exitCode: number; result: JobResult }
  | { ran: false; exitCode: number; why: "interrupted" | "aborted" };

/**
 * Wait for the turn, clean up after a crashed previous holder, run the job, record it, release the
 * slot. A WaitTimeoutError (exit 75) propagates to the caller; nothing ran then.
 */
export async function runJobInTurn(options: JobInTurnOptions): Promise<JobInTurnOutcome> {
  const { config, run, job, limits } = options;
  const holder: Holder = {
    pid: process.pid,
    pidStartTime: ownStartTime() ?? undefined,
    runId: run.id,
    jobId: job.id,
    name: job.name,
    argv: job.argv,
    cwd: job.cwd,
    logDir: config.logDir,
    createdAt: job.queuedAt,
  };

  // Either stop — a signal to sep, or the caller's abort — also ends a wait for the turn.
  const waitSignal = options.abort ? AbortSignal.any([interrupted, options.abort]) : interrupted;
  const nested = insideHoldingJob(config);
  let turn: Turn;
  try {
    turn = nested ? NESTED_TURN : await waitForTurn({
      lockDir: config.lockDir,
      slots: config.slots,
      holder,
      waitTimeoutMs: options.waitTimeoutMs,
      signal: waitSignal,
      onWaiting: (info) => options.reporter?.waiting?.(info),
      onTicket: options.onTicket,
    });
  } catch (error) {
    if (!(error instanceof WaitAbortedError)) throw error;
    const signal = interruptSignal();
    if (signal) {
      logger.warn(`interrupted by ${signal} while waiting for a turn; ${job.name} did not run`);
      return { ran: false, exitCode: interruptExitCode(), why: "interrupted" };
    }
    return { ran: false, exitCode: abortExitCode(options.abort), why: "aborted" };
  }

  try {
    if (turn.leftover) await cleanUpAfter(turn.leftover, config);
    // A signal that came while the turn was taken, or during that cleanup: nothing starts.
    const stoppedBy = interruptSignal();
    if (stoppedBy) {
      logger.warn(`interrupted by ${stoppedBy} before ${job.name} started; it did not run`);
      return { ran: false, exitCode: interruptExitCode(), why: "interrupted" };
    }
    if (options.abort?.aborted) return { ran: false, exitCode: abortExitCode(options.abort), why: "aborted" };
    // Recorded before the spawn as well as after it: a sep killed in between leaves a slot record
    // whose job id lets the next holder find the job's processes by their SEP_JOB_ID marker.
    turn.recordHolder(holder);
    job.startedAt = new Date().toISOString();
    job.status = "in_progress";
    run.startedAt ??= job.startedAt;
    run.status = "in_progress";
    const writer = options.records();
    if (writer) job.logPath = writer.jobLogPath(job.n);
    save(writer, job);

    options.onStart?.();
    logger.debug(`run ${run.id} job ${job.n}: starting ${JSON.stringify(job.argv)} in ${job.cwd}`);
    options.reporter?.jobStarting?.(job, options.total);
    const result = await runJob({
      id: job.id,
      argv: job.argv,
      cwd: job.cwd,
      env: options.env ? { ...process.env, ...options.env } : process.env,
      ...limits,
      abort: options.abort,
      marker: nested ? process.env[JOB_MARKER] : undefined,
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
    // A run of this one job is complete with it: conclude the run too, so one write records both.
    if (options.lastJob) finishRun(run, result.completedAt);
    save(writer, job, options.lastJob);
    options.reporter?.jobEnded?.(job, options.total);
    return { ran: true, exitCode: result.verdict.exitCode, result };
  } finally {
    turn.release();
  }
}

function abortExitCode(abort: AbortSignal | undefined): number {
  const reason = abort?.reason as KillReason | undefined;
  return reason?.kind === "pipeline_timeout" || reason?.kind === "timeout" ? 124 : 1;
}

/** The previous holder of a slot died without cleaning up: kill what it left, close its run. */
export async function cleanUpAfter(leftover: Holder, config: ResolvedConfig): Promise<void> {
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

export function save(writer: RunWriter | undefined, job: JobRecord, force = false): void {
  if (!writer) return;
  try {
    writer.saveJob(job, force);
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
  if (result.startupMessage) job.startupError = result.startupMessage;
}

