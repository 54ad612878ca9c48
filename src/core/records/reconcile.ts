// Runs whose sep died: their job files merged back into run.json, and the run closed as cancelled
// by the next sep that looks, so nothing shows as running forever.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { decideRun } from "../conclusion.ts";
import { logLayout } from "../paths.ts";
import { isSameProcess } from "../proc/index.ts";
import { readJson, writeJsonAtomic } from "../store.ts";
import { endUnrun, flattenJob, inflateJob } from "./job.ts";
import type { JobRecord, RunRecord } from "./types.ts";

export function ownerAlive(owner: RunRecord["owner"]): boolean {
  return isSameProcess(owner.pid, owner.startTime);
}

/** Job records newer than what run.json holds (a run.json written at most RUN_SAVE_INTERVAL_MS ago). */
export function mergeJobFiles(layout: ReturnType<typeof logLayout>, run: RunRecord): void {
  let names: string[] = [];
  try {
    names = readdirSync(layout.jobsDir(run.id));
  } catch {
    return;
  }
  const rank = { queued: 0, in_progress: 1, completed: 2 } as const;
  for (const name of names) {
    const match = /^(\d+)\.json$/.exec(name);
    if (!match) continue;
    const job = readJson<JobRecord>(join(layout.jobsDir(run.id), name));
    if (!job || job.n !== Number(match[1]) || !(job.status in rank)) continue;
    const index = run.jobs.findIndex((known) => known.n === job.n);
    if (index < 0) run.jobs.push(job);
    else if (rank[job.status] > rank[run.jobs[index]!.status]) run.jobs[index] = job;
  }
  run.jobs.sort((a, b) => a.n - b.n);
}

/**
 * In memory: close a run whose owner died. Its unfinished jobs become cancelled (started) or
 * skipped (never started), with a warning that says why; the run is cancelled (run ladder).
 */
export function markAbandoned(run: RunRecord, now = new Date()): void {
  run.jobs = run.jobs.map((record) => {
    if (record.status === "completed") return record;
    const job = inflateJob(record);
    endUnrun(job, job.state.status === "in_progress" ? "cancelled" : "skipped", now);
    job.warnings.push("the sep process running this job died; marked cancelled by a later sep");
    return { ...record, ...flattenJob(job) };
  });
  closeRun(run, now, decideRun(run.jobs, { kind: "abandoned" }));
}

/** Fill in a run's completion from its verdict: status, times, the highest peak of its jobs. */
export function closeRun(run: RunRecord, completedAt: Date, verdict: { conclusion: RunRecord["conclusion"]; exitCode: number }): void {
  run.status = "completed";
  run.completedAt = completedAt.toISOString();
  run.durationMs = run.startedAt ? completedAt.getTime() - Date.parse(run.startedAt) : 0;
  const peaks = run.jobs.flatMap((job) => (typeof job.peakMemoryBytes === "number" ? [job.peakMemoryBytes] : []));
  run.peakMemoryBytes = peaks.length ? Math.max(...peaks) : null;
  run.conclusion = verdict.conclusion;
  run.exitCode = verdict.exitCode;
}

/**
 * A run left queued or in progress by a sep that died (SIGKILL, power loss) is marked cancelled,
 * with its unfinished jobs, on disk. Returns true when it changed.
 */
export function reconcileRun(logDir: string, runId: string, now = new Date()): boolean {
  const layout = logLayout(logDir);
  const run = readJson<RunRecord>(layout.runRecord(runId));
  if (!run || run.status === "completed" || !run.owner || ownerAlive(run.owner)) return false;
  mergeJobFiles(layout, run);
  markAbandoned(run, now);
  writeJsonAtomic(layout.runRecord(runId), run);
  for (const job of run.jobs) writeJsonAtomic(layout.jobRecord(runId, job.n), job);
  return true;
}

/** Ids of all runs on disk, oldest first. */
export function listRunIds(logDir: string): string[] {
  try {
    return readdirSync(logLayout(logDir).runsDir).filter((name) => !name.startsWith(".")).sort();
  } catch {
    return [];
  }
}
