// Sleeps that end early when a directory changes: the cheap way for many waiters to notice that
// the state they wait on has moved, shared by the turn (tickets/slots) and the machine governor's gate.
import { type FSWatcher, watch } from "node:fs";

/**
 * Sleeps that end early when a watched directory changes (inotify, through fs.watch) or the wait
 * is aborted. A finishing holder removes its slot record, and a waiter that gets its turn removes
 * its ticket, so the next waiter wakes on the event instead of at its next poll. Polling stays as
 * the net for what leaves no event (a holder killed by SIGKILL) and where watching is not available.
 */
export class Waker {
  private readonly watchers: FSWatcher[] = [];
  private pending = false;
  private resolve: (() => void) | undefined;
  private readonly onAbort = () => this.wake();

  constructor(
    dirs: string[],
    private readonly signal?: AbortSignal,
  ) {
    for (const dir of dirs) {
      try {
        this.watchers.push(watch(dir, () => this.wake()));
      } catch {
        // no inotify here: polling alone
      }
    }
    signal?.addEventListener("abort", this.onAbort);
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
  }
}
