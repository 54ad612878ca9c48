// Sleeps that end early when the state waited on moves: a watched directory changes, or a watched
// lock file is closed. Shared by the turn (tickets/slots) and the machine governor's gate.
import { type FSWatcher, readSync, watch } from "node:fs";
import { nextWake } from "../deadlines.ts";
import { closeFd } from "./flock.ts";
import { IN_CLOSE_NOWRITE, IN_CLOSE_WRITE, IN_CREATE, IN_DELETE, IN_MODIFY, IN_MOVED_FROM, IN_MOVED_TO, inotifyAdd, inotifyInit, inotifyRemove, inotifyWatch, pollReadable } from "../libc.ts";

export interface WakerOptions {
  /** directories whose entries are watched for any change (fs.watch) */
  dirs?: string[];
  /** directories watched like `dirs` only where the kernel's events (closeOf, goneIn, changesIn) cannot be had */
  fallbackDirs?: string[];
  /**
   * Lock files whose every close is watched (inotify IN_CLOSE_*). The kernel drops a flock when
   * the last fd of its open file is closed, and that close, by the holder's own close() or by its
   * death even by SIGKILL, is the event: the waiter wakes in the kernel's time, not at its next
   * poll. (A holder that dies sends the event a moment before the kernel drops its lock, in the
   * same close: a waiter that finds the lock still held looks again after a few microseconds.
   * A holder that lets go unlocks first, then closes.)
   */
  closeOf?: string[];
  /**
   * Directories of locked files (tickets) watched for an entry removed, or one written by its
   * owner closed (its owner let go or died, even by SIGKILL): inotify IN_DELETE and IN_CLOSE_WRITE.
   * Probes that only read (O_RDONLY) and new entries wake nobody.
   */
  goneIn?: string[];
  /**
   * Directories of records replaced by rename (the ledger): watched for an entry created, written,
   * renamed in or out, deleted, or closed by a writer (its owner, letting go or dying). Reading
   * them wakes nobody.
   */
  changesIn?: string[];
  signal?: AbortSignal;
  /** may a sleep block the thread (see letWaitsBlock, the default) */
  block?: boolean;
}

/**
 * The longest the event loop stands still in one block (see sleep): a timer this process set for
 * other work, and did not name to core/deadlines.ts, fires at most this late while it waits.
 */
const MAX_BLOCK_MS = 5000;

let _mayBlock = false;

/**
 * The one inotify fd of the blocking wakers, kept for the process's life: a waker adds its
 * watches and removes them when it closes. Closing an fd with watches would stall the thread for
 * milliseconds (libc.ts inotifyRemove), right on the hand-over path. One waker uses it at a time.
 */
const _shared: { fd: number | undefined; busy: boolean } = { fd: undefined, busy: false };

/**
 * Let waits block the thread (see Waker): for a process that, while it waits, has nothing else to
 * do in its event loop but signals and the timers named to core/deadlines.ts. sep's CLI is one (one job
 * waits at a time); a process with other work in the same loop (a test, several waits at once)
 * does not call this, and its waits wake through the event loop instead.
 */
export function letWaitsBlock(): void {
  _mayBlock = true;
}

/**
 * Sleeps that end early when an event comes or the wait is aborted. A finishing holder closes its
 * slot lock and removes its slot record, and a waiter that gets its turn removes its ticket, so the
 * next waiter wakes on the event instead of at its next poll. Polling stays as the net for what
 * leaves no event and where watching is not available.
 *
 * Where the kernel's events are watched and waits may block (letWaitsBlock), a sleep blocks in
 * poll(2) on the inotify fd: the process is asleep in the kernel, woken by the event itself, a
 * signal (Ctrl-C: the block ends at once and the handler runs) or the time. A waiting sep then
 * costs what a sleeping runtime does: an event loop that turned over, even only on the kernel's
 * events, kept the runtime's collector and allocator threads working (~0.1 % of a core per
 * waiter, measured). Elsewhere the events are read in the event loop.
 */
export class Waker {
  private readonly watchers: FSWatcher[] = [];
  private inotifyFd: number | null = null;
  /** the watches on the shared fd (blocking), removed at close; undefined: inotifyFd is this waker's own */
  private sharedWatches: number[] | undefined;
  private kernelLost = false;
  /** the events read in the event loop, when waits may not block */
  private reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  private pending = false;
  private resolve: (() => void) | undefined;
  private readonly signal: AbortSignal | undefined;
  private readonly onAbort = () => this.wake();
  private readonly fallbackDirs: string[];

  constructor(options: WakerOptions) {
    this.signal = options.signal;
    const kernel = [
      ...(options.closeOf ?? []).map((path) => ({ path, events: IN_CLOSE_WRITE | IN_CLOSE_NOWRITE })),
      ...(options.goneIn ?? []).map((path) => ({ path, events: IN_DELETE | IN_CLOSE_WRITE })),
      ...(options.changesIn ?? []).map((path) => ({ path, events: IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_MODIFY | IN_CLOSE_WRITE })),
    ];
    if (kernel.length > 0) this.watchKernel(kernel, options.block ?? _mayBlock);
    // Where inotify cannot be had, the directories of goneIn and changesIn and the fallbacks are
    // watched like dirs.
    this.fallbackDirs = [...(options.goneIn ?? []), ...(options.changesIn ?? []), ...(options.fallbackDirs ?? [])];
    this.watchDirs([...(options.dirs ?? []), ...(this.inotifyFd === null ? this.fallbackDirs : [])]);
    this.signal?.addEventListener("abort", this.onAbort);
  }

  /** True when the kernel's events (closeOf, goneIn, changesIn) are watched: the caller may then poll rarely. */
  get watchesKernel(): boolean {
    return this.inotifyFd !== null;
  }

  private watchKernel(watches: Array<{ path: string; events: number }>, block: boolean): void {
    if (block && !_shared.busy) {
      // Kept once made; a failure (out of inotify instances) is tried again by the next waker.
      _shared.fd ??= inotifyInit() ?? undefined;
      if (_shared.fd === undefined) return;
      _drain(_shared.fd); // what an earlier waker's watches left
      const wds = inotifyAdd(_shared.fd, watches);
      if (wds === null) return;
      _shared.busy = true;
      this.sharedWatches = wds;
      this.inotifyFd = _shared.fd;
      return; // read by blockingSleep
    }
    const fd = inotifyWatch(watches);
    if (fd === null) return;
    this.inotifyFd = fd;
    if (block) return; // read by blockingSleep
    // The runtime polls a non-blocking fd of this kind in its event loop: each read is one or more
    // events, and the waiter wakes within the loop's turn.
    let reader: ReadableStreamDefaultReader<Uint8Array>;
    try {
      reader = Bun.file(fd).stream().getReader() as ReadableStreamDefaultReader<Uint8Array>;
    } catch {
      this.dropKernel();
      return;
    }
    this.reader = reader;
    const next = (): void => {
      reader.read().then(
        ({ done }) => {
          if (this.reader !== reader) return;
          if (done) return this.lostKernel();
          this.wake();
          next();
        },
        () => {
          if (this.reader === reader) this.lostKernel();
        },
      );
    };
    next();
  }

  private watchDirs(dirs: string[]): void {
    for (const dir of dirs) {
      try {
        this.watchers.push(watch(dir, () => this.wake()));
      } catch {
        // no watching here: polling alone
      }
    }
  }

  /** The kernel's events cannot be waited on any more: watch the directories instead, and look now. */
  private lostKernel(): void {
    this.kernelLost = true;
    this.dropKernel();
    this.watchDirs(this.fallbackDirs);
    this.wake();
  }

  private dropKernel(): void {
    const reader = this.reader;
    this.reader = undefined;
    reader?.cancel().catch(() => {});
    if (this.inotifyFd !== null && this.sharedWatches) {
      inotifyRemove(this.inotifyFd, this.sharedWatches);
      _shared.busy = false;
      if (this.kernelLost) _shared.fd = undefined; // it cannot be waited on: the next waker makes a fresh one
    } else if (this.inotifyFd !== null) {
      closeFd(this.inotifyFd);
    }
    this.sharedWatches = undefined;
    this.inotifyFd = null;
  }

  private wake(): void {
    if (this.resolve) this.resolve();
    else this.pending = true;
  }

  /** Resolves true when woken by an event (or the abort), false when ms passed. */
  async sleep(ms: number): Promise<boolean> {
    if (this.inotifyFd !== null && this.reader === undefined) return this.blockingSleep(ms);
    if (this.pending) {
      this.pending = false;
      return true;
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.resolve = undefined;
        resolve(false);
      }, ms);
      this.resolve = () => {
        clearTimeout(timer);
        this.resolve = undefined;
        resolve(true);
      };
    });
  }

  /**
   * A signal that comes in the microseconds between a yield and the poll(2) interrupts nothing:
   * its handler waits for the block's end, at most MAX_BLOCK_MS. From JavaScript
   * that window cannot be closed: ppoll's signal mask would only send the signal to another thread.
   */
  private async blockingSleep(ms: number): Promise<boolean> {
    // performance.now(), not Date.now(): a wall clock set back must not stretch the sleep.
    const until = performance.now() + ms;
    for (;;) {
      // The event loop runs first, each time: a signal's handler (it aborts the wait), a timer
      // that is due, output still queued.
      await new Promise((resolve) => setImmediate(resolve));
      if (this.pending || this.signal?.aborted) {
        this.pending = false;
        return true;
      }
      const fd = this.inotifyFd;
      if (fd === null) return true; // closed meanwhile
      const left = until - performance.now();
      if (left <= 0) return false;
      const due = nextWake();
      const cap = due === undefined ? MAX_BLOCK_MS : Math.max(1, due - performance.now());
      const result = pollReadable(fd, Math.min(left, MAX_BLOCK_MS, cap));
      if (result === "ready") {
        _drain(fd);
        return true;
      }
      if (result === null) {
        this.lostKernel();
        this.pending = false;
        return true;
      }
      // "interrupted" (a signal: its handler runs at the next yield) or a block's time up: go round.
    }
  }

  close(): void {
    for (const watcher of this.watchers) watcher.close();
    this.signal?.removeEventListener("abort", this.onAbort);
    this.dropKernel();
  }
}

const _events = Buffer.alloc(4096);

/** Read the events that are there (they only wake: what changed is looked at afresh). */
function _drain(fd: number): void {
  try {
    while (readSync(fd, _events, 0, _events.length, null) > 0);
  } catch {
    // EAGAIN: none left
  }
}
