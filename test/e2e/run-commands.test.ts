// `sep run list/view/watch/prune` driven as a user would: real runs recorded by dist/sep, runs
// written by hand where a state is hard to reach, and the files each command leaves (none, when
// it only reads).
import { afterEach, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { DEAD_PID, writeFakeRun } from "../helpers.ts";
import { cleanupAll, ensureBinary, FIXTURES, runIds, runSep, sepEnv, startSep, tempProject, waitFor } from "./helpers.ts";

beforeAll(() => ensureBinary(), 300_000);
afterEach(() => cleanupAll());

const RUN_FIELDS = ["id", "title", "status", "conclusion", "exitCode", "createdAt", "startedAt", "completedAt", "durationMs", "peakMemoryBytes", "jobs"];
const JOB_FIELDS = ["id", "runId", "name", "argv", "cwd", "status", "conclusion", "exitCode", "signal", "queuedAt", "startedAt", "completedAt", "durationMs", "peakMemoryBytes", "limits", "logPath"];

function readRunJson(dir: string, id: string): Record<string, any> {
  return JSON.parse(readFileSync(join(dir, "logs", "runs", id, "run.json"), "utf8"));
}

/** A project with three real runs: ok (exit 0), boom (exit 3), named (exit 0); ids oldest first. */
async function projectWithRuns(): Promise<{ dir: string; ids: string[] }> {
  const dir = tempProject();
  expect((await runSep(["--", "sh", "-c", "echo ok-out"], { cwd: dir })).exitCode).toBe(0);
  // stdout and stderr reach sep on two streams: the log holds them in arrival order, so the two
  // lines are spaced out to arrive in a known one.
  expect((await runSep(["--", "sh", "-c", "echo boom-out; sleep 0.2; echo boom-err >&2; exit 3"], { cwd: dir })).exitCode).toBe(3);
  expect((await runSep(["--name", "named job", "--", "true"], { cwd: dir })).exitCode).toBe(0);
  return { dir, ids: runIds(join(dir, "logs")) };
}

describe("sep run list", () => {
  test("a table, newest first: id, conclusion, title, jobs, duration, peak, age", async () => {
    const { dir, ids } = await projectWithRuns();
    const result = await runSep(["run", "list"], { cwd: dir });
    expect(result.exitCode).toBe(0);
    const lines = result.stdoutText.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^ID\s+CONCLUSION\s+TITLE\s+JOBS\s+DURATION\s+PEAK\s+AGE$/);
    expect(lines).toHaveLength(4);
    expect(lines[1]).toMatch(new RegExp(`^${ids[2]}\\s+success\\s+named job\\s+1\\s+\\S+\\s+(\\S+ [KMG]?B|-)\\s+(just now|\\d+s ago)$`));
    expect(lines[2]).toMatch(new RegExp(`^${ids[1]}\\s+failure\\s+sh -c echo boom-out; sleep 0\\.2; echo boom-err >\\S*\\s+1\\s`));
    expect(lines[3]).toMatch(new RegExp(`^${ids[0]}\\s+success\\s+sh -c echo ok-out\\s+1\\s`));
    expect(result.stderr).toBe("");
  }, 60_000);

  test("--json: an array of run records, newest first, in the DESIGN §6 shape", async () => {
    const { dir, ids } = await projectWithRuns();
    const result = await runSep(["run", "list", "--json"], { cwd: dir });
    expect(result.exitCode).toBe(0);
    const runs = JSON.parse(result.stdoutText);
    expect(runs.map((run: { id: string }) => run.id)).toEqual([...ids].reverse());
    for (const run of runs) {
      for (const field of RUN_FIELDS) expect(run).toHaveProperty(field);
      expect(run).toEqual(readRunJson(dir, run.id));
      for (const job of run.jobs) for (const field of JOB_FIELDS) expect(job).toHaveProperty(field);
    }
    expect(runs[1]).toMatchObject({ status: "completed", conclusion: "failure", exitCode: 3 });
  }, 60_000);

  test("--limit and --status filter; a bad value is exit 2 naming it", async () => {
    const { dir, ids } = await projectWithRuns();
    const json = async (args: string[]) => {
      const result = await runSep(["run", "list", "--json", ...args], { cwd: dir });
      expect(result.exitCode).toBe(0);
      return JSON.parse(result.stdoutText).map((run: { id: string }) => run.id);
    };
    expect(await json(["--limit", "2"])).toEqual([ids[2], ids[1]]);
    expect(await json(["-L", "1"])).toEqual([ids[2]]);
    expect(await json(["--status", "failure"])).toEqual([ids[1]]);
    expect(await json(["--status", "success", "--limit", "1"])).toEqual([ids[2]]);
    expect(await json(["--status", "completed"])).toHaveLength(3);
    expect(await json(["--status", "in_progress"])).toEqual([]);
    expect(await json(["-s", "timed_out"])).toEqual([]);

    const bad = await runSep(["run", "list", "--status", "failed"], { cwd: dir });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('"failed"');
    expect(bad.stderr).toContain("memory_exceeded");
    for (const limit of ["0", "-1", "many", "1.5"]) {
      const result = await runSep(["run", "list", "--limit", limit], { cwd: dir });
      expect(result.exitCode).toBe(2);
      expect(result.stderr).toContain("--limit");
    }
    const typo = await runSep(["run", "list", "--limt", "3"], { cwd: dir });
    expect(typo.exitCode).toBe(2);
    expect(typo.stderr).toContain("--limt");
  }, 60_000);

  test("no runs: says so on stderr; --json prints []", async () => {
    const dir = tempProject();
    const text = await runSep(["run", "list"], { cwd: dir });
    expect(text.exitCode).toBe(0);
    expect(text.stdoutText).toBe("");
    expect(text.stderr).toContain(`no runs recorded in ${join(dir, "logs", "runs")}`);
    const json = await runSep(["run", "list", "--json"], { cwd: dir });
    expect(json.stdoutText).toBe("[]\n");
  }, 30_000);

  test("a malformed record is skipped, the others listed", async () => {
    const { dir, ids } = await projectWithRuns();
    const { writeFileSync } = await import("node:fs");
    writeFileSync(join(dir, "logs", "runs", ids[1]!, "run.json"), "[1, 2");
    const result = await runSep(["run", "list", "--json"], { cwd: dir });
    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdoutText).map((run: { id: string }) => run.id)).toEqual([ids[2], ids[0]]);
  }, 60_000);
});

describe("sep run view", () => {
  test("default: the latest run, its header and one line per job", async () => {
    const { dir, ids } = await projectWithRuns();
    const result = await runSep(["run", "view"], { cwd: dir });
    expect(result.exitCode).toBe(0);
    const out = result.stdoutText;
    expect(out).toContain(`run      ${ids[2]}\n`);
    expect(out).toContain("title    named job\n");
    expect(out).toContain("status   success (exit 0)\n");
    expect(out).toMatch(/created  \S+Z \((just now|\d+s ago)\)\n/);
    expect(out).toMatch(/duration \S+\n/);
    // `true` may end before the first memory poll: its peak is then unknown (-) or 0
    expect(out).toMatch(/peak     (\S+ [KMG]?B|-)\n/);
    expect(out).toMatch(/JOB\s+CONCLUSION\s+EXIT\s+DURATION\s+PEAK\s+NAME\n\s+1\s+success\s+0\s+\S+\s+(\S+ [KMG]?B|-)\s+named job\n/);
  }, 60_000);

  test("RUN_ID, a prefix or its last 6 characters; --json is the record", async () => {
    const { dir, ids } = await projectWithRuns();
    const id = ids[1]!;
    for (const ref of [id, id.slice(-6), id.slice(0, -3)]) {
      const result = await runSep(["run", "view", ref, "--json"], { cwd: dir });
      expect(result.exitCode).toBe(0);
      expect(JSON.parse(result.stdoutText)).toEqual(readRunJson(dir, id));
    }
    const text = await runSep(["run", "view", id], { cwd: dir });
    expect(text.stdoutText).toContain("status   failure (exit 3)");
    expect(text.stdoutText).toMatch(/\s1\s+failure\s+3\s/);
  }, 60_000);

  test("an unknown id: exit 2, naming the id and the log dir", async () => {
    const { dir } = await projectWithRuns();
    const result = await runSep(["run", "view", "20990101-000000-000-abcdef"], { cwd: dir });
    expect(result.exitCode).toBe(2);
    expect(result.stdoutText).toBe("");
    expect(result.stderr).toContain('no run "20990101-000000-000-abcdef"');
    expect(result.stderr).toContain(join(dir, "logs", "runs"));
    expect(result.stderr).toContain("sep run list");
  }, 60_000);

  test("--log prints the output of a failed job; --exit-status passes its code", async () => {
    const { dir, ids } = await projectWithRuns();
    const result = await runSep(["run", "view", ids[1]!, "--log", "--exit-status"], { cwd: dir });
    expect(result.exitCode).toBe(3);
    expect(result.stdoutText).toBe("boom-out\nboom-err\n");
    expect(result.stderr).toContain("job 1/1 failure (exit 3)");
    const ok = await runSep(["run", "view", ids[0]!, "--exit-status"], { cwd: dir });
    expect(ok.exitCode).toBe(0);
    expect(ok.stdoutText).toContain("status   success (exit 0)");
  }, 60_000);

  test("--log-failed prints only the failed jobs' output; a missing log is said", async () => {
    const dir = tempProject();
    const logDir = join(dir, "logs");
    const run = await writeFakeRun(logDir, {
      jobs: [
        { name: "lint", log: "lint-out\n" },
        { name: "test", conclusion: "failure", exitCode: 2, log: "test-out\n" },
        { name: "build", conclusion: "timed_out", exitCode: 124, log: "build-out\n" },
        { name: "deploy", conclusion: "memory_exceeded", exitCode: 137 },
        { name: "later", conclusion: "skipped" },
      ],
    });
    const failed = await runSep(["run", "view", run.id, "--log-failed"], { cwd: dir });
    expect(failed.exitCode).toBe(0);
    expect(failed.stdoutText).toBe("test-out\nbuild-out\n");
    expect(failed.stderr).toContain("job 2/5 failure (exit 2)");
    expect(failed.stderr).toContain("job 3/5 timed_out (exit 124)");
    expect(failed.stderr).toContain(`no log for job 4: ${join(logDir, "runs", run.id, "jobs", "4.log")} is missing`);
    expect(failed.stderr).not.toContain("lint");
    expect(failed.stderr).not.toContain("later");

    const all = await runSep(["run", "view", run.id, "--log", "--exit-status"], { cwd: dir });
    expect(all.exitCode).toBe(2); // the first failed job's code
    expect(all.stdoutText).toBe("lint-out\ntest-out\nbuild-out\n");

    const table = await runSep(["run", "view", run.id], { cwd: dir });
    expect(table.stdoutText).toMatch(/\s5\s+skipped\s+-\s+-\s+-\s+later\n/);

    const clean = await writeFakeRun(logDir, { jobs: [{ log: "fine\n" }] });
    const none = await runSep(["run", "view", clean.id, "--log-failed"], { cwd: dir });
    expect(none.exitCode).toBe(0);
    expect(none.stdoutText).toBe("");
    expect(none.stderr).toContain(`no failed jobs in run ${clean.id}`);
  }, 60_000);

  test("a run still in progress: --exit-status is 1 and says why", async () => {
    const dir = tempProject();
    const sep = startSep(["--", "sh", "-c", "echo started; sleep 30"], { cwd: dir });
    const logDir = join(dir, "logs");
    const id = await waitFor(() => runIds(logDir).find((runId) => readRunJson(dir, runId).status === "in_progress"), { what: "a run in progress" });
    const result = await runSep(["run", "view", "--exit-status"], { cwd: dir });
    expect(result.exitCode).toBe(1);
    expect(result.stdoutText).toContain(`run      ${id}`);
    expect(result.stdoutText).toContain("status   in_progress");
    expect(result.stderr).toContain("still in_progress");
    sep.proc.kill("SIGTERM");
    expect((await sep.done).exitCode).toBe(143);
    const after = await runSep(["run", "view", id, "--exit-status"], { cwd: dir });
    expect(after.exitCode).toBe(143);
    expect(after.stdoutText).toContain("status   cancelled (exit 143)");
  }, 60_000);

  test("a job sep killed: the view says why, with the numbers", async () => {
    const dir = tempProject();
    const result = await runSep(["-m", "50", "--", "python3", join(FIXTURES, "alloc.py"), "300", "0", "30"], { cwd: dir });
    expect(result.exitCode).toBe(137);
    const view = await runSep(["run", "view", "--exit-status"], { cwd: dir });
    expect(view.exitCode).toBe(137);
    expect(view.stdoutText).toContain("status   memory_exceeded (exit 137)");
    expect(view.stdoutText).toMatch(/job 1: killed by sep at the memory limit \(used \d+ MB, limit 50 MB; largest: \d+ \S*python3? /);
  }, 60_000);

  test("no runs at all: exit 2, saying where it looked", async () => {
    const dir = tempProject();
    const result = await runSep(["run", "view"], { cwd: dir });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(`no runs recorded in ${join(dir, "logs", "runs")}`);
  }, 30_000);
});

describe("sep run watch", () => {
  test("follows a running sep: each job's output as it comes, ends with the run", async () => {
    const dir = tempProject();
    const logDir = join(dir, "logs");
    const sep = startSep(["--", "sh", "-c", "echo a; sleep 1; echo b"], { cwd: dir });
    await waitFor(() => runIds(logDir).some((id) => readRunJson(dir, id).status === "in_progress"), { what: "a run in progress" });
    const watch = startSep(["run", "watch"], { cwd: dir });
    // "a" arrives while the job still sleeps: the log is streamed, not printed at the end
    await waitFor(() => watch.stdout().toString() === "a\n", { what: "the first line streamed" });
    expect(sep.proc.exitCode).toBeNull();
    const watched = await watch.done;
    const ran = await sep.done;
    expect(ran.exitCode).toBe(0);
    expect(watched.exitCode).toBe(0);
    expect(watched.stdoutText).toBe("a\nb\n");
    const [id] = runIds(logDir);
    expect(watched.stderr).toContain("job 1: sh -c echo a; sleep 1; echo b");
    // the total shows once the run has ended; the job's end and the run's are one write here
    expect(watched.stderr).toMatch(/job 1(\/1)? success \(exit 0\) in 1\.\ds/);
    expect(watched.stderr).toContain(`run ${id} success (exit 0)`);
  }, 60_000);

  test("--exit-status passes the run's exit code; RUN_ID picks the run", async () => {
    const dir = tempProject();
    const logDir = join(dir, "logs");
    const sep = startSep(["--", "sh", "-c", "sleep 0.5; echo out; exit 4"], { cwd: dir });
    const id = await waitFor(() => runIds(logDir)[0], { what: "a run" });
    const watched = await runSep(["run", "watch", id.slice(-6), "--exit-status"], { cwd: dir });
    expect(watched.exitCode).toBe(4);
    expect(watched.stdoutText).toBe("out\n");
    expect((await sep.done).exitCode).toBe(4);
    // a finished run, watched again: replayed, and it ends at once
    const replay = await runSep(["run", "watch", id, "--exit-status"], { cwd: dir });
    expect(replay.exitCode).toBe(4);
    expect(replay.stdoutText).toBe("out\n");
  }, 60_000);

  test("nothing in progress: says so and exits 0", async () => {
    const dir = tempProject();
    const none = await runSep(["run", "watch", "--exit-status"], { cwd: dir });
    expect(none.exitCode).toBe(0);
    expect(none.stderr).toContain("no run in progress to watch");
    expect((await runSep(["--", "true"], { cwd: dir })).exitCode).toBe(0);
    const [id] = runIds(join(dir, "logs"));
    const after = await runSep(["run", "watch"], { cwd: dir });
    expect(after.exitCode).toBe(0);
    expect(after.stderr).toContain(`no run in progress to watch; the latest run, ${id}, ended success`);
  }, 30_000);

  test("a stale run (its sep died) is not watched forever: it is marked cancelled", async () => {
    const dir = tempProject();
    const logDir = join(dir, "logs");
    const stale = await writeFakeRun(logDir, { status: "in_progress", owner: { pid: DEAD_PID, startTime: null }, jobs: [{ status: "in_progress", log: "partial\n" }] });
    const picked = await runSep(["run", "watch"], { cwd: dir });
    expect(picked.exitCode).toBe(0);
    expect(picked.stderr).toContain("no run in progress to watch");
    expect(readRunJson(dir, stale.id)).toMatchObject({ status: "completed", conclusion: "cancelled" });
    const byId = await runSep(["run", "watch", stale.id, "--exit-status"], { cwd: dir });
    expect(byId.exitCode).toBe(1);
    expect(byId.stdoutText).toBe("partial\n");
    expect(byId.stderr).toContain("job 1/1 cancelled"); // a finished run: its total is known
  }, 30_000);

  test("a stale run whose sep dies while watched ends the watch", async () => {
    const dir = tempProject();
    const logDir = join(dir, "logs");
    const sleeper = Bun.spawn(["sleep", "30"]);
    const { processStartTime } = await import("../../src/core/proc/index.ts");
    const owner = { pid: sleeper.pid, startTime: processStartTime(sleeper.pid) };
    const run = await writeFakeRun(logDir, { status: "in_progress", owner, jobs: [{ status: "in_progress", log: "so far\n" }] });
    const watch = startSep(["run", "watch", "--exit-status"], { cwd: dir });
    await waitFor(() => watch.stdout().toString() === "so far\n", { what: "the log so far" });
    sleeper.kill("SIGKILL");
    await sleeper.exited;
    const watched = await watch.done;
    expect(watched.exitCode).toBe(1);
    expect(watched.stderr).toContain(`run ${run.id} cancelled`);
  }, 30_000);
});

describe("sep run prune", () => {
  test("--keep N deletes the oldest runs and prints their ids; SEP_KEEP_RUNS is the default", async () => {
    const dir = tempProject();
    const logDir = join(dir, "logs");
    const made = [];
    for (let i = 0; i < 5; i++) made.push((await writeFakeRun(logDir, { createdAt: new Date(Date.UTC(2025, 0, 1, 0, 0, i)) })).id);
    const result = await runSep(["run", "prune", "--keep", "2"], { cwd: dir });
    expect(result.exitCode).toBe(0);
    expect(result.stdoutText).toBe(`${made[2]}\n${made[1]}\n${made[0]}\n`);
    expect(result.stderr).toContain("deleted 3 runs; 2 runs left");
    expect(runIds(logDir)).toEqual(made.slice(3));

    const byEnv = await runSep(["run", "prune"], { cwd: dir, env: sepEnv({ SEP_KEEP_RUNS: "1" }) });
    expect(byEnv.exitCode).toBe(0);
    expect(runIds(logDir)).toEqual(made.slice(4));

    const nothing = await runSep(["run", "prune", "--keep", "1"], { cwd: dir });
    expect(nothing.stdoutText).toBe("");
    expect(nothing.stderr).toContain("nothing to prune");

    const all = await runSep(["run", "prune", "--keep", "0"], { cwd: dir });
    expect(all.exitCode).toBe(0);
    expect(all.stderr).toContain("keepRuns is 0");
    expect(runIds(logDir)).toEqual(made.slice(4));

    const bad = await runSep(["run", "prune", "--keep", "-3"], { cwd: dir });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain("--keep");
    expect(bad.stderr).toContain('"-3"');
  }, 30_000);
});

describe("read-only commands create no files", () => {
  test("list, view, watch and prune in a fresh project leave it as it was", async () => {
    const dir = tempProject();
    const commands = [
      ["run", "list"],
      ["run", "list", "--json"],
      ["run", "list", "--status", "failure"],
      ["run", "view"],
      ["run", "view", "abc"],
      ["run", "view", "--log"],
      ["run", "watch"],
      ["run", "watch", "abc"],
      ["run", "prune"],
      ["run", "--help"],
    ];
    for (const args of commands) {
      const result = await runSep(args, { cwd: dir });
      expect([0, 2]).toContain(result.exitCode!);
      expect(readdirSync(dir)).toEqual([".git"]);
    }
  }, 60_000);

  test("with runs on disk, reading changes no file (only a stale run's record is fixed)", async () => {
    const { dir } = await projectWithRuns();
    const logDir = join(dir, "logs");
    const snapshot = () =>
      (readdirSync(logDir, { recursive: true, encoding: "utf8" }) as string[])
        .sort()
        .map((path) => [path, existsSync(join(logDir, path)) && !path.endsWith(".log") && path.endsWith(".json") ? readFileSync(join(logDir, path), "utf8") : ""]);
    const before = snapshot();
    for (const args of [["run", "list"], ["run", "view", "--log"], ["run", "watch"], ["run", "list", "--json"]]) {
      await runSep(args, { cwd: dir });
    }
    expect(snapshot()).toEqual(before);
    rmSync(logDir, { recursive: true });
  }, 60_000);
});
