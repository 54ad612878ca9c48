// Sleeps that end early when the state waited on moves: a watched directory changes, or a watched
// lock file is closed. Shared by the turn (tickets/slots) and the machine governor's gate.
import { type FSWatcher, watch } from "node:fs";
import { closeFd } from "./flock.ts";
import { IN_CLOSE_NOWRITE, IN_CLOSE_WRITE, IN_DELETE, inotifyWatch } from "../libc.ts";

export interface WakerOptions {
  /** directories whose entries are watched for any change (fs.watch) */
  dirs?: string[];
  /** directories watched like `dirs` only where the kernel's events (closeOf, goneIn) cannot be had */
  fallbackDirs?: string[];
  /**
   * Lock files whose every close is watched (inotify IN_CLOSE_*). The kernel drops a flock when
   * the last fd of its open file is closed, and that close, by the holder's own close() or by its
   * death even by SIGKILL, is the event: the waiter wakes in the kernel's time, not at its next
   * poll. (The kernel sends the event a moment before it drops the lock, in the same close: a
   * waiter that finds the lock still held looks again after a few microseconds.)
   */
  closeOf?: string[];
  /**
   * Directories of locked files (tickets) watched for an entry removed, or one written by its
   * owner closed (its owner let go or died, even by SIGKILL): inotify IN_DELETE and IN_CLOSE_WRITE.
   * Probes that only read (O_RDONLY) and new entries wake nobody.
   */
  goneIn?: string[];
  signal?: AbortSignal;
}

/**
 * Sleeps that end early when an event comes or the wait is aborted. A finishing holder closes its
 * slot lock and removes its slot record, and a waiter that gets its turn removes its ticket, so the
 * next waiter wakes on the event instead of at its next poll. Polling stays as the net for what
 * leaves no event and where watching is not available.
 */
export class Waker {
  private readonly watchers: FSWatcher[] = [];
  private inotifyFd: number | null = null;
  private reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  private pending = false;
  private resolve: (() => void) | undefined;
  private readonly signal: AbortSignal | undefined;
  private readonly onAbort = () => this.wake();

  private fallbackDirs: string[] = [];

  constructor(options: WakerOptions) {
    this.signal = options.signal;
    const kernel = [
      ...(options.closeOf ?? []).map((path) => ({ path, events: IN_CLOSE_WRITE | IN_CLOSE_NOWRITE })),
      ...(options.goneIn ?? []).map((path) => ({ path, events: IN_DELETE | IN_CLOSE_WRITE })),
    ];
    if (kernel.length > 0) this.watchKernel(kernel);
    // Where inotify cannot be had, the directories of goneIn and the fallbacks are watched like dirs.
    this.fallbackDirs = [...(options.goneIn ?? []), ...(options.fallbackDirs ?? [])];
    const dirs = [...(options.dirs ?? []), ...(this.reader ? [] : this.fallbackDirs)];
    for (const dir of dirs) {
      try {
        this.watchers.push(watch(dir, () => this.wake()));
      } catch {
        // no watching here: polling alone
      }
    }
    this.signal?.addEventListener("abort", this.onAbort);
  }

  /** True when the kernel's events (closeOf, goneIn) are watched: the caller may then poll rarely. */
  get watchesKernel(): boolean {
    return this.reader !== undefined;
  }

  private watchKernel(watches: Array<{ path: string; events: number }>): void {
    const fd = inotifyWatch(watches);
    if (fd === null) return;
    this.inotifyFd = fd;
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

  /** The events stopped coming (the stream failed): fall back to watching dirs and polling, and look now. */
  private lostKernel(): void {
    this.dropKernel();
    for (const dir of this.fallbackDirs) {
      try {
        this.watchers.push(watch(dir, () => this.wake()));
      } catch {
        // polling alone
      }
    }
    this.wake();
  }

  private dropKernel(): void {
    const reader = this.reader;
    this.reader = undefined;
    reader?.cancel().catch(() => {});
    if (this.inotifyFd !== null) closeFd(this.inotifyFd);
    this.inotifyFd = null;
  }

  private wake(): void {
    if (this.resolve) this.resolve();
    else this.pending = true;
  }

  /** Resolves true when woken by an event, false when ms passed. */
  sleep(ms: number): Promise<boolean> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve(true);
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

  close(): void {
    for (const watcher of this.watchers) watcher.close();
    this.signal?.removeEventListener("abort", this.onAbort);
    this.dropKernel();
  }
}
