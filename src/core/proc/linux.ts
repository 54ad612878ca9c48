// The /proc backend of ProcReader (BUN_NOTES §4: a walk of /proc/PID/task/*/children plus statm costs
// ~0.05 ms for a 3-process tree; a full scan of /proc/*/stat, ~2.7 ms, only where the kernel has no
// children files, and at cleanup).
import { closeSync, openSync, readdirSync, readFileSync, readSync } from "node:fs";
import { childrenByParent, parseAuxvPageSize, parsePss, parseStat, parseStatm, type ProcStat } from "./parse.ts";
import type { KeptFiles, ProcReader } from "./reader.ts";

/** One buffer for every /proc read: the poller reads a few small files per process, many times a second. */
let _buffer = Buffer.allocUnsafe(16 * 1024);

/**
 * Read a /proc file; null when the process is gone (ENOENT/ESRCH) or unreadable (EACCES). open,
 * read until EOF into the shared buffer, close: no fstat and no allocation but the string, since
 * /proc files report no size anyway.
 */
function _read(path: string): string | null {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return null;
  }
  try {
    let length = 0;
    for (;;) {
      if (length === _buffer.length) {
        const bigger = Buffer.allocUnsafe(_buffer.length * 2);
        _buffer.copy(bigger, 0, 0, length);
        _buffer = bigger;
      }
      const n = readSync(fd, _buffer, length, _buffer.length - length, null);
      if (n === 0) break;
      length += n;
    }
    return _buffer.toString("latin1", 0, length);
  } catch {
    return null;
  } finally {
    closeSync(fd);
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

/**
 * sep's own threads' children files, kept open from walk to walk. Every walk of a job's tree starts
 * at sep (its subreaper), and the runtime has ~8 threads, each with a children file: one pread from
 * offset 0 reads a file afresh, where open, read and close cost three calls and a path lookup, twice
 * per job. Only sep's own, and only between walks close together (a drain's): a thread's file, once
 * the thread has ended, reads empty without an error, and a later thread can reuse its tid. A tid
 * missing from a walk's listing is closed at once; after a pause every file is opened afresh, so a
 * tid reused meanwhile (the pid counter going all the way round) is never read through a dead file.
 */
const _ownChildrenFiles = new Map<string, number>();
let _ownWalkedAt = Number.NEGATIVE_INFINITY;
const OWN_KEPT_MS = 1000;

function _closeOwnChildren(keep?: ReadonlySet<string>): void {
  for (const [tid, fd] of _ownChildrenFiles) {
    if (keep?.has(tid)) continue;
    closeSync(fd);
    _ownChildrenFiles.delete(tid);
  }
}

function _readOwnChildren(tid: string): string | null {
  let fd = _ownChildrenFiles.get(tid);
  if (fd === undefined) {
    try {
      fd = openSync(`/proc/${process.pid}/task/${tid}/children`, "r");
    } catch {
      return null;
    }
    _ownChildrenFiles.set(tid, fd);
  }
  try {
    const n = readSync(fd, _buffer, 0, _buffer.length, 0);
    // A children file longer than the buffer (thousands of children) is read whole the slow way.
    return n < _buffer.length ? _buffer.toString("latin1", 0, n) : _read(`/proc/${process.pid}/task/${tid}/children`);
  } catch {
    closeSync(fd);
    _ownChildrenFiles.delete(tid);
    return null;
  }
}

/** Direct children of one process, from every thread's children file (a child belongs to the thread that forked it). */
function _childrenOf(pid: number): number[] {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return []; // gone mid-walk
  }
  const own = pid === process.pid;
  if (own) {
    const now = performance.now();
    _closeOwnChildren(now - _ownWalkedAt < OWN_KEPT_MS ? new Set(tids) : undefined);
    _ownWalkedAt = now;
  }
  const children: number[] = [];
  for (const tid of tids) {
    const text = own ? _readOwnChildren(tid) : _read(`/proc/${pid}/task/${tid}/children`);
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

/** At most this many statm files are kept open by one poller (beyond, they are opened per read). */
const MAX_KEPT = 1024;

function _rss(pids: readonly number[], kept?: KeptFiles): Array<[pid: number, rssBytes: number]> {
  const page = pageSize();
  const sizes: Array<[number, number]> = [];
  for (const pid of pids) {
    const statm = kept ? _readKept(kept, pid) : _read(`/proc/${pid}/statm`);
    if (statm !== null) sizes.push([pid, parseStatm(statm, page)]);
  }
  if (kept && kept.size > pids.length) {
    const wanted = new Set(pids);
    for (const [pid, fd] of kept) {
      if (wanted.has(pid)) continue;
      closeSync(fd);
      kept.delete(pid);
    }
  }
  return sizes;
}

/**
 * A process's statm through a file kept open: a /proc file read again from offset 0 is made afresh,
 * so one pread replaces open, read and close (a third of the system calls, and no path lookup).
 * The open file belongs to that process, never to a later one with the same pid: once it has died
 * the read fails, and the file is closed.
 */
function _readKept(kept: KeptFiles, pid: number): string | null {
  let fd = kept.get(pid);
  if (fd === undefined) {
    if (kept.size >= MAX_KEPT) return _read(`/proc/${pid}/statm`);
    try {
      fd = openSync(`/proc/${pid}/statm`, "r");
    } catch {
      return null;
    }
    kept.set(pid, fd);
  }
  try {
    const n = readSync(fd, _buffer, 0, _buffer.length, 0);
    if (n > 0) return _buffer.toString("latin1", 0, n);
  } catch {
    // gone
  }
  closeSync(fd);
  kept.delete(pid);
  return null;
}

let _loadavgFd: number | undefined;

function _readLoadavg(): string | null {
  try {
    _loadavgFd ??= openSync("/proc/loadavg", "r");
    const n = readSync(_loadavgFd, _buffer, 0, _buffer.length, 0);
    return _buffer.toString("latin1", 0, n);
  } catch {
    return null;
  }
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

  // /proc/loadavg ends with "running/total LASTPID". Asked before and after every walk of a job's
  // tree: the file stays open, and each look is one pread.
  lastPid() {
    const text = _readLoadavg();
    const last = text === null ? Number.NaN : Number(text.trim().split(" ").pop());
    // 0 is what a sandboxed /proc (gVisor) prints: no figure at all.
    return Number.isInteger(last) && last > 0 ? last : null;
  },

  // As a subreaper sep inherits the job's orphans; without `among`, its children from the children files.
  zombieChildren: (among = _childrenOf(process.pid)) =>
    among.filter((pid) => {
      const stat = _stat(pid);
      return stat?.state === "Z" && stat.ppid === process.pid;
    }),
};
