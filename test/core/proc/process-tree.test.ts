import { afterEach, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  commandOf,
  descendants,
  findByMarker,
  isAlive,
  killTree,
  pageSize,
  parsePss,
  parseStat,
  parseStatm,
  processesInGroup,
  processStartTime,
  readStat,
  terminateTree,
  treeMemory,
  treePss,
} from "../../../src/core/proc/process-tree.ts";
import { fixture, killSpawned, MiB, spawnTracked, tempDir, trackPid, waitFor, waitForOutput } from "../../helpers.ts";

const linux = process.platform === "linux";
const SRC = join(import.meta.dir, "../../../src/core");

afterEach(killSpawned);

describe("parseStat", () => {
  const tail = "S 1 100 100 0 -1 4194560 1 0 0 0 2 3 0 0 20 0 1 0 987654 1000 200 18446744073709551615";
  const cases: Array<[label: string, text: string, comm: string]> = [
    ["plain comm", `4321 (sleep) ${tail}`, "sleep"],
    ["comm with spaces", `4321 (Web Content) ${tail}`, "Web Content"],
    ["comm with ')' inside", `4321 (a) b) ${tail}`, "a) b"],
    ["comm that looks like fields", `4321 (x) S 9 9 9 (y) ${tail}`, "x) S 9 9 9 (y"],
    ["empty comm", `4321 () ${tail}`, ""],
  ];
  test.each(cases)("%s", (_label, text, comm) => {
    expect(parseStat(`${text}\n`)).toEqual({ pid: 4321, comm, state: "S", ppid: 1, pgrp: 100, session: 100, startTime: 987654 });
  });

  test.each([["empty", ""], ["no parens", "4321 sleep S 1"], ["truncated", "4321 (sleep) S 1 2"], ["bad pid", "abc (x) " + tail]])(
    "malformed (%s) is null",
    (_label, text) => {
      expect(parseStat(text)).toBeNull();
    },
  );

  test.if(linux)("reads this very process", () => {
    const stat = readStat(process.pid);
    expect(stat?.pid).toBe(process.pid);
    expect(stat?.ppid).toBe(process.ppid);
    expect(stat?.state).toMatch(/^[RS]$/);
  });
});

describe("parseStatm", () => {
  test.each([
    ["1000 25 10 5 0 50 0", 4096, 25 * 4096],
    ["1000 25 10 5 0 50 0\n", 16384, 25 * 16384],
    ["0 0 0 0 0 0 0", 4096, 0],
    ["", 4096, 0],
    ["garbage", 4096, 0],
  ] as const)("%j × %d", (text, page, bytes) => {
    expect(parseStatm(text, page)).toBe(bytes);
  });

  test.if(linux)("page size comes from auxv", () => {
    expect([4096, 16384, 65536]).toContain(pageSize());
  });
});

describe("parsePss", () => {
  const rollup = (pssLine: string) =>
    [
      "55a4c6e6b000-7ffd5e1f5000 ---p 00000000 00:00 0                          [rollup]",
      "Rss:              163404 kB",
      pssLine,
      "Pss_Dirty:         20500 kB",
      "Pss_Anon:          20480 kB",
      "Pss_File:           3388 kB",
      "Shared_Clean:       3448 kB",
    ].join("\n");
  test.each([
    ["Pss line", rollup("Pss:               23876 kB"), 23876 * 1024],
    ["zero", rollup("Pss:                   0 kB"), 0],
    ["no Pss line (only Pss_*)", rollup("Swap: 0 kB"), 0],
    ["empty", "", 0],
  ])("%s", (_label, text, bytes) => {
    expect(parsePss(text)).toBe(bytes);
  });
});

describe.if(linux)("reading processes", () => {
  test("a spawn-tree's descendants and group are all found", async () => {
    const child = spawnTracked([fixture("spawn-tree.sh"), "5", "30"]);
    await waitForOutput(child.stdout, "ready");
    const isSleep = (pid: number) => readStat(pid)?.comm === "sleep";
    // Counted once every forked subshell has exec'd its sleep.
    const tree = await waitFor(() => {
      const found = descendants(child.pid);
      return found.length === 10 && found.filter(isSleep).length === 5 && found;
    }, 5000, "10 descendants, 5 of them sleeping");
    expect(descendants(process.pid)).toEqual(expect.arrayContaining([child.pid, ...tree]));
    // detached: the child leads its own group
    expect(processesInGroup(child.pid).sort()).toEqual([child.pid, ...tree].sort());
  });

  test("descendants of a gone or bogus pid are empty, never an error", async () => {
    const child = spawnTracked(["true"]);
    await child.exited;
    expect(descendants(child.pid)).toEqual([]);
    expect(descendants(-5)).toEqual([]);
  });

  test("isAlive is false for a zombie, which kill(pid, 0) still reports", async () => {
    // sh forks `sleep 0`, then execs `sleep 30`, which never waits: `sleep 0` stays a zombie.
    const child = spawnTracked(["sh", "-c", "sleep 0 & exec sleep 30"]);
    const zombie = await waitFor(() => {
      const [pid] = descendants(child.pid);
      return pid !== undefined && readStat(pid)?.state === "Z" && pid;
    }, 5000, "a zombie child");
    expect(() => process.kill(zombie, 0)).not.toThrow();
    expect(isAlive(zombie)).toBe(false);
    expect(isAlive(child.pid)).toBe(true);
  });

  test("isAlive and processStartTime for this process and a gone one", async () => {
    expect(isAlive(process.pid)).toBe(true);
    const start = processStartTime(process.pid);
    expect(start).toBeGreaterThan(0);
    expect(processStartTime(process.pid)).toBe(start);
    const child = spawnTracked(["true"]);
    await child.exited;
    expect(isAlive(child.pid)).toBe(false);
    expect(processStartTime(child.pid)).toBeNull();
    expect(readStat(child.pid)).toBeNull();
    expect(isAlive(0)).toBe(false);
  });

  test("commandOf gives the argv, truncated, and comm for a zombie", async () => {
    const long = "x".repeat(300);
    const child = spawnTracked(["sh", "-c", "sleep 30; :", long]); // "; :" so sh cannot exec sleep in its place
    // Mid-execve comm is already "sh" while cmdline is still empty (commandOf then gives comm).
    const command = await waitFor(() => commandOf(child.pid).startsWith("sh -c ") && commandOf(child.pid), 5000, "sh exec'd");
    expect(command.startsWith("sh -c sleep 30; : xxx")).toBe(true);
    expect(command.length).toBeLessThanOrEqual(200);

    const parent = spawnTracked(["sh", "-c", "sleep 0 & exec sleep 30"]);
    const zombie = await waitFor(() => {
      const [pid] = descendants(parent.pid);
      return pid !== undefined && readStat(pid)?.state === "Z" && pid;
    }, 5000, "a zombie child");
    expect(commandOf(zombie)).toBe("sleep");
  });

  test("treeMemory sums statm RSS, biggest first; treePss ≤ RSS", async () => {
    const child = spawnTracked([fixture("alloc.py"), "60", "0", "30"]);
    await waitForOutput(child.stderr, "holding");
    const pids = [child.pid, ...descendants(child.pid), 999_999_999 /* gone: skipped */];
    const memory = treeMemory(pids);
    expect(memory.rssBytes).toBeGreaterThan(60 * MiB);
    expect(memory.processes[0]?.pid).toBe(child.pid);
    expect(memory.processes[0]?.command).toContain("alloc.py 60");
    expect(treeMemory(pids, 0).processes).toEqual([]);
    const pss = treePss(pids);
    expect(pss).toBeGreaterThan(50 * MiB);
    expect(pss).toBeLessThanOrEqual(treeMemory(pids).rssBytes);
  });

  test("findByMarker finds a double-forked setsid daemon that left the tree", async () => {
    const marker = `test-${process.pid}-${Date.now()}`;
    // setsid -f forks; the forked child calls setsid() and execs sleep; sh exits at once.
    const job = spawnTracked(["sh", "-c", "setsid -f sleep 30; exit 0"], { env: { SEP_TEST_MARKER: marker } });
    expect(await job.exited).toBe(0);
    const [daemon] = await waitFor(() => {
      const found = findByMarker("SEP_TEST_MARKER", marker).filter((pid) => readStat(pid)?.comm === "sleep");
      return found.length > 0 && found;
    }, 5000, "the daemon by its marker");
    trackPid(daemon!);
    expect(readStat(daemon!)?.comm).toBe("sleep");
    expect(readStat(daemon!)?.session).toBe(daemon!); // its own session: the job's group kill misses it
    expect(descendants(process.pid)).not.toContain(daemon); // not a subreaper here: it went to init
    expect(findByMarker("SEP_TEST_MARKER", marker.slice(0, -1))).toEqual([]); // whole entries only
  });

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

    const graceMs = 300;
    const started = Date.now();
    const { killed, survivors } = await terminateTree({ pgid: job.pid, rootPid: process.pid, leaderPid: job.pid, graceMs });
    const tookMs = Date.now() - started;

    expect(killed).toEqual(expect.arrayContaining([job.pid, ...tree]));
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
      import { descendants, readStat, terminateTree } from ${JSON.stringify(join(SRC, "proc/process-tree.ts"))};
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

describe.if(linux)("the ps fallback (SEP_PROC_BACKEND=ps), as used off Linux", () => {
  test("descendants, group, memory and liveness agree with /proc", async () => {
    using dir = tempDir();
    const script = join(dir.path, "fallback.ts");
    writeFileSync(
      script,
      `
      import { descendants, isAlive, processesInGroup, processStartTime, readStat, treeMemory, treePss } from ${JSON.stringify(join(SRC, "proc/process-tree.ts"))};
      const job = Bun.spawn([${JSON.stringify(fixture("spawn-tree.sh"))}, "3", "30"], { detached: true, stdout: "pipe" });
      let tree = [];
      for (let i = 0; i < 500 && tree.length < 6; i++) { tree = descendants(job.pid); await Bun.sleep(10); }
      const memory = treeMemory([job.pid, ...tree], 2);
      console.log(JSON.stringify({
        tree: tree.length,
        group: processesInGroup(job.pid).length,
        rss: memory.rssBytes,
        pss: treePss([job.pid, ...tree]),
        top: memory.processes.length,
        alive: isAlive(job.pid),
        stat: readStat(job.pid)?.pgrp === job.pid,
        start: processStartTime(job.pid) !== null,
      }));
      process.kill(-job.pid, "SIGKILL");
      `,
    );
    const probe = spawnTracked([process.execPath, script], { cwd: dir.path, env: { SEP_PROC_BACKEND: "ps" } });
    const [out, err] = [await new Response(probe.stdout).text(), await new Response(probe.stderr).text()];
    expect(await probe.exited, err).toBe(0);
    const result = JSON.parse(out);
    expect(result).toMatchObject({ tree: 6, group: 7, top: 2, alive: true, stat: true, start: true });
    expect(result.rss).toBeGreaterThan(0);
    expect(result.pss).toBe(result.rss); // no PSS off Linux
  });
});
