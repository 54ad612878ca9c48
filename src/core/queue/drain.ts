// `sep queue start`: drain the stored queue in FIFO order as one run, each job taking its turn like
// any `sep -- CMD`, and return when the queue is empty (or keep following it with --follow).
import type { ResolvedConfig } from "../../config.ts";
import { SepError } from "../../errors.ts";
import { logger } from "../../logger.ts";
import type { KillReason } from "../conclusion.ts";
import { interrupted, interruptExitCode } from "../interrupts.ts";
import { cleanUpAfter, concludeUnrun, jobLimits, newJobRecord, type RunReporter, runJobInTurn, save } from "../job-in-turn.ts";
import { readHolders, reclaimAbandonedSlots, releaseLockFile, tryLockFile, WaitTimeoutError } from "../turn/lock.ts";
import { lockLayout } from "../paths.ts";
import { isAlive, isSameProcess, ownStartTime } from "../proc/index.ts";
import {
  claimEntry,
  type QueueEntry,
  dropClaim,
  markClaimStarted,
  recoverClaims,
  returnClaim,
  isPaused,
  listQueue,
  QueueCursor,
} from "./entries.ts";
import { openRecords, pruneOldRuns, writeReport } from "../records/recording.ts";
import { finishRun, newRunId, newRunRecord, reconcileRun, type RunRecord, type RunWriter } from "../records/runs.ts";
import { ensurePrivateDir, readJson, unlinkSafe, writeJsonAtomic } from "../store.ts";

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
    if (!announced) logger.info(`waiting for ${who} to finish draining the queue`);
    announced = true;
    if (interrupted.aborted) throw new SepError("E_INTERRUPTED", "interrupted while waiting for the other drain; nothing ran", { exitCode: interruptExitCode() });
    await Bun.sleep(IDLE_POLL_MS);
  }
}

export async function drainQueue(config: ResolvedConfig, options: DrainOptions = {}): Promise<DrainResult> {
  const { lockDir } = config;
  const layout = lockLayout(lockDir);
  ensurePrivateDir(lockDir);
  const drainFd = await acquireDrainLock(lockDir, options.wait === true);
  const createdAt = new Date();
  const runId = newRunId(createdAt);
  const run = newRunRecord(runId, "sep queue start", createdAt);
  let writer: RunWriter | undefined;

  const pipeline = new AbortController();
  const pipelineTimer =
    config.pipelineTimeout > 0
      ? setTimeout(() => pipeline.abort({ kind: "pipeline_timeout" } satisfies KillReason), config.pipelineTimeout * 1000)
      : undefined;

  try {
    await recoverFromDeadDrain(config);
    writeJsonAtomic(layout.drainInfo, {
      pid: process.pid,
      pidStartTime: ownStartTime(),
      runId,
      logDir: config.logDir,
      startedAt: createdAt.toISOString(),
    } satisfies DrainInfo);

    let firstFailure: number | undefined;
    let stopped: "fail_fast" | "pipeline_timeout" | "interrupted" | undefined;
    let announcedPause = false;
    let jobRunning = false;
    const queue = new QueueCursor(lockDir, (moved) => logger.warn(`a stored job was not valid JSON of a job; set it aside as ${moved}`));
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
        if (!announcedPause) logger.info("the queue is paused; the next job starts after `sep queue resume`");
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

      const { job, limits } = addJob(run, entry, config);
      if (run.jobs.length === 1) run.title = job.name;
      // Recorded at once, before its turn: a drain killed while the job waits leaves a record
      // that says so, and the job is returned to the queue by the next drain.
      writer ??= openRecords(config, run);
      save(writer, job);

      let outcome: Awaited<ReturnType<typeof runJobInTurn>> | undefined;
      jobRunning = true;
      try {
        outcome = await runJobInTurn({
          config,
          run,
          job,
          limits,
          records: () => writer,
          waitTimeoutMs: entry.waitTimeoutMs,
          abort: pipeline.signal,
          reporter: options.reporter,
          total: job.n + stored - 1,
          env: entry.env,
          onStart: () => markClaimStarted(lockDir, entry),
        });
      } catch (error) {
        if (!(error instanceof WaitTimeoutError)) throw error;
        // Nothing ran, and the run must not read as green: cancelled, with --wait-timeout's 75.
        logger.warn(`${job.name}: ${error.message}`);
        concludeUnrun(job, "cancelled");
        job.exitCode = error.exitCode;
        (job.warnings ??= []).push(error.message);
        save(writer, job);
        firstFailure ??= error.exitCode;
        if (options.failFast) stopped = "fail_fast";
      } finally {
        jobRunning = false;
      }
      if (outcome && !outcome.ran && outcome.why === "interrupted") {
        // Stopped (Ctrl-C, `sep queue stop`) before it started: it stays stored for next time,
        // like every job after it.
        returnClaim(lockDir, entry);
        concludeUnrun(job, "skipped");
        (job.warnings ??= []).push(`the drain was stopped before this job started; ${entry.id} is still stored`);
        save(writer, job);
        continue; // the loop head sees why
      }
      dropClaim(lockDir, entry);
      if (outcome && !outcome.ran) {
        // The pipeline timeout passed while it waited for its turn: skipped, like the rest.
        concludeUnrun(job, "skipped");
        save(writer, job);
        continue;
      }
      if (outcome?.ran && entry.reportPath) writeReport(entry.reportPath, job);
      if (outcome?.ran && outcome.exitCode !== 0) {
        firstFailure ??= outcome.exitCode;
        if (options.failFast && !interrupted.aborted && !pipeline.signal.aborted) stopped = "fail_fast";
      }
      if (stopped) break;
    }

    // After --fail-fast or the pipeline timeout the rest of the queue belongs to this run and is
    // recorded as skipped; after an interrupt (Ctrl-C, `queue stop`) it stays stored for next time.
    if (stopped === "fail_fast" || stopped === "pipeline_timeout") {
      for (const entry of listQueue(lockDir).entries) {
        if (!claimEntry(lockDir, entry)) continue;
        const { job } = addJob(run, entry, config);
        concludeUnrun(job, "skipped");
        writer ??= openRecords(config, run);
        save(writer, job);
        dropClaim(lockDir, entry);
      }
    }

    interrupted.removeEventListener("abort", onInterrupt);
    if (run.jobs.length === 0) {
      logger.info("the queue is empty; nothing to run");
      return { exitCode: interruptedJob ? interruptExitCode() : 0 };
    }
    finishRun(run, new Date());
    if (stopped === "pipeline_timeout") {
      run.conclusion = "timed_out";
      run.exitCode = 124;
      logger.error(`the pipeline timeout of ${config.pipelineTimeout}s passed; the rest of the queue was skipped (exit 124)`);
    } else if (stopped === "interrupted" && interruptedJob) {
      run.conclusion = "cancelled";
      run.exitCode = interruptExitCode();
    } else {
      run.exitCode = firstFailure ?? 0;
    }
    try {
      writer?.saveRun();
    } catch (error) {
      logger.warn(`could not write the record of run ${run.id} (${(error as Error).message})`);
    }
    options.reporter?.runEnded?.(run);
    if (writer) pruneOldRuns(config);
    return { exitCode: run.exitCode ?? 1, run };
  } finally {
    clearTimeout(pipelineTimer);
    unlinkSafe(layout.drainInfo);
    releaseLockFile(drainFd);
  }
}

/** The job record of a stored job, as the next job of run. */
function addJob(run: RunRecord, entry: QueueEntry, config: ResolvedConfig) {
  const limits = jobLimits(config, entry.overrides);
  const job = newJobRecord({
    runId: run.id,
    n: run.jobs.length + 1,
    name: entry.name ?? entry.argv.join(" "),
    argv: entry.argv,
    cwd: entry.cwd,
    queuedAt: new Date(entry.addedAt),
    limits,
    group: entry.group,
  });
  job.queueId = entry.id;
  run.jobs.push(job);
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
    logger.warn(`run ${dead.runId} was left in progress by a drain that died (sep pid ${dead.pid}); marked cancelled`);
  }
  const { returned, dropped } = recoverClaims(lockDir);
  if (returned.length > 0) logger.warn(`returned ${returned.join(", ")} to the queue: claimed by a drain that died before they ran`);
  if (dropped.length > 0) logger.warn(`${dropped.join(", ")} had started under the drain that died; recorded there as cancelled`);
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
  for (const holder of readHolders(config.lockDir, config.slots)) {
    if (holder.runId === drain.runId && holder.pgid) signal(-holder.pgid, "SIGKILL");
  }
  signal(drain.pid, "SIGKILL");
  return drain;
}

const STOP_MARGIN_MS = 5000;
