// `sep status`: the machine view, read-only, in DESIGN §9's JSON shape; through the core function
// and through the real command line (bun src/cli.ts), against a temp machine state dir.
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { MB, type MachineMemory } from "../../../src/core/governor/budget.ts";
import { type Admission, admit } from "../../../src/core/governor/gate.ts";
import { machineStatus } from "../../../src/core/governor/status.ts";
import { processStartTime } from "../../../src/core/proc/index.ts";
import { killSpawned, spawnTracked, type TempDir, tempDir, waitFor } from "../../helpers.ts";

const CLI = join(import.meta.dir, "../../../src/cli.ts");
const dirs: TempDir[] = [];
const held: Admission[] = [];
const waits: AbortController[] = [];
afterEach(async () => {
  for (const wait of waits.splice(0)) wait.abort();
  for (const admission of held.splice(0)) admission.release();
  await killSpawned();
  for (const dir of dirs.splice(0)) dir.cleanup();
});
function temp(): string {
  const dir = tempDir("sep-status-");
  dirs.push(dir);
  return dir.path;
}
const memory: MachineMemory = { totalBytes: 8192 * MB, memAvailableBytes: 6000 * MB, cgroupLimitBytes: null, cgroupFreeBytes: null };
const config = { memoryBudgetMb: 1000 as const, memoryReserveMb: 100 as const };

async function fill(stateDir: string): Promise<number> {
  const common = { stateDir, budget: { budgetBytes: 1000 * MB, reserveBytes: 0 }, readMemory: () => memory };
  const running = await admit({ ...common, reservation: { bytes: 800 * MB, source: "learned" }, job: { id: "r", projectRoot: "/proj/a", argv: ["pytest", "-x"], cwd: "/proj/a" } });
  held.push(running);
  const job = spawnTracked(["sleep", "30"]);
  running.jobStarted(job.pid, processStartTime(job.pid) ?? undefined);
  const wait = new AbortController();
  waits.push(wait);
  void admit({ ...common, signal: wait.signal, reservation: { bytes: 500 * MB, source: "limit" }, job: { id: "w", projectRoot: "/proj/b", argv: ["make"], cwd: "/proj/b" } }).then((a) => held.push(a), () => {});
  await waitFor(() => machineStatus(config, { stateDir, readMemory: () => memory }).jobs.length === 2, 5000, "both in the ledger");
  return job.pid;
}

describe("machineStatus", () => {
  test("no ledger: no jobs, and nothing is created", () => {
    const stateDir = join(temp(), "state");
    const status = machineStatus(config, { stateDir, readMemory: () => memory });
    expect(status).toEqual({ budgetBytes: 1000 * MB, reserveBytes: 100 * MB, availableBytes: 6000 * MB, why: "memoryBudgetMb 1000", governor: true, jobs: [] });
    expect(existsSync(stateDir)).toBe(false);
  });

  test("running and waiting jobs, admitted first; DESIGN's fields; memory of the running tree", async () => {
    const stateDir = join(temp(), "state");
    await fill(stateDir);
    const before = readdirSync(join(stateDir, "governor", "ledger")).sort();
    const status = machineStatus(config, { stateDir, readMemory: () => memory });
    expect(status.jobs.map((job) => [job.state, job.argv.join(" "), job.projectRoot, job.reservationBytes])).toEqual([
      ["running", "pytest -x", "/proj/a", 800 * MB],
      ["waiting", "make", "/proj/b", 500 * MB],
    ]);
    for (const job of status.jobs) {
      for (const key of ["pid", "projectRoot", "argv", "state", "reservationBytes", "memoryBytes", "since"]) expect(job).toHaveProperty(key);
      expect(job.pid).toBe(process.pid);
      expect(Number.isNaN(Date.parse(job.since))).toBe(false);
    }
    expect(status.jobs[0]!.memoryBytes).toBeGreaterThan(0); // the sleep's RSS
    expect(status.jobs[1]!.memoryBytes).toBe(0);
    expect(readdirSync(join(stateDir, "governor", "ledger")).sort()).toEqual(before); // read-only
  });
});

describe("sep status (the command line)", () => {
  const run = (args: string[], home: string) => {
    const project = join(home, "project");
    mkdirSync(join(project, ".git"), { recursive: true });
    const result = Bun.spawnSync([process.execPath, CLI, "status", ...args], {
      cwd: project,
      env: { ...process.env, XDG_RUNTIME_DIR: join(home, "run"), SEP_MEMORY_BUDGET_MB: "1000", SEP_MEMORY_RESERVE_MB: "100", NO_COLOR: "1" },
      stdout: "pipe",
      stderr: "pipe",
    });
    return { code: result.exitCode, stdout: result.stdout.toString(), stderr: result.stderr.toString() };
  };

  test("--json with no ledger: the shape, and no state dir appears", () => {
    const home = temp();
    const { code, stdout } = run(["--json"], home);
    expect(code).toBe(0);
    const status = JSON.parse(stdout);
    expect(status).toMatchObject({ budgetBytes: 1000 * MB, reserveBytes: 100 * MB, jobs: [] });
    expect(typeof status.availableBytes).toBe("number");
    expect(existsSync(join(home, "run"))).toBe(false);
  });

  test("text and --json list the machine's jobs", async () => {
    const home = temp();
    await fill(join(home, "run", "sep"));
    const json = JSON.parse(run(["--json"], home).stdout);
    expect(json.jobs.map((job: { state: string }) => job.state)).toEqual(["running", "waiting"]);
    const { code, stdout } = run([], home);
    expect(code).toBe(0);
    const lines = stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^budget 1000 MB \(memoryBudgetMb 1000\), reserve 100 MB, free /);
    expect(lines[1]).toMatch(/^STATE\s+PID\s+RESERVED\s+MEMORY\s+SINCE\s+ETA\s+PROJECT\s+COMMAND$/);
    expect(lines[2]).toMatch(/^running\s+\d+\s+800 MB\s+\S+ \S+\s+.*\/proj\/a\s+pytest -x$/);
    expect(lines[3]).toMatch(/^waiting\s+\d+\s+500 MB\s+-\s+.*\/proj\/b\s+make$/);
  });
});
