// A job as the recorder holds it: fixed facts plus one state, a union whose variants carry only
// their own fields. It becomes DESIGN §6's flat JSON only when written or shown (flattenJob).
import type { Conclusion } from "../conclusion.ts";
import type { AdmissionRecord, JobRecord, KillRecord, SamplePoint } from "./types.ts";

export type JobState =
  | { status: "queued" }
  | { status: "in_progress"; startedAt: string; admission?: AdmissionRecord }
  | {
      status: "completed";
      admission?: AdmissionRecord;
      pausedMs?: number;
      conclusion: Conclusion;
      exitCode: number | null;
      signal: string | null;
      /** null for a job that never started (skipped, or cancelled before its turn) */
      startedAt: string | null;
      completedAt: string;
      durationMs: number | null;
      peakMemoryBytes: number | null;
      /** only with a measured peak */
      memorySamples?: SamplePoint[];
      kill?: KillRecord;
      startupError?: string;
    };

/** What a job is, whatever happens to it. */
export interface JobFacts {
  n: number;
  name: string;
  argv: string[];
  cwd: string;
  limits: JobRecord["limits"];
  group?: string;
  queueId?: string;
}

export interface Job extends JobFacts {
  readonly id: string;
  readonly runId: string;
  queuedAt: string;
  logPath: string;
  state: JobState;
  warnings: string[];
}

/** What a finished job's executor run tells the record. */
export interface JobOutcome {
  conclusion: Conclusion;
  exitCode: number;
  signal: string | null;
  startedAt: Date;
  completedAt: Date;
  peakMemoryBytes: number | null;
  /** the memory polls over time (ms since startedAt) */
  memorySamples?: SamplePoint[];
  kill?: KillRecord;
  startupError?: string;
  /** paused by the governor, in ms (only when the governor admitted it) */
  pausedMs?: number;
}

export function newJob(runId: string, facts: JobFacts, queuedAt: Date): Job {
  return { ...facts, id: `${runId}.${facts.n}`, runId, queuedAt: queuedAt.toISOString(), logPath: "", state: { status: "queued" }, warnings: [] };
}

export function startJob(job: Job, at: Date, admission?: AdmissionRecord): void {
  job.state = { status: "in_progress", startedAt: at.toISOString(), ...(admission ? { admission } : {}) };
}

export function completeJob(job: Job, outcome: JobOutcome): void {
  const admission = job.state.status === "in_progress" ? job.state.admission : undefined;
  job.state = {
    status: "completed",
    ...(admission ? { admission, pausedMs: outcome.pausedMs ?? 0 } : {}),
    conclusion: outcome.conclusion,
    exitCode: outcome.exitCode,
    signal: outcome.signal,
    startedAt: outcome.startedAt.toISOString(),
    completedAt: outcome.completedAt.toISOString(),
    durationMs: outcome.completedAt.getTime() - outcome.startedAt.getTime(),
    peakMemoryBytes: outcome.peakMemoryBytes,
    // A job gone before its first poll measured nothing: no peak (null), and no samples of zeros.
    ...(outcome.peakMemoryBytes !== null && outcome.memorySamples?.length ? { memorySamples: outcome.memorySamples } : {}),
    ...(outcome.kill ? { kill: outcome.kill } : {}),
    ...(outcome.startupError ? { startupError: outcome.startupError } : {}),
  };
}

/**
 * A job that will not run to its end: skipped (never started), or cancelled (stopped before its
 * turn, or its sep died while it ran). A started job keeps its start and gets its duration so far.
 */
export function endUnrun(job: Job, conclusion: Extract<Conclusion, "skipped" | "cancelled">, at: Date, exitCode: number | null = null): void {
  const startedAt = job.state.status === "in_progress" ? job.state.startedAt : null;
  job.state = {
    status: "completed",
    conclusion,
    exitCode,
    signal: null,
    startedAt,
    completedAt: at.toISOString(),
    durationMs: startedAt ? at.getTime() - Date.parse(startedAt) : null,
    peakMemoryBytes: null,
  };
}

/** The job as DESIGN §6's JSON: every field present, null where its state has none. */
export function flattenJob(job: Job): JobRecord {
  const { state } = job;
  const done = state.status === "completed" ? state : undefined;
  return {
    ...(job.group === undefined ? {} : { group: job.group }),
    id: job.id,
    runId: job.runId,
    n: job.n,
    name: job.name,
    argv: job.argv,
    cwd: job.cwd,
    status: state.status,
    conclusion: done?.conclusion ?? null,
    exitCode: done?.exitCode ?? null,
    signal: done?.signal ?? null,
    queuedAt: job.queuedAt,
    startedAt: state.status === "queued" ? null : state.startedAt,
    completedAt: done?.completedAt ?? null,
    durationMs: done?.durationMs ?? null,
    peakMemoryBytes: done?.peakMemoryBytes ?? null,
    ...(done?.memorySamples === undefined ? {} : { memorySamples: done.memorySamples }),
    limits: job.limits,
    logPath: job.logPath,
    ...(job.queueId === undefined ? {} : { queueId: job.queueId }),
    ...(done?.startupError === undefined ? {} : { startupError: done.startupError }),
    ...(done?.kill === undefined ? {} : { kill: done.kill }),
    ...(job.warnings.length > 0 ? { warnings: job.warnings } : {}),
    ...(state.status !== "queued" && state.admission ? { admission: state.admission } : {}),
    ...(done?.pausedMs === undefined ? {} : { pausedMs: done.pausedMs }),
  };
}

/**
 * A job read back from disk (to close a run whose sep died). A completed record is never changed,
 * so only unfinished ones need to become a Job again; fields the record lacks get their defaults.
 */
export function inflateJob(record: JobRecord): Job {
  const state: JobState =
    record.status === "in_progress" && typeof record.startedAt === "string"
      ? { status: "in_progress", startedAt: record.startedAt }
      : { status: "queued" };
  return {
    id: record.id,
    runId: record.runId,
    n: record.n,
    name: record.name,
    argv: record.argv,
    cwd: record.cwd,
    limits: record.limits,
    ...(record.group === undefined ? {} : { group: record.group }),
    ...(record.queueId === undefined ? {} : { queueId: record.queueId }),
    queuedAt: record.queuedAt,
    logPath: record.logPath ?? "",
    state,
    warnings: Array.isArray(record.warnings) ? [...record.warnings] : [],
  };
}
