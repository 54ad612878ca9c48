// Exit codes as DESIGN §3: the command's own, 124, 137, 128+N, 130/143/129, 126/127, 75, 2.
import { afterEach, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  cleanupAll,
  ensureBinary,
  FIXTURES,
  isAlive,
  onlyRun,
  readPid,
  runIds,
  runSep,
  sepEnv,
  startSep,
  tempProject,
  waitFor,
  waitForFile,
} from "./helpers.ts";

beforeAll(() => ensureBinary(), 300_000);
afterEach(() => cleanupAll());

describe("the command's own exit code", () => {
  for (const code of [0, 1, 3, 42, 255]) {
    test(`exit ${code}`, async () => {
      const dir = tempProject();
      const result = await runSep(["--", join(FIXTURES, "exit-with.sh"), String(code), "to stdout", "to stderr"], { cwd: dir });
      expect(result.exitCode).toBe(code);
      expect(result.stdoutText).toBe("to stdout\n");
      expect(result.stderr).toContain("to stderr\n");
      const { job, run } = onlyRun(join(dir, "logs"));
      expect(job.exitCode).toBe(code);
      expect(job.conclusion).toBe(code === 0 ? "success" : "failure");
      expect(job.signal).toBeNull();
      expect(run.exitCode).toBe(code);
      expect(run.conclusion).toBe(code === 0 ? "success" : "failure");
    }, 30_000);
  }
});

test("127 for a command that does not exist, with a message naming it", async () => {
  const dir = tempProject();
  const result = await runSep(["--", "no-such-command-sep-e2e", "arg"], { cwd: dir });
  expect(result.exitCode).toBe(127);
  expect(result.stderr).toContain("no-such-command-sep-e2e");
  expect(result.stderr).toMatch(/not found/i);
  const { job } = onlyRun(join(dir, "logs"));
  expect(job.exitCode).toBe(127);
  expect(job.conclusion).toBe("startup_failure");
}, 30_000);

test("127 for a missing path (./missing.sh)", async () => {
  const dir = tempProject();
  const result = await runSep(["--", "./missing.sh"], { cwd: dir });
  expect(result.exitCode).toBe(127);
  expect(result.stderr).toContain("missing.sh");
}, 30_000);

describe("126 for something that exists but cannot run", () => {
  const cases: Array<[string, (dir: string) => string, RegExp]> = [
    [
      "a file without the execute bit",
      (dir) => {
        writeFileSync(join(dir, "script.sh"), "#!/bin/sh\ntouch ran\n");
        chmodSync(join(dir, "script.sh"), 0o644);
        return "./script.sh";
      },
      /script\.sh/,
    ],
    [
      "a directory",
      (dir) => {
        mkdirSync(join(dir, "adir"));
        return "./adir";
      },
      /adir/,
    ],
  ];
  for (const [name, make, message] of cases) {
    test(name, async () => {
      const dir = tempProject();
      const command = make(dir);
      const result = await runSep(["--", command], { cwd: dir });
      expect(result.exitCode).toBe(126);
      expect(result.stderr).toMatch(message);
      expect(existsSync(join(dir, "ran"))).toBe(false);
      const { job } = onlyRun(join(dir, "logs"));
      expect(job.exitCode).toBe(126);
      expect(job.conclusion).toBe("startup_failure");
    }, 30_000);
  }
});

describe("128+N when the command dies of a signal it did not get from sep", () => {
  const cases: Array<[string, number, string]> = [
    ["SEGV", 139, "SIGSEGV"],
    ["TERM", 143, "SIGTERM"],
    ["KILL", 137, "SIGKILL"],
    ["INT", 130, "SIGINT"],
  ];
  for (const [name, code, signal] of cases) {
    test(`kill -${name} $$ → ${code}`, async () => {
      const dir = tempProject();
      const result = await runSep(["--", "sh", "-c", `kill -${name} $$`], { cwd: dir });
      expect(result.exitCode).toBe(code);
      const { job, run } = onlyRun(join(dir, "logs"));
      expect(job.exitCode).toBe(code);
      expect(job.signal).toBe(signal);
      // Not a sep kill: no timeout, no memory verdict, not cancelled.
      expect(job.conclusion).toBe("failure");
      expect(job.kill).toBeUndefined();
      expect(run.conclusion).toBe("failure");
    }, 30_000);
  }
});

test("124 for --timeout 1 on sleep 30, within a generous bound", async () => {
  const dir = tempProject();
  const started = Date.now();
  const result = await runSep(["--timeout", "1", "--", "sleep", "30"], { cwd: dir });
  expect(result.exitCode).toBe(124);
  expect(Date.now() - started).toBeLessThan(15_000);
  expect(result.stderr).toMatch(/time limit/);
  const { job, run } = onlyRun(join(dir, "logs"));
  expect(job.conclusion).toBe("timed_out");
  expect(job.exitCode).toBe(124);
  expect(job.limits.timeoutMs).toBe(1000);
  expect(run.conclusion).toBe("timed_out");
}, 30_000);

test("137 for a memory kill (alloc.py 400 MB under -m 100)", async () => {
  const dir = tempProject();
  const result = await runSep(["-m", "100", "--", "python3", join(FIXTURES, "alloc.py"), "400", "0", "30"], { cwd: dir });
  expect(result.exitCode).toBe(137);
  expect(result.stderr).toMatch(/memory limit/);
  expect(onlyRun(join(dir, "logs")).job.conclusion).toBe("memory_exceeded");
}, 60_000);

describe("sep itself interrupted: kills the job's tree, marks the run cancelled, exits 128+N", () => {
  const cases: Array<[NodeJS.Signals, number]> = [
    ["SIGINT", 130],
    ["SIGTERM", 143],
    ["SIGHUP", 129],
  ];
  for (const [signal, code] of cases) {
    test(`${signal} → ${code}`, async () => {
      const dir = tempProject();
      // The grandchild writes its own pid, then becomes a long sleep.
      const script = 'sh -c "echo \\$\\$ > gc.tmp; mv gc.tmp gc.pid; exec sleep 300" & wait';
      const sep = startSep(["--kill-grace", "2", "--", "sh", "-c", script], { cwd: dir });
      await waitForFile(join(dir, "gc.pid"));
      const grandchild = readPid(join(dir, "gc.pid"));
      expect(isAlive(grandchild)).toBe(true);
      process.kill(sep.pid, signal);
      const result = await sep.done;
      expect(result.exitCode).toBe(code);
      expect(result.durationMs).toBeLessThan(15_000);
      expect(isAlive(grandchild)).toBe(false);
      const { job, run } = onlyRun(join(dir, "logs"));
      expect(job.status).toBe("completed");
      expect(job.conclusion).toBe("cancelled");
      expect(job.exitCode).toBe(code);
      expect(run.status).toBe("completed");
      expect(run.conclusion).toBe("cancelled");
      expect(run.exitCode).toBe(code);
    }, 30_000);
  }
});

test("75 for --wait-timeout while another sep holds the slot; nothing ran", async () => {
  const dir = tempProject();
  const holder = startSep(["--", "sh", "-c", "touch started; while [ ! -f release ]; do sleep 0.05; done"], { cwd: dir });
  await waitFor(() => existsSync(join(dir, "started")), { what: "the holder's job to start" });
  const result = await runSep(["--wait-timeout", "1", "--", "touch", "marker"], { cwd: dir });
  expect(result.exitCode).toBe(75);
  expect(result.durationMs).toBeLessThan(15_000);
  expect(result.stderr).toMatch(/wait/);
  expect(existsSync(join(dir, "marker"))).toBe(false);
  writeFileSync(join(dir, "release"), "");
  expect((await holder.done).exitCode).toBe(0);
  // Only the holder's run was recorded.
  expect(runIds(join(dir, "logs")).length).toBe(1);
}, 30_000);

describe("2 for a configuration error; nothing ran, nothing was created", () => {
  const cases: Array<[string, Record<string, string>, RegExp]> = [
    ["MEMORY_LIMIT_MB=abc", { MEMORY_LIMIT_MB: "abc" }, /MEMORY_LIMIT_MB.*abc/],
    ["TIMEOUT=-5", { TIMEOUT: "-5" }, /TIMEOUT.*-5/],
    ["SEP_SCOPE=galaxy", { SEP_SCOPE: "galaxy" }, /SEP_SCOPE.*galaxy/],
  ];
  for (const [name, env, message] of cases) {
    test(name, async () => {
      const dir = tempProject();
      const result = await runSep(["--", "touch", "marker"], { cwd: dir, env: sepEnv(env) });
      expect(result.exitCode).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(existsSync(join(dir, "marker"))).toBe(false);
      expect(existsSync(join(dir, "logs"))).toBe(false);
      expect(existsSync(join(dir, ".sequential-locks"))).toBe(false);
    }, 30_000);
  }
});
