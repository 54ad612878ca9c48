// Pure parsers of /proc text (stat, statm, smaps_rollup, auxv) and the parent→children table; no I/O.

export interface ProcStat {
  pid: number;
  comm: string;
  /** R, S, D, Z (zombie), T, t, X (dead), I, ... */
  state: string;
  ppid: number;
  pgrp: number;
  session: number;
  /** field 22: clock ticks after boot; with the pid it identifies a process across pid reuse */
  startTime: number;
}

/** Direct children of a pid during one walk: read live, or looked up in a snapshot. */
export type ChildLookup = (pid: number) => readonly number[];

/**
 * Parse /proc/PID/stat. comm (field 2) is in parentheses and may itself hold spaces and ')', so
 * the fields after it are found from the LAST ')'. Returns null for text that is not a stat line.
 */
export function parseStat(text: string): ProcStat | null {
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  if (open < 1 || close < open) return null;
  const pid = Number(text.slice(0, open).trim());
  // After ") ": field 3 (state) is rest[0], so field N is rest[N - 3].
  const rest = text.slice(close + 2).split(" ");
  if (!Number.isInteger(pid) || rest.length < 20) return null;
  const num = (field: number) => Number(rest[field - 3]);
  const stat: ProcStat = {
    pid,
    comm: text.slice(open + 1, close),
    state: rest[0] ?? "",
    ppid: num(4),
    pgrp: num(5),
    session: num(6),
    startTime: num(22),
  };
  if (!stat.state || [stat.ppid, stat.pgrp, stat.session, stat.startTime].some(Number.isNaN)) return null;
  return stat;
}

/** RSS in bytes from /proc/PID/statm (field 2, resident pages). Not from stat: that one runs ~9% low. */
export function parseStatm(text: string, pageSize: number): number {
  const resident = Number(text.split(" ", 2)[1]);
  return Number.isFinite(resident) ? resident * pageSize : 0;
}

/** PSS in bytes from /proc/PID/smaps_rollup (the `Pss:` line, in kB); 0 when absent. */
export function parsePss(smapsRollupText: string): number {
  const match = /^Pss:\s+(\d+)\s+kB/m.exec(smapsRollupText);
  return match ? Number(match[1]) * 1024 : 0;
}

const AT_NULL = 0;
const AT_PAGESZ = 6;

/**
 * The page size from the auxiliary vector (/proc/self/auxv): (type, value) pairs of native words,
 * 8 bytes on 64-bit, ending with AT_NULL. Null when AT_PAGESZ is missing or zero.
 */
export function parseAuxvPageSize(auxv: Buffer, wordBytes: 4 | 8): number | null {
  const word = (at: number) => (wordBytes === 8 ? Number(auxv.readBigUInt64LE(at)) : auxv.readUInt32LE(at));
  for (let at = 0; at + 2 * wordBytes <= auxv.length; at += 2 * wordBytes) {
    const type = word(at);
    const value = word(at + wordBytes);
    if (type === AT_PAGESZ && value > 0) return value;
    if (type === AT_NULL) break;
  }
  return null;
}

/** A snapshot of (pid, ppid) rows as a lookup of each parent's children. */
export function childrenByParent(rows: Iterable<readonly [pid: number, ppid: number]>): ChildLookup {
  const byParent = new Map<number, number[]>();
  for (const [pid, ppid] of rows) {
    const list = byParent.get(ppid);
    if (list) list.push(pid);
    else byParent.set(ppid, [pid]);
  }
  return (pid) => byParent.get(pid) ?? [];
}
