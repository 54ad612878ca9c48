// The table that closes a run on stderr: one line per job with its conclusion, duration and peak.
import type { JobRecord, RunRecord } from "../core/runs.ts";
import { formatBytes, formatDuration, renderTable, singleLine } from "../format.ts";

export function formatRunSummary(run: RunRecord): string {
  const table = renderTable<JobRecord>(run.jobs, [
    { header: "#", value: (job) => String(job.n), align: "right" },
    { header: "CONCLUSION", value: (job) => job.conclusion ?? job.status },
    { header: "EXIT", value: (job) => (job.exitCode === null ? "-" : String(job.exitCode)), align: "right" },
    { header: "DURATION", value: (job) => formatDuration(job.durationMs), align: "right" },
    { header: "PEAK", value: (job) => formatBytes(job.peakMemoryBytes), align: "right" },
    { header: "JOB", value: (job) => singleLine(job.name), maxWidth: 80 },
  ]);
  const verdict = `run ${run.id}: ${run.conclusion ?? run.status}, exit ${run.exitCode ?? "-"}, ${run.jobs.length} job(s) in ${formatDuration(run.durationMs)}`;
  return `\n${table}${verdict}\n`;
}
