// Shared test helpers: poll for a condition instead of sleeping, self-cleaning temp dirs, and
// spawned processes that are always killed after the test.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";

export const FIXTURES = join(import.meta.dir, "fixtures");

/** The path of a fixture program in test/fixtures. */
export function fixture(name: string): string {
  return join(FIXTURES, name);
}

export type Truthy<T> = Exclude<T, false | 0 | "" | null | undefined>;

/**
 * Poll `condition` every `intervalMs` until it returns a truthy value, and return that value.
 * Throws (naming `what`) when `timeoutMs` passes first. A condition that throws counts as false.
 */
export async function waitFor<T>(
  condition: () => T | Promise<T>,
  timeoutMs = 5000,
  what = "condition",
  intervalMs = 10,
): Promise<Truthy<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value) return value as Truthy<T>;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      throw new Error(`waitFor: ${what} not met within ${timeoutMs} ms`, { cause: lastError });
    }
    await Bun.sleep(intervalMs);
  }
}

export interface TempDir {
  path: string;
  cleanup(): void;
  [Symbol.dispose](): void;
}

/** A fresh directory under the OS temp dir; `using dir = tempDir()` removes it at scope end. */
export function tempDir(prefix = "sep-test-"): TempDir {
  const path = mkdtempSync(join(tmpdir(), prefix));
  const cleanup = () => rmSync(path, { recursive: true, force: true });
  return { path, cleanup, [Symbol.dispose]: cleanup };
}

const _spawned = new Set<Subprocess>();
const _extraPids = new Set<number>();

/**
 * Bun.spawn, detached by default (own session and process group, as sep runs jobs), recorded so
 * that killSpawned() can SIGKILL its whole group after the test.
 */
export function spawnTracked(argv: string[], options: { env?: Record<string, string>; detached?: boolean; cwd?: string } = {}) {
  const child = Bun.spawn(argv, {
    detached: options.detached ?? true,
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  _spawned.add(child);
  return child;
}

/** Also SIGKILL this pid in killSpawned() (e.g. a daemon that left its parent's group). */
export function trackPid(pid: number): void {
  _extraPids.add(pid);
}

/** SIGKILL every tracked process group and pid; for afterEach. Already-gone targets are ignored. */
export async function killSpawned(): Promise<void> {
  const signal = (target: number) => {
    try {
      process.kill(target, "SIGKILL");
    } catch {
      // gone already
    }
  };
  for (const pid of _extraPids) signal(pid);
  for (const child of _spawned) {
    signal(-child.pid);
    signal(child.pid);
  }
  await Promise.all([..._spawned].map((child) => child.exited));
  _spawned.clear();
  _extraPids.clear();
}

/**
 * Read a child's stdout (or stderr) until `text` appears; returns everything read so far. The
 * reader is released afterwards, so the stream can still be read or drained.
 */
export async function waitForOutput(stream: ReadableStream<Uint8Array>, text: string, timeoutMs = 5000): Promise<string> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let seen = "";
  const timeout = new Promise<never>((_, reject) => {
    const timer = setTimeout(() => reject(new Error(`waitForOutput: "${text}" not seen within ${timeoutMs} ms (got ${JSON.stringify(seen)})`)), timeoutMs);
    timer.unref?.();
  });
  try {
    while (!seen.includes(text)) {
      const { value, done } = await Promise.race([reader.read(), timeout]);
      if (done) throw new Error(`waitForOutput: stream ended before "${text}" (got ${JSON.stringify(seen)})`);
      seen += decoder.decode(value, { stream: true });
    }
    return seen;
  } finally {
    reader.releaseLock();
  }
}

export const MiB = 1024 * 1024;
