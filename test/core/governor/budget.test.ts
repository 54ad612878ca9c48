// The budget's arithmetic and parsers, table-driven; the config keys that feed it; and one look at
// the real machine (read-only).
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveConfig } from "../../../src/config.ts";
import {
  availableBytes,
  cgroupLimit,
  cgroupMemoryDirs,
  computeBudget,
  type MachineMemory,
  MB,
  parseInactiveFile,
  parseLimit,
  parseMeminfo,
  readMachineMemory,
} from "../../../src/core/governor/budget.ts";
import { ConfigError } from "../../../src/errors.ts";

const GB = 1024 * MB;
const machine = (totalBytes: number, cgroupLimitBytes: number | null = null, memAvailableBytes = totalBytes): MachineMemory => ({
  totalBytes,
  memAvailableBytes,
  cgroupLimitBytes,
  cgroupFreeBytes: cgroupLimitBytes,
});

describe("computeBudget", () => {
  const cases: Array<[label: string, budgetMb: "auto" | number, reserveMb: "auto" | number, memory: MachineMemory, budget: number, reserve: number, why: string]> = [
    ["auto on 16 GB: 10 % reserve", "auto", "auto", machine(16 * GB), 16 * GB - Math.round(1.6 * GB), Math.round(1.6 * GB), "auto: MemTotal 16.0 GB − reserve 1.6 GB"],
    ["auto on 4 GB: reserve at least 512 MB", "auto", "auto", machine(4 * GB), 4 * GB - 512 * MB, 512 * MB, "auto: MemTotal 4.0 GB − reserve 512 MB"],
    ["a cgroup limit below MemTotal wins", "auto", "auto", machine(24 * GB, 4 * GB), 4 * GB - 512 * MB, 512 * MB, "auto: cgroup limit 4.0 GB − reserve 512 MB"],
    ["a cgroup limit above MemTotal is ignored", "auto", "auto", machine(2 * GB, 8 * GB), 2 * GB - 512 * MB, 512 * MB, "auto: MemTotal 2.0 GB − reserve 512 MB"],
    ["a tiny container: the reserve is at most half", "auto", "auto", machine(768 * MB), 384 * MB, 384 * MB, "auto: MemTotal 768 MB − reserve 384 MB"],
    ["a given reserve", "auto", 1024, machine(8 * GB), 7 * GB, 1024 * MB, "auto: MemTotal 8.0 GB − reserve 1.0 GB"],
    ["a reserve over the memory: auto never means off", "auto", 9000, machine(8 * GB), 64 * MB, 9000 * MB, "auto: MemTotal 8.0 GB − reserve 8.8 GB (raised to the minimum 64 MB)"],
    ["a given budget, taken as is", 300, "auto", machine(8 * GB), 300 * MB, Math.round(0.8 * GB), "memoryBudgetMb 300"],
    ["0 = off", 0, "auto", machine(8 * GB), 0, Math.round(0.8 * GB), "off (memoryBudgetMb 0)"],
  ];
  test.each(cases)("%s", (_label, budgetMb, reserveMb, memory, budget, reserve, why) => {
    const result = computeBudget({ budgetMb, reserveMb }, memory);
    expect(result.budgetBytes).toBe(budget);
    expect(result.reserveBytes).toBe(reserve);
    expect(result.why).toBe(why);
  });
});

describe("availableBytes", () => {
  test.each([
    ["no cgroup: MemAvailable", { totalBytes: 8 * GB, memAvailableBytes: 5 * GB, cgroupLimitBytes: null, cgroupFreeBytes: null }, 5 * GB],
    ["cgroup room smaller", { totalBytes: 8 * GB, memAvailableBytes: 5 * GB, cgroupLimitBytes: 4 * GB, cgroupFreeBytes: 1 * GB }, 1 * GB],
    ["cgroup room larger", { totalBytes: 8 * GB, memAvailableBytes: 2 * GB, cgroupLimitBytes: 4 * GB, cgroupFreeBytes: 3 * GB }, 2 * GB],
  ] as const)("%s", (_label, memory, expected) => {
    expect(availableBytes(memory)).toBe(expected);
  });
});

describe("parsers", () => {
  test("meminfo", () => {
    const text = "MemTotal:       24684640 kB\nMemFree:        22295332 kB\nMemAvailable:   23112520 kB\nBuffers: 1 kB\n";
    expect(parseMeminfo(text)).toEqual({ totalBytes: 24684640 * 1024, memAvailableBytes: 23112520 * 1024 });
    expect(parseMeminfo("MemTotal: 100 kB\nMemFree: 40 kB\n")).toEqual({ totalBytes: 102400, memAvailableBytes: 40960 });
    expect(parseMeminfo("")).toEqual({ totalBytes: 0, memAvailableBytes: 0 });
  });

  test.each([
    ["max\n", null],
    ["9223372036854771712\n", null],
    ["9223372036854710272", null],
    ["4294967296\n", 4294967296],
    ["", null],
    ["junk", null],
  ] as const)("limit %j", (text, expected) => {
    expect(parseLimit(text)).toBe(expected);
  });

  test("inactive_file, v2 and v1", () => {
    expect(parseInactiveFile("anon 10\nfile 20\ninactive_file 300\nactive_file 5\n")).toBe(300);
    expect(parseInactiveFile("cache 1\ninactive_file 7\ntotal_inactive_file 900\n")).toBe(7);
    expect(parseInactiveFile("total_inactive_file 900\n")).toBe(900);
    expect(parseInactiveFile("")).toBe(0);
  });
});

describe("cgroupMemoryDirs", () => {
  const hybridMounts = [
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu",
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory",
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw",
  ].join("\n");
  test("v1 memory hierarchy plus a hybrid v2 mount, leaf first, every ancestor", () => {
    const cgroup = "9:systemd:/\n4:memory:/a/b\n1:cpu:/\n0::/\n";
    expect(cgroupMemoryDirs(cgroup, hybridMounts)).toEqual([
      { version: 1, dir: "/sys/fs/cgroup/memory/a/b" },
      { version: 1, dir: "/sys/fs/cgroup/memory/a" },
      { version: 1, dir: "/sys/fs/cgroup/memory" },
      { version: 2, dir: "/sys/fs/cgroup/unified" },
    ]);
  });
  test("pure v2, with no mountinfo: the usual mount point", () => {
    expect(cgroupMemoryDirs("0::/user.slice/user-1000.slice/session-2.scope\n")).toEqual([
      { version: 2, dir: "/sys/fs/cgroup/user.slice/user-1000.slice/session-2.scope" },
      { version: 2, dir: "/sys/fs/cgroup/user.slice/user-1000.slice" },
      { version: 2, dir: "/sys/fs/cgroup/user.slice" },
      { version: 2, dir: "/sys/fs/cgroup" },
    ]);
  });
  test("a mount whose root is a sub-tree (a container), and joined controllers", () => {
    const mounts = "50 40 0:40 /docker/abc /sys/fs/cgroup/memory ro - cgroup cgroup rw,memory,hugetlb";
    expect(cgroupMemoryDirs("5:hugetlb,memory:/docker/abc/inner\n", mounts)).toEqual([
      { version: 1, dir: "/sys/fs/cgroup/memory/inner" },
      { version: 1, dir: "/sys/fs/cgroup/memory" },
    ]);
  });
});

describe("cgroupLimit: the tightest ancestor wins", () => {
  test.each([
    ["no level limited", [{ limitBytes: null, usageBytes: 5, inactiveFileBytes: 0 }], null, null],
    ["leaf only", [{ limitBytes: 4 * GB, usageBytes: 1 * GB, inactiveFileBytes: 0 }], 4 * GB, 3 * GB],
    [
      "a parent tighter than the leaf",
      [
        { limitBytes: 8 * GB, usageBytes: 1 * GB, inactiveFileBytes: 0 },
        { limitBytes: 2 * GB, usageBytes: 1.5 * GB, inactiveFileBytes: 0 },
      ],
      2 * GB,
      0.5 * GB,
    ],
    ["inactive page cache is room", [{ limitBytes: 4 * GB, usageBytes: 4 * GB, inactiveFileBytes: 1 * GB }], 4 * GB, 1 * GB],
    [
      "the least room is not always under the tightest limit",
      [
        { limitBytes: 2 * GB, usageBytes: 0, inactiveFileBytes: 0 },
        { limitBytes: 3 * GB, usageBytes: 2.5 * GB, inactiveFileBytes: 0 },
      ],
      2 * GB,
      0.5 * GB,
    ],
  ] as const)("%s", (_label, levels, limit, free) => {
    expect(cgroupLimit(levels)).toEqual({ limitBytes: limit, freeBytes: free });
  });
});

test.if(process.platform === "linux")("the real machine: MemTotal, MemAvailable, a sane budget (read-only)", () => {
  const memory = readMachineMemory();
  expect(memory.totalBytes).toBeGreaterThan(0);
  expect(memory.memAvailableBytes).toBeGreaterThan(0);
  expect(memory.memAvailableBytes).toBeLessThanOrEqual(memory.totalBytes);
  const budget = computeBudget({ budgetMb: "auto", reserveMb: "auto" }, memory);
  expect(budget.budgetBytes).toBeGreaterThan(0);
  expect(budget.budgetBytes).toBeLessThan(memory.totalBytes);
  expect(budget.reserveBytes).toBeGreaterThanOrEqual(Math.min(512 * MB, memory.totalBytes / 2));
});

describe("config: memoryBudgetMb and memoryReserveMb", () => {
  const made: string[] = [];
  afterAll(() => {
    for (const dir of made) rmSync(dir, { recursive: true, force: true });
  });
  const project = (files: Record<string, string> = {}) => {
    const root = mkdtempSync(join(tmpdir(), "sep-governor-config-"));
    made.push(root);
    mkdirSync(join(root, ".git"));
    for (const [name, text] of Object.entries(files)) writeFileSync(join(root, name), text);
    return root;
  };

  test("default auto; env, .env.development and sep.config.ts values", async () => {
    expect(await resolveConfig({ cwd: project(), env: {} })).toMatchObject({ memoryBudgetMb: "auto", memoryReserveMb: "auto" });
    expect(await resolveConfig({ cwd: project(), env: { SEP_MEMORY_BUDGET_MB: "8192", SEP_MEMORY_RESERVE_MB: "AUTO" } })).toMatchObject({
      memoryBudgetMb: 8192,
      memoryReserveMb: "auto",
    });
    expect(await resolveConfig({ cwd: project({ ".env.development": "SEP_MEMORY_BUDGET_MB=0\nSEP_MEMORY_RESERVE_MB=256\n" }), env: {} })).toMatchObject({
      memoryBudgetMb: 0,
      memoryReserveMb: 256,
    });
    const root = project({ "sep.config.ts": 'export default { memoryBudgetMb: "auto", memoryReserveMb: 1024 };\n' });
    expect(await resolveConfig({ cwd: root, env: {} })).toMatchObject({ memoryBudgetMb: "auto", memoryReserveMb: 1024 });
  });

  test.each([
    ["env: not a number", { SEP_MEMORY_BUDGET_MB: "lots" }, /SEP_MEMORY_BUDGET_MB must be "auto" or a whole number ≥ 0 \(got "lots" in the environment\)/],
    ["env: negative", { SEP_MEMORY_RESERVE_MB: "-5" }, /SEP_MEMORY_RESERVE_MB must be "auto" or a whole number ≥ 0 \(got "-5" in the environment\)/],
    ["env: a fraction", { SEP_MEMORY_BUDGET_MB: "1.5" }, /SEP_MEMORY_BUDGET_MB must be "auto" or a whole number ≥ 0/],
  ])("%s is a ConfigError naming key, value and place", async (_label, env, message) => {
    const error = await resolveConfig({ cwd: project(), env }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).exitCode).toBe(2);
    expect((error as Error).message).toMatch(message);
  });

  test("sep.config.ts: a string number is not a number; the file is named", async () => {
    const root = project({ "sep.config.ts": 'export default { memoryBudgetMb: "8192" };\n' });
    const error = await resolveConfig({ cwd: root, env: {} }).catch((e: unknown) => e);
    expect((error as Error).message).toContain(`memoryBudgetMb must be "auto" or a whole number ≥ 0 (got the string "8192" in ${join(root, "sep.config.ts")})`);
  });
});
