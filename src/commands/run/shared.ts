// What `sep run list/view/watch/prune` share: strict flags, the log dir, how runs and jobs are
// shown, and copying job logs to stdout. The one-line job header and result are also meant for
// `sep queue start`, so a job reads the same live and in the history.
import { closeSync, existsSync, fstatSync, openSync, readSync, writeSync } from "node:fs";
import type { ArgsDef } from "citty";
import { resolveConfig, type ConfigFlags, type ResolvedConfig } from "../../config.ts";
import { UsageError } from "../../errors.ts";
import type { JobRecord, RunRecord } from "../../core/runs.ts";
import { logLayout } from "../../core/paths.ts";
import { formatAge, formatBytes, formatDuration, renderTable, singleLine } from "../../format.ts";
import { parseFlags, type ParsedFlags } from "../args.ts";

/**
 * citty parses leniently (an unknown flag is silently dropped); sep rejects it instead, so a typo
 * such as `--limt 5` is an error, not a surprise. At most `maxPositionals` words are accepted.
 */
export function strictArgs(rawArgs: string[], def: ArgsDef, where: string, maxPositionals: number): ParsedFlags {
  const parsed = parseFlags(rawArgs, def, where);
  if (parsed.positionals.length > maxPositionals) {
    throw new UsageError(`unexpected ${JSON.stringify(parsed.positionals[maxPositionals])} for ${where}`, `see \`${where} --help\``);
  }
  return parsed;
}

/** The resolved configuration for the current directory; reads files, creates none. */
export function loadConfig(flags?: ConfigFlags): Promise<ResolvedConfig> {
  return resolveConfig({ cwd: process.cwd(), flags });
}

// ---------------------------------------------------------------------------------------------
// Runs and jobs, as words

/** The run's name: its title, else its first job's name or command. */
export function runTitle(run: RunRecord): string {
  if (typeof run.title === "string" && run.title.trim() !== "") return run.title;
  const first = run.jobs[0];
  return first ? jobName(first) : "(no jobs)";
}

export function jobName(job: JobRecord): string {
  if (typeof job.name === "string" && job.name.trim() !== "") return job.name;
  return Array.isArray(job.argv) ? job.argv.join(" ") : "(unnamed)";
}

/** The job's place in its run (1-based); records carry it as `n`. */
export function jobNumber(job: JobRecord, index: number): number {
  return Number.isInteger(job.n) && job.n > 0 ? job.n : index + 1;
}

/** The conclusion once completed, else the status: `failure`, `in_progress`, `queued`. */
export function stateWord(record: { status: string; conclusion: string | null }): string {
  return record.status === "completed" ? (record.conclusion ?? "completed") : record.status;
}

function _sinceStart(startedAt: string | null, now: Date): number | null {
  const start = Date.parse(startedAt ?? "");
  return Number.isFinite(start) ? Math.max(0, now.getTime() - start) : null;
}

/** Duration of a completed run; time since it started for one in progress. */
export function runDurationMs(run: RunRecord, now: Date): number | null {
  return run.status === "completed" ? run.durationMs : _sinceStart(run.startedAt, now);
}

export function jobDurationMs(job: JobRecord, now: Date): number | null {
  return job.status === "completed" ? job.durationMs : _sinceStart(job.startedAt, now);
}

/** The run's peak memory; for a run in progress, the highest of its jobs so far. */
export function runPeakBytes(run: RunRecord): number | null {
  if (typeof run.peakMemoryBytes === "number") return run.peakMemoryBytes;
  const peaks = run.jobs.map((job) => job.peakMemoryBytes).filter((peak): peak is number => typeof peak === "number");
  return peaks.length > 0 ? Math.max(...peaks) : null;
}

/** `sep run list`: one line per run, newest first. */
export function renderRunsTable(runs: readonly RunRecord[], now: Date): string {
  return renderTable(runs, [
    { header: "ID", value: (run) => run.id },
    { header: "CONCLUSION", value: stateWord },
    { header: "TITLE", value: runTitle, maxWidth: 48 },
    { header: "JOBS", value: (run) => String(run.jobs.length), align: "right" },
    { header: "DURATION", value: (run) => formatDuration(runDurationMs(run, now)), align: "right" },
    { header: "PEAK", value: (run) => formatBytes(runPeakBytes(run)), align: "right" },
    { header: "AGE", value: (run) => formatAge(run.createdAt, now) },
  ]);
}

/** `sep run view`: the run's header, then one line per job, then anything notable about a job. */
export function renderRunView(run: RunRecord, now: Date): string {
  const code = run.status === "completed" && typeof run.exitCode === "number" ? ` (exit ${run.exitCode})` : "";
  const created = typeof run.createdAt === "string" ? `${run.createdAt} (${formatAge(run.createdAt, now)})` : "-";
  const header = [
    ["run", run.id],
    ["title", singleLine(runTitle(run))],
    ["status", `${stateWord(run)}${code}`],
    ["created", created],
    ["duration", formatDuration(runDurationMs(run, now)) + (run.status === "completed" ? "" : " so far")],
    ["peak", formatBytes(runPeakBytes(run))],
  ];
  const lines = header.map(([label, value]) => `${label!.padEnd(9)}${value}`);
  const jobs = run.jobs.map((job, index) => ({ job, n: jobNumber(job, index) }));
  const table = renderTable(jobs, [
    { header: "JOB", value: ({ n }) => String(n), align: "right" },
    { header: "CONCLUSION", value: ({ job }) => stateWord(job) },
    { header: "EXIT", value: ({ job }) => (typeof job.exitCode === "number" ? String(job.exitCode) : "-"), align: "right" },
    { header: "DURATION", value: ({ job }) => formatDuration(jobDurationMs(job, now)), align: "right" },
    { header: "PEAK", value: ({ job }) => formatBytes(job.peakMemoryBytes), align: "right" },
    { header: "NAME", value: ({ job }) => jobName(job) },
  ]);
  const notes: string[] = [];
  for (const { job, n } of jobs) {
    if (job.kill && typeof job.kill.reason === "string") notes.push(`job ${n}: ${killNote(job)}`);
    for (const warning of Array.isArray(job.warnings) ? job.warnings : []) notes.push(`job ${n}: ${singleLine(String(warning))}`);
  }
  return `${lines.join("\n")}\n\n${run.jobs.length > 0 ? table : "(no jobs)\n"}${notes.length > 0 ? `\n${notes.join("\n")}\n` : ""}`;
}

/** `job 2/3`, or `job 2` where the total is not known yet (a run still taking jobs). */
function _jobLabel(n: number, total: number | undefined): string {
  return total === undefined ? `job ${n}` : `job ${n}/${total}`;
}

/** Why sep killed a job, with the numbers: `killed by sep: memory (used 312 MB, limit 300 MB; largest: 123 python 300 MB)`. */
export function killNote(job: JobRecord): string {
  const kill = job.kill!;
  const details: string[] = [];
  if (kill.reason === "memory") {
    if (typeof kill.measuredBytes === "number") details.push(`used ${formatBytes(kill.measuredBytes)}`);
    if (typeof job.limits?.memoryLimitBytes === "number") details.push(`limit ${formatBytes(job.limits.memoryLimitBytes)}`);
  } else if (kill.reason === "timeout" && typeof job.limits?.timeoutMs === "number") {
    details.push(`limit ${formatDuration(job.limits.timeoutMs)}`);
  }
  const biggest = (Array.isArray(kill.processes) ? kill.processes : [])
    .slice(0, 3)
    .map((p) => `${p.pid} ${singleLine(String(p.command)).slice(0, 40)} ${formatBytes(p.rssBytes)}`);
  const numbers = details.join(", ") + (biggest.length > 0 ? `${details.length > 0 ? "; " : ""}largest: ${biggest.join(", ")}` : "");
  return `killed by sep: ${singleLine(kill.reason)}${numbers ? ` (${numbers})` : ""}`;
}

/** The line that opens a job: `job 2/3: npm test`. */
export function jobHeaderLine(job: JobRecord, n: number, total?: number): string {
  return `${_jobLabel(n, total)}: ${singleLine(jobName(job))}`;
}

/** The line that closes a job: `job 2/3 failure (exit 1) in 1m02s, peak 312 MB: npm test`. */
export function jobResultLine(job: JobRecord, n: number, total?: number, now = new Date()): string {
  const code = typeof job.exitCode === "number" ? ` (exit ${job.exitCode})` : "";
  const took = job.startedAt ? ` in ${formatDuration(jobDurationMs(job, now))}, peak ${formatBytes(job.peakMemoryBytes)}` : "";
  return `${_jobLabel(n, total)} ${stateWord(job)}${code}${took}: ${singleLine(jobName(job))}`;
}

/** The line that closes a run: `run 2025…-a1b2c3 failure (exit 1) in 1m02s, 3 jobs, peak 312 MB`. */
export function runResultLine(run: RunRecord, now = new Date()): string {
  const code = typeof run.exitCode === "number" ? ` (exit ${run.exitCode})` : "";
  const jobs = `${run.jobs.length} ${run.jobs.length === 1 ? "job" : "jobs"}`;
  return `run ${run.id} ${stateWord(run)}${code} in ${formatDuration(runDurationMs(run, now))}, ${jobs}, peak ${formatBytes(runPeakBytes(run))}`;
}

/** A job failed when it completed with anything but success or skipped. */
export function jobFailed(job: JobRecord): boolean {
  return job.status === "completed" && job.conclusion !== "success" && job.conclusion !== "skipped";
}

// ---------------------------------------------------------------------------------------------
// Job logs to stdout

/**
 * Where the job's output is: the path its record names, or, when that is gone (the project was
 * moved, or the record predates logs), where the layout puts it.
 */
export function jobLogFile(logDir: string, run: RunRecord, job: JobRecord, n: number): string {
  if (typeof job.logPath === "string" && job.logPath !== "" && existsSync(job.logPath)) return job.logPath;
  return logLayout(logDir).jobLog(run.id, n);
}

/**
 * Write all of bytes to stdout, waiting out EAGAIN on a non-blocking pipe. When the reader went
 * away (`sep run view --log | head`), sep stops at once with exit 0, as a pager or `head` expects:
 * there is nobody left to tell anything.
 */
export async function writeStdout(bytes: Uint8Array | string): Promise<void> {
  const data = typeof bytes === "string" ? Buffer.from(bytes) : bytes;
  for (let offset = 0; offset < data.length; ) {
    try {
      offset += writeSync(1, data, offset);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "EAGAIN") {
        await Bun.sleep(1);
        continue;
      }
      if (code === "EPIPE") process.exit(0);
      throw error;
    }
  }
}

const CHUNK = 64 * 1024;

/**
 * Copy the file from `offset` to its current end onto stdout; returns the new offset. A missing
 * file copies nothing (it may not exist yet). A file that shrank (replaced) is read from its start.
 */
export async function copyNewBytes(path: string, offset: number): Promise<{ offset: number; exists: boolean }> {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return { offset, exists: false };
  }
  try {
    const size = fstatSync(fd).size;
    let position = size < offset ? 0 : offset;
    const buffer = Buffer.allocUnsafe(CHUNK);
    while (position < size) {
      const read = readSync(fd, buffer, 0, Math.min(CHUNK, size - position), position);
      if (read <= 0) break;
      await writeStdout(buffer.subarray(0, read));
      position += read;
    }
    return { offset: position, exists: true };
  } finally {
    closeSync(fd);
  }
}
