// Pressure: the pause/resume rules as a table, then real memory hogs under a tiny budget (given as
// a parameter, not the machine's memory): the most recent is SIGSTOPped, the oldest never is, and
// the paused one is continued when it becomes the oldest.
import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { MB } from "../../../src/core/governor/budget.ts";
import { readLedger } from "../../../src/core/governor/ledger.ts";
import { decidePressure, type PressureJob, type PressureView } from "../../../src/core/governor/pressure.ts";
import { isAlive, readStat, treeMemory } from "../../../src/core/proc/index.ts";
import { fixture, killSpawned, spawnTracked, type TempDir, tempDir, waitFor, waitForOutput } from "../../helpers.ts";

const dirs: TempDir[] = [];
afterEach(async () => {
  await killSpawned();
  for (const dir of dirs.splice(0)) dir.cleanup();
});

describe("decidePressure", () => {
  const now = 100_000;
  const job = (id: string, admittedAtMs: number, fields: Partial<PressureJob> = {}): PressureJob => ({
    id,
    state: "running",
    admittedAtMs,
    seq: admittedAtMs,
    reservationBytes: 100,
    memoryBytes: 100,
    sinceMs: admittedAtMs,
    started: true,
    ...fields,
  });
  const base = { availableBytes: 10_000, reserveBytes: 1000, budgetBytes: 1000, nowMs: now, settleMs: 2000 };
  const view = (selfId: string, jobs: PressureJob[], extra: Partial<PressureView> = {}): PressureView => ({ ...base, selfId, jobs, ...extra });
  const a = job("a", 1);
  const b = job("b", 2);
  const c = job("c", 3);
  const over = { memoryBytes: 600 };
  const cases: Array<[label: string, view: PressureView, action: string]> = [
    ["no pressure: nothing", view("c", [a, b, c]), "none"],
    ["over budget: the most recent is paused", view("c", [job("a", 1, over), b, job("c", 3, over)]), "pause"],
    ["over budget: not the others", view("b", [job("a", 1, over), b, job("c", 3, over)]), "none"],
    ["free memory below the reserve: the most recent", view("b", [a, b], { availableBytes: 500 }), "pause"],
    ["the oldest is never paused, even alone", view("a", [job("a", 1, { memoryBytes: 5000 })]), "none"],
    ["the oldest is never paused, even as the most recent of two left running", view("a", [job("a", 1, over), job("b", 2, { ...over, state: "paused", sinceMs: 0 })]), "none"],
    ["a job not yet spawned is skipped: the next most recent", view("b", [job("a", 1, over), job("b", 2, over), job("c", 3, { started: false })]), "pause"],
    ["a pause settling: no second pause", view("b", [job("a", 1, over), job("b", 2, over), job("c", 3, { state: "paused", sinceMs: now - 500 })]), "none"],
    ["after the settle time: the next victim", view("b", [job("a", 1, over), job("b", 2, over), job("c", 3, { state: "paused", sinceMs: now - 2500 })]), "pause"],
    ["paused and now the oldest: resumed, pressure or not", view("b", [job("b", 2, { state: "paused", memoryBytes: 5000 })]), "resume"],
    ["paused, still under pressure: stays", view("c", [job("a", 1, over), job("c", 3, { ...over, state: "paused" })]), "none"],
    [
      "paused, no pressure, room for its growth: resumed",
      view("c", [job("a", 1), job("c", 3, { state: "paused", reservationBytes: 300, memoryBytes: 100 })], { availableBytes: 1000 + 200 + 32 * MB }),
      "resume",
    ],
    [
      "paused, no pressure, but no room for its growth plus the margin",
      view("c", [job("a", 1), job("c", 3, { state: "paused", reservationBytes: 300, memoryBytes: 100 })], { availableBytes: 1000 + 200 }),
      "none",
    ],
    [
      "its growth would take the jobs over the budget: stays",
      view("c", [job("a", 1), job("c", 3, { state: "paused", reservationBytes: 1000, memoryBytes: 100 })], { availableBytes: 100 * MB }),
      "none",
    ],
    [
      "oldest paused first",
      view("c", [job("a", 1), job("b", 2, { state: "paused" }), job("c", 3, { state: "paused" })], { availableBytes: 100 * MB, budgetBytes: 100 * MB }),
      "none",
    ],
    [
      "the oldest paused resumes",
      view("b", [job("a", 1), job("b", 2, { state: "paused" }), job("c", 3, { state: "paused" })], { availableBytes: 100 * MB, budgetBytes: 100 * MB }),
      "resume",
    ],
  ];
  test.each(cases)("%s", (_label, input, action) => {
    expect(decidePressure(input).action).toBe(action as "none");
  });
});

describe.if(process.platform === "linux")("real memory hogs under a 170 MB budget", () => {
  test("the most recent is SIGSTOPped and resumed when it becomes the oldest; the oldest never stops", async () => {
    const dir = tempDir("sep-pressure-");
    dirs.push(dir);
    const stateDir = join(dir.path, "state");
    const timing = { pressurePollMs: 100, settleMs: 500 };
    const start = (id: string, reservationMb: number, mb: number, holdSeconds: number) =>
      spawnTracked(
        [
          process.execPath,
          join(import.meta.dir, "workers", "admit-run.ts"),
          JSON.stringify({ stateDir, id, budgetMb: 170, reserveMb: 0, reservationMb, argv: ["python3", fixture("alloc.py"), String(mb), "200", String(holdSeconds)], timing }),
        ],
        { detached: false },
      );
    // 60 + 100 MB reserved fits the 170 MB budget; 100 + 100 MB used does not. The oldest holds
    // its 100 MB before the newest starts, so the newest is paused on its way up; and while both
    // are there the newest's own reservation keeps it from resuming before it is the oldest.
    const oldest = start("oldest", 60, 100, 3);
    const oldestEntry = await waitFor(() => readLedger(stateDir).find((e) => e.id === "oldest" && e.pgid), 15_000, "the oldest runs");
    await waitForOutput(oldest.stderr, "alloc: holding", 15_000);
    const newest = start("newest", 100, 100, 0.5);

    let oldestStopped = false;
    let oldestPausedInLedger = false;
    let newestStopped = false;
    let newestPid: number | undefined;
    let oldestGoneAt: number | undefined;
    let newestResumedAt: number | undefined;
    let done = false;
    const exits = Promise.all([oldest.exited, newest.exited]).then(() => (done = true));
    while (!done) {
      const entries = readLedger(stateDir);
      const mine = entries.find((e) => e.id === "newest");
      if (mine?.pgid) newestPid = mine.pgid;
      if (entries.find((e) => e.id === "oldest")?.state === "paused") oldestPausedInLedger = true;
      if (readStat(oldestEntry.pgid!)?.state === "T") oldestStopped = true;
      if (newestPid && readStat(newestPid)?.state === "T" && mine?.state === "paused") newestStopped = true;
      if (newestStopped && mine?.state === "running") newestResumedAt ??= Date.now();
      // "gone": exited, or exiting (python hands its memory back before it dies)
      if (!isAlive(oldestEntry.pgid!) || treeMemory([oldestEntry.pgid!], 0).rssBytes < 50 * MB) oldestGoneAt ??= Date.now();
      await Bun.sleep(20);
    }
    await exits;
    const [oldestOut, newestOut, newestErr] = await Promise.all([new Response(oldest.stdout).text(), new Response(newest.stdout).text(), new Response(newest.stderr).text()]);
    expect(newestStopped).toBe(true);
    expect(oldestStopped).toBe(false);
    expect(oldestPausedInLedger).toBe(false);
    expect(newestErr).toContain("pressure: pause");
    // Resumed only once the oldest's job was gone: while it held its 100 MB, the two were over the
    // budget (20 ms: this loop's own sampling). (Its sep may still hold the admission for a moment: then "memory allows" is the
    // reason, else "it is the oldest admitted job".)
    expect(newestErr).toMatch(/pressure: resume \((it is the oldest admitted job|memory allows)\)/);
    expect(newestResumedAt).toBeDefined();
    expect(oldestGoneAt).toBeDefined();
    expect(newestResumedAt!).toBeGreaterThanOrEqual(oldestGoneAt! - 20);
    const oldestResult = JSON.parse(oldestOut);
    const newestResult = JSON.parse(newestOut);
    expect(oldestResult).toMatchObject({ exitCode: 0, pausedMs: 0 });
    // It was continued (it finished by itself, exit 0) and its paused time was counted.
    expect(newestResult.exitCode).toBe(0);
    expect(newestResult.pausedMs).toBeGreaterThan(0);
    expect(newestResult.admissionPausedMs).toBeGreaterThan(0);
    expect(isAlive(newestPid!)).toBe(false);
    expect(readLedger(stateDir)).toEqual([]);
  }, 60_000);
});
