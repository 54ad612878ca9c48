// Benchmarks 1 and 2: `sep --version` start-up, and `sep -- true` against `sep --version`,
// `flock(1) LOCKFILE true` and a bare `true`, interleaved round by round in one temp project.
import { join } from "node:path";
import { against, type Context, fmt, rotated, type Section, stats, table, tempProject, timeRun } from "./lib.ts";

const ROUNDS = 40;
const WARMUP = 3;

export async function startup(ctx: Context): Promise<Section> {
  const dir = tempProject(ctx, "startup");
  const lockFile = join(dir, "flock.lock");
  const contenders: { name: string; argv: string[] }[] = [
    { name: "`sep --version`", argv: [ctx.sep, "--version"] },
    { name: "`sep -- true`", argv: [ctx.sep, "--", "true"] },
    { name: "`flock LOCKFILE true`", argv: ["flock", lockFile, "true"] },
    { name: "floor `--version`", argv: [ctx.floor, "--version"] },
    { name: "floor `LOCKFILE true`", argv: [ctx.floor, lockFile, "true"] },
    { name: "`true`", argv: ["true"] },
  ];
  const times = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
  const cpu = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
  const failures: string[] = [];
  for (let round = -WARMUP; round < ROUNDS; round++) {
    for (const c of rotated(contenders, Math.max(0, round))) {
      const run = timeRun(c.argv, dir, ctx.env);
      if (run.exitCode !== 0) failures.push(`${c.name} exited ${run.exitCode}`);
      if (round >= 0) {
        times.get(c.name)!.push(run.ms);
        cpu.get(c.name)!.push(run.cpuMs);
      }
    }
  }
  const s = Object.fromEntries(contenders.map((c) => [c.name, stats(times.get(c.name)!)]));
  const version = s["`sep --version`"]!;
  const sepTrue = s["`sep -- true`"]!;
  const flock = s["`flock LOCKFILE true`"]!;
  const bare = s["`true`"]!;
  const floorVersion = s["floor `--version`"]!;
  const floorTrue = s["floor `LOCKFILE true`"]!;
  const ratio = sepTrue.median / version.median;
  const floorRatio = floorTrue.median / floorVersion.median;
  ctx.log(`startup: --version ${fmt(version.median)} ms, -- true ${fmt(sepTrue.median)} ms (${fmt(ratio, 2)}×); floor ${fmt(floorVersion.median)} / ${fmt(floorTrue.median)} ms (${fmt(floorRatio, 2)}×)`);

  const rows = contenders.map((c) => {
    const st = s[c.name]!;
    const cpuMedian = stats(cpu.get(c.name)!).median;
    return [c.name, st.n, fmt(st.median), fmt(st.p90), fmt(st.min), fmt(st.max), `${fmt(st.median / version.median, 2)}×`, fmt(cpuMedian)];
  });
  const markdown = [
    `${ROUNDS} rounds after ${WARMUP} warm-up rounds; each round runs the commands once, in an order rotated every round. ` +
      "Wall time from spawn to exit, measured around `Bun.spawnSync` (stdio to /dev/null), so the spawn cost of the bench itself " +
      "(the same for every row) is included; `true` shows that floor.",
    "",
    table(["command", "n", "median ms", "p90 ms", "min ms", "max ms", "÷ `sep --version` median", "CPU median ms (user+sys)"], rows),
    "",
    "The CPU column is the child's own user+sys time (rusage): other load on the shared machine stretches wall time (the " +
      "process waits for a core) much more than it changes CPU time, so it shows whether a slow run was slow or only waited. " +
      "sep's CPU can exceed its wall time: Bun runs some work (GC, the bytecode loader) on helper threads.",
    "",
    "The *floor* rows are `bench/floor.ts`, flock(1) written in Bun and compiled as sep is (same Bun, bytecode, minify, JIT " +
      "policy): `--version` prints a line; `LOCKFILE true` takes a blocking flock(2), spawns `true`, waits for it and exits. " +
      `Its own \`LOCKFILE true\` ÷ \`--version\` is ${fmt(floorRatio, 2)}×: the runtime's spawn and reaping of one child, with ` +
      `nothing else, already costs ${fmt(floorTrue.median - floorVersion.median)} ms. sep's \`--version\` starts ` +
      `${fmt(version.median - floorVersion.median)} ms later than the floor's (its bundle is larger), so 1.3× of it leaves ` +
      `${fmt(0.3 * version.median)} ms for all that \`sep -- true\` does after start-up, of which the floor's spawn and wait alone take ` +
      `${fmt(floorTrue.median - floorVersion.median)} ms.`,
    "",
    `\`sep -- true\` costs ${fmt(sepTrue.median - version.median)} ms more than \`sep --version\` (config resolution, ticket and slot ` +
      `locks, records, spawn and reaping of the job), and ${fmt(sepTrue.median - flock.median)} ms more than \`flock(1)\`, ` +
      `whose own overhead over \`true\` is ${fmt(flock.median - bare.median)} ms.`,
    failures.length ? `\nFailures: ${failures.slice(0, 5).join("; ")}${failures.length > 5 ? ` (${failures.length} in all)` : ""}` : "",
  ].join("\n");

  return {
    title: "1–2. Start-up and `sep -- true` overhead",
    goals: [
      {
        what: "`sep --version` start-up",
        yardstick: `\`true\` ${fmt(bare.median)} ms`,
        goal: "median ≤ 20 ms",
        result: `median ${fmt(version.median)} ms, p90 ${fmt(version.p90)} ms`,
        status: against(version.median, 20, "ms"),
      },
      {
        what: "`sep -- true` overhead",
        yardstick: `\`sep --version\` ${fmt(version.median)} ms; \`flock\` ${fmt(flock.median)} ms`,
        goal: "≤ 1.5× `sep --version`",
        result: `median ${fmt(sepTrue.median)} ms = ${fmt(ratio, 2)}× (p90 ${fmt(sepTrue.p90)} ms)`,
        status: against(ratio, 1.5, "×", 2),
      },
      {
        what: "`sep -- true` (wave 2)",
        yardstick: `\`sep --version\` ${fmt(version.median)} ms; floor (flock(1) in Bun): \`LOCKFILE true\` ${fmt(floorTrue.median)} ms = ${fmt(floorRatio, 2)}× its \`--version\``,
        goal: "≤ 1.3× `sep --version`",
        result: `median ${fmt(sepTrue.median)} ms = ${fmt(ratio, 2)}×; CPU ${fmt(stats(cpu.get("\`sep -- true\`")!).median)} ms against ${fmt(stats(cpu.get("\`sep --version\`")!).median)} ms`,
        status: against(ratio, 1.3, "×", 2),
      },
    ],
    markdown,
  };
}
