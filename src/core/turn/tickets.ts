// FIFO tickets: each waiter takes a numbered ticket and holds a flock on it for as long as it
// waits, so a dead waiter's ticket is detectable (nobody holds its lock) and skipped.
import { readdirSync, renameSync, writeSync } from "node:fs";
import { join } from "node:path";
import { lockLayout } from "../paths.ts";
import { readJson, unlinkSafe } from "../store.ts";
import { closeFd, openLockFile, openLockProbe, tryLock, tryLockShared } from "./flock.ts";
import { highestNumber, withNextNumber } from "./numbering.ts";
import type { Holder } from "./slots.ts";

export interface Ticket {
  name: string;
  path: string;
  fd: number;
}

/** Take the next ticket number and publish a locked ticket file for it. */
export function takeTicket(layout: ReturnType<typeof lockLayout>, holder: Holder): Ticket {
  return withNextNumber(layout.ticketsLock, layout.ticketCounter, () => highestNumber([layout.ticketsDir]), (next) => {
    const name = `${String(next).padStart(12, "0")}.json`;
    // Lock the ticket before it becomes visible (rename keeps the open file and its lock), so no
    // one can see an unlocked ticket and take its owner for dead.
    const temp = join(layout.ticketsDir, `.${name}.${process.pid}.tmp`);
    const fd = openLockFile(temp);
    tryLock(fd, temp);
    writeSync(fd, JSON.stringify(holder));
    const path = join(layout.ticketsDir, name);
    renameSync(temp, path);
    return { name, path, fd };
  });
}

/**
 * Invocations waiting for a turn, oldest first (their tickets' holders); dead waiters are skipped,
 * and their tickets removed unless `prune` is false (a viewer that must write nothing: `sep top`).
 */
export function readWaiting(lockDir: string, { prune = true }: { prune?: boolean } = {}): Holder[] {
  const { ticketsDir } = lockLayout(lockDir);
  let names: string[];
  try {
    names = readdirSync(ticketsDir);
  } catch {
    return [];
  }
  const waiting: Holder[] = [];
  for (const name of names.sort()) {
    if (!name.endsWith(".json") || name.startsWith(".")) continue;
    const path = join(ticketsDir, name);
    if (!ticketIsLive(path, prune)) continue;
    const holder = readJson<Holder>(path);
    if (holder) waiting.push(holder);
  }
  return waiting;
}

/** Is the ticket's owner alive? A ticket nobody holds a lock on belonged to a dead waiter: remove it (when prune). */
function ticketIsLive(path: string, prune = true): boolean {
  let fd: number;
  try {
    // Never O_CREAT here: a probe must not bring back a ticket its owner has just removed.
    fd = openLockProbe(path);
  } catch {
    return false;
  }
  try {
    if (!tryLockShared(fd, path)) return true;
    if (prune) unlinkSafe(path);
    return false;
  } finally {
    closeFd(fd); // releases our probe lock, never the owner's (flock belongs to the open file)
  }
}

/** Live tickets ahead of ours; stops counting at `stopAt` (1 is enough to know we are not first). */
export function ticketsAhead(ticketsDir: string, mine: string, stopAt = Number.POSITIVE_INFINITY): number {
  let names: string[];
  try {
    names = readdirSync(ticketsDir);
  } catch {
    return 0;
  }
  let ahead = 0;
  for (const name of names.sort()) {
    if (name >= mine || ahead >= stopAt) break;
    if (!name.endsWith(".json") || name.startsWith(".")) continue;
    if (ticketIsLive(join(ticketsDir, name))) ahead++;
  }
  return ahead;
}

export function anyTickets(ticketsDir: string): boolean {
  try {
    return readdirSync(ticketsDir).some((name) => name.endsWith(".json") && !name.startsWith("."));
  } catch {
    return false;
  }
}

