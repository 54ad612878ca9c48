// Runs and jobs as words: the lines and tables that `sep queue start`, `sep run view` and
// `sep run watch` print, so a job reads the same live and in the history.
import { basename } from "node:path";
import { isFailure } from "../core/conclusion.ts";
import type { GateWaitingInfo } from "../core/governor/index.ts";
import type { RunReporter, TurnEta } from "../core/job/events.ts";
import type { WaitingInfo } from "../core/turn/wait.ts";
import type { JobRecord, RunRecord } from "../core/records/types.ts";
import { describeKill } from "../describe.ts";
import { logger } from "../logger.ts";
import { formatAbout, formatAge, formatBytes, formatDuration, renderTable, singleLine } from "../format.ts";
import { sparkline } from "../memory-chart.ts";

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
  const table = renderJobsTable(run, now) + memoryLines(run);
  const notes: string[] = groupLines(run);
  for (const { job, n } of jobs) {
    const ending = job.kill ? describeKill(job) : undefined;
    if (ending) notes.push(`job ${n}: ${ending}`);
    for (const warning of Array.isArray(job.warnings) ? job.warnings : []) notes.push(`job ${n}: ${singleLine(String(warning))}`);
  }
  return `${lines.join("\n")}\n\n${run.jobs.length > 0 ? table : "(no jobs)\n"}${notes.length > 0 ? `\n${notes.join("\n")}\n` : ""}`;
}

/** One line per job: number, conclusion, exit code, duration, peak memory, name. */
export function renderJobsTable(run: RunRecord, now: Date): string {
  const jobs = run.jobs.map((job, index) => ({ job, n: jobNumber(job, index) }));
  return renderTable(jobs, [
    { header: "JOB", value: ({ n }) => String(n), align: "right" },
    { header: "CONCLUSION", value: ({ job }) => stateWord(job) },
    { header: "EXIT", value: ({ job }) => (typeof job.exitCode === "number" ? String(job.exitCode) : "-"), align: "right" },
    { header: "DURATION", value: ({ job }) => formatDuration(jobDurationMs(job, now)), align: "right" },
    { header: "PEAK", value: ({ job }) => formatBytes(job.peakMemoryBytes), align: "right" },
    { header: "NAME", value: ({ job }) => jobName(job) },
  ]);
}

/**
 * Each job's memory over time, under the jobs table: a sparkline from its first poll to its last,
 * and what it is scaled to. Nothing for jobs without samples (runs recorded before sep kept them).
 */
function memoryLines(run: RunRecord): string {
  const lines = run.jobs.flatMap((job, index) => {
    const line = sparkline(job);
    return line ? [{ label: `job ${jobNumber(job, index)}`, line }] : [];
  });
  if (lines.length === 0) return "";
  const width = Math.max(...lines.map(({ label }) => label.length));
  return `\nmemory over time\n${lines.map(({ label, line }) => `${label.padEnd(width)}  ${line.bars}  ${line.scale}\n`).join("")}`;
}

/** `job 2/3`, or `job 2` where the total is not known yet (a run still taking jobs). */
function _jobLabel(n: number, total: number | undefined): string {
  return total === undefined ? `job ${n}` : `job ${n}/${total}`;
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

/**
 * One line per command that was split into jobs (atomified): which jobs are its atoms and how
 * they ended, e.g. `pytest tests: jobs 1–12, 11 success, 1 failure (exit 1)`.
 */
export function groupLines(run: RunRecord): string[] {
  const lines: string[] = [];
  for (const [index, job] of run.jobs.entries()) {
    if (!job.group || run.jobs[index - 1]?.group === job.group) continue;
    const atoms: JobRecord[] = [];
    for (const next of run.jobs.slice(index)) {
      if (next.group !== job.group) break;
      atoms.push(next);
    }
    const counts = new Map<string, number>();
    for (const atom of atoms) counts.set(stateWord(atom), (counts.get(stateWord(atom)) ?? 0) + 1);
    const failed = atoms.find((atom) => isFailure(atom.conclusion));
    const first = jobNumber(atoms[0]!, index);
    const last = jobNumber(atoms.at(-1)!, index + atoms.length - 1);
    const summary = [...counts].map(([word, count]) => `${count} ${word}`).join(", ");
    lines.push(`${singleLine(job.group)}: jobs ${first}–${last}, ${summary}${failed ? ` (exit ${failed.exitCode ?? "-"})` : ""}`);
  }
  return lines;
}

/**
 * What the terminal is told about any run: once, whom a waiting invocation waits for; after a job
 * that did not simply exit, why (not found, killed at a limit, stopped). Used by `sep -- CMD` and
 * `sep queue start` alike.
 */
export function terminalReporter(): RunReporter {
  return {
    waiting: (info) => logger.info(describeWait(info)),
    admissionWaiting: (info, name) => logger.info(describeGateWait(info, name)),
    jobEnded: (job) => explainEnding(job),
  };
}

const RESERVATION_SOURCES: Record<string, string> = {
  flag: "--reserve",
  learned: "its past runs' peak + 20 %",
  limit: "its memory limit: no runs of it to learn from yet",
};

/** Once, why a job whose turn came still waits: what it needs, from where, what is free, and when it may start. */
export function describeGateWait(info: GateWaitingInfo & { startsInMs?: number | null }, name: string): string {
  return `waiting for memory: ${singleLine(name)} ${gateWaitReason(info)}${_startsIn(info.startsInMs, "; ")}`;
}

/** What a job waiting at the machine gate needs, from where, and what holds it back (`sep top` shows it too). */
export function gateWaitReason(info: GateWaitingInfo): string {
  const why =
    info.reason === "alone"
      ? `it needs more than the whole budget of ${formatBytes(info.budgetBytes)}, so it runs alone once the ${info.admittedJobs} running ${info.admittedJobs === 1 ? "job ends" : "jobs end"}`
      : info.reason === "head"
        ? `${info.ahead} ${info.ahead === 1 ? "job waits" : "jobs wait"} ahead of it`
        : info.reason === "budget"
          ? `${formatBytes(info.admittedBytes)} of the ${formatBytes(info.budgetBytes)} budget is reserved by ${info.admittedJobs} running ${info.admittedJobs === 1 ? "job" : "jobs"}`
          : `only ${formatBytes(Math.max(0, info.freeBytes))} of memory is free for jobs`;
  return `needs ${formatBytes(info.needBytes)} (${RESERVATION_SOURCES[info.source] ?? info.source}); ${why}`;
}

/**
 * Once, whom a job waiting for its turn waits for: `waiting for pytest (pid 812, running 12s, about
 * 40 s left) to finish; 2 invocations ahead of this one; expected to start in about 3 min`.
 */
export function describeWait(info: { ahead: number; holders: ReadonlyArray<Pick<WaitingInfo["holders"][number], "name" | "pid" | "startedAt">> } & Partial<TurnEta>): string {
  const { ahead, holders } = info;
  const running = holders.map((h, i) => {
    const left = info.leftMs?.[i];
    const facts = [`pid ${h.pid}`, ...(h.startedAt ? [`running ${formatDuration(Date.now() - Date.parse(h.startedAt))}`] : []), ...(typeof left === "number" ? [`${formatAbout(left)} left`] : [])];
    return `${singleLine(h.name)} (${facts.join(", ")})`;
  });
  const queue = ahead > 0 ? `; ${ahead} ${ahead === 1 ? "invocation" : "invocations"} ahead of this one` : "";
  return `${running.length > 0 ? `waiting for ${running.join(", ")} to finish` : "waiting for a turn"}${queue}${_startsIn(info.startsInMs, "; ")}`;
}

/** `expected to start in about 3 min`, after `prefix`; nothing when not known. */
function _startsIn(ms: number | null | undefined, prefix = ""): string {
  return typeof ms === "number" ? `${prefix}expected to start in ${formatAbout(ms)}` : "";
}

/**
 * An ETA as a table cell: a waiting job's `expected to start in about 3 min`; a running one's
 * `about 40 s left`, or, once it runs longer than its usual time, `longer than usual (about 2 min)`; `-` when not known.
 */
export function etaCell(eta: { expectedMs: number | null; leftMs?: number | null; startsInMs?: number | null }): string {
  if (eta.startsInMs !== undefined) return typeof eta.startsInMs === "number" ? _startsIn(eta.startsInMs) : "-";
  if (typeof eta.leftMs === "number") return `${formatAbout(eta.leftMs)} left`;
  return typeof eta.expectedMs === "number" ? `longer than usual (${formatAbout(eta.expectedMs)})` : "-";
}

/** One line for a job that did not simply exit by itself: what sep did, in the one wording. */
function explainEnding(job: JobRecord): void {
  if (job.startupError) logger.error(job.startupError);
  if (!job.kill) return;
  const ending = describeKill(job);
  if (!ending) return;
  const line = `${basename(job.argv[0] ?? "")}: ${ending} (exit ${job.exitCode ?? "-"})`;
  if (job.conclusion === "cancelled") logger.warn(line);
  else logger.error(line);
}
