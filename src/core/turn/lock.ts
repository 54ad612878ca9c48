// Turn-taking: FIFO tickets and `slots` kernel-locked slots per scope, via flock(2).
//
// Why flock and not O_EXCL lock files: the kernel drops a flock when its holder dies, even by
// SIGKILL, so there is never a stale lock to guess about. flock alone is not fair, so arrival order
// comes from numbered tickets: each waiter holds a flock on its own ticket file (a dead waiter's
// ticket is therefore detectable and skipped), and only the oldest live ticket may take a free slot.
import { closeSync, constants, existsSync, openSync, readdirSync, readFileSync, renameSync, writeSync } from "node:fs";
import { join } from "node:path";
import { SepError } from "../../errors.ts";
import { EINTR, errno, EWOULDBLOCK, libc, LOCK_EX, LOCK_NB } from "../libc.ts";
import { lockLayout } from "../paths.ts";
import { ensurePrivateDir, fsFailure, readJson, unlinkSafe, writeFileAtomic, writeJsonAtomic } from "../store.ts";
import { Waker } from "./waker.ts";

/** Who holds (or waits for) a turn; stored in ticket and slot files for status and cleanup. */
export interface Holder {
  pid: number;
  /** start time of `pid` in clock ticks since boot, so a reused pid is not mistaken for the holder */
  pidStartTime?: number;
  runId: string;
  jobId: string;
  name: string;
  argv: string[];
  cwd: string;
  /** where the holder's run records live (scopes may span projects) */
  logDir: string;
  createdAt: string;
  startedAt?: string;
  /** process group of the running job (its leader's pid); set once the job is spawned */
  pgid?: number;
  leaderStartTime?: number;
}

export interface WaitingInfo {
  /** live tickets ahead of ours */
  ahead: number;
  /** current holders of the scope's slots */
  holders: Holder[];
}

export interface Turn {
  slot: number;
  /** the record a crashed previous holder of this slot left behind: its processes may still run */
  leftover?: Holder;
  /** note the running job in the slot file, so a later sep can clean up after a crash of ours */
  recordHolder(holder: Holder): void;
  release(): void;
}

export class WaitTimeoutError extends SepError {
  constructor(seconds: number) {
    super("E_WAIT_TIMEOUT", `gave up waiting for a turn after ${seconds}s (--wait-timeout); nothing ran`, { exitCode: 75 });
  }
}

export class WaitAbortedError extends Error {}

const MIN_POLL_MS = 1;
const MAX_POLL_MS = 10;
/** A waiter n tickets back polls every n × MAX_POLL_MS at most, up to this n. */
const MAX_POSITION_SLOWDOWN = 10;

function lockSymbols() {
  const lib = libc();
  if (!lib) {
    throw new SepError("E_NO_FLOCK", "cannot load the C library to take kernel file locks", {
      hint: "sep needs flock(2) from the C library: run it on Linux or macOS",
    });
  }
  return lib;
}

/**
 * Open (creating) a lock file. O_NOFOLLOW: never through a planted symlink. The runtime opens every
 * file close-on-exec, and Bun closes fds ≥ 3 in children anyway, so a lock never leaks into a job.
 */
export function openLockFile(path: string, create = true): number {
  try {
    return openSync(path, constants.O_RDWR | (create ? constants.O_CREAT : 0) | constants.O_NOFOLLOW, 0o600);
  } catch (error) {
    throw fsFailure("E_LOCK", "open lock file", path, error);
  }
}

/** An exclusive flock on an open fd without waiting: true when taken, false when someone holds it. */
export function tryLock(fd: number, path: string): boolean {
  const lib = lockSymbols();
  for (;;) {
    if (lib.flock(fd, LOCK_EX | LOCK_NB) === 0) return true;
    const code = errno();
    if (code === EWOULDBLOCK) return false;
    if (code !== EINTR) throw new SepError("E_LOCK", `flock failed on ${path} (errno ${code})`);
  }
}

/** Blocking flock; only for locks held for microseconds (the ticket counter). */
export function lockBlocking(fd: number, path: string): void {
  const lib = lockSymbols();
  while (lib.flock(fd, LOCK_EX) !== 0) {
    if (errno() !== EINTR) throw new SepError("E_LOCK", `flock failed on ${path} (errno ${errno()})`);
  }
}

function closeFd(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}

interface Ticket {
  name: string;
  path: string;
  fd: number;
}

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

/** Take the next ticket number and publish a locked ticket file for it. */
function takeTicket(layout: ReturnType<typeof lockLayout>, holder: Holder): Ticket {
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

/** An exclusive flock on path without waiting: its fd (close it to release), or undefined if held. */
export function tryLockFile(path: string): number | undefined {
  const fd = openLockFile(path);
  if (tryLock(fd, path)) return fd;
  closeFd(fd);
  return undefined;
}

export function releaseLockFile(fd: number): void {
  closeFd(fd);
}

/** Invocations waiting for a turn, oldest first (their tickets' holders); dead waiters are skipped. */
export function readWaiting(lockDir: string): Holder[] {
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
    if (!ticketIsLive(path)) continue;
    const holder = readJson<Holder>(path);
    if (holder) waiting.push(holder);
  }
  return waiting;
}

/** Is the ticket's owner alive? A ticket nobody holds a lock on belonged to a dead waiter: remove it. */
function ticketIsLive(path: string): boolean {
  let fd: number;
  try {
    // Never O_CREAT here: a probe must not bring back a ticket its owner has just removed.
    fd = openLockFile(path, false);
  } catch {
    return false;
  }
  try {
    if (!tryLock(fd, path)) return true;
    unlinkSafe(path);
    return false;
  } finally {
    closeFd(fd); // releases our probe lock, never the owner's (flock belongs to the open file)
  }
}

/** Live tickets ahead of ours; stops counting at `stopAt` (1 is enough to know we are not first). */
function ticketsAhead(ticketsDir: string, mine: string, stopAt = Number.POSITIVE_INFINITY): number {
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

function anyTickets(ticketsDir: string): boolean {
  try {
    return readdirSync(ticketsDir).some((name) => name.endsWith(".json") && !name.startsWith("."));
  } catch {
    return false;
  }
}

/** Current slot holders of a scope, as recorded (for messages and status). */
export function readHolders(lockDir: string, slots: number): Holder[] {
  const layout = lockLayout(lockDir);
  const holders: Holder[] = [];
  for (let slot = 0; slot < slots; slot++) {
    const holder = readJson<Holder>(layout.slotHolder(slot));
    if (holder) holders.push(holder);
  }
  return holders;
}

/**
 * Free slots that hold the record of a holder that died (its flock is gone, its record is not):
 * hand each such record to cleanUp (kill its leftovers, close its run), then remove it. A slot
 * whose lock is held is left alone; the slot lock is held only for the moment of the check.
 */
export async function reclaimAbandonedSlots(lockDir: string, slots: number, cleanUp: (holder: Holder) => Promise<void>): Promise<void> {
  const layout = lockLayout(lockDir);
  for (let slot = 0; slot < slots; slot++) {
    if (!existsSync(layout.slotHolder(slot))) continue;
    const fd = tryLockFile(layout.slotLock(slot));
    if (fd === undefined) continue;
    try {
      const holder = readJson<Holder>(layout.slotHolder(slot));
      if (holder) await cleanUp(holder);
      unlinkSafe(layout.slotHolder(slot));
    } finally {
      closeFd(fd);
    }
  }
}

export interface WaitForTurnOptions {
  lockDir: string;
  slots: number;
  holder: Holder;
  /** give up after this many ms (WaitTimeoutError, exit 75); undefined = wait as long as it takes */
  waitTimeoutMs?: number;
  signal?: AbortSignal;
  /** called once, when the turn does not come at the first try */
  onWaiting?(info: WaitingInfo): void;
  /** called as soon as the ticket is taken */
  onTicket?(): void;
}

/**
 * Wait until this invocation is the oldest live ticket and a slot is free; take the slot.
 * Polls flock(LOCK_NB) with a 1→10 ms backoff: the event loop stays free for signals and timers,
 * and a slot freed by a holder's exit (or death) is taken within ~10 ms.
 */
export async function waitForTurn(options: WaitForTurnOptions): Promise<Turn> {
  const { lockDir, slots, holder } = options;
  const layout = lockLayout(lockDir);
  ensurePrivateDir(lockDir);
  ensurePrivateDir(layout.ticketsDir);
  ensurePrivateDir(layout.slotsDir);

  // Nobody waiting: a free slot is ours without a ticket. (Someone taking a ticket at this very
  // instant arrived at the same time; either order is arrival order.)
  if (options.signal?.aborted) throw new WaitAbortedError("wait aborted");
  if (!anyTickets(layout.ticketsDir)) {
    for (let slot = 0; slot < slots; slot++) {
      const fd = tryLockFile(layout.slotLock(slot));
      if (fd === undefined) continue;
      options.onTicket?.();
      return _turn(layout, slot, fd);
    }
  }

  const ticket = takeTicket(layout, holder);
  options.onTicket?.();
  const slotFds: (number | undefined)[] = new Array(slots);
  const closeSlotFds = (keep?: number) => {
    for (let slot = 0; slot < slots; slot++) {
      const fd = slotFds[slot];
      if (fd !== undefined && slot !== keep) closeFd(fd);
    }
  };
  const dropTicket = () => {
    unlinkSafe(ticket.path);
    closeFd(ticket.fd);
  };

  const deadline = options.waitTimeoutMs === undefined ? undefined : Date.now() + options.waitTimeoutMs;
  let delay = MIN_POLL_MS / 2;
  let announced = false;
  let waker: Waker | undefined;
  try {
    for (;;) {
      if (options.signal?.aborted) throw new WaitAbortedError("wait aborted");
      const ahead = ticketsAhead(layout.ticketsDir, ticket.name, MAX_POSITION_SLOWDOWN);
      const first = ahead === 0;
      if (first) {
        for (let slot = 0; slot < slots; slot++) {
          const path = layout.slotLock(slot);
          const fd = (slotFds[slot] ??= openLockFile(path));
          if (!tryLock(fd, path)) continue;
          closeSlotFds(slot);
          dropTicket();
          return _turn(layout, slot, fd);
        }
      }
      if (!announced) {
        announced = true;
        options.onWaiting?.({
          ahead: ahead < MAX_POSITION_SLOWDOWN ? ahead : ticketsAhead(layout.ticketsDir, ticket.name),
          holders: readHolders(lockDir, slots),
        });
      }
      if (deadline !== undefined && Date.now() >= deadline) {
        throw new WaitTimeoutError(Math.round((options.waitTimeoutMs ?? 0) / 100) / 10);
      }
      // Only the first ticket can take a slot; the ones behind it poll less often the further
      // back they are, so a long queue of waiters does not keep the CPU busy reading tickets/.
      const ceiling = MAX_POLL_MS * Math.max(1, ahead);
      delay = Math.min(ceiling, delay * 2);
      waker ??= new Waker([layout.slotsDir, layout.ticketsDir], options.signal);
      const woken = await waker.sleep(deadline === undefined ? delay : Math.max(0, Math.min(delay, deadline - Date.now())));
      // A holder unlinks its slot record just before closing its lock: look again almost at once.
      if (woken) delay = MIN_POLL_MS / 2;
    }
  } catch (error) {
    closeSlotFds();
    dropTicket();
    throw error;
  } finally {
    waker?.close();
  }
}

function _turn(layout: ReturnType<typeof lockLayout>, slot: number, fd: number): Turn {
  // The previous holder deletes its slot file when it finishes; a file still here means it died
  // without cleaning up, and its job's processes may still be running.
  const holderPath = layout.slotHolder(slot);
  const leftover = readJson<Holder>(holderPath);
  let released = false;
  return {
    slot,
    leftover,
    recordHolder: (holder) => writeJsonAtomic(holderPath, holder),
    release: () => {
      if (released) return;
      released = true;
      unlinkSafe(holderPath);
      closeFd(fd);
    },
  };
}
