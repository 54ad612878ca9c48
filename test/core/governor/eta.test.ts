// ETAs on real files: learned profiles written by the governor's own writer, run records written by
// their one owner (RunRecorder); and the line arithmetic, table-tested.
import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { etaReader, expectedStarts } from "../../../src/core/governor/eta.ts";
import { commandKey, recordProfileRun, relativeCwd, repositoryKey } from "../../../src/core/governor/profiles.ts";
import { RunRecorder } from "../../../src/core/records/recorder.ts";
import { type TempDir, tempDir } from "../../helpers.ts";

const dirs: TempDir[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) dir.cleanup();
});
function temp(): string {
  const dir = tempDir("sep-eta-");
  dirs.push(dir);
  return dir.path;
}

const S = 1000;

describe("expectedStarts: when each waiting job of a line starts", () => {
  const slot = (leftMs: number | null) => ({ leftMs, size: 1 });
  const job = (expectedMs: number | null, size = 1) => ({ expectedMs, size });
  const cases: { name: string; capacity: number; running: { leftMs: number | null; size: number }[]; waiting: { expectedMs: number | null; size: number }[]; starts: (number | null)[] }[] = [
    { name: "one slot: the holder's rest, then each job ahead in turn", capacity: 1, running: [slot(30 * S)], waiting: [job(10 * S), job(20 * S), job(5 * S)], starts: [30 * S, 40 * S, 60 * S] },
    { name: "a holder of unknown length: nobody's start is known", capacity: 1, running: [slot(null)], waiting: [job(10 * S), job(10 * S)], starts: [null, null] },
    { name: "a job ahead of unknown length: known up to it, unknown behind it", capacity: 1, running: [slot(5 * S)], waiting: [job(null), job(10 * S)], starts: [5 * S, null] },
    { name: "two slots, one holder of unknown length: the other slot carries the line", capacity: 2, running: [slot(30 * S), slot(null)], waiting: [job(10 * S), job(10 * S)], starts: [30 * S, 40 * S] },
    { name: "a free slot: the first job starts at once", capacity: 2, running: [slot(null)], waiting: [job(10 * S), job(10 * S)], starts: [0, 10 * S] },
    {
      name: "first come, first served: a later job that would fit now still starts after the one ahead of it",
      capacity: 300,
      running: [{ leftMs: 20 * S, size: 200 }],
      waiting: [job(10 * S, 150), job(10 * S, 50)],
      starts: [20 * S, 20 * S],
    },
    {
      name: "memory: a job waits until its reservation fits the budget",
      capacity: 300,
      running: [{ leftMs: 20 * S, size: 250 }],
      waiting: [job(10 * S, 200), job(10 * S, 50)],
      starts: [20 * S, 20 * S],
    },
    {
      name: "memory: a job larger than the budget runs alone, and the one behind it waits for it",
      capacity: 300,
      running: [{ leftMs: 20 * S, size: 50 }],
      waiting: [job(10 * S, 500), job(10 * S, 50)],
      starts: [20 * S, 30 * S],
    },
    { name: "nobody waits", capacity: 1, running: [slot(5 * S)], waiting: [], starts: [] },
  ];
  for (const c of cases) test(c.name, () => expect(expectedStarts(c.capacity, c.running, c.waiting)).toEqual(c.starts));
});

describe("etaReader on real files", () => {
  /** A project, its machine state dir, and how to teach either source a duration. */
  function setup() {
    const root = temp();
    const stateDir = temp();
    const logDir = join(root, "logs");
    const cwd = join(root, "pkg");
    mkdirSync(cwd);
    const profile = (argv: string[], ...durations: number[]) => {
      const repo = repositoryKey(root);
      for (const durationMs of durations) {
        recordProfileRun({
          key: commandKey(repo, argv, relativeCwd(root, cwd)),
          repositoryKey: repo,
          argv,
          cwd: relativeCwd(root, cwd),
          run: { peakBytes: 1, durationMs, finishedAt: new Date().toISOString() },
          stateDir,
        });
      }
    };
    /** One recorded run of argv in `where`: its job ends as `conclusion` after durationMs (pausedMs of it paused). */
    const record = (argv: string[], durationMs: number, options: { where?: string; conclusion?: "success" | "failure" | "cancelled"; pausedMs?: number } = {}) => {
      const recorder = new RunRecorder({ logDir, keepRuns: 0, title: argv.join(" ") });
      recorder.open();
      const job = recorder.addJob({ name: argv.join(" "), argv, cwd: options.where ?? cwd, limits: { timeoutMs: null, memoryLimitBytes: null } });
      const startedAt = new Date(Date.now() - durationMs);
      // Paused time is kept in the record only for a job the governor admitted.
      const admission = options.pausedMs === undefined ? undefined : { reservationBytes: 1, reservationSource: "limit" as const, budgetBytes: 1, waitedMs: 0 };
      recorder.started(job, startedAt, admission);
      recorder.completed(job, {
        conclusion: options.conclusion ?? "success",
        exitCode: options.conclusion === "failure" ? 1 : options.conclusion === "cancelled" ? 130 : 0,
        signal: null,
        startedAt,
        completedAt: new Date(startedAt.getTime() + durationMs),
        peakMemoryBytes: 1,
        ...(options.pausedMs === undefined ? {} : { pausedMs: options.pausedMs }),
      });
      recorder.finish();
    };
    return { root, stateDir, logDir, cwd, profile, record, job: (argv: string[]) => ({ argv, cwd, projectRoot: root, logDir }) };
  }

  test("the governor's profile: the median of its runs", () => {
    const p = setup();
    p.profile(["pytest"], 1 * S, 5 * S, 3 * S);
    p.profile(["ruff"], 2 * S, 4 * S);
    const eta = etaReader({ stateDir: p.stateDir });
    expect(eta.expectedDurationMs(p.job(["pytest"]))).toBe(3 * S);
    expect(eta.expectedDurationMs(p.job(["ruff"]))).toBe(3 * S);
  });

  test("no profile: the project's records of the same argv and cwd, runs that did not say how long it takes left out", () => {
    const p = setup();
    p.record(["pytest"], 2 * S);
    p.record(["pytest"], 4 * S, { conclusion: "failure" });
    p.record(["pytest"], 9 * S, { pausedMs: 3 * S }); // 6 s of running
    p.record(["pytest"], 100 * S, { conclusion: "cancelled" });
    p.record(["pytest"], 100 * S, { where: p.root }); // another cwd: another command
    p.record(["pytest", "-x"], 100 * S);
    const eta = etaReader({ stateDir: p.stateDir });
    expect(eta.expectedDurationMs(p.job(["pytest"]))).toBe(4 * S);
  });

  test("a profile wins over the records; with neither, or without a log dir to fall back on, nothing is known", () => {
    const p = setup();
    p.profile(["pytest"], 7 * S);
    p.record(["pytest"], 1 * S);
    p.record(["mypy"], 1 * S);
    const eta = etaReader({ stateDir: p.stateDir });
    expect(eta.expectedDurationMs(p.job(["pytest"]))).toBe(7 * S);
    expect(eta.expectedDurationMs(p.job(["tsc"]))).toBeNull();
    expect(eta.expectedDurationMs({ argv: ["mypy"], cwd: p.cwd, projectRoot: p.root })).toBeNull();
  });

  test("leftMs: what is left of a running job; null once it runs longer than usual; all of it before it starts", () => {
    const p = setup();
    p.profile(["pytest"], 10 * S);
    const now = Date.now();
    const eta = etaReader({ stateDir: p.stateDir, now });
    const since = (ms: number) => new Date(now - ms).toISOString();
    expect(eta.leftMs({ ...p.job(["pytest"]), startedAt: since(4 * S) })).toBe(6 * S);
    expect(eta.leftMs({ ...p.job(["pytest"]), startedAt: since(11 * S) })).toBeNull();
    expect(eta.leftMs({ ...p.job(["pytest"]), startedAt: null })).toBe(10 * S);
    expect(eta.leftMs({ ...p.job(["tsc"]), startedAt: since(1 * S) })).toBeNull();
  });

  test("startsInMs: a holder's rest plus the jobs ahead, from both sources", () => {
    const p = setup();
    p.profile(["pytest"], 10 * S);
    p.record(["ruff"], 3 * S);
    const now = Date.now();
    const eta = etaReader({ stateDir: p.stateDir, now });
    const holder = { ...p.job(["pytest"]), startedAt: new Date(now - 4 * S).toISOString() };
    expect(eta.startsInMs({ capacity: 1, running: [holder], waiting: [p.job(["ruff"]), p.job(["tsc"]), p.job(["ruff"])] })).toEqual([6 * S, 9 * S, null]);
  });
});
