// Run records: run.json is rewritten at most every 200 ms during a drain, so a reconcile after a
// crash must merge the job files, which are always current.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { jobLimits, newJobRecord } from "../../../src/core/job-in-turn.ts";
import { logLayout } from "../../../src/core/paths.ts";
import { newRunRecord, reconcileRun, type RunRecord, RunWriter } from "../../../src/core/records/runs.ts";
import { DEAD_PID, tempDir } from "../../helpers.ts";

const limits = { timeoutMs: 0, memoryLimitBytes: 0, checkIntervalMs: 250, killGraceMs: 5000 } satisfies ReturnType<typeof jobLimits>;

test("a run whose sep died mid-drain: jobs written after the last run.json are merged, then cancelled", () => {
  using dir = tempDir();
  const run = newRunRecord("20260101-000000-000-aaaaaa", "drain", new Date());
  run.owner = { pid: DEAD_PID, startTime: null };
  const writer = new RunWriter(dir.path, run);
  writer.create();
  const first = newJobRecord({ runId: run.id, n: 1, name: "one", argv: ["true"], cwd: "/", queuedAt: new Date(), limits });
  run.jobs.push(first);
  first.status = "completed";
  first.conclusion = "success";
  first.exitCode = 0;
  run.status = "in_progress";
  writer.saveJob(first, true); // run.json now holds job 1 only
  const second = newJobRecord({ runId: run.id, n: 2, name: "two", argv: ["sleep", "9"], cwd: "/", queuedAt: new Date(), limits });
  second.status = "in_progress";
  second.startedAt = new Date().toISOString();
  run.jobs.push(second);
  writer.saveJob(second); // throttled: only jobs/2.json is written

  const layout = logLayout(dir.path);
  const before = JSON.parse(readFileSync(layout.runRecord(run.id), "utf8")) as RunRecord;
  expect(before.jobs.map((job) => job.n)).toEqual([1]);

  expect(reconcileRun(dir.path, run.id)).toBe(true);
  const after = JSON.parse(readFileSync(layout.runRecord(run.id), "utf8")) as RunRecord;
  expect(after.status).toBe("completed");
  expect(after.conclusion).toBe("cancelled");
  expect(after.jobs.map((job) => [job.n, job.conclusion])).toEqual([
    [1, "success"],
    [2, "cancelled"],
  ]);
  const jobFile = JSON.parse(readFileSync(layout.jobRecord(run.id, 2), "utf8"));
  expect(jobFile.conclusion).toBe("cancelled");
});

test("saveJob rewrites run.json at most every 200 ms unless forced", async () => {
  using dir = tempDir();
  const run = newRunRecord("20260101-000000-000-bbbbbb", "drain", new Date());
  const writer = new RunWriter(dir.path, run);
  writer.create();
  const layout = logLayout(dir.path);
  const jobsIn = () => (JSON.parse(readFileSync(layout.runRecord(run.id), "utf8")) as RunRecord).jobs.length;
  for (let n = 1; n <= 3; n++) {
    run.jobs.push(newJobRecord({ runId: run.id, n, name: `j${n}`, argv: ["true"], cwd: "/", queuedAt: new Date(), limits }));
    writer.saveJob(run.jobs[n - 1]!);
  }
  expect(jobsIn()).toBe(1); // the first save wrote run.json; the next two were within 200 ms
  writer.saveJob(run.jobs[2]!, true);
  expect(jobsIn()).toBe(3);
  await Bun.sleep(220);
  run.jobs.push(newJobRecord({ runId: run.id, n: 4, name: "j4", argv: ["true"], cwd: "/", queuedAt: new Date(), limits }));
  writer.saveJob(run.jobs[3]!);
  expect(jobsIn()).toBe(4);
});
