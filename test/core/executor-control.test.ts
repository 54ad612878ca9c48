// The executor's hold for the governor: pause/resume of the whole tree with paused time off the
// time limit, signals to a sep whose job is paused (the tree dies, nothing stays stopped), and
// oom_score_adj 1000 on every process of a job tree.
import { afterEach, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type JobControl, type JobSpec, runJob } from "../../src/core/executor.ts";
import { descendants, isAlive, readStat } from "../../src/core/proc/index.ts";
import { fixture, killSpawned, spawnTracked, tempDir, trackPid, waitFor, waitForOutput } from "../helpers.ts";

const linux = process.platform === "linux";
afterEach(killSpawned);

function spec(argv: string[], extra: Partial<JobSpec> = {}): JobSpec {
  return {
    id: `control-test-${process.pid}-${Math.random().toString(36).slice(2)}`,
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

describe.if(linux)("pause and resume", () => {
  test("paused time does not count against --timeout: `sleep 1.5` with a 1 s limit, paused for 1 s, completes", async () => {
    let stoppedSeen = false;
    let handle: JobControl | undefined;
    const result = await runJob(
      spec(["sleep", "1.5"], {
        timeoutMs: 1000,
        control: (job) => {
          handle = job;
          setTimeout(() => {
            expect(job.pause()).toBe(true);
            expect(job.pause()).toBe(false); // already paused
          }, 200);
          // SIGSTOP takes effect when the kernel next schedules the process: look a little later.
          setTimeout(() => (stoppedSeen = readStat(job.pgid)?.state === "T"), 500);
          setTimeout(() => expect(job.resume()).toBe(true), 1200);
          return () => {};
        },
      }),
    );
    expect(stoppedSeen).toBe(true);
    expect(handle?.paused).toBe(false);
    expect(result.verdict).toMatchObject({ conclusion: "success", exitCode: 0 });
    expect(result.pausedMs).toBeGreaterThanOrEqual(900);
  });

  test("the yardstick: the same job unpaused is killed at 1 s", async () => {
    const result = await runJob(spec(["sleep", "1.5"], { timeoutMs: 1000 }));
    expect(result.verdict).toMatchObject({ conclusion: "timed_out", exitCode: 124 });
    expect(result.pausedMs).toBe(0);
  });

  test("the time limit still applies to running time: paused 0.3 s, a 0.5 s limit kills `sleep 5` after ~0.8 s", async () => {
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
    expect(result.verdict.exitCode).toBe(124);
    expect(Date.now() - started).toBeGreaterThanOrEqual(750);
  });

  test("every process of the tree is stopped, not only the group", async () => {
    let states: string[] = [];
    let release: () => void = () => {};
    const done = new Promise<void>((resolve) => (release = resolve));
    const running = runJob(
      spec([fixture("spawn-tree.sh"), "3", "30"], {
        timeoutMs: 20_000,
        control: (job) => {
          void (async () => {
            await waitFor(() => descendants(process.pid).length >= 7, 5000, "the tree is up");
            job.pause();
            // A stop lands when the kernel next schedules each process: give it a moment.
            const tree = descendants(process.pid);
            await waitFor(() => tree.every((pid) => readStat(pid)?.state === "T"), 2000, "all stopped").catch(() => {});
            states = tree.map((pid) => readStat(pid)?.state ?? "?");
            job.resume();
            release();
          })();
          return () => {};
        },
      }),
    );
    await done;
    expect(states.length).toBeGreaterThanOrEqual(7);
    expect(new Set(states)).toEqual(new Set(["T"]));
    // end it: SIGTERM to the group via the abort path
    const pgid = descendants(process.pid)[0]!;
    process.kill(-pgid, "SIGKILL");
    await running;
  });
});

describe.if(linux)("a signal to sep while its job is paused", () => {
  test.each([
    ["SIGINT, a tree of shells and sleeps", "SIGINT", 130, [fixture("spawn-tree.sh"), "2", "30"]],
    ["SIGTERM, a shell that ignores SIGTERM (killed after the grace)", "SIGTERM", 143, [fixture("ignore-sigterm.sh"), "30"]],
  ] as const)("%s: the tree is killed, nothing is left stopped, sep exits %d", async (_label, signal, code, job) => {
    const sep = spawnTracked([process.execPath, join(import.meta.dir, "executor-paused-worker.ts"), "300", ...job], { detached: false });
    // The job's own output ("ready") comes through the same stdout.
    const out = await waitForOutput(sep.stdout, "]}\n", 15_000);
    const { pids } = JSON.parse(out.slice(out.indexOf('{"pids"'))) as { pids: number[] };
    for (const pid of pids) trackPid(pid);
    expect(pids.length).toBeGreaterThanOrEqual(1);
    await waitFor(() => pids.every((pid) => readStat(pid)?.state === "T"), 5000, "the whole tree is stopped");
    sep.kill(signal);
    expect(await sep.exited).toBe(code);
    // Gone, or at worst a zombie for a moment: never alive, never stopped.
    await waitFor(() => pids.every((pid) => !isAlive(pid)), 5000, "the tree is gone");
    expect(pids.filter((pid) => readStat(pid)?.state === "T")).toEqual([]);
  }, 30_000);
});

describe.if(linux)("a paused job's SIGTERM is delivered during the grace", () => {
  test("its TERM trap runs (the tree was continued), rather than a SIGKILL after the grace", async () => {
    const dir = tempDir("sep-paused-trap-");
    try {
      const marker = join(dir.path, "cleaned");
      const script = `trap 'echo cleaned > "${marker}"; exit 0' TERM; echo ready; while :; do sleep 0.1; done`;
      const sep = spawnTracked([process.execPath, join(import.meta.dir, "executor-paused-worker.ts"), "10000", "sh", "-c", script], { detached: false });
      const out = await waitForOutput(sep.stdout, "]}\n", 15_000);
      const { pids } = JSON.parse(out.slice(out.indexOf('{"pids"'))) as { pids: number[] };
      await waitFor(() => pids.every((pid) => readStat(pid)?.state === "T"), 5000, "the tree is stopped");
      sep.kill("SIGTERM");
      expect(await sep.exited).toBe(143);
      expect(readFileSync(marker, "utf8")).toBe("cleaned\n");
    } finally {
      dir.cleanup();
    }
  }, 30_000);
});

describe.if(linux)("oom_score_adj", () => {
  test("a job's grandchild has oom_score_adj 1000; sep's own value is unchanged", async () => {
    const before = readFileSync("/proc/self/oom_score_adj", "utf8").trim();
    let grandchildScore = "";
    let duringSpawn = "";
    const result = await runJob(
      spec([fixture("spawn-tree.sh"), "1", "30"], {
        timeoutMs: 20_000,
        onSpawn: () => {
          duringSpawn = readFileSync("/proc/self/oom_score_adj", "utf8").trim();
        },
        control: (job) => {
          void (async () => {
            // leader sh → subshell → sleep
            const grandchild = await waitFor(() => descendants(job.pgid).find((pid) => readStat(pid)?.comm === "sleep"), 5000, "the grandchild");
            grandchildScore = readFileSync(`/proc/${grandchild}/oom_score_adj`, "utf8").trim();
            process.kill(-job.pgid, "SIGKILL");
          })();
          return () => {};
        },
      }),
    );
    expect(result.ending.signal).toBe("SIGKILL");
    expect(grandchildScore).toBe("1000");
    expect(duringSpawn).toBe(before); // restored right after the spawn, before onSpawn
    expect(readFileSync("/proc/self/oom_score_adj", "utf8").trim()).toBe(before);
  });
});
