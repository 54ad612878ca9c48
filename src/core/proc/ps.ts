// The `ps` backend of ProcReader, for where there is no /proc (macOS). What differs there:
//   - children, group members, the marker scan: one `ps -A` call each (no /proc, no subreaper, so
//     a double-forked daemon is found only by the marker, and only while its environment shows);
//   - memory: one `ps -o pid=,rss=` call (what pidusage runs there; called directly because
//     pidusage is async-only and this API is synchronous); there is no PSS, so the PSS sum = RSS;
//   - start time: `ps -o lstart=` in ms since the epoch (compare for equality only);
//   - no zombie children to reap: without a subreaper sep's children are only those Bun waits for.
import { childrenByParent, type ProcStat } from "./parse.ts";
import type { ProcReader } from "./reader.ts";

function _ps(args: string[]): string {
  try {
    const result = Bun.spawnSync(["ps", ...args], {
      stdout: "pipe",
      stderr: "ignore",
    });
    return result.stdout.toString();
  } catch {
    return "";
  }
}

/** Lines of whitespace-separated integers, `columns` of them each; other lines are dropped. */
function _numberRows(text: string, columns: number): number[][] {
  return text
    .split("\n")
    .map((line) => line.trim().split(/\s+/).map(Number))
    .filter((row) => row.length === columns && row.every(Number.isInteger));
}

/** `ps -A -o a=,b=` as rows of numbers. */
function _psTable(columns: string[]): number[][] {
  return _numberRows(_ps(["-A", "-o", columns.map((c) => `${c}=`).join(",")]), columns.length);
}

function _startTime(pid: number): number | null {
  const started = Date.parse(_ps(["-o", "lstart=", "-p", String(pid)]).trim());
  return Number.isNaN(started) ? null : started;
}

function _stat(pid: number): ProcStat | null {
  const line = _ps(["-o", "pid=,ppid=,pgid=,sess=,stat=,comm=", "-p", String(pid)]).trim();
  const match = /^(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\S+)\s+(.*)$/.exec(line);
  if (!match) return null;
  return {
    pid: Number(match[1]),
    ppid: Number(match[2]),
    pgrp: Number(match[3]),
    session: Number(match[4]),
    state: match[5]!.charAt(0),
    comm: match[6]!,
    startTime: _startTime(pid) ?? 0,
  };
}

/**
 * RSS per pid from one `ps -o pid=,rss= -p …` call: the command pidusage runs on macOS, but
 * synchronous and once for all pids (pidusage is async-only and runs it per call anyway).
 */
function _rss(pids: readonly number[]): Array<[pid: number, rssBytes: number]> {
  if (pids.length === 0) return [];
  return _numberRows(_ps(["-o", "pid=,rss=", "-p", pids.join(",")]), 2).map(([pid, kib]) => [pid!, kib! * 1024]);
}

export const psReader: ProcReader = {
  stat: _stat,

  startTime: _startTime,

  command: (pid) => _ps(["-o", "command=", "-p", String(pid)]).trim() || String(pid),

  childLookup: () => childrenByParent(_psTable(["pid", "ppid"]).map(([pid, ppid]) => [pid!, ppid!] as const)),

  groupMembers: (pgid) =>
    _psTable(["pid", "pgid"])
      .filter(([, group]) => group === pgid)
      .map(([pid]) => pid!),

  /** BSD `ps -E` appends the environment to the command; match the entry as a whole word. */
  withEnvEntry(entry) {
    const found: number[] = [];
    for (const line of _ps(["-A", "-E", "-ww", "-o", "pid=,command="]).split("\n")) {
      const match = /^\s*(\d+)\s(.*)$/.exec(line);
      if (match && ` ${match[2]} `.includes(` ${entry} `) && Number(match[1]) !== process.pid) found.push(Number(match[1]));
    }
    return found;
  },

  rss: _rss,

  // No PSS here: the RSS sum, which errs on the high side.
  pssSum: (pids) => _rss(pids).reduce((total, [, bytes]) => total + bytes, 0),

  zombieChildren: () => [],

  // ps has no such figure: every walk is made afresh.
  lastPid: () => null,
};
