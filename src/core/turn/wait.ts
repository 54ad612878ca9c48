// Waiting for a turn: the oldest live ticket takes a free slot; the others wait, woken by changes
// to the tickets and slots (inotify) with polling as the net. Arrival order comes from the tickets,
// since flock alone is not fair.
import { SepError } from "../../errors.ts";
import { lockLayout } from "../paths.ts";
import { ensurePrivateDir, unlinkSafe } from "../store.ts";
import { closeFd, openLockFile, tryLock, tryLockFile } from "./flock.ts";
import { readHolders, takeSlot, type Holder, type Turn } from "./slots.ts";
import { anyTickets, takeTicket, ticketsAhead } from "./tickets.ts";
import { Waker } from "./waker.ts";

export interface WaitingInfo {
  /** live tickets ahead of ours */
  ahead: number;
  /** current holders of the scope's slots */
  holders: Holder[];
}

export class WaitTimeoutError extends SepError {
  constructor(seconds: number) {
    super("E_WAIT_TIMEOUT", `gave up waiting for a turn after ${seconds}s (--wait-timeout); nothing ran`, { exitCode: 75 });
  }
}

export class WaitAbortedError extends Error {}

const MIN_POLL_MS = 1;
const MAX_POLL_MS = 10;
/**
 * The poll when the kernel's events are watched (slot lock closes; tickets gone), first in line or
 * behind: a net only, for what leaves no event. Each look turns the event loop over, and that
 * keeps the runtime's own threads busy for a while: rare looks are what make a waiting sep cost
 * what a sleeping one does.
 */
const WATCHED_POLL_MS = 5000;
/** Quick looks after a close event that came before its lock was dropped (each yields once). */
const CLOSE_RACE_LOOKS = 50;
/** A waiter n tickets back polls every n × MAX_POLL_MS at most, up to this n. */
const MAX_POSITION_SLOWDOWN = 10;

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
 * The first in line tries flock(LOCK_NB) whenever a slot lock file is closed (inotify): the kernel
 * wakes it as the holder releases or dies. It sleeps in the kernel meanwhile (Waker: poll(2) on
 * the events), and a signal ends that sleep at once, so Ctrl-C and SIGTERM act as they come;
 * --wait-timeout and the times named to core/deadlines.ts bound it. Where the events cannot be watched it polls with a
 * 1→10 ms backoff (a slot is then taken within ~10 ms), the event loop free.
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
      return takeSlot(layout, slot, fd);
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

  /** The first free slot, taken (the ticket dropped), or undefined when every slot is held. */
  const takeFreeSlot = (): Turn | undefined => {
    for (let slot = 0; slot < slots; slot++) {
      const path = layout.slotLock(slot);
      const fd = (slotFds[slot] ??= openLockFile(path));
      if (!tryLock(fd, path)) continue;
      closeSlotFds(slot);
      dropTicket();
      return takeSlot(layout, slot, fd);
    }
    return undefined;
  };

  const deadline = options.waitTimeoutMs === undefined ? undefined : Date.now() + options.waitTimeoutMs;
  let delay = MIN_POLL_MS / 2;
  let announced = false;
  let waker: Waker | undefined;
  let wakerIsFirst = false;
  try {
    for (;;) {
      if (options.signal?.aborted) throw new WaitAbortedError("wait aborted");
      const ahead = ticketsAhead(layout.ticketsDir, ticket.name, MAX_POSITION_SLOWDOWN);
      const first = ahead === 0;
      if (first) {
        const turn = takeFreeSlot();
        if (turn) return turn;
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
      // The first in line wakes when a slot lock is closed (the holder's release, or its death);
      // the ones behind it when a ticket goes. Polling is the net under both.
      if (!waker || first !== wakerIsFirst) {
        waker?.close();
        wakerIsFirst = first;
        waker = first
          ? new Waker({ closeOf: Array.from({ length: slots }, (_, slot) => layout.slotLock(slot)), fallbackDirs: [layout.slotsDir], signal: options.signal })
          : new Waker({ goneIn: [layout.ticketsDir], signal: options.signal });
        // What changed before the watch was in place left no event: look once more first.
        continue;
      }
      // Only the first ticket can take a slot. Where the kernel's events are watched, polling is
      // only the net; elsewhere the ones behind the first poll less often the further back they
      // are, so a long queue of waiters does not keep the CPU busy reading tickets/.
      const ceiling = waker.watchesKernel ? WATCHED_POLL_MS : MAX_POLL_MS * Math.max(1, ahead);
      delay = Math.min(ceiling, delay * 2);
      const woken = await waker.sleep(deadline === undefined ? delay : Math.max(0, Math.min(delay, deadline - Date.now())));
      if (!woken) continue;
      delay = MIN_POLL_MS / 2;
      // The kernel announces a lock's close a moment before it drops the lock, in the same close,
      // and the waiter it wakes may run first: look again right away, a few times, yielding
      // between looks so the closing process can finish.
      if (first && waker.watchesKernel) {
        for (let look = 0; look < CLOSE_RACE_LOOKS; look++) {
          const slot = takeFreeSlot();
          if (slot !== undefined) return slot;
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
    }
  } catch (error) {
    closeSlotFds();
    dropTicket();
    throw error;
  } finally {
    waker?.close();
  }
}

