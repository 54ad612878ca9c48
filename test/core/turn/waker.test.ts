import { afterEach, describe, expect, test } from "bun:test";
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nextWake, wakeAt } from "../../../src/core/deadlines.ts";
import { Waker } from "../../../src/core/turn/waker.ts";

const linux = process.platform === "linux";
const dirs: string[] = [];
const wakers: Waker[] = [];

afterEach(() => {
  for (const waker of wakers.splice(0)) waker.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), "sep-waker-"));
  dirs.push(dir);
  return dir;
}

/** An empty lock file in a fresh scratch dir. */
function lockFile(): string {
  const lock = join(scratch(), "0.lock");
  writeFileSync(lock, "");
  return lock;
}

/** The inotify fd a waker reads (its own, or the shared one), as it held it last. */
function fdOf(w: Waker): number | null {
  return (w as unknown as { inotifyFd: number | null }).inotifyFd;
}

function waker(options: ConstructorParameters<typeof Waker>[0]): Waker {
  const made = new Waker(options);
  wakers.push(made);
  return made;
}

/** Run `sh -c script` in another process and wait for it: the events come from someone else. */
async function elsewhere(script: string): Promise<void> {
  const proc = Bun.spawn(["sh", "-c", script], { stdout: "ignore", stderr: "inherit" });
  expect(await proc.exited).toBe(0);
}

describe.if(linux)("Waker: the kernel's events end a sleep long before its time", () => {
  test("closeOf: another process closing the lock file (its holder letting go) wakes the sleeper", async () => {
    const lock = lockFile();
    const w = waker({ closeOf: [lock] });
    expect(w.watchesKernel).toBe(true);
    const sleeping = w.sleep(30_000);
    await elsewhere(`exec 3<>'${lock}'; exec 3>&-`);
    expect(await sleeping).toBe(true);
  });

  test("goneIn: a ticket removed, or closed by a writer that owned it, wakes; a read-only look and a new ticket do not", async () => {
    const dir = scratch();
    const tickets = join(dir, "tickets");
    mkdirSync(tickets);
    const ticket = join(tickets, "000000000001.json");
    writeFileSync(ticket, "{}");
    const w = waker({ goneIn: [tickets] });
    expect(w.watchesKernel).toBe(true);

    // A probe opens read-only and closes; a newcomer creates its ticket and keeps it open: no wake.
    const keep = openSync(join(tickets, "000000000002.json"), "w");
    await elsewhere(`cat '${ticket}' >/dev/null`);
    expect(await w.sleep(300)).toBe(false);

    // The owner of ticket 2 goes away (its write fd closed, as at its death): wake.
    const owner = w.sleep(30_000);
    closeSync(keep);
    expect(await owner).toBe(true);

    // Ticket 1 is removed (its waiter got its turn): wake.
    const removed = w.sleep(30_000);
    unlinkSync(ticket);
    expect(await removed).toBe(true);
  });

  test("after close() nothing wakes it any more, and the sleep runs out", async () => {
    const lock = lockFile();
    const w = new Waker({ closeOf: [lock] });
    w.close();
    const sleeping = w.sleep(200);
    await elsewhere(`exec 3<>'${lock}'; exec 3>&-`);
    expect(await sleeping).toBe(false);
  });

  test("changesIn: an entry renamed in or deleted, or written, wakes; a read does not", async () => {
    const dir = scratch();
    const entry = join(dir, "000000000001.json");
    writeFileSync(entry, "{}");
    const w = waker({ changesIn: [dir] });
    expect(w.watchesKernel).toBe(true);
    await elsewhere(`cat '${entry}' >/dev/null`);
    expect(await w.sleep(300)).toBe(false);
    const renamed = w.sleep(30_000);
    await elsewhere(`printf '{}' > '${dir}/.tmp' && mv '${dir}/.tmp' '${dir}/000000000002.json'`);
    expect(await renamed).toBe(true);
    const deleted = w.sleep(30_000);
    unlinkSync(entry);
    expect(await deleted).toBe(true);
  });
});

// A sleep that blocks the thread (as sep's CLI lets its waits do): the event loop stands still, so
// each wake below comes from the kernel: another process's close, a signal, the time given.
describe.if(linux)("Waker: a sleep that blocks the thread", () => {
  test("another process closing the lock file ends the block", async () => {
    const lock = lockFile();
    const w = waker({ closeOf: [lock], block: true });
    const closer = Bun.spawn(["sh", "-c", `sleep 0.3; exec 3<>'${lock}'; exec 3>&-`]);
    const started = Date.now();
    expect(await w.sleep(30_000)).toBe(true);
    expect(Date.now() - started).toBeLessThan(4000); // well before the block's own end (5 s)
    await closer.exited;
  });

  test("a signal ends the block at once; its handler runs and aborts the wait", async () => {
    const lock = lockFile();
    const controller = new AbortController();
    let handled = 0;
    const handler = () => {
      handled++;
      controller.abort();
    };
    process.on("SIGUSR2", handler);
    try {
      const w = waker({ closeOf: [lock], block: true, signal: controller.signal });
      const sender = Bun.spawn(["sh", "-c", `sleep 0.3; kill -USR2 ${process.pid}`]);
      const started = Date.now();
      expect(await w.sleep(30_000)).toBe(true);
      expect(Date.now() - started).toBeLessThan(4000);
      expect(handled).toBe(1);
      expect(controller.signal.aborted).toBe(true);
      await sender.exited;
    } finally {
      process.off("SIGUSR2", handler);
    }
  });

  test("a time named to wakeAt ends the block, so the timer that aborts fires on time; taken back, it does not", async () => {
    const lock = lockFile();
    const controller = new AbortController();
    const dropWake = wakeAt(performance.now() + 300);
    const timer = setTimeout(() => controller.abort(), 300);
    try {
      const w = waker({ closeOf: [lock], block: true, signal: controller.signal });
      const started = Date.now();
      expect(await w.sleep(30_000)).toBe(true);
      expect(controller.signal.aborted).toBe(true);
      // Without it the timer would wait for the block's own end (5 s).
      expect(Date.now() - started).toBeLessThan(4000);
    } finally {
      clearTimeout(timer);
      dropWake();
    }
    expect(nextWake()).toBeUndefined(); // taken back, it asks nothing of later waits
  });

  test("with nothing happening, the sleep runs its time and says so", async () => {
    const lock = lockFile();
    const w = waker({ closeOf: [lock], block: true });
    const started = Date.now();
    expect(await w.sleep(200)).toBe(false);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });

  test("blocking wakers one after another share one inotify fd: the next is woken by its own watches only", async () => {
    const dir = scratch();
    const first = join(dir, "0.lock");
    const second = join(dir, "1.lock");
    writeFileSync(first, "");
    writeFileSync(second, "");
    const a = waker({ closeOf: [first], block: true });
    await elsewhere(`exec 3<>'${first}'; exec 3>&-`);
    const shared = fdOf(a);
    a.close(); // its event was never read, and its watch is gone
    const b = waker({ closeOf: [second], block: true });
    expect(fdOf(b)).toBe(shared as number); // the same fd, kept open
    await elsewhere(`exec 3<>'${first}'; exec 3>&-`);
    expect(await b.sleep(300)).toBe(false); // neither the old event nor the old watch wakes it
    const closer = Bun.spawn(["sh", "-c", `sleep 0.2; exec 3<>'${second}'; exec 3>&-`]);
    expect(await b.sleep(30_000)).toBe(true);
    await closer.exited;
    // Two at once: the second takes an fd of its own, and both wake on their events.
    const c = waker({ closeOf: [first], block: true });
    expect(fdOf(c)).not.toBe(fdOf(b) as number);
    await elsewhere(`exec 3<>'${first}'; exec 3>&-; exec 3<>'${second}'; exec 3>&-`);
    expect(await b.sleep(30_000)).toBe(true);
    expect(await c.sleep(30_000)).toBe(true);
  });

  test("an fd closed behind a blocking waker's back: it does not spin, it falls back to polling, and the next waker gets a fresh fd", async () => {
    const lock = lockFile();
    const b = waker({ closeOf: [lock], block: true });
    closeSync(fdOf(b)!); // poll(2) now reports POLLNVAL at once, every time
    expect(await b.sleep(30_000)).toBe(true); // one wake: look now, the watch is lost
    expect(b.watchesKernel).toBe(false);
    const started = performance.now();
    expect(await b.sleep(200)).toBe(false); // a plain timed sleep, not a spin of instant wakes
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
    b.close();
    const next = waker({ closeOf: [lock], block: true });
    expect(next.watchesKernel).toBe(true);
    const closer = Bun.spawn(["sh", "-c", `sleep 0.2; exec 3<>'${lock}'; exec 3>&-`]);
    expect(await next.sleep(30_000)).toBe(true);
    await closer.exited;
  });
});
