// How a job ended, in words: one wording for `run view`, the terminal, the GitHub annotations and
// the step summary, so a job reads the same live, in the history and on GitHub.
import { isFailure } from "./core/conclusion.ts";
import type { JobRecord } from "./core/records/types.ts";
import { formatBytes, formatDuration, singleLine } from "./format.ts";

/**
 * Why a job did not succeed, with the numbers: `killed by sep at the memory limit (used 312 MB,
 * limit 300 MB; largest: 123 python 300 MB)`, `killed by sep at the time limit (limit 1m00s)`,
 * `could not start: command not found: pytset`, `failed`. Undefined for a job that succeeded, was
 * skipped or has not finished. `largest: false` leaves out the processes (a one-line annotation).
 */
export function describeKill(job: JobRecord, options: { largest?: boolean } = {}): string | undefined {
  if (!isFailure(job.conclusion)) return undefined;
  const kill = job.kill;
  switch (job.conclusion) {
    case "timed_out":
      if (kill?.reason === "pipeline_timeout") return "killed by sep at the pipeline timeout";
      return `killed by sep at the time limit${typeof job.limits?.timeoutMs === "number" ? ` (limit ${formatDuration(job.limits.timeoutMs)})` : ""}`;
    case "memory_exceeded": {
      const details: string[] = [];
      const used = kill?.measuredBytes ?? job.peakMemoryBytes;
      if (typeof used === "number") details.push(`used ${formatBytes(used)}`);
      if (typeof job.limits?.memoryLimitBytes === "number") details.push(`limit ${formatBytes(job.limits.memoryLimitBytes)}`);
      const largest = options.largest === false ? "" : _largest(job);
      const numbers = details.join(", ") + (largest ? `${details.length > 0 ? "; " : ""}largest: ${largest}` : "");
      return `killed by sep at the memory limit${numbers ? ` (${numbers})` : ""}`;
    }
    case "cancelled":
      return kill ? `cancelled: sep got ${singleLine(kill.reason)} and killed its process tree` : "cancelled";
    case "startup_failure":
      return typeof job.startupError === "string" ? `could not start: ${singleLine(job.startupError)}` : "could not start";
    default:
      return typeof job.signal === "string" ? `failed: died of ${job.signal}` : "failed";
  }
}

/** The three biggest processes when sep killed the job: `123 python -m pytest 300 MB, …`. */
function _largest(job: JobRecord): string {
  const processes = Array.isArray(job.kill?.processes) ? job.kill.processes : [];
  return processes
    .slice(0, 3)
    .map((p) => `${p.pid} ${singleLine(String(p.command)).slice(0, 40)} ${formatBytes(p.rssBytes)}`)
    .join(", ");
}
