// Following a run's output from where the caller left off: shared by a detaching `sep --` (which
// follows its background sep's job) and `sep wait`. Jobs run in order, so each job's log is copied
// to its end once its record says it completed, and the next one's after it.
import { compileHotLoopsSoon } from "../core/jit.ts";
import { readRun } from "../core/records/history.ts";
import { saveSeen, type SeenOffsets } from "../core/records/seen.ts";
import { type RunRecord, runExitCode } from "../core/records/types.ts";
import { logger } from "../logger.ts";
import { copyNewBytes, jobLogFile } from "../output.ts";

/** The exit code that says "not finished yet: `sep wait RUN_ID`" (as for --wait-timeout). */
export const STILL_RUNNING = 75;

/** How often the run record and the current job's log are read. */
export const FOLLOW_POLL_MS = 100;

/**
 * Copy what the run's jobs have written since `seen` to stdout, advancing `seen`; the run as read
 * (undefined while it has no record yet). The record is read before the logs: once it says a job
 * completed, its log holds every byte.
 */
export async function copyRunOutput(logDir: string, runId: string, seen: SeenOffsets): Promise<RunRecord | undefined> {
  const run = readRun(logDir, runId);
  if (!run) return undefined;
  for (const [index, job] of run.jobs.entries()) {
    const n = Number.isInteger(job.n) && job.n > 0 ? job.n : index + 1;
    if (!job.startedAt) {
      if (job.status === "completed") continue; // skipped or cancelled before it started: no output
      break; // queued: nothing after it has started
    }
    seen.set(n, (await copyNewBytes(jobLogFile(logDir, run, job, n), seen.get(n) ?? 0)).offset);
    if (job.status !== "completed") break;
  }
  return run;
}

/** Where a run stands, in words, for the line that says it goes on without us. */
export function runState(run: RunRecord | undefined, now = Date.now()): string {
  const job = run?.jobs.find((candidate) => candidate.status !== "completed");
  if (!run || !job) return "waiting for its turn";
  if (job.status === "queued") return "waiting for its turn";
  const elapsed = Math.max(0, Math.round((now - Date.parse(job.startedAt ?? "")) / 1000));
  const label = run.jobs.length > 1 ? `job ${job.n}/${run.jobs.length}` : "its job";
  return `${label} running for ${Number.isFinite(elapsed) ? elapsed : 0}s`;
}

export type FollowEnd =
  | { kind: "completed"; exitCode: number }
  | { kind: "deadline"; run: RunRecord | undefined }
  /** no record (any more), and `present()` says none is coming */
  | { kind: "gone" };

/**
 * Copy the run's output as it comes until it completes (its exit code), `deadlineMs` (Date.now()
 * time) passes, or it has no record and `present()` says it will not get one (default: never wait
 * for a record that is not there).
 */
export async function followRun(
  logDir: string,
  runId: string,
  seen: SeenOffsets,
  options: { deadlineMs?: number; present?: () => boolean } = {},
): Promise<FollowEnd> {
  compileHotLoopsSoon();
  for (;;) {
    const run = await copyRunOutput(logDir, runId, seen);
    if (run?.status === "completed") return { kind: "completed", exitCode: runExitCode(run) };
    if (!run && !(options.present?.() ?? false)) return { kind: "gone" };
    if (options.deadlineMs !== undefined && Date.now() >= options.deadlineMs) return { kind: "deadline", run };
    await Bun.sleep(FOLLOW_POLL_MS);
  }
}

/**
 * The caller stops following a run that goes on: note how far it has read (so `sep wait` goes on
 * from there), say so and how to pick it up, and give the exit code for that: 75.
 */
export function leaveRunning(logDir: string, run: RunRecord | undefined, runId: string, seen: SeenOffsets, where: string = runState(run)): number {
  if (run) {
    try {
      saveSeen(logDir, runId, seen);
    } catch (error) {
      logger.warn(`could not note how much of run ${runId}'s output was shown (${(error as Error).message}); \`sep wait\` will print it all`);
    }
  }
  logger.warn(`run ${runId} goes on in the background (${where}); nothing is lost: wait for it with \`sep wait ${runId}\` (exit 75 now)`);
  return STILL_RUNNING;
}
