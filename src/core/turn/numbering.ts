// Numbered files (tickets, stored jobs, ledger entries): the next number of a counter, handed out
// under a short flock so concurrent callers never get the same one, and never one still on disk.
import { readdirSync, readFileSync } from "node:fs";
import { writeFileAtomic } from "../store.ts";
import { closeFd, lockBlocking, openLockFile } from "./flock.ts";

/**
 * Hand out the next number (or the next `count` numbers, contiguous) of a counter file, under a
 * short blocking flock on lockPath, so concurrent callers never get the same number; never one at
 * or below inUse(), the highest number on disk. fn publishes whatever the number is for while the lock is held (a crash before the
 * counter is written just reuses the number).
 */
export function withNextNumber<T>(lockPath: string, counterPath: string, inUse: () => number, fn: (next: number) => T, count = 1): T {
  const counterFd = openLockFile(lockPath);
  try {
    lockBlocking(counterFd, lockPath);
    let last = 0;
    try {
      last = Number.parseInt(readFileSync(counterPath, "utf8"), 10) || 0;
    } catch {
      // the first number in this scope
    }
    // A counter deleted or edited into nonsense must never hand out a number still in use: that
    // file would be replaced, and its job lost.
    last = Math.max(last, inUse());
    const result = fn(last + 1);
    writeFileAtomic(counterPath, String(last + count));
    return result;
  } finally {
    closeFd(counterFd);
  }
}

/** The highest `<number>[.mark].json` file name in dirs (0 when none): what a counter must stay above. */
export function highestNumber(dirs: string[]): number {
  let highest = 0;
  for (const dir of dirs) {
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      const match = /^(\d+)(\.[a-z]+)?\.json$/.exec(name);
      if (match) highest = Math.max(highest, Number(match[1]));
    }
  }
  return highest;
}

