// Limits and records: the memory kill and its record, PSS for shared pages, peak memory for every
// job, the JSON shapes of DESIGN §6, --report, file modes, and log dirs sep cannot or must not use.
import { afterEach, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cleanupAll, ensureBinary, FIXTURES, MB, onlyRun, py, readRun, runIds, runSep, sepEnv, tempDir, tempProject } from "./helpers.ts";

beforeAll(() => ensureBinary(), 300_000);
afterEach(() => cleanupAll());

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

test("memory kill: record says memory_exceeded, 137, the limit, the peak and the biggest processes", async () => {
  const dir = tempProject();
  const result = await runSep(["-m", "100", "--", "python3", join(FIXTURES, "alloc.py"), "400", "0", "30"], { cwd: dir });
  expect(result.exitCode).toBe(137);
  expect(result.durationMs).toBeLessThan(30_000);
  const { job, run } = onlyRun(join(dir, "logs"));
  expect(job.status).toBe("completed");
  expect(job.conclusion).toBe("memory_exceeded");
  expect(job.exitCode).toBe(137);
  expect(job.limits.memoryLimitBytes).toBe(100 * MB);
  expect(job.peakMemoryBytes).toBeGreaterThanOrEqual(100 * MB);
  expect(job.kill).toBeDefined();
  expect(job.kill.reason).toMatch(/memory/);
  expect(job.kill.processes.length).toBeGreaterThan(0);
  for (const p of job.kill.processes) {
    expect(Number.isInteger(p.pid)).toBe(true);
    expect(typeof p.command).toBe("string");
    expect(p.rssBytes).toBeGreaterThan(0);
  }
  expect(job.kill.processes.some((p: { command: string }) => p.command.includes("alloc.py"))).toBe(true);
  expect(run.conclusion).toBe("memory_exceeded");
  expect(run.exitCode).toBe(137);
  expect(run.peakMemoryBytes).toBeGreaterThanOrEqual(100 * MB);
}, 60_000);

test("the memory limit covers the whole tree: 4 children of 40 MB each under -m 100 are killed", async () => {
  const dir = tempProject();
  const alloc = join(FIXTURES, "alloc.py");
  const script = `for i in 1 2 3 4; do python3 ${alloc} 40 0 30 & done; wait`;
  const result = await runSep(["-m", "100", "--", "sh", "-c", script], { cwd: dir });
  expect(result.exitCode).toBe(137);
  const { job } = onlyRun(join(dir, "logs"));
  expect(job.conclusion).toBe("memory_exceeded");
  expect(job.kill.processes.length).toBeGreaterThan(1);
}, 60_000);

test("the memory limit covers a double-forked setsid daemon too", async () => {
  const dir = tempProject();
  const alloc = join(FIXTURES, "alloc.py");
  const script = `( setsid python3 ${alloc} 400 0 30 & ); sleep 30`;
  const result = await runSep(["-m", "100", "--", "sh", "-c", script], { cwd: dir });
  expect(result.exitCode).toBe(137);
  expect(result.durationMs).toBeLessThan(25_000);
  const { job } = onlyRun(join(dir, "logs"));
  expect(job.conclusion).toBe("memory_exceeded");
  expect(job.kill.processes.some((p: { command: string }) => p.command.includes("alloc.py"))).toBe(true);
}, 60_000);

test("a tree sharing pages (RSS sum over the limit, PSS under it) is not killed", async () => {
  const dir = tempProject();
  // 8 children share 60 MB copy-on-write: RSS sum ≈ 9 × 70 MB, PSS sum ≈ 60 MB + interpreters.
  const result = await runSep(["-m", "250", "--check-interval", "0.1", "--", "python3", join(FIXTURES, "shared-pages.py"), "8", "60", "3"], { cwd: dir });
  expect(result.stderr).not.toMatch(/memory limit/);
  expect(result.exitCode).toBe(0);
  expect(result.stdoutText).toContain("ready");
  const { job } = onlyRun(join(dir, "logs"));
  expect(job.conclusion).toBe("success");
  expect(job.peakMemoryBytes).toBeGreaterThan(60 * MB);
  expect(job.peakMemoryBytes).toBeLessThanOrEqual(250 * MB);
}, 60_000);

test("the same shared-pages tree really does pass the limit in RSS (so the test above proves PSS is used)", async () => {
  const dir = tempProject();
  // With no limit, PSS is never read and the peak is the RSS sum.
  const result = await runSep(["-m", "0", "--check-interval", "0.1", "--", "python3", join(FIXTURES, "shared-pages.py"), "8", "60", "3"], { cwd: dir });
  expect(result.exitCode).toBe(0);
  const { job } = onlyRun(join(dir, "logs"));
  expect(job.limits.memoryLimitBytes).toBeNull();
  expect(job.peakMemoryBytes).toBeGreaterThan(250 * MB);
}, 60_000);

describe("peakMemoryBytes: measured for every job that lives through a poll, never made up", () => {
  // A job that ends before the first poll has no measured peak: the record says null, never 0 and
  // never sep's own memory (wait4's maxrss after a vfork would be sep's). Repeated to catch races.
  const short: Array<[string, string[], number]> = [
    ["true (×10)", ["true"], 10],
    ["a failing command (×10)", ["false"], 10],
    ["a missing-file error (×5)", ["cat", "/nonexistent-sep-e2e"], 5],
  ];
  for (const [name, argv, times] of short) {
    test(`${name}: null or a small real figure`, async () => {
      const dir = tempProject();
      for (let i = 0; i < times; i++) await runSep(["--", ...argv], { cwd: dir });
      const ids = runIds(join(dir, "logs"));
      expect(ids.length).toBe(times);
      for (const id of ids) {
        const { job } = readRun(join(dir, "logs"), id);
        const peak = job.peakMemoryBytes;
        expect({ id, ok: peak === null || (peak > 0 && peak < 20 * MB) }).toEqual({ id, ok: true });
      }
    }, 30_000);
  }
  const longer: Array<[string, string[]]> = [
    ["a short sleep", ["sleep", "0.5"]],
    ["python", py("import time; print(1); time.sleep(0.3)")],
    ["a 30 MB allocation", ["python3", join(FIXTURES, "alloc.py"), "30", "0", "1"]],
  ];
  for (const [name, argv] of longer) {
    test(`${name}: > 0`, async () => {
      const dir = tempProject();
      await runSep(["--", ...argv], { cwd: dir });
      const { job, run } = onlyRun(join(dir, "logs"));
      expect(job.peakMemoryBytes).toBeGreaterThan(0);
      expect(run.peakMemoryBytes).toBeGreaterThan(0);
    }, 30_000);
  }

  test("peak of a 30 MB allocation is at least 30 MB", async () => {
    const dir = tempProject();
    await runSep(["--", "python3", join(FIXTURES, "alloc.py"), "30", "0", "1"], { cwd: dir });
    expect(onlyRun(join(dir, "logs")).job.peakMemoryBytes).toBeGreaterThanOrEqual(30 * MB);
  }, 30_000);
});

const JOB_FIELDS = [
  "id",
  "runId",
  "name",
  "argv",
  "cwd",
  "status",
  "conclusion",
  "exitCode",
  "signal",
  "queuedAt",
  "startedAt",
  "completedAt",
  "durationMs",
  "peakMemoryBytes",
  "limits",
  "logPath",
];
const RUN_FIELDS = ["id", "title", "status", "conclusion", "exitCode", "createdAt", "startedAt", "completedAt", "durationMs", "peakMemoryBytes", "jobs"];

test("run.json and jobs/1.json carry the field names and types of DESIGN §6", async () => {
  const dir = tempProject();
  const result = await runSep(["--timeout", "60", "-m", "500", "--name", "my label", "--", "sh", "-c", "echo hi; exit 3"], { cwd: dir });
  expect(result.exitCode).toBe(3);
  const { runId, runDir, job, run } = onlyRun(join(dir, "logs"));

  for (const field of JOB_FIELDS) expect({ field, present: field in job }).toEqual({ field, present: true });
  for (const field of RUN_FIELDS) expect({ field, present: field in run }).toEqual({ field, present: true });
  expect(Object.keys(job.limits).sort()).toEqual(["memoryLimitBytes", "timeoutMs"]);

  expect(run.id).toBe(runId);
  expect(job.runId).toBe(runId);
  expect(typeof job.id).toBe("string");
  expect(job.name).toBe("my label");
  expect(job.argv).toEqual(["sh", "-c", "echo hi; exit 3"]);
  expect(job.cwd).toBe(dir);
  expect(job.status).toBe("completed");
  expect(job.conclusion).toBe("failure");
  expect(job.exitCode).toBe(3);
  expect(job.signal).toBeNull();
  for (const key of ["queuedAt", "startedAt", "completedAt"]) expect(job[key]).toMatch(ISO);
  expect(Date.parse(job.queuedAt)).toBeLessThanOrEqual(Date.parse(job.startedAt));
  expect(Date.parse(job.startedAt)).toBeLessThanOrEqual(Date.parse(job.completedAt));
  expect(Number.isInteger(job.durationMs)).toBe(true);
  expect(job.durationMs).toBe(Date.parse(job.completedAt) - Date.parse(job.startedAt));
  expect(job.limits).toEqual({ timeoutMs: 60_000, memoryLimitBytes: 500 * MB });
  expect(job.logPath).toBe(join(runDir, "jobs/1.log"));
  expect(readFileSync(job.logPath, "utf8")).toBe("hi\n");

  expect(run.title).toBe("my label");
  expect(run.status).toBe("completed");
  expect(run.conclusion).toBe("failure");
  expect(run.exitCode).toBe(3);
  for (const key of ["createdAt", "startedAt", "completedAt"]) expect(run[key]).toMatch(ISO);
  expect(Number.isInteger(run.durationMs)).toBe(true);
  expect(run.jobs).toEqual([job]);
}, 30_000);

test("run ids sort by time and do not collide", async () => {
  const dir = tempProject();
  for (let i = 0; i < 5; i++) expect((await runSep(["--", "true"], { cwd: dir })).exitCode).toBe(0);
  const ids = runIds(join(dir, "logs"));
  expect(ids.length).toBe(5);
  const created = ids.map((id) => Date.parse(JSON.parse(readFileSync(join(dir, "logs/runs", id, "run.json"), "utf8")).createdAt));
  expect([...created].sort((a, b) => a - b)).toEqual(created);
}, 30_000);

test("--report FILE writes the job record", async () => {
  const dir = tempProject();
  const report = join(dir, "out/report.json");
  mkdirSync(join(dir, "out"));
  const result = await runSep(["--report", report, "--", "sh", "-c", "exit 7"], { cwd: dir });
  expect(result.exitCode).toBe(7);
  const written = JSON.parse(readFileSync(report, "utf8"));
  const { job } = onlyRun(join(dir, "logs"));
  expect(written).toEqual(job);
  expect(written.exitCode).toBe(7);
}, 30_000);

test("--report with a relative path is relative to the cwd", async () => {
  const dir = tempProject();
  const result = await runSep(["--report", "r.json", "--", "true"], { cwd: dir });
  expect(result.exitCode).toBe(0);
  expect(JSON.parse(readFileSync(join(dir, "r.json"), "utf8")).conclusion).toBe("success");
}, 30_000);

test("--report to an unwritable path: the exit code stays the command's and sep names the path", async () => {
  const dir = tempProject();
  const report = join(dir, "no/such/dir/r.json");
  const result = await runSep(["--report", report, "--", "sh", "-c", "exit 4"], { cwd: dir });
  expect(result.exitCode).toBe(4);
  expect(result.stderr).toContain(report);
  expect(onlyRun(join(dir, "logs")).job.exitCode).toBe(4);
}, 30_000);

test("--report never writes through a symlink planted at its path", async () => {
  const dir = tempProject();
  const victim = join(dir, "victim.txt");
  writeFileSync(victim, "precious\n");
  symlinkSync(victim, join(dir, "r.json"));
  const result = await runSep(["--report", join(dir, "r.json"), "--", "true"], { cwd: dir });
  expect(result.exitCode).toBe(0);
  expect(readFileSync(victim, "utf8")).toBe("precious\n");
}, 30_000);

test("state dirs are created with mode 0700 and files with 0600", async () => {
  const dir = tempProject();
  expect((await runSep(["--", "sh", "-c", "echo secret"], { cwd: dir })).exitCode).toBe(0);
  const { runDir } = onlyRun(join(dir, "logs"));
  const dirs = ["logs", "logs/runs", runDir, join(runDir, "jobs"), ".sequential-locks", ".sequential-locks/tickets", ".sequential-locks/slots"];
  const files = [join(runDir, "run.json"), join(runDir, "jobs/1.json"), join(runDir, "jobs/1.log"), ".sequential-locks/slots/0.lock"];
  const mode = (path: string) => (statSync(join(dir, path.startsWith(dir) ? path.slice(dir.length) : path)).mode & 0o777).toString(8);
  for (const path of dirs) expect({ path, mode: mode(path) }).toEqual({ path, mode: "700" });
  for (const path of files) expect({ path, mode: mode(path) }).toEqual({ path, mode: "600" });
}, 30_000);

test("a log dir that is a regular file: the command still runs, keeps its exit code, and sep says the run was not recorded", async () => {
  const dir = tempProject();
  writeFileSync(join(dir, "not-a-dir"), "");
  const env = sepEnv({ SEP_LOG_DIR: join(dir, "not-a-dir") });
  const result = await runSep(["--", "sh", "-c", "touch ran; echo out; exit 5"], { cwd: dir, env });
  expect(result.exitCode).toBe(5);
  expect(result.stdoutText).toBe("out\n");
  expect(existsSync(join(dir, "ran"))).toBe(true);
  expect(result.stderr).toMatch(/not be recorded|not recorded/);
  expect(result.stderr).toContain(join(dir, "not-a-dir"));
}, 30_000);

test("an unusable log dir (read-only; as root, one under a regular file): the command runs with its exit code and sep says what was lost", async () => {
  if (process.getuid?.() === 0) {
    // root writes through mode bits: use a log dir whose parent is a regular file (ENOTDIR).
    const dir = tempProject();
    writeFileSync(join(dir, "file"), "");
    const result = await runSep(["--", "sh", "-c", "exit 4"], { cwd: dir, env: sepEnv({ SEP_LOG_DIR: join(dir, "file/logs") }) });
    expect(result.exitCode).toBe(4);
    expect(result.stderr).toMatch(/not be recorded|not recorded/);
    return;
  }
  const dir = tempProject();
  mkdirSync(join(dir, "ro"), { mode: 0o500 });
  const result = await runSep(["--", "sh", "-c", "exit 4"], { cwd: dir, env: sepEnv({ SEP_LOG_DIR: join(dir, "ro") }) });
  expect(result.exitCode).toBe(4);
  expect(result.stderr).toMatch(/not be recorded|not recorded/);
}, 30_000);

describe("a symlinked state dir is refused with exit 1 naming the path; nothing runs", () => {
  const cases: Array<[string, string]> = [
    ["log dir (./logs -> elsewhere)", "logs"],
    ["lock dir (./.sequential-locks -> elsewhere)", ".sequential-locks"],
  ];
  for (const [name, link] of cases) {
    test(name, async () => {
      const dir = tempProject();
      const elsewhere = tempDir("sep-e2e-elsewhere-");
      symlinkSync(elsewhere, join(dir, link));
      const result = await runSep(["--", "touch", "ran"], { cwd: dir });
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain(join(dir, link));
      expect(result.stderr).toMatch(/symlink/);
      expect(existsSync(join(dir, "ran"))).toBe(false);
    }, 30_000);
  }

  test("log dir given by SEP_LOG_DIR as a symlink", async () => {
    const dir = tempProject();
    const elsewhere = tempDir("sep-e2e-elsewhere-");
    symlinkSync(elsewhere, join(dir, "linked-logs"));
    const result = await runSep(["--", "touch", "ran"], { cwd: dir, env: sepEnv({ SEP_LOG_DIR: join(dir, "linked-logs") }) });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(join(dir, "linked-logs"));
    expect(existsSync(join(dir, "ran"))).toBe(false);
  }, 30_000);
});

describe("a .env file in the project never reaches the command", () => {
  for (const file of [".env", ".env.local", ".env.production"]) {
    test(file, async () => {
      const dir = tempProject();
      writeFileSync(join(dir, file), "LEAKED=1\nMEMORY_LIMIT_MB=1\n");
      const result = await runSep(["--", ...py("import os; print(os.environ.get('LEAKED', 'absent'))")], { cwd: dir, env: sepEnv({ NODE_ENV: "production" }) });
      expect(result.exitCode).toBe(0);
      expect(result.stdoutText).toBe("absent\n");
      // Nor does it reach sep's own settings: a 1 MB limit would have killed python.
      expect(onlyRun(join(dir, "logs")).job.limits.memoryLimitBytes).toBe(2048 * MB);
    }, 30_000);
  }

  test("bunfig.toml in the project is not loaded either", async () => {
    const dir = tempProject();
    writeFileSync(join(dir, "preload.ts"), 'require("fs").writeFileSync("preloaded", "");\n');
    writeFileSync(join(dir, "bunfig.toml"), 'preload = ["./preload.ts"]\n[run]\npreload = ["./preload.ts"]\n');
    const result = await runSep(["--", "true"], { cwd: dir });
    expect(result.exitCode).toBe(0);
    expect(existsSync(join(dir, "preloaded"))).toBe(false);
  }, 30_000);
});
