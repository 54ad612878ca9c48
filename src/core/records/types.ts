// The stable JSON of run and job records (DESIGN §6): what the files, --json and --report hold.
// Users script against these names: add fields freely, never rename.
import type { Conclusion } from "../conclusion.ts";
import type { SamplePoint } from "../proc/samples.ts";

export type { SamplePoint } from "../proc/samples.ts";

export type Status = "queued" | "in_progress" | "completed";

export interface KilledProcess {
  pid: number;
  command: string;
  rssBytes: number;
}

/** What sep saw when it killed a job: why, the measured memory (memory kills), the biggest processes. */
export interface KillRecord {
  reason: string;
  measuredBytes?: number;
  processes: KilledProcess[];
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
  /**
   * the tree's memory over time: `[msSinceStart, bytes]`, at most 120 points, times increasing, each
   * the highest poll in its stretch (so its maximum is peakMemoryBytes); the first point is the first
   * poll, the last the final sample. Only on a completed job whose memory was measured.
   */
  memorySamples?: SamplePoint[];
  limits: { timeoutMs: number | null; memoryLimitBytes: number | null };
  logPath: string;
  /** the command as given, when it was split into several jobs and this is one of them */
  group?: string;
  /** the stored job (`sep queue add`) this job ran, e.g. "q12" */
  queueId?: string;
  /** why the command could not start (startup_failure): "command not found: pytset" */
  startupError?: string;
  kill?: KillRecord;
  /** what was lost when sep could not write part of the record or log */
  warnings?: string[];
  /** how the machine governor admitted the job (DESIGN §9); absent when the governor is off */
  admission?: AdmissionRecord;
  /** time the governor kept the job paused under memory pressure (not counted against --timeout) */
  pausedMs?: number;
}

export interface AdmissionRecord {
  reservationBytes: number;
  reservationSource: "flag" | "learned" | "limit";
  budgetBytes: number;
  /** time spent at the machine gate, after the project turn came */
  waitedMs: number;
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

/** The exit code a completed run stands for (sep wait, run view/watch --exit-status): 1 when it has none. */
export function runExitCode(run: Pick<RunRecord, "exitCode">): number {
  return typeof run.exitCode === "number" ? run.exitCode : 1;
}

/** Run ids sort by creation time (UTC, ms) and never collide (random suffix). */
export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace("T", "-").replace(".", "-").replace("Z", "");
  return `${stamp}-${randomHex(3)}`;
}

/**
 * n random bytes as hex, from the runtime's Web Crypto: node:crypto would be loaded at every start
 * of sep (a bundle loads the builtins it imports up front), for ~1.5 ms.
 */
export function randomHex(n: number): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(n))).toString("hex");
}
