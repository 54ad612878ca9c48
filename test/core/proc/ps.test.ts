import { afterEach, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fixture, killSpawned, spawnTracked, tempDir } from "../../helpers.ts";

const linux = process.platform === "linux";
const SRC = join(import.meta.dir, "../../../src/core");

afterEach(killSpawned);

describe.if(linux)("the ps fallback (SEP_PROC_BACKEND=ps), as used off Linux", () => {
  test("descendants, group, memory and liveness agree with /proc", async () => {
    using dir = tempDir();
    const script = join(dir.path, "fallback.ts");
    writeFileSync(
      script,
      `
      import { descendants, isAlive, processesInGroup, processStartTime, readStat, treeMemory, treePss } from ${JSON.stringify(join(SRC, "proc/index.ts"))};
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
