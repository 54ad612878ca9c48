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

// ---------------------------------------------------------------------------------------------
// Run records written directly (no process runs): for history tests that need many runs or
// states a real run would not leave behind.

export interface FakeJob {
  name?: string;
  status?: import("../src/core/records/types.ts").Status;
  conclusion?: import("../src/core/conclusion.ts").Conclusion | null;
  exitCode?: number | null;
  durationMs?: number;
  peakMemoryBytes?: number | null;
  /** written to the job's log file; omitted = no log file */
  log?: string;
}

export interface FakeRun {
  createdAt?: Date;
  title?: string;
  /** default completed; a run not completed keeps its jobs' states as given */
  status?: import("../src/core/records/types.ts").Status;
  /** default: this test process (alive) */
  owner?: { pid: number; startTime: number | null };
  jobs?: FakeJob[];
}

/** A pid that is certainly not running (above any pid_max). */
export const DEAD_PID = 2 ** 30 + 12345;

/**
 * Write one run's records under logDir with RunWriter, as sep would: run.json, jobs/<n>.json and
 * the given logs. A completed run's conclusion and exit code are rolled up from its jobs.
 */
export async function writeFakeRun(logDir: string, spec: FakeRun = {}): Promise<import("../src/core/records/types.ts").RunRecord> {
  const { newRunId } = await import("../src/core/records/types.ts");
  const { RunWriter } = await import("../src/core/records/writer.ts");
  const { closeRun } = await import("../src/core/records/reconcile.ts");
  const { decideRun } = await import("../src/core/conclusion.ts");
  const { processStartTime } = await import("../src/core/proc/index.ts");
  const { writeFileSync } = await import("node:fs");
  const createdAt = spec.createdAt ?? new Date();
  const runId = newRunId(createdAt);
  const status = spec.status ?? "completed";
  const iso = createdAt.toISOString();
  const specs = spec.jobs ?? [{}];
  const run: import("../src/core/records/types.ts").RunRecord = {
    id: runId,
    title: spec.title ?? specs[0]?.name ?? "true",
    status,
    conclusion: null,
    exitCode: null,
    createdAt: iso,
    startedAt: iso,
    completedAt: null,
    durationMs: null,
    peakMemoryBytes: null,
    owner: spec.owner ?? { pid: process.pid, startTime: processStartTime(process.pid) },
    jobs: [],
  };
  const writer = new RunWriter(logDir, runId, () => run);
  for (const [i, job] of specs.entries()) {
    const jobStatus = job.status ?? (status === "completed" ? "completed" : "queued");
    const started = jobStatus !== "queued" && job.conclusion !== "skipped";
    run.jobs.push({
      id: `${runId}.${i + 1}`,
      runId,
      n: i + 1,
      name: job.name ?? "true",
      argv: (job.name ?? "true").split(" "),
      cwd: "/",
      status: jobStatus,
      conclusion: jobStatus === "completed" ? (job.conclusion ?? "success") : null,
      exitCode: jobStatus === "completed" && started ? (job.exitCode ?? (job.conclusion && job.conclusion !== "success" ? 1 : 0)) : null,
      signal: null,
      queuedAt: iso,
      startedAt: started ? iso : null,
      completedAt: jobStatus === "completed" ? iso : null,
      durationMs: jobStatus === "completed" && started ? (job.durationMs ?? 5) : null,
      peakMemoryBytes: job.peakMemoryBytes === undefined ? (started ? 1024 * 1024 : null) : job.peakMemoryBytes,
      limits: { timeoutMs: null, memoryLimitBytes: null },
      logPath: writer.jobLogPath(i + 1),
    });
  }
  if (status === "completed") closeRun(run, new Date(createdAt.getTime() + 5), decideRun(run.jobs));
  writer.create();
  for (const job of run.jobs) writer.saveJob(job);
  writer.saveRun();
  for (const [i, job] of specs.entries()) {
    if (job.log !== undefined) writeFileSync(writer.jobLogPath(i + 1), job.log, { mode: 0o600 });
  }
  return run;
}
