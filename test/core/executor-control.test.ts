// The executor's hold for the governor: pause/resume of the whole tree with paused time off the
// time limit, signals to a sep whose job is paused (the tree dies, nothing stays stopped), and
// oom_score_adj 1000 on every process of a job tree.
import { afterEach, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { isAlive, readStat } from "../../src/core/proc/index.ts";
import { fixture, killSpawned, spawnTracked, tempDir, trackPid, waitFor, waitForOutput } from "../helpers.ts";

const linux = process.platform === "linux";
afterEach(killSpawned);

/** Run one of workers/run-job.ts's scenarios in a bun of its own (runJob makes its process a subreaper). */
async function scenario<T>(name: string): Promise<T> {
  const child = spawnTracked([process.execPath, join(import.meta.dir, "workers/run-job.ts"), name], { detached: false });
  const [code, out, err] = await Promise.all([child.exited, new Response(child.stdout).text(), new Response(child.stderr).text()]);
  if (code !== 0) throw new Error(`scenario ${name} exited ${code}: ${err}`);
  return JSON.parse(out.trim().split("\n").at(-1)!) as T;
}

describe.if(linux)("pause and resume", () => {
  test("paused time does not count against --timeout: `sleep 1.5` with a 1 s limit, paused for 1 s, completes", async () => {
    const seen = await scenario<{ firstPause: boolean; secondPause: boolean; stopped: boolean; resumed: boolean; pausedAtEnd: boolean; verdict: unknown; pausedMs: number }>("pausedOffTheClock");
    expect(seen.firstPause).toBe(true);
    expect(seen.secondPause).toBe(false); // already paused
    expect(seen.stopped).toBe(true);
    expect(seen.resumed).toBe(true);
    expect(seen.pausedAtEnd).toBe(false);
    expect(seen.verdict).toMatchObject({ conclusion: "success", exitCode: 0 });
    expect(seen.pausedMs).toBeGreaterThanOrEqual(900);
  });

  test("the yardstick: the same job unpaused is killed at 1 s", async () => {
    const seen = await scenario<{ verdict: unknown; pausedMs: number }>("unpaused");
    expect(seen.verdict).toMatchObject({ conclusion: "timed_out", exitCode: 124 });
    expect(seen.pausedMs).toBe(0);
  });

  test("the time limit still applies to running time: paused 0.3 s, a 0.5 s limit kills `sleep 5` after ~0.8 s", async () => {
    const seen = await scenario<{ exitCode: number; tookMs: number }>("runningTimeStillLimited");
    expect(seen.exitCode).toBe(124);
    expect(seen.tookMs).toBeGreaterThanOrEqual(750);
  });

  test("every process of the tree is stopped, not only the group", async () => {
    const { states } = await scenario<{ states: string[] }>("wholeTreeStopped");
    expect(states.length).toBeGreaterThanOrEqual(7);
    expect(new Set(states)).toEqual(new Set(["T"]));
  });
});

describe.if(linux)("a signal to sep while its job is paused", () => {
  test.each([
    ["SIGINT, a tree of shells and sleeps", "SIGINT", 130, [fixture("spawn-tree.sh"), "2", "30"]],
    ["SIGTERM, a shell that ignores SIGTERM (killed after the grace)", "SIGTERM", 143, [fixture("ignore-sigterm.sh"), "30"]],
  ] as const)("%s: the tree is killed, nothing is left stopped, sep exits %d", async (_label, signal, code, job) => {
    const sep = spawnTracked([process.execPath, join(import.meta.dir, "workers/paused-sep.ts"), "300", ...job], { detached: false });
    // The job's own output ("ready") comes through the same stdout.
    const out = await waitForOutput(sep.stdout, "]}\n", 15_000);
    const { pids } = JSON.parse(out.slice(out.indexOf('{"pids"'))) as { pids: number[] };
    for (const pid of pids) trackPid(pid);
    expect(pids.length).toBeGreaterThanOrEqual(1);
    await waitFor(() => pids.every(stoppedOrDone), 5000, "the whole tree is stopped");
    sep.kill(signal);
    expect(await sep.exited).toBe(code);
    // Gone, or at worst a zombie for a moment: never alive, never stopped.
    await waitFor(() => pids.every((pid) => !isAlive(pid)), 5000, "the tree is gone");
    expect(pids.filter((pid) => readStat(pid)?.state === "T")).toEqual([]);
  }, 30_000);
});

/**
 * Stopped, or already done: a `sleep 0.1` of the job's loop that exited just before the SIGSTOP is a
 * zombie (or gone) in the list of the paused tree, and can run no more either.
 */
function stoppedOrDone(pid: number): boolean {
  const state = readStat(pid)?.state;
  return state === undefined || state === "T" || state === "Z";
}

describe.if(linux)("a paused job's SIGTERM is delivered during the grace", () => {
  test("its TERM trap runs (the tree was continued), rather than a SIGKILL after the grace", async () => {
    const dir = tempDir("sep-paused-trap-");
    try {
      const marker = join(dir.path, "cleaned");
      const script = `trap 'echo cleaned > "${marker}"; exit 0' TERM; echo ready; while :; do sleep 0.1; done`;
      const sep = spawnTracked([process.execPath, join(import.meta.dir, "workers/paused-sep.ts"), "10000", "sh", "-c", script], { detached: false });
      const out = await waitForOutput(sep.stdout, "]}\n", 15_000);
      const { pids } = JSON.parse(out.slice(out.indexOf('{"pids"'))) as { pids: number[] };
      await waitFor(() => pids.every(stoppedOrDone), 5000, "the tree is stopped");
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
    const seen = await scenario<{ signal: string; grandchildScore: string; duringSpawn: string; before: string; after: string }>("oomScore");
    expect(seen.signal).toBe("SIGKILL");
    expect(seen.grandchildScore).toBe("1000");
    expect(seen.duringSpawn).toBe(seen.before); // restored right after the spawn, before onSpawn
    expect(seen.after).toBe(seen.before);
  });
});
