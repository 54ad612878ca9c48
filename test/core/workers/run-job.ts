// The executor's in-process scenarios, each run in a bun process of its own: runJob makes its
// process the subreaper of every orphan below it, and a test runner that became one would adopt
// the leftovers of every later test. Prints one JSON line with what the scenario saw.
// usage: bun run-job.ts SCENARIO
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type JobControl, type JobSpec, runJob } from "../../../src/core/executor.ts";
import { descendants, readStat } from "../../../src/core/proc/index.ts";

const FIXTURES = join(import.meta.dir, "../../fixtures");

function spec(argv: string[], extra: Partial<JobSpec> = {}): JobSpec {
  return {
    id: `control-test-${process.pid}`,
    argv,
    cwd: process.cwd(),
    env: process.env,
    timeoutMs: 0,
    memoryLimitBytes: 0,
    checkIntervalMs: 100,
    killGraceMs: 500,
    ...extra,
  };
}

async function until<T>(probe: () => T | undefined | false, ms: number): Promise<T | undefined> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) return undefined;
    await Bun.sleep(10);
  }
}

const scenarios: Record<string, () => Promise<unknown>> = {
  // `sleep 1.5` with a 1 s limit, paused for 1 s: completes.
  async pausedOffTheClock() {
    const seen = { firstPause: false, secondPause: true, stopped: false, resumed: false, pausedAtEnd: true };
    let handle: JobControl | undefined;
    const result = await runJob(
      spec(["sleep", "1.5"], {
        timeoutMs: 1000,
        control: (job) => {
          handle = job;
          setTimeout(() => {
            seen.firstPause = job.pause();
            seen.secondPause = job.pause(); // already paused
          }, 200);
          // SIGSTOP takes effect when the kernel next schedules the process: look a little later.
          setTimeout(() => (seen.stopped = readStat(job.pgid)?.state === "T"), 500);
          setTimeout(() => (seen.resumed = job.resume()), 1200);
          return () => {};
        },
      }),
    );
    seen.pausedAtEnd = handle?.paused ?? true;
    return { ...seen, verdict: result.verdict, pausedMs: result.pausedMs };
  },
  async unpaused() {
    const result = await runJob(spec(["sleep", "1.5"], { timeoutMs: 1000 }));
    return { verdict: result.verdict, pausedMs: result.pausedMs };
  },
  async runningTimeStillLimited() {
    const started = Date.now();
    const result = await runJob(
      spec(["sleep", "5"], {
        timeoutMs: 500,
        control: (job) => {
          job.pause();
          setTimeout(() => job.resume(), 300);
        },
      }),
    );
    return { exitCode: result.verdict.exitCode, tookMs: Date.now() - started };
  },
  async wholeTreeStopped() {
    let states: string[] = [];
    const running = runJob(
      spec([join(FIXTURES, "spawn-tree.sh"), "3", "30"], {
        timeoutMs: 20_000,
        control: (job) => {
          void (async () => {
            await until(() => descendants(process.pid).length >= 7, 5000);
            job.pause();
            const tree = descendants(process.pid);
            await until(() => tree.every((pid) => readStat(pid)?.state === "T"), 2000);
            states = tree.map((pid) => readStat(pid)?.state ?? "?");
            job.resume();
            process.kill(-job.pgid, "SIGKILL");
          })();
          return () => {};
        },
      }),
    );
    await running;
    return { states };
  },
  async oomScore() {
    const before = readFileSync("/proc/self/oom_score_adj", "utf8").trim();
    let grandchildScore = "";
    let duringSpawn = "";
    const result = await runJob(
      spec([join(FIXTURES, "spawn-tree.sh"), "1", "30"], {
        timeoutMs: 20_000,
        onSpawn: () => {
          duringSpawn = readFileSync("/proc/self/oom_score_adj", "utf8").trim();
        },
        control: (job) => {
          void (async () => {
            // leader sh → subshell → sleep
            const grandchild = await until(() => descendants(job.pgid).find((pid) => readStat(pid)?.comm === "sleep"), 5000);
            grandchildScore = grandchild ? readFileSync(`/proc/${grandchild}/oom_score_adj`, "utf8").trim() : "";
            process.kill(-job.pgid, "SIGKILL");
          })();
          return () => {};
        },
      }),
    );
    return { signal: result.ending.signal, grandchildScore, duringSpawn, before, after: readFileSync("/proc/self/oom_score_adj", "utf8").trim() };
  },
};

const name = process.argv[2] ?? "";
const scenario = scenarios[name];
if (!scenario) {
  console.error(`unknown scenario ${name}; known: ${Object.keys(scenarios).join(", ")}`);
  process.exit(2);
}
console.log(JSON.stringify(await scenario()));
process.exit(0);
