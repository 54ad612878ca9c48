// The primitive process reads the rest of proc/ is built on, and the one choice of backend: /proc on Linux, `ps` elsewhere.
import { closeSync } from "node:fs";
import { linuxReader } from "./linux.ts";
import type { ChildLookup, ProcStat } from "./parse.ts";
import { psReader } from "./ps.ts";

/** Open files a backend keeps between calls, by pid (Linux: each process's statm). */
export type KeptFiles = Map<number, number>;

/** Close what rss() kept open. */
export function closeKept(kept: KeptFiles): void {
  for (const fd of kept.values()) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
  }
  kept.clear();
}

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
  /**
   * RSS per pid, pids that are gone left out. `kept`: files kept open between calls by a caller
   * that asks many times a second (the poller); it must closeKept() them when done.
   */
  rss(pids: readonly number[], kept?: KeptFiles): Array<[pid: number, rssBytes: number]>;
  /** the PSS sum (shared pages divided among their sharers), or the nearest the backend has */
  pssSum(pids: readonly number[]): number;
  /** sep's own children that are zombies and so need reaping: among `among`, or all of them */
  zombieChildren(among?: readonly number[]): number[];
  /**
   * The pid the kernel handed out last, machine-wide (any new process or thread takes one), or
   * null where that cannot be read: while it stays the same, no process was created anywhere.
   */
  lastPid(): number | null;
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
