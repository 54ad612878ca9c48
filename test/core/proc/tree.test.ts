import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { descendants, findByMarker, isAlive, processesInGroup, processStartTime, readStat, treeMemory, treePss } from "../../../src/core/proc/index.ts";
import { closeKept, type KeptFiles } from "../../../src/core/proc/reader.ts";
import { DescendantsWatch } from "../../../src/core/proc/tree.ts";
import { fixture, killSpawned, MiB, spawnTracked, trackPid, waitFor, waitForOutput } from "../../helpers.ts";

const linux = process.platform === "linux";

afterEach(killSpawned);

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
});

describe.if(linux)("watching a tree between polls", () => {
  test("a child and grandchild forked after the first look are found, and an unrelated fork is not counted", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sep-tree-watch-"));
    try {
      const go = join(dir, "go");
      // Waits (without forking) until `go` exists, then forks a subshell that forks a sleep.
      const child = spawnTracked(["sh", "-c", `echo ready; while ! [ -e ${go} ]; do :; done; ( sleep 30 & wait ) & echo forked; wait`]);
      await waitForOutput(child.stdout, "ready");
      const watch = new DescendantsWatch(child.pid);
      expect(watch.now()).toEqual([]);
      // Forks elsewhere on the machine take pids too; the tree is still empty.
      const other = spawnTracked(["sleep", "30"]);
      expect(watch.now()).toEqual([]);
      writeFileSync(go, "");
      const tree = await waitFor(() => {
        const found = watch.now();
        return found.length === 2 && found.some((pid) => readStat(pid)?.comm === "sleep") && found;
      }, 5000, "the subshell and its sleep");
      expect([...tree].sort()).toEqual(descendants(child.pid).sort());
      expect(tree).not.toContain(other.pid);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("statm files kept open are re-read in place, and closed once their process is gone", async () => {
    const kept: KeptFiles = new Map();
    const child = spawnTracked(["python3", "-c", "import time; b = b'x' * (64 << 20); print('ready', flush=True); time.sleep(30)"]);
    await waitForOutput(child.stdout, "ready");
    const first = treeMemory([child.pid], 0, kept).rssBytes;
    expect(first).toBeGreaterThan(64 * MiB);
    expect(kept.size).toBe(1);
    // Read from the kept file's bytes, the figure is the one a fresh open and parse gives (the
    // process only sleeps, so its resident pages stay put).
    expect(treeMemory([child.pid], 0, kept).rssBytes).toBe(treeMemory([child.pid]).rssBytes);
    process.kill(child.pid, "SIGKILL");
    await child.exited;
    expect(existsSync(`/proc/${child.pid}`)).toBe(false);
    expect(treeMemory([child.pid], 0, kept).rssBytes).toBe(0);
    expect(kept.size).toBe(0);
    treeMemory([process.pid], 0, kept);
    expect(kept.size).toBe(1);
    closeKept(kept);
    expect(kept.size).toBe(0);
    // No statm file is left open by this process.
    const open = readdirSync("/proc/self/fd").map((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        return "";
      }
    });
    expect(open.filter((target) => target.endsWith("/statm"))).toEqual([]);
  });
  test("walks from this process's own pid, through its kept children files, see each child come and go", async () => {
    const fdsOf = () =>
      readdirSync("/proc/self/fd").filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`).endsWith("/children");
        } catch {
          return false;
        }
      }).length;
    const first = spawnTracked(["sleep", "30"]);
    expect(descendants(process.pid)).toContain(first.pid);
    const kept = fdsOf();
    expect(kept).toBeGreaterThan(0); // one per thread of this process, kept from walk to walk
    process.kill(first.pid, "SIGKILL");
    await first.exited;
    expect(descendants(process.pid)).not.toContain(first.pid);
    const second = spawnTracked(["sleep", "30"]);
    const found = descendants(process.pid);
    expect(found).toContain(second.pid);
    expect(found).not.toContain(first.pid);
    // No file is opened again per walk: as many as threads, however many walks.
    for (let i = 0; i < 5; i++) descendants(process.pid);
    expect(fdsOf()).toBeLessThanOrEqual(readdirSync("/proc/self/task").length);
  });
});
