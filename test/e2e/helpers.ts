// Shared setup for the end-to-end suite: it drives the compiled `dist/sep` as a user would, with
// real processes and real files, one temp project per test.
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { FIXTURES, tempDir as _tempDir, waitFor as _waitFor } from "../helpers.ts";

export { FIXTURES };
export const REPO = resolve(import.meta.dir, "../..");
/** SEP_E2E_BIN points the suite at another binary (e.g. an installed one). */
export const SEP = process.env.SEP_E2E_BIN ?? join(REPO, "dist/sep");

function _newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? _newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

let _built: Promise<void> | undefined;

/**
 * Build dist/sep once per test process when it is missing or older than src/, build.ts or
 * package.json. `npm test` builds first, so this is a no-op there. SEP_E2E_NO_BUILD=1 uses the
 * binary as it is (only checked to exist).
 */
export function ensureBinary(): Promise<void> {
  _built ??= (async () => {
    if (process.env.SEP_E2E_BIN || process.env.SEP_E2E_NO_BUILD === "1") {
      if (!existsSync(SEP)) throw new Error(`${SEP} does not exist`);
      return;
    }
    const sources = Math.max(
      _newestMtime(join(REPO, "src")),
      statSync(join(REPO, "build.ts")).mtimeMs,
      statSync(join(REPO, "package.json")).mtimeMs,
    );
    if (existsSync(SEP) && statSync(SEP).mtimeMs >= sources) return;
    const build = Bun.spawn([process.execPath, "build.ts"], { cwd: REPO, stdout: "pipe", stderr: "pipe", env: { ...process.env } });
    const [code, out, err] = await Promise.all([build.exited, new Response(build.stdout).text(), new Response(build.stderr).text()]);
    if (code !== 0 || !existsSync(SEP)) throw new Error(`building ${SEP} failed (exit ${code}):\n${out}\n${err}`);
  })();
  return _built;
}

/** Every variable sep reads as configuration; removed from the inherited environment. */
const SEP_ENV_KEYS = [
  "MEMORY_LIMIT_MB",
  "CHECK_INTERVAL",
  "TIMEOUT",
  "PIPELINE_TIMEOUT",
  "KILL_TIMEOUT",
  "VERBOSE",
  "SEQUENTIAL_LOCK_BASE_DIR",
  "WAIT_ALL_LOG_LOCK",
  "SEP_LOG_DIR",
  "PYTEST_MAX_WORKERS",
  "SEP_SLOTS",
  "SEP_SCOPE",
  "GITHUB_ACTIONS",
  "GITHUB_STEP_SUMMARY",
  "SEP_JOB_ID",
  "NODE_ENV",
  "SEP_KEEP_RUNS",
  "SEP_ATOMIFY",
  "SEP_ATOMIFY_PYTEST",
  "SEP_ATOMIFY_BATCH_SIZE",
  "SEP_ENFORCE_RUNNERS",
  "SEP_RUNNERS",
  "SEP_MEMORY_BUDGET_MB",
  "SEP_MEMORY_RESERVE_MB",
  "SEP_DETACH_AFTER",
  "CLAUDECODE",
  "SEP_AGENT_COMMANDS",
  "SEP_ON_FINISH",
];

let _machineDir: string | undefined;

/**
 * The machine state dir (governor ledger, learned profiles, machine-scope queue) the tests' seps
 * share: one private dir per test process, so a suite never reads or writes the developer's own
 * (~/.local/state/sep) and leaves nothing behind. A test may point XDG_RUNTIME_DIR elsewhere.
 */
export function testRuntimeDir(): string {
  if (_machineDir) return _machineDir;
  const dir = _tempDir("sep-e2e-runtime-");
  process.on("exit", () => dir.cleanup());
  _machineDir = realpathSync(dir.path);
  return _machineDir;
}

/** The environment every sep under test gets: no colours, not CI, no sep settings from outside. */
export function sepEnv(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: "1", CI: "", XDG_RUNTIME_DIR: testRuntimeDir() };
  for (const key of SEP_ENV_KEYS) delete env[key];
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

// ---------------------------------------------------------------------------------------------
// Temp projects and cleanup

const _cleanups: Array<() => void | Promise<void>> = [];

/** Register something to undo after the current test (run by cleanupAll, newest first). */
export function onCleanup(fn: () => void | Promise<void>): void {
  _cleanups.push(fn);
}

/** Run and forget every registered cleanup; call it from afterEach. Never throws. */
export async function cleanupAll(): Promise<void> {
  while (_cleanups.length > 0) {
    const fn = _cleanups.pop()!;
    try {
      await fn();
    } catch {
      // best effort: one failed cleanup must not hide the others
    }
  }
}

/** A fresh temp dir (real path, as sep reports paths), removed after the test. */
export function tempDir(prefix = "sep-e2e-"): string {
  const dir = _tempDir(prefix);
  onCleanup(() => dir.cleanup());
  return realpathSync(dir.path);
}

/** A fresh project root: a temp dir holding `.git`, so sep anchors its state there. */
export function tempProject(): string {
  const dir = tempDir("sep-e2e-project-");
  mkdirSync(join(dir, ".git"));
  return dir;
}

// ---------------------------------------------------------------------------------------------
// Processes

/** True while pid exists and is not a zombie (PID 1 here may never reap zombies). */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    const state = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

/** SIGKILL a pid after the test, if it is still alive. */
export function killLater(pid: number): void {
  onCleanup(() => {
    try {
      if (isAlive(pid)) process.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  });
}

/** Read a pid written by a job; kill it after the test whatever happens. */
export function readPid(path: string): number {
  const pid = Number.parseInt(readFileSync(path, "utf8").trim(), 10);
  if (!Number.isInteger(pid) || pid <= 1) throw new Error(`no pid in ${path}`);
  killLater(pid);
  return pid;
}

export interface SepProcess {
  proc: Bun.Subprocess<"ignore" | "pipe" | "inherit", "pipe", "pipe">;
  pid: number;
  /** everything read from stdout so far */
  stdout(): Buffer;
  stderr(): string;
  stderrBytes(): Buffer;
  /** resolves when sep exited and both streams are fully read */
  done: Promise<SepResult>;
}

export interface SepResult {
  exitCode: number | null;
  signalCode: NodeJS.Signals | number | null;
  stdout: Buffer;
  stdoutText: string;
  stderr: string;
  stderrBytes: Buffer;
  durationMs: number;
}

export interface SepOptions {
  cwd: string;
  env?: Record<string, string | undefined>;
  stdin?: "ignore" | "pipe" | "inherit";
}

async function _collect(stream: ReadableStream<Uint8Array>, chunks: Uint8Array[]): Promise<void> {
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    chunks.push(value);
  }
}

/** Start `dist/sep ARGS` in the background; stdout and stderr are collected as they arrive. */
export function startSep(args: string[], options: SepOptions): SepProcess {
  const started = Date.now();
  const proc = Bun.spawn([SEP, ...args], {
    cwd: options.cwd,
    env: options.env ?? sepEnv(),
    stdin: options.stdin ?? "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  onCleanup(async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      // SIGTERM first: sep then stops its job's tree. A SIGKILLed sep leaves its detached job
      // running (by design), and a test that failed halfway would leak it onto the machine.
      proc.kill("SIGTERM");
      await Promise.race([proc.exited, Bun.sleep(3000)]);
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
      await proc.exited;
    }
  });
  const out: Uint8Array[] = [];
  const err: Uint8Array[] = [];
  const reading = Promise.all([_collect(proc.stdout, out), _collect(proc.stderr, err)]);
  const done = (async (): Promise<SepResult> => {
    await proc.exited;
    // A job's orphan could hold the pipes open; never hang the test on that.
    await Promise.race([reading, Bun.sleep(5000)]);
    const stdout = Buffer.concat(out);
    const stderrBytes = Buffer.concat(err);
    return {
      exitCode: proc.exitCode,
      signalCode: proc.signalCode,
      stdout,
      stdoutText: stdout.toString("utf8"),
      stderr: stderrBytes.toString("utf8"),
      stderrBytes,
      durationMs: Date.now() - started,
    };
  })();
  return {
    proc,
    pid: proc.pid,
    stdout: () => Buffer.concat(out),
    stderr: () => Buffer.concat(err).toString("utf8"),
    stderrBytes: () => Buffer.concat(err),
    done,
  };
}

/** Run `dist/sep ARGS` to completion. */
export function runSep(args: string[], options: SepOptions): Promise<SepResult> {
  return startSep(args, options).done;
}

/** test/helpers.ts's waitFor with named options and a generous default for a loaded machine. */
export function waitFor<T>(
  condition: () => T | Promise<T>,
  options: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
) {
  return _waitFor(condition, options.timeoutMs ?? 10_000, options.what ?? "condition", options.intervalMs ?? 20);
}

/** Wait until a file exists and is non-empty. */
export function waitForFile(path: string, timeoutMs = 10_000): Promise<boolean> {
  return waitFor(() => existsSync(path) && statSync(path).size > 0, { timeoutMs, what: `file ${path}` });
}

// ---------------------------------------------------------------------------------------------
// Records

export interface Records {
  runId: string;
  runDir: string;
  run: Record<string, any>;
  job: Record<string, any>;
  log: Buffer | undefined;
}

/** Ids of the runs under a log dir, oldest first. */
export function runIds(logDir: string): string[] {
  const runs = join(logDir, "runs");
  return existsSync(runs) ? readdirSync(runs).filter((name) => !name.startsWith(".")).sort() : [];
}

/** The one run recorded under logDir (fails when there is not exactly one). */
export function onlyRun(logDir: string): Records {
  const ids = runIds(logDir);
  if (ids.length !== 1) throw new Error(`expected exactly one run under ${logDir}, found ${ids.length}: ${ids.join(", ")}`);
  return readRun(logDir, ids[0]!);
}

export function readRun(logDir: string, runId: string): Records {
  const runDir = join(logDir, "runs", runId);
  const logPath = join(runDir, "jobs/1.log");
  return {
    runId,
    runDir,
    run: JSON.parse(readFileSync(join(runDir, "run.json"), "utf8")),
    job: JSON.parse(readFileSync(join(runDir, "jobs/1.json"), "utf8")),
    log: existsSync(logPath) ? readFileSync(logPath) : undefined,
  };
}

/** Every run under logDir whose job argv contains `needle`. */
export function runsMatching(logDir: string, needle: string): Records[] {
  return runIds(logDir)
    .map((id) => readRun(logDir, id))
    .filter((records) => (records.job.argv as string[]).some((arg) => arg.includes(needle)));
}

/** python3 one-liner argv. */
export function py(code: string, ...args: string[]): string[] {
  return ["python3", "-c", code, ...args];
}

export const MB = 1024 * 1024;
