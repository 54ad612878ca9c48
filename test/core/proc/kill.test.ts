import { afterEach, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { commandOf, descendants, findByMarker, isAlive, killTree, readStat, terminateTree } from "../../../src/core/proc/index.ts";
import { fixture, killSpawned, spawnTracked, tempDir, trackPid, waitFor, waitForOutput } from "../../helpers.ts";

const linux = process.platform === "linux";
const SRC = join(import.meta.dir, "../../../src/core");

afterEach(killSpawned);

describe.if(linux)("killTree", () => {
  test("killTree signals the group and ignores pids that are gone", async () => {
    const child = spawnTracked([fixture("spawn-tree.sh"), "3", "30"]);
    await waitForOutput(child.stdout, "ready");
    const tree = await waitFor(() => {
      const found = descendants(child.pid);
      return found.length === 6 && found;
    }, 5000, "6 descendants");
    expect(() => killTree({ pgid: child.pid, pids: [999_999_999], signal: "SIGKILL" })).not.toThrow();
    expect(await child.exited).toBe(137);
    await waitFor(() => tree.every((pid) => !isAlive(pid)), 5000, "the whole tree dead");
  });
});

describe.if(linux)("terminateTree", () => {
  test("TERM, grace, KILL: a TERM-ignoring shell and a tree all end, within grace + margin", async () => {
    const job = spawnTracked(["sh", "-c", `${fixture("spawn-tree.sh")} 3 30 & exec ${fixture("ignore-sigterm.sh")} 30`]);
    await waitForOutput(job.stdout, "ready"); // the trap is in place
    const tree = await waitFor(() => {
      const found = descendants(job.pid);
      return found.length >= 8 && found; // spawn-tree (1 + 6) and ignore-sigterm's sleep
    }, 5000, "the job's tree");

    // ignore-sigterm.sh keeps forking `sleep 1` and `date`, which may end by themselves before the
    // kill looks: the processes that must have been killed are the ones that last.
    const lasting = tree.filter((pid) => /spawn-tree\.sh|^sleep 30$/.test(commandOf(pid)));
    expect(lasting.length).toBeGreaterThanOrEqual(7);
    const graceMs = 300;
    const started = Date.now();
    const { killed, survivors } = await terminateTree({ pgid: job.pid, rootPid: process.pid, leaderPid: job.pid, graceMs });
    const tookMs = Date.now() - started;

    expect(killed).toEqual(expect.arrayContaining([job.pid, ...lasting]));
    expect(survivors).toEqual([]);
    expect(tookMs).toBeGreaterThanOrEqual(graceMs - 20); // the shell ignored TERM: the grace was waited out
    expect(tookMs).toBeLessThan(graceMs + 3000);
    expect(job.signalCode === "SIGKILL" || (await job.exited) === 137).toBe(true);
    for (const pid of [job.pid, ...tree]) expect(isAlive(pid)).toBe(false);
    expect(descendants(process.pid).filter(isAlive)).toEqual([]);
  });

  test("a tree that obeys TERM ends without waiting out the grace", async () => {
    const job = spawnTracked([fixture("spawn-tree.sh"), "4", "30"]);
    await waitForOutput(job.stdout, "ready");
    await waitFor(() => descendants(job.pid).length === 8, 5000, "8 descendants");
    const started = Date.now();
    const { killed } = await terminateTree({ pgid: job.pid, rootPid: process.pid, leaderPid: job.pid, graceMs: 10_000 });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(killed.length).toBe(9);
    expect(await job.exited).toBe(143);
  });

  test("the marker catches an escaped daemon", async () => {
    const marker = `term-${process.pid}-${Date.now()}`;
    const job = spawnTracked(["sh", "-c", "setsid -f sleep 30; exec sleep 30"], { env: { SEP_TEST_MARKER: marker } });
    // The daemon: the marked process that leads its own session (not setsid's short-lived parent).
    const [daemon] = await waitFor(() => {
      const found = findByMarker("SEP_TEST_MARKER", marker).filter((pid) => readStat(pid)?.session === pid);
      return found.length > 0 && found;
    }, 5000, "the daemon");
    trackPid(daemon!);
    const { killed } = await terminateTree({
      pgid: job.pid,
      rootPid: process.pid,
      leaderPid: job.pid,
      marker: { name: "SEP_TEST_MARKER", value: marker },
      graceMs: 1000,
    });
    expect(killed).toEqual(expect.arrayContaining([job.pid, daemon!]));
    await waitFor(() => !isAlive(daemon!), 5000, "the daemon dead");
  });

  test("as a subreaper (in a child bun): escaped daemons are found by the walk, killed, and reaped", async () => {
    // Run in a separate process: a subreaper test runner would adopt every orphan of later tests.
    using dir = tempDir();
    const script = join(dir.path, "subreaper.ts");
    writeFileSync(
      script,
      `
      import { becomeSubreaper } from ${JSON.stringify(join(SRC, "libc.ts"))};
      import { descendants, readStat, terminateTree } from ${JSON.stringify(join(SRC, "proc/index.ts"))};
      if (!becomeSubreaper()) throw new Error("prctl failed");
      // env -i: no marker survives, only the subreaper can find this one.
      const job = Bun.spawn(["sh", "-c", "setsid -f env -i sleep 31; setsid -f sleep 32; exit 0"], { detached: true });
      await job.exited;
      let daemons = [];
      for (let i = 0; i < 500 && daemons.length < 2; i++) {
        daemons = descendants(process.pid).filter((pid) => readStat(pid)?.comm === "sleep");
        await Bun.sleep(10);
      }
      const { killed } = await terminateTree({ pgid: job.pid, rootPid: process.pid, leaderPid: job.pid, graceMs: 500 });
      const left = daemons.map((pid) => readStat(pid)); // null once reaped: no zombie is left behind
      console.log(JSON.stringify({ daemons, killed, left }));
      `,
    );
    const probe = spawnTracked([process.execPath, script], { cwd: dir.path });
    const [out, err] = [await new Response(probe.stdout).text(), await new Response(probe.stderr).text()];
    expect(await probe.exited, err).toBe(0);
    const result = JSON.parse(out) as { daemons: number[]; killed: number[]; left: unknown[] };
    for (const pid of result.daemons) trackPid(pid);
    expect(result.daemons).toHaveLength(2);
    expect(result.killed).toEqual(expect.arrayContaining(result.daemons));
    expect(result.left).toEqual([null, null]);
  });
});
