// Runs every benchmark of DESIGN §8 against its yardstick in the same run and prints a Markdown
// report on stdout (progress goes to stderr): `npm run bench > /tmp/b.md`.
// `bun bench/run.ts startup handover` runs only the named benchmarks.
import { readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { governor } from "./governor.ts";
import { handover } from "./handover.ts";
import { type Context, type Section, makeContext, removeScratch, table } from "./lib.ts";
import { memkill } from "./memkill.ts";
import { poller } from "./poller.ts";
import { queue } from "./queue.ts";
import { startup } from "./startup.ts";
import { submitters } from "./submitters.ts";
import { waiters } from "./waiters.ts";

const BENCHMARKS: Record<string, (ctx: Context) => Promise<Section>> = {
  startup,
  handover,
  submitters,
  memkill,
  poller,
  queue,
  waiters,
  governor,
};

function machine(ctx: Context): string {
  const cpuModel = /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? cpus()[0]?.model ?? "?";
  const kernel = readFileSync("/proc/sys/kernel/osrelease", "utf8").trim();
  const os = /^PRETTY_NAME="?([^"\n]+)/m.exec(readFileSync("/etc/os-release", "utf8"))?.[1] ?? "?";
  const sepVersion = Bun.spawnSync([ctx.sep, "--version"]).stdout.toString().trim();
  const memTotal = Number(/^MemTotal:\s+(\d+)/m.exec(readFileSync("/proc/meminfo", "utf8"))?.[1] ?? 0);
  return table(
    ["machine and run", ""],
    [
      ["date", new Date().toISOString()],
      ["command", "`npm run bench` (= `bun run build && bun bench/run.ts`)"],
      ["CPU", `${cpuModel}, nproc ${navigator.hardwareConcurrency}`],
      ["memory", `${(memTotal / 1024 / 1024).toFixed(1)} GiB`],
      ["OS / kernel", `${os} / ${kernel}`],
      ["Bun", `${Bun.version} (bench runner; dist/sep is compiled by the same Bun)`],
      ["sep", `${sepVersion} (a private copy of ${process.env.SEP_BENCH_BIN ?? "dist/sep"}, taken at the start)`],
      ["timestamps", ctx.stampKind],
      ["machine state (XDG_RUNTIME_DIR)", `${ctx.env.XDG_RUNTIME_DIR} (${ctx.env.XDG_RUNTIME_DIR!.startsWith("/dev/shm") ? "tmpfs, as a login session's /run/user/UID" : "on disk"}); projects on ${ctx.scratch}`],
      ["load average at start", loadavg().map((x) => x.toFixed(2)).join(" ")],
    ],
  );
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((name) => !(name in BENCHMARKS));
  if (unknown.length > 0) {
    console.error(`unknown benchmark(s): ${unknown.join(", ")}; known: ${Object.keys(BENCHMARKS).join(", ")}`);
    process.exit(2);
  }
  const started = performance.now();
  const ctx = await makeContext((message) => console.error(`[bench ${((performance.now() - started) / 1000).toFixed(0)}s] ${message}`));
  const sections: Section[] = [];
  try {
    const header = machine(ctx);
    for (const [name, bench] of Object.entries(BENCHMARKS)) {
      if (wanted.length > 0 && !wanted.includes(name)) continue;
      ctx.log(`${name}…`);
      const loadBefore = loadavg()[0]!;
      try {
        const section = await bench(ctx);
        // The machine is shared: say how busy it was, so a slow figure can be told from a slow sep.
        section.markdown = `_1-minute load average ${loadBefore.toFixed(2)} → ${loadavg()[0]!.toFixed(2)} while this ran (${navigator.hardwareConcurrency} cores)._\n\n${section.markdown}`;
        sections.push(section);
      } catch (error) {
        // One broken benchmark must not cost the others' results: report it and go on.
        const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
        ctx.log(`${name} failed: ${message}`);
        sections.push({
          title: `${name}: FAILED`,
          goals: [{ what: name, yardstick: "–", goal: "–", result: "the benchmark itself failed (see its section)", status: "**error**" }],
          markdown: `\`\`\`\n${message}\n\`\`\``,
        });
      }
    }
    const goals = sections.flatMap((s) => s.goals);
    const out = [
      "# sep benchmarks",
      "",
      header,
      `| load average at end | ${loadavg().map((x) => x.toFixed(2)).join(" ")} |`,
      `| bench wall time | ${((performance.now() - started) / 1000).toFixed(0)} s |`,
      "",
      "## Against DESIGN §8",
      "",
      table(
        ["what", "yardstick (same run)", "goal", "result", "met / missed, by how much"],
        goals.map((g) => [g.what, g.yardstick, g.goal, g.result, g.status]),
      ),
      "",
      ...sections.flatMap((s) => [`## ${s.title}`, "", s.markdown, ""]),
    ];
    process.stdout.write(`${out.join("\n")}\n`);
  } finally {
    removeScratch(ctx);
  }
}

await main();
