// The /proc backend of ProcReader (BUN_NOTES §4: a walk of /proc/PID/task/*/children plus statm costs
// ~0.05 ms for a 3-process tree; a full scan of /proc/*/stat, ~2.7 ms, only where the kernel has no
// children files, and at cleanup).
import { readdirSync, readFileSync } from "node:fs";
import { childrenByParent, parseAuxvPageSize, parsePss, parseStat, parseStatm, type ProcStat } from "./parse.ts";
import type { ProcReader } from "./reader.ts";

/** Read a /proc file; null when the process is gone (ENOENT/ESRCH) or unreadable (EACCES). */
function _read(path: string): string | null {
  try {
    return readFileSync(path, "latin1");
  } catch {
    return null;
  }
}

let _pageSize: number | undefined;

/** The kernel page size, from AT_PAGESZ in /proc/self/auxv (4 KiB on x64, 4–64 KiB on arm64). */
export function pageSize(): number {
  if (_pageSize !== undefined) return _pageSize;
  _pageSize = 4096;
  try {
    const word = process.arch === "x64" || process.arch === "arm64" ? 8 : 4;
    _pageSize = parseAuxvPageSize(readFileSync("/proc/self/auxv"), word) ?? _pageSize;
  } catch {
    // keep 4096
  }
  return _pageSize;
}

function _stat(pid: number): ProcStat | null {
  const text = _read(`/proc/${pid}/stat`);
  return text === null ? null : parseStat(text);
}

let _childrenFiles: boolean | undefined;

/** /proc/PID/task/TID/children exists only with CONFIG_PROC_CHILDREN; else scan all of /proc. */
function _hasChildrenFiles(): boolean {
  _childrenFiles ??= _read(`/proc/${process.pid}/task/${process.pid}/children`) !== null;
  return _childrenFiles;
}

/** Direct children of one process, from every thread's children file (a child belongs to the thread that forked it). */
function _childrenOf(pid: number): number[] {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return []; // gone mid-walk
  }
  const children: number[] = [];
  for (const tid of tids) {
    const text = _read(`/proc/${pid}/task/${tid}/children`);
    if (!text) continue;
    for (const word of text.split(" ")) if (word) children.push(Number(word));
  }
  return children;
}

function _procPids(): number[] {
  try {
    return readdirSync("/proc")
      .filter((name) => name.charCodeAt(0) >= 48 && name.charCodeAt(0) <= 57)
      .map(Number);
  } catch {
    return [];
  }
}

/** Every process now in /proc, parsed; unreadable or vanished entries are skipped. */
function _allStats(): ProcStat[] {
  const stats: ProcStat[] = [];
  for (const pid of _procPids()) {
    const stat = _stat(pid);
    if (stat) stats.push(stat);
  }
  return stats;
}

function _rss(pids: readonly number[]): Array<[pid: number, rssBytes: number]> {
  const page = pageSize();
  const sizes: Array<[number, number]> = [];
  for (const pid of pids) {
    const statm = _read(`/proc/${pid}/statm`);
    if (statm !== null) sizes.push([pid, parseStatm(statm, page)]);
  }
  return sizes;
}

export const linuxReader: ProcReader = {
  stat: _stat,

  startTime: (pid) => _stat(pid)?.startTime ?? null,

  command(pid) {
    const cmdline = _read(`/proc/${pid}/cmdline`);
    const command = cmdline?.replace(/\0+$/, "").replaceAll("\0", " ").trim();
    if (command) return command.length > 200 ? `${command.slice(0, 199)}…` : command;
    return _stat(pid)?.comm ?? String(pid);
  },

  // The children files are read live, per pid; without them, one snapshot of every /proc/*/stat.
  childLookup: () => (_hasChildrenFiles() ? _childrenOf : childrenByParent(_allStats().map((s) => [s.pid, s.ppid] as const))),

  groupMembers: (pgid) =>
    _allStats()
      .filter((stat) => stat.pgrp === pgid)
      .map((stat) => stat.pid),

  /**
   * A full scan of /proc/*\/environ. environ is the environment as of exec, readable only for our
   * own uid, so a daemon started with `env -i` is missed.
   */
  withEnvEntry(entry) {
    const needle = Buffer.from(`${entry}\0`, "latin1");
    const found: number[] = [];
    for (const pid of _procPids()) {
      if (pid === process.pid) continue;
      let environ: Buffer;
      try {
        environ = readFileSync(`/proc/${pid}/environ`);
      } catch {
        continue; // another user's process, or gone
      }
      // Match whole entries only: at the start, or right after the NUL ending the previous entry.
      for (let at = environ.indexOf(needle); at !== -1; at = environ.indexOf(needle, at + 1)) {
        if (at === 0 || environ[at - 1] === 0) {
          found.push(pid);
          break;
        }
      }
    }
    return found;
  },

  rss: _rss,

  /**
   * smaps_rollup walks page tables, ~17 ms for a 1.6 GiB process. A process whose smaps_rollup
   * cannot be read (kernel < 4.14) counts with its RSS, which errs on the high side.
   */
  pssSum(pids) {
    let total = 0;
    for (const pid of pids) {
      const rollup = _read(`/proc/${pid}/smaps_rollup`);
      if (rollup !== null && rollup.includes("Pss:")) total += parsePss(rollup);
      else for (const [, bytes] of _rss([pid])) total += bytes;
    }
    return total;
  },

  // As a subreaper sep inherits the job's orphans; without `among`, its children from the children files.
  zombieChildren: (among = _childrenOf(process.pid)) =>
    among.filter((pid) => {
      const stat = _stat(pid);
      return stat?.state === "Z" && stat.ppid === process.pid;
    }),
};
