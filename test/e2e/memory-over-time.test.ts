// Memory over time, through dist/sep: a real allocator's polls kept in its job record
// (memorySamples), drawn as a sparkline by `sep run view`, carried by --json, and absent from runs
// recorded before sep kept them.
import { afterEach, beforeAll, expect, test } from "bun:test";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cleanupAll, ensureBinary, FIXTURES, MB, onlyRun, runSep, tempProject } from "./helpers.ts";

beforeAll(() => ensureBinary(), 300_000);
afterEach(() => cleanupAll());

const SPARK = /^job 1  ([▁▂▃▄▅▆▇█]{30})  peak (\d+) MB of 512 MB$/m;

/** 200 MB at 200 MB/s, held 1.5 s, polled every 10 ms: a few hundred polls, more than a record keeps. */
async function allocRun(dir: string) {
  const result = await runSep(["-m", "512", "--check-interval", "0.01", "--", "python3", join(FIXTURES, "alloc.py"), "200", "200", "1.5"], { cwd: dir });
  expect(result.exitCode).toBe(0);
  return onlyRun(join(dir, "logs"));
}

test("run view --json: a real allocator's memorySamples, ≤ 120 points, times increasing, the climb and the peak", async () => {
  const dir = tempProject();
  const { runId } = await allocRun(dir);
  const view = await runSep(["run", "view", runId, "--json"], { cwd: dir });
  expect(view.exitCode).toBe(0);
  const job = JSON.parse(view.stdoutText).jobs[0];
  const samples = job.memorySamples as [number, number][];

  expect(samples.length).toBeLessThanOrEqual(120);
  expect(samples.length).toBeGreaterThanOrEqual(20);
  for (const [i, [ms, bytes]] of samples.entries()) {
    expect(Number.isInteger(ms) && Number.isInteger(bytes)).toBe(true);
    if (i > 0) expect(ms).toBeGreaterThan(samples[i - 1]![0]);
  }
  // From the first poll (at the spawn, before python allocated) to the final sample (after its exit).
  expect(samples[0]![0]).toBeGreaterThanOrEqual(0);
  expect(samples[0]![1]).toBeLessThan(100 * MB);
  expect(samples.at(-1)![0]).toBeLessThanOrEqual(job.durationMs);
  expect(samples.at(-1)![0]).toBeGreaterThan(1500); // it held its memory for 1.5 s before exiting
  // Each point is the highest poll of its stretch, so the highest point is the recorded peak.
  const highest = Math.max(...samples.map(([, bytes]) => bytes));
  expect(highest).toBe(job.peakMemoryBytes);
  expect(highest).toBeGreaterThan(200 * MB);
  expect(highest).toBeLessThan(400 * MB);
  // The job file says the same as run.json.
  const file = JSON.parse(readFileSync(join(dir, "logs/runs", runId, "jobs/1.json"), "utf8"));
  expect(file.memorySamples).toEqual(samples);
}, 60_000);

test("run view draws a sparkline per job, scaled to its limit and saying so", async () => {
  const dir = tempProject();
  const { job } = await allocRun(dir);
  const view = await runSep(["run", "view"], { cwd: dir });
  expect(view.exitCode).toBe(0);
  expect(view.stdoutText).toContain("\nmemory over time\n");
  const match = SPARK.exec(view.stdoutText);
  expect(match).not.toBeNull();
  const bars = match![1]!;
  expect(Number(match![2])).toBe(Math.round(job.peakMemoryBytes / MB));
  // It starts low (python before its allocation) and climbs to about 200/512 of the limit: ▃ or ▄.
  expect(bars[0]).toBe("▁");
  expect(Math.max(...[...bars].map((bar) => "▁▂▃▄▅▆▇█".indexOf(bar)))).toBeOneOf([2, 3]);
}, 60_000);

test("a run recorded before sep kept samples views as before: no memory lines, the rest unchanged", async () => {
  const dir = tempProject();
  const { runId, runDir } = await allocRun(dir);
  const withSamples = (await runSep(["run", "view", runId], { cwd: dir })).stdoutText;

  // Take memorySamples out of every record, as a record written by an older sep.
  for (const path of [join(runDir, "run.json"), ...readdirSync(join(runDir, "jobs")).filter((name) => name.endsWith(".json")).map((name) => join(runDir, "jobs", name))]) {
    const record = JSON.parse(readFileSync(path, "utf8"));
    for (const job of record.jobs ?? [record]) delete job.memorySamples;
    writeFileSync(path, JSON.stringify(record));
  }
  const old = await runSep(["run", "view", runId], { cwd: dir });
  expect(old.exitCode).toBe(0);
  expect(old.stdoutText).not.toContain("memory over time");
  expect(old.stdoutText).not.toMatch(/[▁▂▃▄▅▆▇█]/);
  // Apart from the memory lines (and the age, which moves on), the view is the same.
  const strip = (text: string) => text.replace(/\nmemory over time\n[^\n]*\n/, "").replace(/\(.*ago\)|\(just now\)/, "");
  expect(strip(old.stdoutText)).toBe(strip(withSamples));
  expect(JSON.parse((await runSep(["run", "view", runId, "--json"], { cwd: dir })).stdoutText).jobs[0].memorySamples).toBeUndefined();
}, 60_000);
