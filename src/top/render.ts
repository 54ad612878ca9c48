// `sep top`'s frame: the machine view as lines of at most `width` terminal columns. Pure: the
// same view, history, size and clock give the same lines. The budget bar spans the width; the job
// table gives its spare columns to the project, then the command, then the last minute's sparkline,
// and drops its least needed columns first when the terminal is narrow.
import { basename } from "node:path";
import { describeWait, etaCell, gateWaitReason } from "../commands/present.ts";
import type { MachineView, ViewJob } from "../core/governor/view.ts";
import { fitWidth, formatBytes, formatDuration, padWidth, textWidth } from "../format.ts";
import { HISTORY_WINDOW_MS, type MemoryHistory, type Sample } from "./history.ts";
import { barFor } from "../memory-chart.ts";

export interface FrameOptions {
  /** terminal columns; Infinity = cut nothing (a plain snapshot) */
  width: number;
  /** terminal rows; Infinity = every job */
  height: number;
  nowMs: number;
  intervalMs: number;
  /** false: one plain snapshot: no key hint, no last-minute column, a budget bar of SNAPSHOT_BAR cells */
  live: boolean;
}

const SNAPSHOT_BAR = 40;
const JOB_BAR = 8;
/** The columns to give up, first to last, when the terminal is too narrow for all of them. */
const DROP_ORDER = ["LAST MINUTE", "RESERVED", "ETA", "ELAPSED", "PROJECT", "MEMORY"];

export function renderFrame(view: MachineView, history: MemoryHistory, options: FrameOptions): string[] {
  const { width } = options;
  const barCells = options.live ? Math.max(10, width - 9) : SNAPSHOT_BAR;
  const head = [
    options.live ? `sep top  ${_clock(options.nowMs)}  every ${_seconds(options.intervalMs)}  q quits` : `sep top  ${view.at}`,
    ..._budgetLines(view, barCells),
    _counts(view.jobs),
    "",
  ];
  const blocks: string[][] = [];
  if (view.jobs.length === 0) {
    blocks.push(["no sep jobs on this machine"], [`(read the machine ledger and the turns in ${view.lockDirs.join(", ") || "no lock dir"})`]);
  } else {
    const table = _table(view, history, options);
    head.push(table.header);
    blocks.push(...table.rows);
  }
  const lines = [...head];
  for (const [index, block] of blocks.entries()) {
    const left = blocks.length - index - 1;
    // Room for this job, and for the line saying how many did not fit, if any are left after it.
    if (lines.length + block.length + (left > 0 ? 1 : 0) > options.height) {
      lines.push(`… ${blocks.length - index} more ${view.jobs.length === 0 ? "lines" : blocks.length - index === 1 ? "job" : "jobs"} (a taller window shows them)`);
      break;
    }
    lines.push(...block);
  }
  return lines.slice(0, options.height).map((line) => fitWidth(line, width));
}

// ---------------------------------------------------------------------------------------------
// The budget

function _budgetLines(view: MachineView, cells: number): string[] {
  if (!view.governor) {
    const inUse = Math.max(0, view.totalBytes - view.availableBytes);
    return [
      `memory [${meter(cells, [{ bytes: inUse, char: "█" }], view.totalBytes)}]`,
      `  governor off (memoryBudgetMb 0): in use ${formatBytes(inUse)} of ${formatBytes(view.totalBytes)}, free ${formatBytes(view.availableBytes)}`,
    ];
  }
  const used = view.jobsMemoryBytes;
  const over = used > view.budgetBytes ? " (over the budget)" : "";
  return [
    `budget [${meter(cells, [{ bytes: used, char: "█" }, { bytes: Math.max(used, view.reservedBytes), char: "▒" }], view.budgetBytes)}]`,
    `  jobs use ${formatBytes(used)}${over}, reserve ${formatBytes(view.reservedBytes)} of the ${formatBytes(view.budgetBytes)} budget (${view.why}); free ${formatBytes(view.availableBytes)}, kept back ${formatBytes(view.reserveBytes)}`,
  ];
}

/**
 * A bar of `cells` cells: each part fills up to its own figure out of `whole` (parts in increasing
 * order, each drawn past the one before), the rest is `·`. Figures past the whole fill the bar.
 */
export function meter(cells: number, parts: ReadonlyArray<{ bytes: number; char: string }>, whole: number): string {
  let bar = "";
  for (const part of parts) {
    const upTo = whole > 0 ? Math.round(Math.min(1, Math.max(0, part.bytes) / whole) * cells) : 0;
    if (upTo > bar.length) bar += part.char.repeat(upTo - bar.length);
  }
  return bar + "·".repeat(Math.max(0, cells - bar.length));
}

function _counts(jobs: readonly ViewJob[]): string {
  const count = (test: (job: ViewJob) => boolean) => jobs.filter(test).length;
  const memory = count((job) => job.wait?.for === "memory");
  const turn = count((job) => job.wait?.for === "turn");
  return `  ${count((job) => job.state === "running")} running, ${count((job) => job.state === "paused")} paused, ${memory} waiting for memory, ${turn} waiting for a turn`;
}

// ---------------------------------------------------------------------------------------------
// The jobs

interface Column {
  header: string;
  align?: "right";
  /** the narrowest it may be */
  min: number;
  /** the widest it wants */
  max: number;
  cell(job: ViewJob, width: number): string;
}

function _table(view: MachineView, history: MemoryHistory, options: FrameOptions): { header: string; rows: string[][] } {
  const { jobs } = view;
  const widest = (text: (job: ViewJob) => string, header: string) => Math.max(textWidth(header), ...jobs.map((job) => textWidth(text(job))));
  const fixed = (header: string, text: (job: ViewJob) => string, align?: "right"): Column => {
    const w = widest(text, header);
    return { header, align, min: w, max: w, cell: text };
  };
  const project = (job: ViewJob) => basename(job.projectRoot) || job.projectRoot;
  const projectWidth = widest(project, "PROJECT");
  const commandWidth = widest((job) => job.name, "COMMAND");
  const columns: Column[] = [
    fixed("STATE", (job) => job.state),
    { header: "PROJECT", min: Math.min(projectWidth, 8), max: Math.min(projectWidth, 24), cell: project },
    { header: "COMMAND", min: Math.min(commandWidth, 12), max: commandWidth, cell: (job) => job.name },
    fixed("MEMORY", (job) => jobMemoryCell(job, view)),
  ];
  if (options.live) {
    columns.push({
      header: "LAST MINUTE",
      min: 11,
      max: 30,
      cell: (job, cells) => (job.state === "waiting" ? "" : sparkline(history.of(job.key), cells, options.nowMs)),
    });
  }
  columns.push(
    fixed("RESERVED", (job) => (job.reservationBytes === null ? "-" : formatBytes(job.reservationBytes)), "right"),
    fixed("ELAPSED", (job) => formatDuration(job.elapsedMs), "right"),
    fixed("ETA", etaText),
  );
  const widths = layout(columns, options.width);
  const shown = columns.filter((column) => widths.has(column.header));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => padWidth(fitWidth(cell, widths.get(shown[i]!.header)!), widths.get(shown[i]!.header)!, shown[i]!.align))
      .join("  ")
      .trimEnd();
  const indent = " ".repeat((widths.get("STATE") ?? 0) + 2);
  const rows = jobs.map((job) => {
    const row = [line(shown.map((column) => column.cell(job, widths.get(column.header)!)))];
    const why = whyText(job);
    if (why) row.push(`${indent}↳ ${why}`);
    return row;
  });
  return { header: line(shown.map((column) => column.header)), rows };
}

/**
 * Each column's width for a terminal `width` wide: columns are dropped (DROP_ORDER) until their
 * narrowest forms fit, then the spare columns go to the project, the command and the sparkline,
 * each up to what it wants.
 */
function layout(columns: readonly Column[], width: number): Map<string, number> {
  const kept = [...columns];
  const need = () => kept.reduce((sum, column) => sum + column.min, 0) + 2 * (kept.length - 1);
  for (const name of DROP_ORDER) {
    if (need() <= width) break;
    const at = kept.findIndex((column) => column.header === name);
    if (at >= 0) kept.splice(at, 1);
  }
  const widths = new Map(kept.map((column) => [column.header, column.min]));
  let spare = width - need();
  for (const name of ["PROJECT", "COMMAND", "LAST MINUTE"]) {
    const column = kept.find((c) => c.header === name);
    if (!column || spare <= 0) continue;
    const add = Math.min(spare, column.max - column.min);
    widths.set(name, column.min + add);
    spare -= add;
  }
  return widths;
}

/** `████···· 120 MB`: the job's memory against its reservation (or the machine's memory without one); `!` past it. */
function jobMemoryCell(job: ViewJob, view: Pick<MachineView, "totalBytes">): string {
  if (job.state === "waiting") return "-";
  const whole = job.reservationBytes ?? view.totalBytes;
  const over = job.reservationBytes !== null && job.memoryBytes > job.reservationBytes;
  return `${meter(JOB_BAR, [{ bytes: job.memoryBytes, char: "█" }], whole)} ${padWidth(formatBytes(job.memoryBytes), 7, "right")}${over ? "!" : ""}`;
}

/**
 * The last minute as `cells` characters, oldest left, the cell at the right edge ending now; each
 * cell shows the highest sample taken in its stretch of time, scaled to the highest of all. A
 * stretch with no sample of its own repeats the one before (refreshes may be rarer than cells);
 * before the first sample, blank.
 */
export function sparkline(samples: readonly Sample[], cells: number, nowMs: number, windowMs = HISTORY_WINDOW_MS): string {
  if (cells <= 0) return "";
  const start = nowMs - windowMs;
  const values: Array<number | undefined> = new Array(cells).fill(undefined);
  for (const sample of samples) {
    if (sample.atMs < start || sample.atMs > nowMs) continue;
    const cell = Math.min(cells - 1, Math.floor(((sample.atMs - start) / windowMs) * cells));
    values[cell] = Math.max(values[cell] ?? 0, sample.bytes);
  }
  const scale = Math.max(0, ...values.map((value) => value ?? 0));
  let last: number | undefined;
  let out = "";
  for (const value of values) {
    last = value ?? last;
    if (last === undefined) out += " ";
    else out += barFor(last, scale);
  }
  return out;
}

/** The ETA in the words `sep status` and `queue status` use (etaCell); blank when nothing is known. */
export function etaText(job: Pick<ViewJob, "etaMs" | "expectedDurationMs">): string {
  if (job.expectedDurationMs === null) return "";
  return etaCell({ expectedMs: job.expectedDurationMs, leftMs: job.etaMs !== null && job.etaMs > 0 ? job.etaMs : null });
}

/** Why a job is not running: what it waits for, in the words sep uses when it starts waiting; or that it is paused. */
export function whyText(job: ViewJob): string | undefined {
  if (job.state === "paused") return "paused by the governor while memory is short: it resumes when memory allows, or once it is the oldest job";
  const wait = job.wait;
  if (!wait) return undefined;
  if (wait.for === "turn") return describeWait({ ahead: wait.ahead, holders: wait.holders });
  if (wait.startsNow) return `waiting for memory: needs ${formatBytes(wait.gate.needBytes)}, which fits now: it starts at its next look`;
  return `waiting for memory: ${gateWaitReason(wait.gate)}`;
}

function _clock(nowMs: number): string {
  return new Date(nowMs).toTimeString().slice(0, 8);
}

function _seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(2))} s`;
}
