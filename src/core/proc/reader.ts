// The primitive process reads the rest of proc/ is built on, and the one choice of backend: /proc on Linux, `ps` elsewhere.
import { linuxReader } from "./linux.ts";
import type { ChildLookup, ProcStat } from "./parse.ts";
import { psReader } from "./ps.ts";

/** Every read returns null, [] or 0 for a process that is gone or unreadable; none throws. */
export interface ProcReader {
  stat(pid: number): ProcStat | null;
  /** an opaque start time: the same pid with the same start time is the same process */
  startTime(pid: number): number | null;
  /** the command line (at most ~200 chars), or comm, or the pid */
  command(pid: number): string;
  /** how to find direct children for one walk: ask once per walk, it may take a snapshot */
  childLookup(): ChildLookup;
  /** members of a process group (a full scan) */
  groupMembers(pgid: number): number[];
  /** processes whose environment holds this whole NAME=value entry, sep excluded (a full scan) */
  withEnvEntry(entry: string): number[];
  /** RSS per pid, pids that are gone left out */
  rss(pids: readonly number[]): Array<[pid: number, rssBytes: number]>;
  /** the PSS sum (shared pages divided among their sharers), or the nearest the backend has */
  pssSum(pids: readonly number[]): number;
  /** sep's own children that are zombies and so need reaping: among `among`, or all of them */
  zombieChildren(among?: readonly number[]): number[];
}

// SEP_PROC_BACKEND=ps forces the fallback on Linux, so its tests can run here.
export const reader: ProcReader = process.platform === "linux" && process.env.SEP_PROC_BACKEND !== "ps" ? linuxReader : psReader;

export function readStat(pid: number): ProcStat | null {
  return reader.stat(pid);
}

/** Start time of the process (for pid-reuse checks: same pid + same start time = same process). */
export function processStartTime(pid: number): number | null {
  return reader.startTime(pid);
}

/** The command line (NULs as spaces, at most ~200 chars), or comm for kernel threads and zombies. */
export function commandOf(pid: number): string {
  return reader.command(pid);
}
