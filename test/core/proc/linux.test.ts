import { afterEach, describe, expect, test } from "bun:test";
import { commandOf, descendants, pageSize, readStat } from "../../../src/core/proc/index.ts";
import { killSpawned, spawnTracked, waitFor } from "../../helpers.ts";

const linux = process.platform === "linux";

afterEach(killSpawned);

describe.if(linux)("the /proc backend", () => {
  test.if(linux)("reads this very process", () => {
    const stat = readStat(process.pid);
    expect(stat?.pid).toBe(process.pid);
    expect(stat?.ppid).toBe(process.ppid);
    expect(stat?.state).toMatch(/^[RS]$/);
  });

  test.if(linux)("page size comes from auxv", () => {
    expect([4096, 16384, 65536]).toContain(pageSize());
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
});
