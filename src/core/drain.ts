// `sep queue start`: drain the stored queue in FIFO order as one run, each job taking its turn like
// any `sep -- CMD`, and return when the queue is empty (or keep following it with --follow).
import type { ResolvedConfig } from "../config.ts";
import { SepError } from "../errors.ts";
import { logger } from "../logger.ts";
import { type KillReason, signalNumber } from "./conclusion.ts";
import { interrupted, interruptSignal } from "./interrupts.ts";
import { cleanUpAfter, concludeUnrun, jobLimits, newJobRecord, type RunReporter, runJobInTurn, save } from "./job-in-turn.ts";
import { isLockHeld, readHolders, reclaimAbandonedSlots, releaseLockFile, tryLockFile, WaitTimeoutError } from "./lock.ts";
import { lockLayout } from "./paths.ts";
import { isAlive, processStartTime } from "./process-tree.ts";
import {
  claimEntry,
  dropClaim,
  dropStaleClaims,
  isPaused,
  listQueue,
  nextEntry,
} from "./queue.ts";
import { newRunRecord, openRecords, pruneOldRuns, writeReport } from "./run-now.ts";
import { finishRun, newRunId, reconcileRun, type RunRecord, type RunWriter } from "./runs.ts";
import { ensurePrivateDir, readJson, unlinkSafe, writeJsonAtomic } from "./store.ts";

export interface DrainInfo {
  pid: number;
  pidStartTime: number | null;
  runId: string;
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

/** The drain now running in this scope, if its process is alive. */
export function currentDrain(lockDir: string): DrainInfo | undefined {
  const layout = lockLayout(lockDir);
  if (!isLockHeld(layout.drainLock)) return undefined;
  const info = readJson<DrainInfo>(layout.drainInfo);
  return info && isAlive(info.pid) ? info : undefined;
}

async function acquireDrainLock(lockDir: string, wait: boolean): Promise<number> {
  const layout = lockLayout(lockDir);
  let announced = false;
  for (;;) {
    const fd = tryLockFile(layout.drainLock);
    if (fd !== undefined) return fd;
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
    if (interrupted.aborted) throw new SepError("E_INTERRUPTED", "interrupted while waiting for the other drain; nothing ran", { exitCode: 130 });
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
    writeJsonAtomic(layout.drainInfo, { pid: process.pid, pidStartTime: processStartTime(process.pid), runId, startedAt: createdAt.toISOString() } satisfies DrainInfo);

    let firstFailure: number | undefined;
    let stopped: "fail_fast" | "pipeline_timeout" | "interrupted" | undefined;
    let announcedPause = false;
    let jobRunning = false;
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

      const { entry, stored } = nextEntry(lockDir, (moved) => logger.warn(`a stored job was not valid JSON of a job; set it aside as ${moved}`));
      if (!entry) {
        if (!options.follow) break;
        await Bun.sleep(IDLE_POLL_MS);
        continue;
      }
      if (!claimEntry(lockDir, entry)) continue;

      const limits = jobLimits(config, entry.overrides);
      const job = newJobRecord({
        runId,
        n: run.jobs.length + 1,
        name: entry.name ?? entry.argv.join(" "),
        argv: entry.argv,
        cwd: entry.cwd,
        queuedAt: new Date(entry.addedAt),
        limits,
        group: entry.group,
      });
      run.jobs.push(job);
      if (run.jobs.length === 1) run.title = job.name;
      writer ??= openRecords(config, run);

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
        dropClaim(lockDir, entry);
      }
      if (outcome && !outcome.ran) {
        // Interrupted while waiting for its turn: cancelled; the pipeline timeout: skipped.
        concludeUnrun(job, outcome.why === "interrupted" ? "cancelled" : "skipped");
        save(writer, job);
        continue; // the loop head sees why
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
        const job = newJobRecord({
          runId,
          n: run.jobs.length + 1,
          name: entry.name ?? entry.argv.join(" "),
          argv: entry.argv,
          cwd: entry.cwd,
          queuedAt: new Date(entry.addedAt),
          limits: jobLimits(config, entry.overrides),
          group: entry.group,
        });
        concludeUnrun(job, "skipped");
        run.jobs.push(job);
        writer ??= openRecords(config, run);
        save(writer, job);
        dropClaim(lockDir, entry);
      }
    }

    interrupted.removeEventListener("abort", onInterrupt);
    if (run.jobs.length === 0) {
      logger.info("the queue is empty; nothing to run");
      return { exitCode: interruptedJob ? 128 + signalOf() : 0 };
    }
    finishRun(run, new Date());
    if (stopped === "pipeline_timeout") {
      run.conclusion = "timed_out";
      run.exitCode = 124;
      logger.error(`the pipeline timeout of ${config.pipelineTimeout}s passed; the rest of the queue was skipped (exit 124)`);
    } else if (stopped === "interrupted" && interruptedJob) {
      run.conclusion = "cancelled";
      run.exitCode = 128 + signalOf();
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

function signalOf(): number {
  return signalNumber(interruptSignal() ?? "SIGINT");
}

/**
 * A drain that died (SIGKILL, power loss) left its drain.json, maybe claims, and maybe a slot
 * record whose job still runs. Only one drain runs per scope and we hold its lock, so all of that
 * is stale: kill the job's leftovers, mark its run cancelled, drop its claims.
 */
async function recoverFromDeadDrain(config: ResolvedConfig): Promise<void> {
  const { lockDir } = config;
  const dead = readJson<DrainInfo>(lockLayout(lockDir).drainInfo);
  await reclaimAbandonedSlots(lockDir, config.slots, (holder) => cleanUpAfter(holder, config));
  if (dead && reconcileRun(config.logDir, dead.runId)) logger.warn(`run ${dead.runId} was left in progress by a drain that died (sep pid ${dead.pid}); marked cancelled`);
  const stale = dropStaleClaims(lockDir);
  if (stale > 0) logger.warn(`dropped ${stale} job(s) claimed by a drain that died; they are recorded in its run`);
}

/**
 * Stop the scope's drain: SIGTERM makes it kill its current job's tree (TERM, grace, KILL), mark
 * the run cancelled and exit. If it has not ended after the grace and a margin, it is killed, and
 * so is its job's group (the next holder would also clean that up, but stop means stop).
 */
export async function stopDrain(config: ResolvedConfig): Promise<DrainInfo | undefined> {
  const drain = currentDrain(config.lockDir);
  if (!drain) return undefined;
  if (drain.pidStartTime !== null && processStartTime(drain.pid) !== drain.pidStartTime) return undefined;
  const layout = lockLayout(config.lockDir);
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
    if (!isLockHeld(layout.drainLock)) return drain;
    await Bun.sleep(20);
  }
  for (const holder of readHolders(config.lockDir, config.slots)) {
    if (holder.runId === drain.runId && holder.pgid) signal(-holder.pgid, "SIGKILL");
  }
  signal(drain.pid, "SIGKILL");
  return drain;
}

const STOP_MARGIN_MS = 5000;
