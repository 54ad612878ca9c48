// One job of a run, from waiting for its turn to its final record: shared by `sep -- CMD` (a run of
// its jobs) and `sep queue start` (a run of every stored job). Records go through the recorder.
import type { ResolvedConfig } from "../../config.ts";
import { errorMessage } from "../../errors.ts";
import type { KillReason } from "../conclusion.ts";
import { JOB_MARKER, type JobResult, runJob } from "../executor.ts";
import { interrupted, interruptExitCode, interruptSignal } from "../interrupts.ts";
import { notice } from "../notices.ts";
import { ownStartTime } from "../proc/index.ts";
import type { Job, RunRecorder } from "../records/recorder.ts";
import { reconcileRun } from "../records/reconcile.ts";
import { killLeftovers } from "../turn/leftovers.ts";
import { type Holder, type Turn } from "../turn/slots.ts";
import { WaitAbortedError, waitForTurn } from "../turn/wait.ts";
import { insideHoldingJob, NESTED_TURN } from "../turn/nested.ts";
import { etaReader } from "../governor/index.ts";
import { readWaiting } from "../turn/tickets.ts";
import type { RunReporter, TurnEta } from "./events.ts";
import type { JobLimits } from "./limits.ts";
import { type GatePass, learnFromRun, passMachineGate, prepareMachineGate } from "./machine-gate.ts";

export interface JobInTurnOptions {
  config: ResolvedConfig;
  recorder: RunRecorder;
  job: Job;
  limits: JobLimits;
  waitTimeoutMs?: number;
  /** stops the job from outside; its reason is a KillReason */
  abort?: AbortSignal;
  reporter?: RunReporter;
  /** jobs known so far in the run, for "job 2/5" */
  total?: number;
  /** called when the invocation has its ticket: its place in the line is taken */
  onTicket?(): void;
  /** variables the job gets on top of sep's environment */
  env?: Record<string, string>;
  /** called just before the spawn, when nothing can stop the job from starting any more */
  onStart?(): void;
  /** false: the job's output goes to its log only (a background sep whose caller follows the log) */
  forwardOutput?: boolean;
  /** --reserve: MB the job reserves at the machine gate instead of a learned or limit figure */
  reserveMb?: number;
}

/**
 * How long a job runs, with the governor on, before its slot's started record is written: a short
 * job (a drain of quick commands) is spared a file created and deleted on the hand-over's path.
 */
const STARTED_RECORD_AFTER_MS = 100;

export type JobInTurnOutcome =
  | { ran: true; exitCode: number; result: JobResult }
  | { ran: false; exitCode: number; why: "interrupted" | "aborted" };

/**
 * Wait for the turn, clean up after a crashed previous holder, run the job, record it, release the
 * slot. A WaitTimeoutError (exit 75) propagates to the caller; nothing ran then.
 */
export async function runJobInTurn(options: JobInTurnOptions): Promise<JobInTurnOutcome> {
  const { config, recorder, job, limits } = options;
  const holder: Holder = {
    pid: process.pid,
    pidStartTime: ownStartTime() ?? undefined,
    runId: recorder.id,
    jobId: job.id,
    name: job.name,
    argv: job.argv,
    cwd: job.cwd,
    projectRoot: config.root,
    logDir: config.logDir,
    createdAt: job.queuedAt,
  };

  // Either stop — a signal to sep, or the caller's abort — also ends a wait for the turn.
  const waitSignal = options.abort ? AbortSignal.any([interrupted, options.abort]) : interrupted;
  const nested = insideHoldingJob(config);
  // The machine gate's budget and this job's reservation are worked out now, before the wait: when
  // the turn comes, only the admission is left between it and the spawn. A nested sep runs inside
  // its outer job's admission.
  const prepared = nested ? undefined : prepareMachineGate({ config, job, limits, reserveMb: options.reserveMb });
  const waitStartedAt = Date.now();
  let waited = false;
  let turn: Turn;
  try {
    turn = nested ? NESTED_TURN : await waitForTurn({
      lockDir: config.lockDir,
      slots: config.slots,
      holder,
      waitTimeoutMs: options.waitTimeoutMs,
      signal: waitSignal,
      // Only a job that really waits reads history for its ETA: the turn taken at once never does.
      onWaiting: (info) => {
        waited = true;
        recorder.waiting(job);
        const reporter = options.reporter;
        if (reporter?.waiting) reporter.waiting({ ...info, ...turnEta(config, holder, info.holders) });
      },
      onTicket: options.onTicket,
    });
  } catch (error) {
    if (!(error instanceof WaitAbortedError)) throw error;
    const signal = interruptSignal();
    if (signal) {
      notice.warn(`interrupted by ${signal} while waiting for a turn; ${job.name} did not run`);
      return { ran: false, exitCode: interruptExitCode(), why: "interrupted" };
    }
    return { ran: false, exitCode: abortExitCode(options.abort), why: "aborted" };
  }

  let gate: GatePass | undefined;
  let startedRecord: ReturnType<typeof setTimeout> | undefined;
  try {
    if (turn.leftover) await cleanUpAfter(turn.leftover, config);
    // The project's turn has come; now the machine's: every sep job on the machine shares one
    // memory budget.
    try {
      gate = prepared
        ? await passMachineGate(prepared, {
            waitTimeoutMs: options.waitTimeoutMs === undefined ? undefined : Math.max(0, options.waitTimeoutMs - (Date.now() - waitStartedAt)),
            signal: waitSignal,
            waited,
            onQueued: () => recorder.waiting(job),
            // The gate works out an ETA for this only when someone will be told.
            onWaiting: options.reporter?.admissionWaiting && ((info) => options.reporter?.admissionWaiting?.(info, job.name)),
          })
        : undefined;
    } catch (error) {
      if (!(error instanceof WaitAbortedError)) throw error;
    }
    // A signal that came while the turn was taken, during that cleanup or at the gate: nothing starts.
    const stoppedBy = interruptSignal();
    if (stoppedBy) {
      notice.warn(`interrupted by ${stoppedBy} before ${job.name} started; it did not run`);
      return { ran: false, exitCode: interruptExitCode(), why: "interrupted" };
    }
    if (options.abort?.aborted) return { ran: false, exitCode: abortExitCode(options.abort), why: "aborted" };
    recorder.open();
    const startingAt = new Date();
    const logPath = recorder.starting(job, startingAt, gate?.admission.record);
    // Recorded before the spawn, with the job's start (status views show its elapsed time from it),
    // and again with its process group once it has run a moment: a sep killed in between leaves a
    // slot record whose job id lets the next holder find the job's processes by their marker.
    holder.startedAt = startingAt.toISOString();
    turn.recordHolder(holder);

    options.onStart?.();
    notice.debug(`run ${recorder.id} job ${job.n}: starting ${JSON.stringify(job.argv)} in ${job.cwd}`);
    const starting = recorder.jobRecord(job);
    options.reporter?.jobStarting?.(starting, options.total);
    const result = await runJob({
      id: job.id,
      argv: job.argv,
      cwd: job.cwd,
      env: options.env ? { ...process.env, ...options.env } : process.env,
      ...limits,
      abort: options.abort,
      marker: nested ? process.env[JOB_MARKER] : undefined,
      logPath,
      forwardOutput: options.forwardOutput,
      onSpawn: (pid, leaderStartTime) => {
        holder.pgid = pid;
        holder.leaderStartTime = leaderStartTime;
        recorder.spawned(job);
        gate?.admission.jobStarted(pid, holder.leaderStartTime);
        // The slot's started record (with the process group) is for the next holder's cleanup after
        // a crash of ours. With the governor on, the ledger entry has the group at once, and the next
        // holder's admission kills a dead entry's group before its job starts; the slot's record then
        // waits until the job has run STARTED_RECORD_AFTER_MS, and a shorter job never writes it.
        const recordStarted = () => {
          try {
            turn.recordHolder(holder);
          } catch (error) {
            // The job runs on; only a crash of this sep would miss the record.
            const message = `could not record ${job.name}'s process group in its slot (${errorMessage(error)})`;
            notice.warn(message);
            recorder.warn(job, message);
          }
        };
        if (gate) startedRecord = setTimeout(recordStarted, STARTED_RECORD_AFTER_MS);
        else recordStarted();
      },
      control: gate ? (control) => gate!.admission.control(control) : undefined,
      // The machine gets the memory back and the next waiter of this project starts now (in that
      // order, so the next job finds this one gone from the ledger); the records below are written
      // while the next job already runs.
      onTreeGone: (ended) => {
        clearTimeout(startedRecord);
        // Its profile first, so a job of the same command that gets the turn now plans from it.
        if (gate) learnFromRun(gate, ended);
        gate?.admission.release();
        turn.release();
      },
      onWarning: (message) => {
        notice.warn(message);
        recorder.warn(job, message);
      },
    });
    recorder.completed(job, {
      conclusion: result.verdict.conclusion,
      exitCode: result.verdict.exitCode,
      signal: result.ending.signal,
      startedAt: result.startedAt,
      completedAt: result.completedAt,
      peakMemoryBytes: result.peakMemoryBytes,
      memorySamples: result.memorySamples,
      kill: result.kill,
      startupError: result.startupMessage,
      pausedMs: result.pausedMs,
    });
    options.reporter?.jobEnded?.(recorder.jobRecord(job), options.total);
    return { ran: true, exitCode: result.verdict.exitCode, result };
  } finally {
    clearTimeout(startedRecord);
    // Already done by onTreeGone when the job ran; this covers a job that never started or a throw
    // (both are idempotent).
    gate?.admission.release();
    turn.release();
  }
}

/**
 * When a job waiting for its turn is expected to start, and what is left of each holder's job:
 * the scope's line is its slots, their holders, and the invocations ahead of this one.
 */
function turnEta(config: ResolvedConfig, me: Holder, holders: Holder[]): TurnEta {
  try {
    const eta = etaReader();
    const waiting = readWaiting(config.lockDir);
    const mine = waiting.findIndex((other) => other.pid === me.pid && other.jobId === me.jobId);
    const ahead = mine < 0 ? waiting : waiting.slice(0, mine);
    return {
      leftMs: holders.map((other) => eta.leftMs(other)),
      startsInMs: eta.startsInMs({ capacity: config.slots, running: holders, waiting: [...ahead, me] }).at(-1) ?? null,
    };
  } catch {
    // An ETA is a courtesy: whatever keeps it from being known never stops the wait.
    return { leftMs: holders.map(() => null), startsInMs: null };
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
    notice.warn(
      `the previous holder (sep pid ${leftover.pid}, ${leftover.name}) died and left ${killed.length} process(es) running: killed ${killed.join(", ")}`,
    );
  }
  try {
    if (reconcileRun(leftover.logDir, leftover.runId)) notice.warn(`run ${leftover.runId} was left in progress by a dead sep; marked cancelled`);
  } catch (error) {
    notice.warn(`could not mark run ${leftover.runId} cancelled: ${errorMessage(error)}`);
  }
}
