// `sep queue start`: drain the stored queue in FIFO order as one run, each job taking its turn like
// any `sep -- CMD`, and return when the queue is empty (or keep following it with --follow).
import type { ResolvedConfig } from "../../config.ts";
import { SepError } from "../../errors.ts";
import type { KillReason, RunStop } from "../conclusion.ts";
import { wakeAt } from "../deadlines.ts";
import { interrupted, interruptExitCode } from "../interrupts.ts";
import type { RunReporter } from "../job/events.ts";
import { cleanUpAfter, runJobInTurn } from "../job/in-turn.ts";
import { jobLimits, recordedLimits } from "../job/limits.ts";
import { notice } from "../notices.ts";
import { runOnFinish } from "../on-finish.ts";
import { lockLayout } from "../paths.ts";
import { isAlive, isSameProcess, killTree, ownStartTime } from "../proc/index.ts";
import { RunRecorder } from "../records/recorder.ts";
import { reconcileRun } from "../records/reconcile.ts";
import type { RunRecord } from "../records/types.ts";
import { ensurePrivateDir, readJson, unlinkSafe, writeJsonAtomic } from "../store.ts";
import { releaseLockFile, tryLockFile } from "../turn/flock.ts";
import { leftoverProcesses } from "../turn/leftovers.ts";
import { readHolders, reclaimAbandonedSlots } from "../turn/slots.ts";
import { WaitTimeoutError } from "../turn/wait.ts";
import {
  claimEntry,
  dropClaim,
  isPaused,
  listQueue,
  markClaimStarted,
  QueueCursor,
  type QueueEntry,
  recoverClaims,
  returnClaim,
} from "./entries.ts";

export interface DrainInfo {
  pid: number;
  pidStartTime: number | null;
  runId: string;
  /** where its run is recorded (in machine scope, another project's may recover it) */
  logDir?: string;
  startedAt: string;
}

export interface DrainOptions {
  failFast?: boolean;
  /** keep waiting for new jobs after the queue is empty, until interrupted */
  follow?: boolean;
  /** if another drain runs, wait for it to end instead of failing */
  wait?: boolean;
  reporter?: RunReporter;
}

export interface DrainResult {
  exitCode: number;
  run?: RunRecord;
}

const IDLE_POLL_MS = 100;

/**
 * The drain now running in this scope: its drain.json, if that process is alive (same pid, same
 * start time). Read without touching the drain lock: probing it by taking it, even for an
 * instant, could make a `queue start` starting at that moment believe another drain runs.
 */
export function currentDrain(lockDir: string): DrainInfo | undefined {
  const info = readJson<DrainInfo>(lockLayout(lockDir).drainInfo);
  return info && isSameProcess(info.pid, info.pidStartTime) ? info : undefined;
}

async function acquireDrainLock(lockDir: string, wait: boolean): Promise<number> {
  const layout = lockLayout(lockDir);
  let announced = false;
  for (let attempt = 0; ; attempt++) {
    const fd = tryLockFile(layout.drainLock);
    if (fd !== undefined) return fd;
    // A drain that is just ending (or starting) holds the lock for a moment without being one to
    // wait for; look again briefly before calling the queue busy.
    if (attempt < 5 && !currentDrain(lockDir)) {
      await Bun.sleep(20);
      continue;
    }
    const info = readJson<DrainInfo>(layout.drainInfo);
    const who = info ? `sep pid ${info.pid} (run ${info.runId}, since ${info.startedAt})` : "another sep";
    if (!wait) {
      throw new SepError("E_DRAIN_BUSY", `the queue is already being drained by ${who}`, {
        hint: "wait for it (`sep queue status`, `sep run watch`), or pass --wait to start after it",
        exitCode: 1,
      });
    }
    if (!announced) notice.info(`waiting for ${who} to finish draining the queue`);
    announced = true;
    if (interrupted.aborted) throw new SepError("E_INTERRUPTED", "interrupted while waiting for the other drain; nothing ran", { exitCode: interruptExitCode() });
    await Bun.sleep(IDLE_POLL_MS);
  }
}

/**
 * Drain the queue as one run (none when it is empty); then, with the drain lock already released
 * so the next `queue start` need not wait for it, the run's on-finish command.
 */
export async function drainQueue(config: ResolvedConfig, options: DrainOptions = {}): Promise<DrainResult> {
  const result = await _drain(config, options);
  if (result.run) await runOnFinish(config.onFinish, result.run);
  return result;
}

async function _drain(config: ResolvedConfig, options: DrainOptions): Promise<DrainResult> {
  const { lockDir } = config;
  const layout = lockLayout(lockDir);
  ensurePrivateDir(lockDir);
  const drainFd = await acquireDrainLock(lockDir, options.wait === true);
  const createdAt = new Date();
  const recorder = new RunRecorder({ logDir: config.logDir, keepRuns: config.keepRuns, title: "sep queue start", createdAt });

  const pipeline = new AbortController();
  const pipelineTimer =
    config.pipelineTimeout > 0
      ? setTimeout(() => pipeline.abort({ kind: "pipeline_timeout" } satisfies KillReason), config.pipelineTimeout * 1000)
      : undefined;
  // A job waiting for its turn sleeps in the kernel: it wakes for the limit too.
  const dropWake = pipelineTimer ? wakeAt(performance.now() + config.pipelineTimeout * 1000) : undefined;

  try {
    await recoverFromDeadDrain(config);
    writeJsonAtomic(layout.drainInfo, {
      pid: process.pid,
      pidStartTime: ownStartTime(),
      runId: recorder.id,
      logDir: config.logDir,
      startedAt: createdAt.toISOString(),
    } satisfies DrainInfo);

    let stopped: "fail_fast" | "pipeline_timeout" | "interrupted" | undefined;
    let announcedPause = false;
    let jobRunning = false;
    const queue = new QueueCursor(lockDir, (moved) => notice.warn(`a stored job was not valid JSON of a job; set it aside as ${moved}`));
    // A signal while a job runs (or waits for its turn) cancels the run; one while a --follow
    // drain sits idle is simply how such a drain is ended, and the run concludes on its jobs.
    let interruptedJob = interrupted.aborted;
    const onInterrupt = () => {
      if (jobRunning || !options.follow) interruptedJob = true;
    };
    interrupted.addEventListener("abort", onInterrupt, { once: true });
    for (;;) {
      if (interrupted.aborted) stopped = "interrupted";
      else if (pipeline.signal.aborted) stopped = "pipeline_timeout";
      if (stopped) break;

      if (isPaused(lockDir)) {
        if (!announcedPause) notice.info("the queue is paused; the next job starts after `sep queue resume`");
        announcedPause = true;
        await Bun.sleep(IDLE_POLL_MS);
        continue;
      }
      announcedPause = false;

      const { entry, stored } = queue.next();
      if (!entry) {
        if (!options.follow) break;
        await Bun.sleep(IDLE_POLL_MS);
        continue;
      }
      if (!claimEntry(lockDir, entry)) continue;

      // The run's records exist from its first job on; the job's own file is written when it
      // waits for its turn (a drain killed meanwhile leaves a record that says so, and the next
      // drain returns the job to the queue) or when it starts.
      recorder.open();
      if (recorder.jobCount === 0) recorder.retitle(entry.name ?? entry.argv.join(" "));
      const { job, limits } = addJob(recorder, entry, config);

      let outcome: Awaited<ReturnType<typeof runJobInTurn>> | undefined;
      jobRunning = true;
      try {
        outcome = await runJobInTurn({
          config,
          recorder,
          job,
          limits,
          waitTimeoutMs: entry.waitTimeoutMs,
          reserveMb: entry.reserveMb,
          abort: pipeline.signal,
          reporter: options.reporter,
          total: job.n + stored - 1,
          env: entry.env,
          onStart: () => markClaimStarted(lockDir, entry),
        });
      } catch (error) {
        if (!(error instanceof WaitTimeoutError)) throw error;
        // Nothing ran, and the run must not read as green: cancelled, with --wait-timeout's 75.
        notice.warn(`${job.name}: ${error.message}`);
        recorder.notRun(job, "cancelled", { exitCode: error.exitCode, warning: error.message });
        if (options.failFast) stopped = "fail_fast";
      } finally {
        jobRunning = false;
      }
      if (outcome && !outcome.ran && outcome.why === "interrupted") {
        // Stopped (Ctrl-C, `sep queue stop`) before it started: it stays stored for next time,
        // like every job after it.
        returnClaim(lockDir, entry);
        recorder.notRun(job, "skipped", { warning: `the drain was stopped before this job started; ${entry.id} is still stored` });
        continue; // the loop head sees why
      }
      dropClaim(lockDir, entry);
      if (outcome && !outcome.ran) {
        // The pipeline timeout passed while it waited for its turn: skipped, like the rest.
        recorder.notRun(job, "skipped");
        continue;
      }
      if (outcome?.ran && entry.reportPath) recorder.writeReport(entry.reportPath, job);
      if (outcome?.ran && outcome.exitCode !== 0) {
        if (options.failFast && !interrupted.aborted && !pipeline.signal.aborted) stopped = "fail_fast";
      }
      if (stopped) break;
    }

    // After --fail-fast or the pipeline timeout the rest of the queue belongs to this run and is
    // recorded as skipped; after an interrupt (Ctrl-C, `queue stop`) it stays stored for next time.
    if (stopped === "fail_fast" || stopped === "pipeline_timeout") {
      for (const entry of listQueue(lockDir).entries) {
        if (!claimEntry(lockDir, entry)) continue;
        recorder.open();
        recorder.notRun(addJob(recorder, entry, config).job, "skipped");
        dropClaim(lockDir, entry);
      }
    }

    interrupted.removeEventListener("abort", onInterrupt);
    if (recorder.jobCount === 0) {
      notice.info("the queue is empty; nothing to run");
      return { exitCode: interruptedJob ? interruptExitCode() : 0 };
    }
    const stop: RunStop | undefined =
      stopped === "pipeline_timeout"
        ? { kind: "pipeline_timeout" }
        : stopped === "interrupted" && interruptedJob
          ? { kind: "cancelled", exitCode: interruptExitCode() }
          : undefined;
    if (stop?.kind === "pipeline_timeout") {
      notice.error(`the pipeline timeout of ${config.pipelineTimeout}s passed; the rest of the queue was skipped (exit 124)`);
    }
    const run = recorder.finish(stop);
    options.reporter?.runEnded?.(run);
    return { exitCode: run.exitCode ?? 1, run };
  } finally {
    clearTimeout(pipelineTimer);
    dropWake?.();
    unlinkSafe(layout.drainInfo);
    releaseLockFile(drainFd);
  }
}

/** The record of a stored job, as the next job of the run. */
function addJob(recorder: RunRecorder, entry: QueueEntry, config: ResolvedConfig) {
  const limits = jobLimits(config, entry.overrides);
  const job = recorder.addJob(
    {
      name: entry.name ?? entry.argv.join(" "),
      argv: entry.argv,
      cwd: entry.cwd,
      limits: recordedLimits(limits),
      queueId: entry.id,
      ...(entry.group === undefined ? {} : { group: entry.group }),
    },
    new Date(entry.addedAt),
  );
  return { job, limits };
}

/**
 * A drain that died (SIGKILL, power loss, a cancelled CI job) left its drain.json, maybe claims,
 * and maybe a slot record whose job still runs. Only one drain runs per scope and we hold its
 * lock, so all of that is stale: kill the job's leftovers and mark its run cancelled. A claimed
 * job that had started is recorded there as cancelled; one that never started goes back to the
 * queue, so nothing stored is ever lost.
 */
async function recoverFromDeadDrain(config: ResolvedConfig): Promise<void> {
  const { lockDir } = config;
  const dead = readJson<DrainInfo>(lockLayout(lockDir).drainInfo);
  await reclaimAbandonedSlots(lockDir, config.slots, (holder) => cleanUpAfter(holder, config));
  if (dead && reconcileRun(dead.logDir ?? config.logDir, dead.runId)) {
    notice.warn(`run ${dead.runId} was left in progress by a drain that died (sep pid ${dead.pid}); marked cancelled`);
  }
  const { returned, dropped } = recoverClaims(lockDir);
  if (returned.length > 0) notice.warn(`returned ${returned.join(", ")} to the queue: claimed by a drain that died before they ran`);
  if (dropped.length > 0) notice.warn(`${dropped.join(", ")} had started under the drain that died; recorded there as cancelled`);
}

/**
 * Stop the scope's drain: SIGTERM makes it kill its current job's tree (TERM, grace, KILL), mark
 * the run cancelled and exit. If it has not ended after the grace and a margin, it is killed, and
 * so is its job's group (the next holder would also clean that up, but stop means stop).
 */
export async function stopDrain(config: ResolvedConfig): Promise<DrainInfo | undefined> {
  const drain = currentDrain(config.lockDir);
  if (!drain) return undefined;
  const signal = (pid: number, name: NodeJS.Signals) => {
    try {
      process.kill(pid, name);
    } catch {
      // already gone
    }
  };
  signal(drain.pid, "SIGTERM");
  const deadline = Date.now() + config.killGrace * 1000 + STOP_MARGIN_MS;
  while (Date.now() < deadline) {
    if (!isAlive(drain.pid)) return drain;
    await Bun.sleep(20);
  }
  // Its job's group and every process carrying its marker (a job in its first moment, before its
  // group is in the slot's record, is found by the marker).
  for (const holder of readHolders(config.lockDir, config.slots)) {
    if (holder.runId === drain.runId) killTree({ pgid: holder.pgid, pids: leftoverProcesses(holder), signal: "SIGKILL" });
  }
  signal(drain.pid, "SIGKILL");
  return drain;
}

const STOP_MARGIN_MS = 5000;
