// Memory over time, drawn from the records' memorySamples: one job as a terminal sparkline
// (`sep run view`), a run's jobs as a Mermaid xychart (the GitHub step summary). Pure: records in,
// text out; a record without samples (or from before they were kept) draws nothing.
import type { JobRecord, RunRecord } from "./core/records/types.ts";
import { formatBytes } from "./format.ts";

const MiB = 1024 * 1024;
const BARS = "▁▂▃▄▅▆▇█";
export const SPARKLINE_WIDTH = 30;

/** [epoch ms, bytes] */
type Point = [number, number];

/**
 * A job's samples at absolute times (its startedAt plus each offset), or undefined when it has none
 * that can be read. Records are read defensively: a malformed point, or one out of time order, is dropped.
 */
export function jobSamples(job: JobRecord): Point[] | undefined {
  const start = Date.parse(job.startedAt ?? "");
  if (!Number.isFinite(start) || !Array.isArray(job.memorySamples)) return undefined;
  const points: Point[] = [];
  for (const sample of job.memorySamples as unknown[]) {
    if (!Array.isArray(sample)) continue;
    const [ms, bytes] = sample;
    if (typeof ms !== "number" || typeof bytes !== "number" || !Number.isFinite(ms) || !Number.isFinite(bytes) || bytes < 0) continue;
    if (points.length > 0 && start + ms < points.at(-1)![0]) continue;
    points.push([start + ms, bytes]);
  }
  return points.length > 0 ? points : undefined;
}

/**
 * The samples on `count` evenly spaced times from `from` to `to` (ms). At each time: the highest
 * sample within half a step of it, so a spike between two grid times is never lost; where none is
 * that close, the last sample before it while the job ran (its memory stays until the next poll
 * says otherwise); before the job's first sample and after its last, 0.
 */
export function resample(points: readonly Point[], from: number, to: number, count: number): number[] {
  const first = points[0];
  const last = points.at(-1);
  if (!first || !last || count < 1) return new Array<number>(Math.max(0, count)).fill(0);
  const step = count > 1 ? (to - from) / (count - 1) : 0;
  const values: number[] = [];
  for (let i = 0; i < count; i++) {
    const at = from + i * step;
    const low = at - step / 2;
    const high = at + step / 2;
    const isLast = i === count - 1;
    let value: number | undefined;
    for (const [t, bytes] of points) {
      if (t >= low && (t < high || (isLast && t <= high))) value = Math.max(value ?? 0, bytes);
    }
    if (value === undefined && at >= first[0] && at <= last[0]) {
      value = 0;
      for (const [t, bytes] of points) {
        if (t > at) break;
        value = bytes;
      }
    }
    values.push(value ?? 0);
  }
  return values;
}

export interface Sparkline {
  /** SPARKLINE_WIDTH block characters, from the job's first poll to its last */
  bars: string;
  /** what the bars are scaled to: `peak 412 MB of 2048 MB`, `peak 412 MB, no limit (scaled to the peak)` */
  scale: string;
}

/** A job's memory over time as block characters, scaled to its memory limit, or its peak with none. */
export function sparkline(job: JobRecord, width = SPARKLINE_WIDTH): Sparkline | undefined {
  const points = jobSamples(job);
  if (!points) return undefined;
  const values = resample(points, points[0]![0], points.at(-1)![0], width);
  const peak = typeof job.peakMemoryBytes === "number" ? job.peakMemoryBytes : Math.max(...points.map(([, bytes]) => bytes));
  const limit = _limitBytes(job);
  const top = limit ?? peak;
  const bars = values.map((bytes) => barFor(bytes, top)).join("");
  return { bars, scale: limit === undefined ? `peak ${formatBytes(peak)}, no limit (scaled to the peak)` : `peak ${formatBytes(peak)} of ${formatBytes(limit)}` };
}

/**
 * The block character for the eighth of `top` that `bytes` reaches: the lowest bar for 0 (and for
 * no scale at all), the highest at or above top. Every sparkline of sep draws with it.
 */
export function barFor(bytes: number, top: number): string {
  if (!(top > 0)) return BARS[0]!;
  return BARS[Math.min(BARS.length - 1, Math.max(0, Math.ceil((bytes / top) * BARS.length) - 1))]!;
}

function _limitBytes(job: JobRecord): number | undefined {
  const limit = job.limits?.memoryLimitBytes;
  return typeof limit === "number" && limit > 0 ? limit : undefined;
}

/** Line colours in drawing order, named for the legend (Mermaid's xychart has none of its own). */
export const CHART_COLOURS = [
  ["blue", "#1f77b4"],
  ["orange", "#ff7f0e"],
  ["green", "#2ca02c"],
  ["purple", "#9467bd"],
  ["brown", "#8c564b"],
  ["pink", "#e377c2"],
  ["grey", "#7f7f7f"],
  ["olive", "#bcbd22"],
] as const;
const LIMIT_COLOUR = ["red", "#d62728"] as const;

export interface ChartOptions {
  /** jobs drawn at most: those with the biggest peaks */
  maxJobs?: number;
  /** points on the shared time axis */
  points?: number;
}

export interface RunMemoryChart {
  /** the fenced ```mermaid block, ending in a newline */
  block: string;
  /** the jobs drawn, in run order, with their line's colour */
  jobs: Array<{ job: JobRecord; colour: string }>;
  /** the memory limits drawn as flat lines, highest first */
  limits: Array<{ bytes: number; colour: string }>;
  /** jobs with samples that were not drawn (smaller peaks than those drawn) */
  leftOut: number;
}

/**
 * The run's jobs' memory over time as a Mermaid `xychart-beta`: x in seconds since the run started,
 * y in MB, one line per job (the maxJobs biggest peaks), and each memory limit as a flat line. The
 * lines of an xychart share one x axis, so every job is resampled onto one grid across the run, 0
 * where it was not running. No text from a record goes into the block (only numbers and "job N"),
 * so no command name can break the chart. Undefined when no job has samples.
 */
export function runMemoryChart(run: RunRecord, options: ChartOptions = {}): RunMemoryChart | undefined {
  const maxJobs = Math.max(1, Math.min(options.maxJobs ?? 8, CHART_COLOURS.length));
  const count = Math.max(2, options.points ?? 60);
  const sampled = run.jobs.flatMap((job) => {
    const points = jobSamples(job);
    return points ? [{ job, points, peak: Math.max(...points.map(([, bytes]) => bytes)) }] : [];
  });
  if (sampled.length === 0) return undefined;
  const drawn = [...sampled]
    .sort((a, b) => b.peak - a.peak)
    .slice(0, maxJobs)
    .sort((a, b) => run.jobs.indexOf(a.job) - run.jobs.indexOf(b.job));

  const firstAt = Math.min(...drawn.map(({ points }) => points[0]![0]));
  const runStart = Date.parse(run.startedAt ?? "");
  const from = Number.isFinite(runStart) && runStart <= firstAt ? runStart : firstAt;
  // Whole tenths of a second, so the axis label is exactly the grid's span.
  const spanMs = Math.max(100, Math.ceil((Math.max(...drawn.map(({ points }) => points.at(-1)![0])) - from) / 100) * 100);
  const lines = drawn.map(({ job, points }, i) => ({ job, colour: CHART_COLOURS[i]!, values: resample(points, from, from + spanMs, count) }));
  const limits = [...new Set(drawn.flatMap(({ job }) => _limitBytes(job) ?? []))].sort((a, b) => b - a);

  const top = Math.max(1, Math.ceil(Math.max(...lines.flatMap(({ values }) => values), ...limits) / MiB));
  const palette = [...lines.map(({ colour }) => colour[1]), ...limits.map(() => LIMIT_COLOUR[1])].join(", ");
  const series = (values: number[]) => `[${values.map(_mb).join(", ")}]`;
  const block = [
    "```mermaid",
    `%%{init: {"themeVariables": {"xyChart": {"plotColorPalette": "${palette}"}}}}%%`,
    "xychart-beta",
    `    title "Memory of each job over time"`,
    `    x-axis "seconds since the run started" 0 --> ${spanMs / 1000}`,
    `    y-axis "MB" 0 --> ${top}`,
    ...lines.map(({ job, values }) => `    line "job ${_jobNumber(job, run.jobs.indexOf(job))}" ${series(values)}`),
    ...limits.map((bytes) => `    line "limit" ${series(new Array<number>(count).fill(bytes))}`),
    "```",
    "",
  ].join("\n");
  return {
    block,
    jobs: lines.map(({ job, colour }) => ({ job, colour: colour[0] })),
    limits: limits.map((bytes) => ({ bytes, colour: LIMIT_COLOUR[0] })),
    leftOut: sampled.length - drawn.length,
  };
}

/** MB with one decimal, never in exponent form (Mermaid reads plain decimals only). */
function _mb(bytes: number): string {
  return String(Math.round((bytes / MiB) * 10) / 10);
}

/** The job's number for its line label (its place in the run when the record lacks one): only digits reach the chart. */
function _jobNumber(job: JobRecord, index: number): number {
  return Number.isInteger(job.n) && job.n > 0 ? job.n : index + 1;
}
