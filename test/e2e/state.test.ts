// State that is stale, corrupt, foreign or full: sep must cope, refuse, or say what was lost —
// never crash, never kill the wrong process, never change the command's exit code silently.
import { afterEach, beforeAll, describe, expect, test } from "bun:test";
import { chownSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  cleanupAll,
  ensureBinary,
  isAlive,
  killLater,
  onCleanup,
  onlyRun,
  readPid,
  runIds,
  runSep,
  sepEnv,
  startSep,
  tempDir,
  tempProject,
  waitFor,
  waitForFile,
} from "./helpers.ts";

beforeAll(() => ensureBinary(), 300_000);
afterEach(() => cleanupAll());

const isRoot = process.getuid?.() === 0;

function startTimeOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]);
}

/** A process in its own session and group, standing in for someone else's (or a stale job's). */
function bystander(env: Record<string, string | undefined> = {}): number {
  const proc = Bun.spawn(["sleep", "300"], { detached: true, stdio: ["ignore", "ignore", "ignore"], env: { ...process.env, ...env } });
  proc.unref();
  killLater(proc.pid);
  return proc.pid;
}

function writeStaleHolder(dir: string, fields: Record<string, unknown>): void {
  mkdirSync(join(dir, ".sequential-locks/slots"), { recursive: true, mode: 0o700 });
  const holder = {
    pid: 999_999_0, // no such process
    runId: "20200101-000000-000-abcdef",
    jobId: "20200101-000000-000-abcdef.1",
    name: "an old job",
    argv: ["old"],
    cwd: dir,
    logDir: join(dir, "logs"),
    createdAt: "2020-01-01T00:00:00.000Z",
    ...fields,
  };
  writeFileSync(join(dir, ".sequential-locks/slots/0.json"), JSON.stringify(holder), { mode: 0o600 });
}

describe("a stale slot record left by a dead holder", () => {
  test("its job's process group (same leader start time) is killed before the next job", async () => {
    const dir = tempProject();
    const leader = bystander();
    writeStaleHolder(dir, { pgid: leader, leaderStartTime: startTimeOf(leader) });
    const result = await runSep(["--kill-grace", "1", "--", "true"], { cwd: dir });
    expect(result.exitCode).toBe(0);
    expect(isAlive(leader)).toBe(false);
  }, 30_000);

  test("a process that carries its job marker is killed, even in another group", async () => {
    const dir = tempProject();
    const marked = bystander({ SEP_JOB_ID: "20200101-000000-000-abcdef.1" });
    writeStaleHolder(dir, {});
    const result = await runSep(["--kill-grace", "1", "--", "true"], { cwd: dir });
    expect(result.exitCode).toBe(0);
    expect(isAlive(marked)).toBe(false);
  }, 30_000);

  test("a group id now used by an unrelated process (leader start time differs) is left alone", async () => {
    const dir = tempProject();
    const unrelated = bystander();
    writeStaleHolder(dir, { pgid: unrelated, leaderStartTime: startTimeOf(unrelated) - 1 });
    const result = await runSep(["--kill-grace", "1", "--", "true"], { cwd: dir });
    expect(result.exitCode).toBe(0);
    expect(isAlive(unrelated)).toBe(true);
  }, 30_000);

  test("a process with a different job's marker is left alone", async () => {
    const dir = tempProject();
    const other = bystander({ SEP_JOB_ID: "20200101-000000-000-abcdef.10" });
    writeStaleHolder(dir, {});
    expect((await runSep(["--", "true"], { cwd: dir })).exitCode).toBe(0);
    expect(isAlive(other)).toBe(true);
  }, 30_000);
});

describe("corrupt state files are treated as absent", () => {
  const cases: Array<[string, (dir: string) => void]> = [
    ["garbage slot record", (dir) => writeFileSync(join(dir, ".sequential-locks/slots/0.json"), "{not json")],
    ["slot record that is JSON null", (dir) => writeFileSync(join(dir, ".sequential-locks/slots/0.json"), "null")],
    ["garbage ticket counter", (dir) => writeFileSync(join(dir, ".sequential-locks/ticket-counter"), "banana")],
    ["a dead waiter's ticket", (dir) => writeFileSync(join(dir, ".sequential-locks/tickets/000000000001.json"), "{}")],
    ["a garbage ticket", (dir) => writeFileSync(join(dir, ".sequential-locks/tickets/000000000002.json"), "\u0000\u0001")],
    ["a malformed run.json of an old run", (dir) => {
      mkdirSync(join(dir, "logs/runs/20200101-000000-000-abcdef/jobs"), { recursive: true, mode: 0o700 });
      writeFileSync(join(dir, "logs/runs/20200101-000000-000-abcdef/run.json"), "{");
    }],
  ];
  for (const [name, corrupt] of cases) {
    test(name, async () => {
      const dir = tempProject();
      for (const sub of [".sequential-locks", ".sequential-locks/slots", ".sequential-locks/tickets"]) mkdirSync(join(dir, sub), { mode: 0o700 });
      corrupt(dir);
      const result = await runSep(["--wait-timeout", "10", "--", "sh", "-c", "echo ok"], { cwd: dir });
      expect({ exitCode: result.exitCode, stdout: result.stdoutText }).toEqual({ exitCode: 0, stdout: "ok\n" });
      expect(result.stderr).not.toMatch(/internal error/);
      const second = await runSep(["--wait-timeout", "10", "--", "true"], { cwd: dir });
      expect(second.exitCode).toBe(0);
    }, 30_000);
  }
});

describe("a state dir that belongs to another user is refused with exit 1 naming the path and the owner", () => {
  const cases: Array<[string, string]> = [
    ["lock dir", ".sequential-locks"],
    ["log dir", "logs"],
  ];
  for (const [name, sub] of cases) {
    test.skipIf(!isRoot)(name, async () => {
      const dir = tempProject();
      mkdirSync(join(dir, sub), { mode: 0o700 });
      chownSync(join(dir, sub), 65534, 65534);
      const result = await runSep(["--", "touch", "ran"], { cwd: dir });
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain(join(dir, sub));
      expect(result.stderr).toContain("65534");
      expect(existsSync(join(dir, "ran"))).toBe(false);
    }, 30_000);
  }
});

/** A 64 KiB tmpfs (root only); undefined when mounting is not allowed here. */
function tinyFilesystem(): string | undefined {
  if (!isRoot) return undefined;
  const mountpoint = tempDir("sep-e2e-full-");
  const mount = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", mountpoint], { stderr: "pipe" });
  if (mount.exitCode !== 0) return undefined;
  onCleanup(() => {
    Bun.spawnSync(["umount", "-l", mountpoint]);
  });
  return mountpoint;
}

test("a log dir that fills up: stdout still gets all the output, the exit code is the command's, and sep says the log is incomplete", async () => {
  const full = tinyFilesystem();
  if (full === undefined) return; // needs root and mount(8); covered on such machines
  const dir = tempProject();
  const result = await runSep(["--", "python3", "-c", "import sys; sys.stdout.write('x' * 1000000); sys.exit(3)"], {
    cwd: dir,
    env: sepEnv({ SEP_LOG_DIR: full }),
  });
  expect(result.exitCode).toBe(3);
  expect(result.stdout.length).toBe(1_000_000);
  expect(result.stderr).toMatch(/incomplete|lost/);
  expect(result.stderr).toContain("ENOSPC");
}, 30_000);

test("a lock dir that fills up while the job runs: the slot's started record is not written, sep says so, and the job runs to its end", async () => {
  const full = tinyFilesystem();
  if (full === undefined) return; // needs root and mount(8); covered on such machines
  const dir = tempProject();
  // The job fills the lock dir's file system to its last byte as it starts, before its started
  // record is due (100 ms after the spawn), then waits to be let go.
  const script = 'cat /dev/zero > "$1/filler" 2>/dev/null; while [ ! -f go ]; do sleep 0.02; done; exit 4';
  const job = startSep(["--", "sh", "-c", script, "sh", full], {
    cwd: dir,
    env: sepEnv({ SEQUENTIAL_LOCK_BASE_DIR: join(full, "locks") }),
  });
  await waitFor(() => /could not record/.test(job.stderr()), { what: "sep to say the started record was not written" });
  expect(existsSync(join(full, "locks", "slots", "0.started.json"))).toBe(false);
  writeFileSync(join(dir, "go"), "");
  const result = await job.done;
  expect(result.exitCode).toBe(4);
  expect(job.stderr()).toContain("ENOSPC");
  expect(onlyRun(join(dir, "logs")).job.exitCode).toBe(4);
}, 30_000);

test("the full-log message counts the bytes the log really holds", async () => {
  const full = tinyFilesystem();
  if (full === undefined) return;
  const dir = tempProject();
  const result = await runSep(["--", "python3", "-c", "import sys; sys.stdout.write('x' * 1000000)"], { cwd: dir, env: sepEnv({ SEP_LOG_DIR: full }) });
  expect(result.exitCode).toBe(0);
  const match = /writing failed after (\d+) bytes/.exec(result.stderr);
  expect(match).not.toBeNull();
  const ids = runIds(full);
  const logSize = statSync(join(full, "runs", ids[0]!, "jobs/1.log")).size;
  expect(Number(match![1])).toBe(logSize);
}, 30_000);

test("a second SIGTERM to sep skips the kill grace: a TERM-ignoring job dies at once", async () => {
  const dir = tempProject();
  const script = "trap '' TERM; echo $$ > leader.pid; while :; do sleep 0.1; done";
  const sep = startSep(["--kill-grace", "60", "--", "sh", "-c", script], { cwd: dir });
  await waitForFile(join(dir, "leader.pid"));
  const leader = readPid(join(dir, "leader.pid"));
  process.kill(sep.pid, "SIGTERM");
  await Bun.sleep(300); // the first signal is being handled: TERM sent, grace running
  expect(sep.proc.exitCode).toBeNull();
  process.kill(sep.pid, "SIGTERM");
  const result = await sep.done;
  // Far below the 60 s grace.
  expect(result.durationMs).toBeLessThan(30_000);
  expect(result.exitCode).toBe(143);
  expect(isAlive(leader)).toBe(false);
  expect(onlyRun(join(dir, "logs")).job.conclusion).toBe("cancelled");
}, 60_000);

test("the command's environment is sep's plus SEP_JOB_ID, nothing else", async () => {
  const dir = tempProject();
  const env = sepEnv({ SEP_E2E_PROBE: "value with spaces\nand a newline" });
  // env(1) prints its environment untouched (a shell or a pyenv shim would add variables).
  const result = await runSep(["--", "env", "-0"], { cwd: dir, env });
  expect(result.exitCode).toBe(0);
  const seen: Record<string, string> = {};
  for (const entry of result.stdoutText.split("\0")) {
    if (!entry) continue;
    const at = entry.indexOf("=");
    seen[entry.slice(0, at)] = entry.slice(at + 1);
  }
  const { job } = onlyRun(join(dir, "logs"));
  const expected: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined) expected[key] = value;
  expected.SEP_JOB_ID = job.id;
  expect(seen).toEqual(expected);
}, 30_000);
