// The run history read defensively (src/core/history.ts), on real log dirs: runs recorded by the
// real dist/sep, runs written with RunWriter, and files broken by hand.
import { afterEach, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SepError } from "../../../src/errors.ts";
import {
  latestRun,
  listRuns,
  loadRun,
  newestInProgress,
  pruneRuns,
  readRun,
  runIdsNewestFirst,
  UNREADABLE_RUN_GRACE_MS,
} from "../../../src/core/records/history.ts";
import { processStartTime } from "../../../src/core/proc/index.ts";
import { newRunId, type RunRecord } from "../../../src/core/records/types.ts";
import { DEAD_PID, writeFakeRun } from "../../helpers.ts";
import { cleanupAll, ensureBinary, runSep, tempProject } from "../../e2e/helpers.ts";

beforeAll(() => ensureBinary(), 300_000);
afterEach(() => cleanupAll());

function runJson(logDir: string, id: string): Record<string, any> {
  return JSON.parse(readFileSync(join(logDir, "runs", id, "run.json"), "utf8"));
}

/** The error fn throws, as a SepError (fails the test when it throws nothing or something else). */
function sepError(fn: () => unknown): SepError {
  try {
    fn();
  } catch (error) {
    if (error instanceof SepError) return error;
    throw error;
  }
  throw new Error("expected a SepError");
}

/** Milliseconds apart, so ids sort in creation order. */
function at(i: number): Date {
  return new Date(Date.parse("2025-01-01T00:00:00.000Z") + i * 1000);
}

describe("runs recorded by dist/sep", () => {
  test("listRuns: newest first; latestRun; loadRun by id, prefix and suffix", async () => {
    const dir = tempProject();
    const logDir = join(dir, "logs");
    expect((await runSep(["--", "sh", "-c", "echo one"], { cwd: dir })).exitCode).toBe(0);
    expect((await runSep(["--", "sh", "-c", "echo two; exit 3"], { cwd: dir })).exitCode).toBe(3);
    expect((await runSep(["--name", "third", "--", "true"], { cwd: dir })).exitCode).toBe(0);

    const runs = listRuns(logDir);
    expect(runs.map((run) => run.title)).toEqual(["third", "sh -c echo two; exit 3", "sh -c echo one"]);
    expect(runs.map((run) => run.id)).toEqual([...runs.map((run) => run.id)].sort().reverse());
    expect(runs[1]).toMatchObject({ status: "completed", conclusion: "failure", exitCode: 3 });
    expect(runs[1]!.jobs).toHaveLength(1);
    expect(runs[1]!.jobs[0]).toMatchObject({ n: 1, exitCode: 3, argv: ["sh", "-c", "echo two; exit 3"] });
    expect(readFileSync(runs[1]!.jobs[0]!.logPath, "utf8")).toBe("two\n");

    expect(latestRun(logDir)?.id).toBe(runs[0]!.id);
    expect(listRuns(logDir, { limit: 2 }).map((run) => run.id)).toEqual([runs[0]!.id, runs[1]!.id]);
    expect(listRuns(logDir, { status: "failure" }).map((run) => run.id)).toEqual([runs[1]!.id]);
    expect(listRuns(logDir, { status: "completed" })).toHaveLength(3);
    expect(listRuns(logDir, { status: "in_progress" })).toEqual([]);

    const failed = runs[1]!;
    expect(loadRun(logDir, failed.id)).toEqual(failed);
    expect(loadRun(logDir, failed.id.slice(-6)).id).toBe(failed.id); // the random suffix
    expect(loadRun(logDir, failed.id.slice(0, -2)).id).toBe(failed.id); // a unique prefix
    expect(runJson(logDir, failed.id)).toEqual(failed as never); // reading rewrote nothing
  }, 60_000);
});

describe("loadRun errors", () => {
  test("an unknown id: exit 2, naming the id and the runs dir", async () => {
    const dir = tempProject();
    const logDir = join(dir, "logs");
    await writeFakeRun(logDir);
    const error = sepError(() => loadRun(logDir, "20990101-nope"));
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain('"20990101-nope"');
    expect(error.message).toContain(join(logDir, "runs"));
  });

  test("no runs at all: exit 2, and nothing is created", () => {
    const dir = tempProject();
    const logDir = join(dir, "logs");
    const error = sepError(() => loadRun(logDir, "abc"));
    expect(error.exitCode).toBe(2);
    expect(error.hint).toContain("no runs");
    expect(existsSync(logDir)).toBe(false);
  });

  test("a path is never an id", async () => {
    const dir = tempProject();
    const logDir = join(dir, "logs");
    await writeFakeRun(logDir);
    for (const id of ["../logs", "/etc", ".", "..", "", "a/b"]) expect(sepError(() => loadRun(logDir, id)).exitCode).toBe(2);
  });

  test("an ambiguous prefix: exit 2, listing the matches", async () => {
    const dir = tempProject();
    const logDir = join(dir, "logs");
    const a = await writeFakeRun(logDir, { createdAt: at(1) });
    const b = await writeFakeRun(logDir, { createdAt: at(2) });
    const error = sepError(() => loadRun(logDir, "2025"));
    expect([error.code, error.exitCode]).toEqual(["E_AMBIGUOUS_RUN", 2]);
    expect(error.message).toContain("ambiguous");
    expect(error.message).toContain(a.id);
    expect(error.message).toContain(b.id);
  });

  test("a run whose record is garbage: exit 1, naming the file", async () => {
    const dir = tempProject();
    const logDir = join(dir, "logs");
    const run = await writeFakeRun(logDir);
    writeFileSync(join(logDir, "runs", run.id, "run.json"), "{ not json");
    const error = sepError(() => loadRun(logDir, run.id));
    expect(error.exitCode).toBe(1);
    expect(error.message).toContain(join(logDir, "runs", run.id, "run.json"));
  });
});

describe("malformed files are skipped, never a crash", () => {
  test("garbage, an array, null, a wrong shape, no run.json, temp leftovers; a missing jobs dir is fine", async () => {
    const dir = tempProject();
    const logDir = join(dir, "logs");
    const good = await writeFakeRun(logDir, { createdAt: at(1), jobs: [{ name: "good", log: "out\n" }] });
    const noJobsDir = await writeFakeRun(logDir, { createdAt: at(2), title: "no jobs dir" });
    rmSync(join(logDir, "runs", noJobsDir.id, "jobs"), { recursive: true });
    const broken: Record<string, string | undefined> = {
      garbage: "{ this is not json",
      array: JSON.stringify([good]),
      null: "null",
      number: "42",
      "no status": JSON.stringify({ ...good, status: undefined }),
      "bad status": JSON.stringify({ ...good, status: "running" }),
      "jobs not an array": JSON.stringify({ ...good, jobs: "many" }),
      "a job that is not an object": JSON.stringify({ ...good, jobs: [1] }),
      "no id": JSON.stringify({ ...good, id: undefined }),
      empty: "",
      "no run.json": undefined,
    };
    let i = 10;
    const brokenIds: string[] = [];
    for (const text of Object.values(broken)) {
      const id = newRunId(at(i++));
      brokenIds.push(id);
      mkdirSync(join(logDir, "runs", id, "jobs"), { recursive: true });
      if (text !== undefined) writeFileSync(join(logDir, "runs", id, "run.json"), text);
    }
    // temp files a killed writer may leave: inside a run dir, and beside the run dirs
    writeFileSync(join(logDir, "runs", good.id, "run.json.999.1.tmp"), "{ half");
    writeFileSync(join(logDir, "runs", `${newRunId(at(99))}.tmp`), "{}");
    writeFileSync(join(logDir, "runs", ".hidden"), "{}");

    const runs = listRuns(logDir);
    expect(runs.map((run) => run.id)).toEqual([noJobsDir.id, good.id]);
    expect(runs[0]!.title).toBe("no jobs dir");
    expect(latestRun(logDir)?.id).toBe(noJobsDir.id);
    expect(newestInProgress(logDir)).toBeUndefined();
    for (const id of brokenIds) expect(readRun(logDir, id)).toBeUndefined();
    expect(runIdsNewestFirst(logDir)).not.toContain(".hidden");
    expect(runIdsNewestFirst(logDir).some((id) => id.endsWith(".tmp"))).toBe(false);
  });

  test("the record's id is its directory's name", async () => {
    const dir = tempProject();
    const logDir = join(dir, "logs");
    const run = await writeFakeRun(logDir);
    const path = join(logDir, "runs", run.id, "run.json");
    writeFileSync(path, JSON.stringify({ ...runJson(logDir, run.id), id: "something else" }));
    expect(listRuns(logDir)[0]!.id).toBe(run.id);
  });
});

describe("runs left unfinished by a dead sep", () => {
  test("a dead owner: shown cancelled, and the record on disk is fixed", async () => {
    const dir = tempProject();
    const logDir = join(dir, "logs");
    const stale = await writeFakeRun(logDir, {
      status: "in_progress",
      owner: { pid: DEAD_PID, startTime: 1 },
      jobs: [{ name: "done", status: "completed" }, { name: "running", status: "in_progress" }, { name: "waiting" }],
    });
    const [run] = listRuns(logDir);
    expect(run).toMatchObject({ id: stale.id, status: "completed", conclusion: "cancelled" });
    expect(run!.jobs.map((job) => [job.status, job.conclusion])).toEqual([
      ["completed", "success"],
      ["completed", "cancelled"],
      ["completed", "skipped"],
    ]);
    expect(runJson(logDir, stale.id)).toMatchObject({ status: "completed", conclusion: "cancelled" });
    expect(newestInProgress(logDir)).toBeUndefined();
    expect(listRuns(logDir, { status: "cancelled" })).toHaveLength(1);
    expect(listRuns(logDir, { status: "in_progress" })).toHaveLength(0);
  });

  test("a reused pid (same pid, other start time) is a dead owner", async () => {
    const dir = tempProject();
    const logDir = join(dir, "logs");
    const startTime = processStartTime(process.pid)!;
    await writeFakeRun(logDir, { status: "in_progress", owner: { pid: process.pid, startTime: startTime + 1 }, jobs: [{ status: "in_progress" }] });
    expect(latestRun(logDir)).toMatchObject({ status: "completed", conclusion: "cancelled" });
  });

  test("no owner at all (a hand-made record): shown cancelled, the file left as it is", async () => {
    const dir = tempProject();
    const logDir = join(dir, "logs");
    const run = await writeFakeRun(logDir, { status: "in_progress", jobs: [{ status: "in_progress" }] });
    const path = join(logDir, "runs", run.id, "run.json");
    const text = JSON.stringify({ ...runJson(logDir, run.id), owner: undefined });
    writeFileSync(path, text);
    expect(latestRun(logDir)).toMatchObject({ status: "completed", conclusion: "cancelled" });
    expect(readFileSync(path, "utf8")).toBe(text);
  });

  test("a live owner: in progress; newestInProgress passes over newer stale runs", async () => {
    const dir = tempProject();
    const logDir = join(dir, "logs");
    const live = await writeFakeRun(logDir, { createdAt: at(1), status: "in_progress", jobs: [{ status: "in_progress" }] });
    await writeFakeRun(logDir, { createdAt: at(2) });
    const stale = await writeFakeRun(logDir, { createdAt: at(3), status: "in_progress", owner: { pid: DEAD_PID, startTime: null }, jobs: [{ status: "in_progress" }] });
    expect(newestInProgress(logDir)?.id).toBe(live.id);
    expect(readRun(logDir, live.id)?.status).toBe("in_progress");
    expect(readRun(logDir, stale.id)?.conclusion).toBe("cancelled");
  });
});

describe("pruneRuns", () => {
  test("keeps exactly the newest N completed runs", async () => {
    const dir = tempProject();
    const logDir = join(dir, "logs");
    const made: RunRecord[] = [];
    for (let i = 0; i < 12; i++) made.push(await writeFakeRun(logDir, { createdAt: at(i), jobs: [{ log: `run ${i}\n` }] }));
    const result = pruneRuns(logDir, 5);
    const newest = made.map((run) => run.id).reverse();
    expect(result.removed).toEqual(newest.slice(5));
    expect(result.remaining).toBe(5);
    expect(result.errors).toEqual([]);
    expect(readdirSync(join(logDir, "runs")).sort()).toEqual(newest.slice(0, 5).sort());
    expect(pruneRuns(logDir, 5).removed).toEqual([]);
    expect(pruneRuns(logDir, 0).removed).toEqual([]); // 0 = keep all
    expect(readdirSync(join(logDir, "runs"))).toHaveLength(5);
  });

  test("never deletes a run in progress under a live sep; a stale one goes", async () => {
    const dir = tempProject();
    const logDir = join(dir, "logs");
    const live = await writeFakeRun(logDir, { createdAt: at(1), status: "in_progress", jobs: [{ status: "in_progress" }] });
    const stale = await writeFakeRun(logDir, { createdAt: at(2), status: "in_progress", owner: { pid: DEAD_PID, startTime: null }, jobs: [{ status: "in_progress" }] });
    const kept = await writeFakeRun(logDir, { createdAt: at(3) });
    const result = pruneRuns(logDir, 1);
    expect(result.removed).toEqual([stale.id]);
    expect(runIdsNewestFirst(logDir)).toEqual([kept.id, live.id]);
  });

  test("a directory without a readable record is left for a minute (it may be being created)", async () => {
    const dir = tempProject();
    const logDir = join(dir, "logs");
    const fresh = newRunId(at(1));
    const old = newRunId(at(2));
    for (const id of [fresh, old]) mkdirSync(join(logDir, "runs", id, "jobs"), { recursive: true });
    const past = (Date.now() - UNREADABLE_RUN_GRACE_MS - 5000) / 1000;
    utimesSync(join(logDir, "runs", old), past, past);
    mkdirSync(join(logDir, "runs", "not-a-run-id")); // not sep's: never deleted
    const newest = await writeFakeRun(logDir, { createdAt: at(3) });
    const result = pruneRuns(logDir, 1);
    expect(result.removed).toEqual([old]);
    expect(readdirSync(join(logDir, "runs")).sort()).toEqual([newest.id, fresh, "not-a-run-id"].sort());
  });

  test("nothing to prune in a missing log dir, and nothing is created", () => {
    const dir = tempProject();
    expect(pruneRuns(join(dir, "logs"), 3)).toEqual({ removed: [], remaining: 0, errors: [] });
    expect(existsSync(join(dir, "logs"))).toBe(false);
  });
});

describe("many runs", () => {
  test("300 runs list in order, with limits and filters", async () => {
    const dir = tempProject();
    const logDir = join(dir, "logs");
    const conclusions = ["success", "failure", "timed_out"] as const;
    const ids: string[] = [];
    for (let i = 0; i < 300; i++) {
      const conclusion = conclusions[i % 3]!;
      ids.push((await writeFakeRun(logDir, { createdAt: at(i), jobs: [{ conclusion, name: `job ${i}` }, { name: "second" }] })).id);
    }
    const started = performance.now();
    const all = listRuns(logDir);
    const elapsed = performance.now() - started;
    expect(all.map((run) => run.id)).toEqual([...ids].reverse());
    expect(all[0]!.jobs).toHaveLength(2);
    expect(all[0]!.title).toBe("job 299");
    expect(listRuns(logDir, { limit: 7 }).map((run) => run.id)).toEqual([...ids].reverse().slice(0, 7));
    const timedOut = listRuns(logDir, { status: "timed_out" });
    expect(timedOut).toHaveLength(100);
    expect(timedOut.every((run) => run.conclusion === "timed_out")).toBe(true);
    expect(listRuns(logDir, { status: "failure", limit: 3 }).map((run) => run.title)).toEqual(["job 298", "job 295", "job 292"]);
    expect(elapsed).toBeLessThan(2000);
    expect(pruneRuns(logDir, 100).removed).toHaveLength(200);
    expect(listRuns(logDir).map((run) => run.id)).toEqual([...ids].reverse().slice(0, 100));
  }, 60_000);
});

describe("reading creates nothing", () => {
  test("list, latest, newest in progress and a failed load in a fresh project leave it untouched", () => {
    const dir = tempProject();
    const logDir = join(dir, "logs");
    expect(listRuns(logDir)).toEqual([]);
    expect(latestRun(logDir)).toBeUndefined();
    expect(newestInProgress(logDir)).toBeUndefined();
    expect(() => loadRun(logDir, "x")).toThrow(SepError);
    expect(readdirSync(dir)).toEqual([".git"]);
  });
});
