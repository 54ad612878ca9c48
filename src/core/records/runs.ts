// Run and job records (DESIGN §6): created, updated and finished atomically; stale ones reconciled.
import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { Conclusion } from "../conclusion.ts";
import { logLayout } from "../paths.ts";
import { isSameProcess, ownStartTime } from "../proc/index.ts";
import { ensurePrivateDir, readJson, writeJsonAtomic } from "../store.ts";

export type Status = "queued" | "in_progress" | "completed";

export interface KilledProcess {
  pid: number;
  command: string;
  rssBytes: number;
}

export interface JobRecord {
  id: string;
  runId: string;
  /** 1-based position in its run */
  n: number;
  name: string;
  argv: string[];
  cwd: string;
  status: Status;
  conclusion: Conclusion | null;
  exitCode: number | null;
  signal: string | null;
  queuedAt: string;
  startedAt: string | null;
  completedAt: string | null;
  durationMs: number | null;
  peakMemoryBytes: number | null;
  limits: { timeoutMs: number | null; memoryLimitBytes: number | null };
  logPath: string;
  /** the command as given, when it was split into several jobs and this is one of them */
  group?: string;
  /** the stored job (`sep queue add`) this job ran, e.g. "q12" */
  queueId?: string;
  /** why the command could not start (startup_failure): "command not found: pytset" */
  startupError?: string;
  kill?: { reason: string; measuredBytes?: number; processes: KilledProcess[] };
  /** what was lost when sep could not write part of the record or log */
  warnings?: string[];
}

export interface RunRecord {
  id: string;
  title: string;
  status: Status;
  conclusion: Conclusion | null;
  exitCode: number | null;
  createdAt: string;
  startedAt: string | null;
  completedAt: string | null;
  durationMs: number | null;
  peakMemoryBytes: number | null;
  /** the sep process that owns the run while it is not completed; how a dead owner is detected */
  owner: { pid: number; startTime: number | null };
  jobs: JobRecord[];
}

/** Run ids sort by creation time (UTC, ms) and never collide (random suffix). */
export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace("T", "-").replace(".", "-").replace("Z", "");
  return `${stamp}-${randomBytes(3).toString("hex")}`;
}

/** A run about to start, owned by this sep (a dead owner is how a crashed run is recognised). */
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
    owner: { pid: process.pid, startTime: ownStartTime() },
    jobs: [],
  };
}

/** Writes one run's records. Every write is atomic; a reader never sees half a file. */
export class RunWriter {
  readonly layout;

  constructor(
    logDir: string,
    readonly run: RunRecord,
  ) {
    this.layout = logLayout(logDir);
  }

  /** Create the run's directories (the caller then saves). Throws when the log dir is unusable. */
  create(): void {
    // The log dir itself is checked, not only runs/ inside it: lstat of logs/runs would follow a
    // symlinked logs/ without noticing.
    ensurePrivateDir(this.layout.dir);
    ensurePrivateDir(this.layout.runsDir);
    mkdirSync(this.layout.jobsDir(this.run.id), { recursive: true, mode: 0o700 });
  }

  jobLogPath(n: number): string {
    return this.layout.jobLog(this.run.id, n);
  }

  private runSavedAt = 0;
  private trailing: ReturnType<typeof setTimeout> | undefined;

  /** Write the run record (it holds every job). */
  saveRun(): void {
    clearTimeout(this.trailing);
    this.trailing = undefined;
    writeJsonAtomic(this.layout.runRecord(this.run.id), this.run);
    this.runSavedAt = Date.now();
  }

  /**
   * Write one job's record, and the run record with it — at most every RUN_SAVE_INTERVAL_MS
   * (force: now). run.json holds every job, so rewriting it for each job of a 1000-job drain
   * would write O(jobs²) bytes. A skipped write is made up by a trailing one, so run.json is
   * never more than RUN_SAVE_INTERVAL_MS behind the job files; after a crash a reconcile merges
   * the job files back (reconcileRun), and readers of a live run merge them too.
   */
  saveJob(job: JobRecord, force = false): void {
    writeJsonAtomic(this.layout.jobRecord(this.run.id, job.n), job);
    const due = this.runSavedAt + RUN_SAVE_INTERVAL_MS - Date.now();
    if (force || due <= 0) return this.saveRun();
    this.trailing ??= setTimeout(() => {
      try {
        this.saveRun();
      } catch {
        // the next save says what failed
      }
    }, due);
    this.trailing.unref?.();
  }
}

const RUN_SAVE_INTERVAL_MS = 200;

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

/** Roll the jobs' outcomes up into the run: the first failed job decides the run's exit code. */
export function finishRun(run: RunRecord, completedAt: Date): void {
  run.status = "completed";
  run.completedAt = completedAt.toISOString();
  run.durationMs = run.startedAt ? completedAt.getTime() - Date.parse(run.startedAt) : 0;
  const peaks = run.jobs.flatMap((job) => (job.peakMemoryBytes === null ? [] : [job.peakMemoryBytes]));
  run.peakMemoryBytes = peaks.length ? Math.max(...peaks) : null;
  const failed = run.jobs.find((job) => job.conclusion !== "success" && job.conclusion !== "skipped");
  run.conclusion = failed?.conclusion ?? (run.jobs.every((job) => job.conclusion === "skipped") && run.jobs.length ? "skipped" : "success");
  run.exitCode = failed ? (failed.exitCode ?? 1) : 0;
}

export function ownerAlive(owner: RunRecord["owner"]): boolean {
  return isSameProcess(owner.pid, owner.startTime);
}

/**
 * A run left queued or in progress by a sep that died (SIGKILL, power loss) is marked cancelled,
 * with its unfinished jobs, so nothing shows as running forever. Returns true when it changed.
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

/** In memory: close a run whose owner died; its unfinished jobs become cancelled (or skipped). */
export function markAbandoned(run: RunRecord, now = new Date()): void {
  for (const job of run.jobs) {
    if (job.status === "completed") continue;
    job.status = "completed";
    job.conclusion = job.startedAt ? "cancelled" : "skipped";
    job.completedAt = now.toISOString();
    job.durationMs = job.startedAt ? now.getTime() - Date.parse(job.startedAt) : null;
    (job.warnings ??= []).push("the sep process running this job died; marked cancelled by a later sep");
  }
  finishRun(run, now);
  run.conclusion = "cancelled";
}

/** Ids of all runs on disk, oldest first. */
export function listRunIds(logDir: string): string[] {
  try {
    return readdirSync(logLayout(logDir).runsDir).filter((name) => !name.startsWith(".")).sort();
  } catch {
    return [];
  }
}
