// Following a run's output from where the caller left off: shared by a detaching `sep --` (which
// follows its background sep's job) and `sep wait`. Jobs run in order, so each job's log is copied
// to its end once its record says it completed, and the next one's after it.
import { readRun } from "../core/records/history.ts";
import type { SeenOffsets } from "../core/records/seen.ts";
import type { RunRecord } from "../core/records/types.ts";
import { copyNewBytes, jobLogFile } from "../output.ts";

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
