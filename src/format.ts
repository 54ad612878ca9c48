// Human formatting for sep's tables and messages: durations, sizes, ages, aligned tables. Pure
// functions (no I/O, no clock unless given one), shared by `run list/view/watch` and `queue status`.

/**
 * A duration, short and sortable by eye: `0ms`, `850ms`, `3.2s`, `42s`, `1m02s`, `1h02m`, `2d03h`.
 * Each unit is rounded down, so a value never shows a unit it has not reached (59.9 s is `59s`, not
 * `1m00s`). null, undefined, NaN and negative values are `-` (unknown).
 */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return "-";
  if (ms < 1000) return `${Math.floor(ms)}ms`;
  if (ms < 10_000) return `${(Math.floor(ms / 100) / 10).toFixed(1)}s`;
  const seconds = Math.floor(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const two = (n: number) => String(n).padStart(2, "0");
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${two(seconds % 60)}s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h${two(minutes % 60)}m`;
  return `${Math.floor(hours / 24)}d${two(hours % 24)}h`;
}

/**
 * A rough duration, the way an estimate should read: `under a second`, `about 4 s`, `about 40 s`,
 * `about 3 min`, `about 25 min`, `about 2 h`, `about 3 days`. Up to 10 of a unit are counted one by
 * one, then in fives (seconds and minutes), so the figure claims no more precision than it has.
 * NaN, infinite and negative values are `-` (unknown).
 */
export function formatAbout(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "-";
  if (ms < 1000) return "under a second";
  const seconds = ms / 1000;
  if (seconds < 9.5) return `about ${Math.round(seconds)} s`;
  if (seconds < 57.5) return `about ${Math.round(seconds / 5) * 5} s`;
  const minutes = seconds / 60;
  if (minutes < 9.5) return `about ${Math.round(minutes)} min`;
  if (minutes < 57.5) return `about ${Math.round(minutes / 5) * 5} min`;
  const hours = minutes / 60;
  if (hours < 23.5) return `about ${Math.round(hours)} h`;
  const days = Math.round(hours / 24);
  return `about ${days} ${days === 1 ? "day" : "days"}`;
}

const BYTE_UNITS = ["KB", "MB", "GB", "TB", "PB"] as const;

/**
 * A size in powers of 1024, labelled as sep's settings are (`memoryLimitMb` counts MiB as "MB"):
 * `0 B`, `512 B`, `1.5 KB`, `312 MB`, `2.0 GB`. One decimal below 10 units, whole numbers above.
 * null, undefined, NaN and negative values are `-` (unknown).
 */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes) || bytes < 0) return "-";
  if (bytes < 1024) return `${Math.floor(bytes)} B`;
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  // Rounding may carry into the next unit (1023.7 KB -> "1024 KB"); show it as 1.0 MB instead.
  if (Math.round(value) >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  const text = value < 10 ? value.toFixed(1) : String(Math.round(value));
  return `${text} ${BYTE_UNITS[unit]}`;
}

/**
 * How long ago an ISO 8601 time was, relative to `now`: `just now` (under a second, or in the
 * future from clock skew), `12s ago`, `3m ago`, `5h ago`, `3d ago`; from 30 days on, the date
 * itself (`2024-05-01`). An unparsable or missing time is `-`.
 */
export function formatAge(iso: string | null | undefined, now: Date | number): string {
  const then = typeof iso === "string" ? Date.parse(iso) : Number.NaN;
  if (!Number.isFinite(then)) return "-";
  const ms = (typeof now === "number" ? now : now.getTime()) - then;
  const seconds = Math.floor(ms / 1000);
  if (seconds < 1) return "just now";
  if (seconds < 60) return `${seconds}s ago`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h ago`;
  const days = Math.floor(hours / 24);
  if (days < 30) return `${days}d ago`;
  return new Date(then).toISOString().slice(0, 10);
}

export interface Column<T> {
  /** the heading, printed as given */
  header: string;
  /** the cell text for one row */
  value: (row: T) => string;
  /** right-align (numbers); default left */
  align?: "left" | "right";
  /** cut longer cells to this many columns, ending in `…` */
  maxWidth?: number;
}

/**
 * An aligned text table: a header line, then one line per row, columns two spaces apart, each line
 * ending in "\n"; the last column is not padded, so lines carry no trailing blanks. Cells are made
 * safe for a terminal: control characters (newlines, tabs, escape sequences a command name may
 * carry) become spaces or `?`. Widths count terminal columns (wide characters count two).
 */
export function renderTable<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = [
    columns.map((column) => _cell(column.header, column.maxWidth)),
    ...rows.map((row) => columns.map((column) => _cell(column.value(row), column.maxWidth))),
  ];
  const widths = columns.map((_, i) => Math.max(...cells.map((line) => _width(line[i] ?? ""))));
  let out = "";
  for (const line of cells) {
    const parts = line.map((cell, i) => {
      const pad = " ".repeat((widths[i] ?? 0) - _width(cell));
      if (columns[i]?.align === "right") return pad + cell;
      return i === line.length - 1 ? cell : cell + pad;
    });
    out += `${parts.join("  ").trimEnd()}\n`;
  }
  return out;
}

/** Text from a record made safe for one terminal line: no control characters, no escapes. */
export function singleLine(text: string): string {
  return text.replace(/[\t\n\r\v\f]+/g, " ").replace(/[\u0000-\u001f\u007f-\u009f]/g, "?");
}

function _cell(value: string, maxWidth: number | undefined): string {
  return maxWidth === undefined ? singleLine(value) : fitWidth(value, maxWidth);
}

/**
 * Text made safe for one terminal line (singleLine) and cut to at most `width` terminal columns,
 * ending in `…` when cut. An infinite width cuts nothing.
 */
export function fitWidth(value: string, width: number): string {
  const text = singleLine(value);
  if (_width(text) <= width) return text;
  if (width <= 0) return "";
  let cut = "";
  // Every character is at most two columns wide, most are one: never walk more than needed.
  for (const char of text.slice(0, width * 4)) {
    if (_width(cut + char) > width - 1) break;
    cut += char;
  }
  return `${cut}…`;
}

/** Pad text with spaces to `width` terminal columns, on the right (or the left for numbers). */
export function padWidth(text: string, width: number, align: "left" | "right" = "left"): string {
  const pad = " ".repeat(Math.max(0, width - _width(text)));
  return align === "right" ? pad + text : text + pad;
}

/** How many terminal columns text takes (wide characters count two). */
export function textWidth(text: string): number {
  return _width(text);
}

function _width(text: string): number {
  return Bun.stringWidth(text);
}
