// Run records through their one owner: transitions write as they go, run.json is rewritten at
// most every 200 ms (an injected clock, not the wall clock, proves it), and a reconcile after a
// crash merges the job files, which are always current.
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { logLayout } from "../../../src/core/paths.ts";
import { RunRecorder } from "../../../src/core/records/recorder.ts";
import { reconcileRun } from "../../../src/core/records/reconcile.ts";
import type { RunRecord } from "../../../src/core/records/types.ts";
import { RUN_SAVE_INTERVAL_MS, RunWriter } from "../../../src/core/records/writer.ts";
import { DEAD_PID, tempDir } from "../../helpers.ts";

const limits = { timeoutMs: null, memoryLimitBytes: null };
const facts = (name: string, argv = ["true"]) => ({ name, argv, cwd: "/", limits });
const readRunFile = (dir: string, id: string) => JSON.parse(readFileSync(logLayout(dir).runRecord(id), "utf8")) as RunRecord;

function outcome(exitCode: number, startedAt = new Date()) {
  return { conclusion: exitCode === 0 ? ("success" as const) : ("failure" as const), exitCode, signal: null, startedAt, completedAt: new Date(startedAt.getTime() + 10), peakMemoryBytes: 1024 };
}

test("a run whose sep died mid-drain: jobs written after the last run.json are merged, then cancelled", async () => {
  using dir = tempDir();
  let now = 1_000_000;
  const recorder = new RunRecorder({ logDir: dir.path, keepRuns: 0, title: "drain", clock: () => now });
  recorder.open();
  const first = recorder.addJob(facts("one"));
  recorder.started(first);
  recorder.completed(first, outcome(0));
  now += RUN_SAVE_INTERVAL_MS;
  const second = recorder.addJob(facts("two", ["sleep", "9"]));
  recorder.waiting(second); // it waits for its turn; the next save is due: run.json gets job 1 completed, job 2 queued
  recorder.started(second); // throttled: only jobs/2.json says it started

  const before = readRunFile(dir.path, recorder.id);
  expect(before.jobs.map((job) => [job.n, job.status])).toEqual([[1, "completed"], [2, "queued"]]);

  // The owner of the run on disk is this process (alive); make it a dead one, as after a SIGKILL.
  const layout = logLayout(dir.path);
  const onDisk = readRunFile(dir.path, recorder.id);
  onDisk.owner = { pid: DEAD_PID, startTime: null };
  await Bun.write(layout.runRecord(recorder.id), JSON.stringify(onDisk));

  expect(reconcileRun(dir.path, recorder.id)).toBe(true);
  const after = readRunFile(dir.path, recorder.id);
  expect(after.status).toBe("completed");
  expect(after.conclusion).toBe("cancelled");
  expect(after.jobs.map((job) => [job.n, job.conclusion])).toEqual([
    [1, "success"],
    [2, "cancelled"], // it had started (its job file says so): cancelled, not skipped
  ]);
  expect(after.jobs[1]!.warnings?.[0]).toContain("died");
  const jobFile = JSON.parse(readFileSync(layout.jobRecord(recorder.id, 2), "utf8"));
  expect(jobFile.conclusion).toBe("cancelled");
  expect(jobFile.durationMs).toBe(Date.parse(jobFile.completedAt) - Date.parse(jobFile.startedAt));
});

test("saveJob rewrites run.json at most every RUN_SAVE_INTERVAL_MS unless forced", () => {
  using dir = tempDir();
  let now = 5_000;
  const jobs: RunRecord["jobs"] = [];
  const id = "20260101-000000-000-bbbbbb";
  const writer = new RunWriter(dir.path, id, () => ({ id, jobs }) as unknown as RunRecord, () => now);
  writer.create();
  const jobsIn = () => readRunFile(dir.path, id).jobs.length;
  const add = (n: number) => {
    jobs.push({ n } as RunRecord["jobs"][number]);
    writer.saveJob(jobs[n - 1]!);
  };
  add(1);
  expect(jobsIn()).toBe(1); // the first save wrote run.json
  now += RUN_SAVE_INTERVAL_MS - 1;
  add(2);
  add(3);
  expect(jobsIn()).toBe(1); // within the interval: job files only
  writer.saveJob(jobs[2]!, true);
  expect(jobsIn()).toBe(3); // forced
  now += RUN_SAVE_INTERVAL_MS;
  add(4);
  expect(jobsIn()).toBe(4); // due again
  writer.close();
});

describe("transitions", () => {
  test("queued → in progress → completed, flattened to the stable JSON at each write", () => {
    using dir = tempDir();
    const recorder = new RunRecorder({ logDir: dir.path, keepRuns: 0, title: "t" });
    const job = recorder.addJob(facts("t"));
    expect(recorder.jobRecord(job)).toMatchObject({ status: "queued", conclusion: null, exitCode: null, startedAt: null, completedAt: null, durationMs: null, peakMemoryBytes: null, logPath: "" });
    expect(recorder.jobRecord(job)).not.toHaveProperty("warnings");
    recorder.open();
    const logPath = recorder.started(job);
    expect(logPath).toBe(logLayout(dir.path).jobLog(recorder.id, 1));
    const running = recorder.jobRecord(job);
    expect(running).toMatchObject({ status: "in_progress", conclusion: null, completedAt: null });
    expect(typeof running.startedAt).toBe("string");
    recorder.completed(job, outcome(3));
    recorder.warn(job, "the job log is incomplete");
    const run = recorder.finish();
    expect(run).toMatchObject({ status: "completed", conclusion: "failure", exitCode: 3, peakMemoryBytes: 1024 });
    expect(run.jobs[0]).toMatchObject({ status: "completed", conclusion: "failure", exitCode: 3, durationMs: 10, warnings: ["the job log is incomplete"] });
    expect(readRunFile(dir.path, recorder.id)).toMatchObject({ status: "completed", conclusion: "failure", exitCode: 3 });
  });

  test("a job's file is first written when it waits (once) or starts, not when it is added", () => {
    using dir = tempDir();
    const recorder = new RunRecorder({ logDir: dir.path, keepRuns: 0, title: "t" });
    recorder.open();
    const jobFile = (n: number) => logLayout(dir.path).jobRecord(recorder.id, n);
    const readJob = (n: number) => JSON.parse(readFileSync(jobFile(n), "utf8"));
    const atOnce = recorder.addJob(facts("at once"));
    const waits = recorder.addJob(facts("waits"));
    expect(existsSync(jobFile(1))).toBe(false);
    expect(existsSync(jobFile(2))).toBe(false);
    recorder.waiting(waits);
    expect(readJob(2).status).toBe("queued");
    // A second wait (the machine gate after the turn) writes nothing new: the file stays as it is.
    rmSync(jobFile(2));
    recorder.waiting(waits);
    expect(existsSync(jobFile(2))).toBe(false);
    recorder.started(atOnce);
    expect(readJob(1).status).toBe("in_progress");
    // A started job is no longer queued: waiting() never takes its record back.
    recorder.waiting(atOnce);
    expect(readJob(1).status).toBe("in_progress");
  });

  test("a run that is never opened writes nothing", () => {
    using dir = tempDir();
    const recorder = new RunRecorder({ logDir: `${dir.path}/logs`, keepRuns: 0, title: "t" });
    const job = recorder.addJob(facts("t"));
    recorder.notRun(job, "skipped");
    recorder.finish();
    expect(() => readFileSync(logLayout(`${dir.path}/logs`).runRecord(recorder.id))).toThrow();
  });

  test("notRun keeps the exit code and warning it is given; a run stopped by a signal is cancelled with its code", () => {
    using dir = tempDir();
    const recorder = new RunRecorder({ logDir: dir.path, keepRuns: 0, title: "t" });
    recorder.open();
    const a = recorder.addJob(facts("a"));
    const b = recorder.addJob(facts("b"));
    recorder.notRun(a, "cancelled", { exitCode: 75, warning: "gave up waiting" });
    recorder.notRun(b, "skipped");
    expect(recorder.jobRecord(a)).toMatchObject({ conclusion: "cancelled", exitCode: 75, startedAt: null, durationMs: null, warnings: ["gave up waiting"] });
    const run = recorder.finish({ kind: "cancelled", exitCode: 130 });
    expect(run).toMatchObject({ conclusion: "cancelled", exitCode: 130 });
  });
});

test("openQueued writes the run and its jobs at once, queued, before any turn (a background sep's run)", () => {
  using dir = tempDir();
  const early = new RunRecorder({ logDir: dir.path, keepRuns: 0, title: "now" });
  early.addJob(facts("one"));
  early.addJob(facts("two"));
  early.openQueued();
  const run = readRunFile(dir.path, early.id);
  expect(run.status).toBe("queued");
  expect(run.jobs.map((job) => [job.n, job.status])).toEqual([[1, "queued"], [2, "queued"]]);
  const second = JSON.parse(readFileSync(logLayout(dir.path).jobRecord(early.id, 2), "utf8"));
  expect(second.status).toBe("queued");
});

test("a completed job keeps its memory samples in its file, and run.json gets them when the run ends (not in the saves while it runs); one with no measured peak has none", () => {
  using dir = tempDir();
  // A clock that moves past the save interval at every look: each job save writes run.json too.
  let now = 0;
  const recorder = new RunRecorder({ logDir: dir.path, keepRuns: 0, title: "samples", clock: () => (now += RUN_SAVE_INTERVAL_MS) });
  recorder.open();
  const measured = recorder.addJob(facts("alloc"));
  recorder.started(measured);
  const samples: [number, number][] = [[2, 1024], [250, 4096], [400, 2048]];
  recorder.completed(measured, { ...outcome(0), peakMemoryBytes: 4096, memorySamples: samples });
  const running = readRunFile(dir.path, recorder.id);
  expect(running.jobs[0]!.status).toBe("completed"); // this save did happen
  expect("memorySamples" in running.jobs[0]!).toBe(false);
  const gone = recorder.addJob(facts("true"));
  recorder.started(gone);
  // gone before its first poll counted anything: the polls saw 0 bytes, the peak is null
  recorder.completed(gone, { ...outcome(0), peakMemoryBytes: null, memorySamples: [[1, 0], [3, 0]] });
  const run = recorder.finish();

  const layout = logLayout(dir.path);
  const file = (n: number) => JSON.parse(readFileSync(layout.jobRecord(recorder.id, n), "utf8"));
  expect(file(1).memorySamples).toEqual(samples);
  expect(readRunFile(dir.path, recorder.id).jobs[0]!.memorySamples).toEqual(samples);
  expect(run.jobs[0]!.memorySamples).toEqual(samples);
  expect("memorySamples" in file(2)).toBe(false);
  expect(file(2).peakMemoryBytes).toBeNull();
});
