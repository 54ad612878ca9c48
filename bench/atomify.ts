// Atomification's trade-off, measured: a generated 300-test pytest suite whose tests each keep
// 1 MiB alive (the slow leak that motivated splitting, ORIGINAL §4.3), run whole and split per
// file and per test in batches of 1, 10 and 50. Every variant goes through the real path: the
// atoms from `sep plan --json`, each stored with `sep queue add`, all run by one `sep queue start`;
// wall time is measured around each step, and each job's peak memory is read from the run record.
//
//   bun bench/atomify.ts            runs it and writes its section into BENCHMARKS.md
//                                   (between <!-- atomify:start --> and <!-- atomify:end -->)
//   export { atomify }              the same as a Section, for bench/run.ts
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { type Context, fmt, makeContext, REPO, removeScratch, type Section, stats, table, tempProject } from "./lib.ts";

const FILES = 60;
const TESTS_PER_FILE = 5;
const LEAK_MIB_PER_TEST = 1;

interface Variant {
  label: string;
  /** undefined = the whole command (--no-atomify) */
  mode?: "file" | "test";
  batch: number;
}

const VARIANTS: Variant[] = [
  { label: "whole (no split)", batch: 1 },
  { label: "per file, batch 1", mode: "file", batch: 1 },
  { label: "per file, batch 10", mode: "file", batch: 10 },
  { label: "per file, batch 50", mode: "file", batch: 50 },
  { label: "per test, batch 1", mode: "test", batch: 1 },
  { label: "per test, batch 10", mode: "test", batch: 10 },
  { label: "per test, batch 50", mode: "test", batch: 50 },
];

interface Result {
  variant: Variant;
  jobs: number;
  planMs: number;
  enqueueMs: number;
  runMs: number;
  /** per job, from the run record */
  peaks: number[];
  durations: number[];
  runPeak: number | null;
  exitCode: number | null;
  passed: boolean;
}

function writeSuite(dir: string): void {
  mkdirSync(join(dir, "tests"), { recursive: true });
  // Each test keeps LEAK_MIB_PER_TEST alive for the rest of the process, as a leaking fixture or
  // cache would: the whole session grows by 300 MiB, an atom only by its own tests' share.
  writeFileSync(
    join(dir, "tests/conftest.py"),
    [
      "import pytest",
      "_kept = []",
      "",
      "@pytest.fixture(autouse=True)",
      "def leak():",
      `    block = bytearray(${LEAK_MIB_PER_TEST} * 1024 * 1024)`,
      "    for i in range(0, len(block), 4096):",
      "        block[i] = 1",
      "    _kept.append(block)",
      "    yield",
      "",
    ].join("\n"),
  );
  for (let f = 0; f < FILES; f++) {
    const lines = ["import json", ""];
    for (let t = 0; t < TESTS_PER_FILE; t++) {
      lines.push(`def test_${t}():`, `    assert json.loads(json.dumps(list(range(${200 + t})))) == list(range(${200 + t}))`, "");
    }
    writeFileSync(join(dir, `tests/test_${String(f).padStart(3, "0")}.py`), lines.join("\n"));
  }
}

function sepRun(ctx: Context, args: string[], cwd: string, env: Record<string, string>): { ms: number; exitCode: number | null; stdout: string; stderr: string } {
  const t0 = performance.now();
  const result = Bun.spawnSync([ctx.sep, ...args], { cwd, env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  return { ms: performance.now() - t0, exitCode: result.exitCode, stdout: result.stdout.toString(), stderr: result.stderr.toString() };
}

interface RunRecord {
  peakMemoryBytes: number | null;
  exitCode: number | null;
  jobs: { peakMemoryBytes: number | null; durationMs: number | null }[];
}

function newestRun(logDir: string): RunRecord {
  const runs = readdirSync(join(logDir, "runs")).sort();
  return JSON.parse(readFileSync(join(logDir, "runs", runs.at(-1)!, "run.json"), "utf8")) as RunRecord;
}

async function runVariant(ctx: Context, dir: string, variant: Variant): Promise<Result> {
  const env: Record<string, string> = {
    ...ctx.env,
    // the suite grows to ~300 MiB whole: no limit, so every variant runs to the end
    MEMORY_LIMIT_MB: "0",
    SEP_KEEP_RUNS: "0",
    SEP_ATOMIFY_PYTEST: variant.mode ?? "file",
    SEP_ATOMIFY_BATCH_SIZE: String(variant.batch),
  };
  const command = [ctx.python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"];
  const planned = sepRun(ctx, ["plan", "--json", ...(variant.mode ? [] : ["--no-atomify"]), "--", ...command], dir, env);
  if (planned.exitCode !== 0) throw new Error(`sep plan failed: ${planned.stderr}`);
  const atoms = JSON.parse(planned.stdout) as { argv: string[]; name?: string }[];
  ctx.log(`atomify: ${variant.label}: ${atoms.length} jobs`);

  const t0 = performance.now();
  for (const atom of atoms) {
    // SEP_ATOMIFY=0: store each atom as it is, never split again by `queue add`
    const added = sepRun(ctx, ["queue", "add", ...(atom.name ? ["--name", atom.name] : []), "--", ...atom.argv], dir, { ...env, SEP_ATOMIFY: "0" });
    if (added.exitCode !== 0) throw new Error(`sep queue add failed: ${added.stderr}`);
  }
  const enqueueMs = performance.now() - t0;
  const started = sepRun(ctx, ["queue", "start"], dir, env);
  if (!existsSync(join(dir, "logs", "runs"))) throw new Error(`sep queue start left no run record (exit ${started.exitCode}): ${started.stderr.slice(-2000)}`);
  const record = newestRun(join(dir, "logs"));
  return {
    variant,
    jobs: atoms.length,
    planMs: planned.ms,
    enqueueMs,
    runMs: started.ms,
    peaks: record.jobs.map((j) => j.peakMemoryBytes ?? Number.NaN),
    durations: record.jobs.map((j) => j.durationMs ?? Number.NaN),
    runPeak: record.peakMemoryBytes,
    exitCode: started.exitCode,
    passed: started.exitCode === 0 && record.jobs.length === atoms.length,
  };
}

const MiB = 1024 * 1024;

export async function atomify(ctx: Context): Promise<Section> {
  const dir = tempProject(ctx, "atomify");
  writeSuite(dir);
  const pytestVersion = Bun.spawnSync([ctx.python, "-m", "pytest", "--version"], { env: ctx.env }).stdout.toString().trim();
  const results: Result[] = [];
  for (const variant of VARIANTS) results.push(await runVariant(ctx, dir, variant));
  const whole = results[0]!;
  const rows = results.map((r) => {
    const peak = stats(r.peaks.filter(Number.isFinite));
    const duration = stats(r.durations.filter(Number.isFinite));
    const total = r.enqueueMs + r.runMs;
    return [
      r.variant.label,
      r.jobs,
      fmt(r.planMs / 1000, 2),
      fmt(r.enqueueMs / 1000, 2),
      fmt(r.runMs / 1000, 2),
      `${fmt(total / (whole.enqueueMs + whole.runMs), 1)}×`,
      fmt(duration.median, 0),
      fmt(peak.median / MiB, 0),
      fmt(peak.max / MiB, 0),
      r.runPeak === null ? "–" : fmt(r.runPeak / MiB, 0),
      r.passed ? "yes" : `no (exit ${r.exitCode})`,
    ];
  });
  const best = (pick: (r: Result) => number) => results.slice(1).reduce((a, b) => (pick(a) <= pick(b) ? a : b));
  const lowestPeak = best((r) => Math.max(...r.peaks.filter(Number.isFinite)));
  const markdown = [
    `A generated suite of ${FILES * TESTS_PER_FILE} tests (${FILES} files × ${TESTS_PER_FILE}); an autouse fixture keeps ${LEAK_MIB_PER_TEST} MiB per test alive`,
    `for the rest of the process, like a leaking cache, so one process running all of it grows by ${FILES * TESTS_PER_FILE * LEAK_MIB_PER_TEST} MiB.`,
    `Command: \`python -m pytest -q -p no:cacheprovider tests\` (${pytestVersion}, ${ctx.python}). Each variant: atoms from`,
    "`sep plan --json` (with SEP_ATOMIFY_PYTEST / SEP_ATOMIFY_BATCH_SIZE), one `sep queue add` per atom, then one `sep queue start`;",
    "MEMORY_LIMIT_MB=0 so every variant runs to the end. Peaks are the jobs' `peakMemoryBytes` from the run record (whole process",
    "tree, RSS at the default 0.25 s poll plus the leader's rusage high-water mark). One run per variant, same machine, same run.",
    "",
    table(
      ["variant", "jobs", "plan s", "queue add s", "queue start s", "add+start vs whole", "job median ms", "job peak median MiB", "job peak max MiB", "run peak MiB", "all passed"],
      rows,
    ),
    "",
    `Reading it: splitting bounds each job's memory to its own tests' share — the largest job peak falls from ${fmt(Math.max(...whole.peaks) / MiB, 0)} MiB`,
    `whole to ${fmt(Math.max(...lowestPeak.peaks.filter(Number.isFinite)) / MiB, 0)} MiB (${lowestPeak.variant.label}) — while every extra job pays a Python interpreter and pytest start-up`,
    "and a `sep queue add`; batches buy back most of that time. `plan s` is the one-off cost of asking pytest for its collection.",
  ].join("\n");
  return {
    title: "Atomification: a 300-test pytest suite whole vs split",
    goals: [
      {
        what: "atomify: 300-test leaky pytest suite, largest job peak",
        yardstick: "the same suite as one job",
        goal: "—",
        result: `${fmt(Math.max(...lowestPeak.peaks.filter(Number.isFinite)) / MiB, 0)} MiB (${lowestPeak.variant.label}) vs ${fmt(Math.max(...whole.peaks) / MiB, 0)} MiB whole`,
        status: "info",
      },
    ],
    markdown,
  };
}

/** Put the section between its markers in BENCHMARKS.md, leaving the rest of the file as it is. */
function writeSection(section: Section, machine: string): void {
  const path = join(REPO, "BENCHMARKS.md");
  const start = "<!-- atomify:start -->";
  const end = "<!-- atomify:end -->";
  const body = [start, `## ${section.title}`, "", machine, "", section.markdown, end].join("\n");
  const text = existsSync(path) ? readFileSync(path, "utf8") : "";
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  const next = from >= 0 && to > from ? `${text.slice(0, from)}${body}${text.slice(to + end.length)}` : `${text}${text && !text.endsWith("\n\n") ? (text.endsWith("\n") ? "\n" : "\n\n") : ""}${body}\n`;
  writeFileSync(path, next);
}

if (import.meta.main) {
  const ctx = await makeContext((message) => process.stderr.write(`${message}\n`));
  try {
    const section = await atomify(ctx);
    const cpu = /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? cpus()[0]?.model ?? "?";
    const version = Bun.spawnSync([ctx.sep, "--version"]).stdout.toString().trim();
    const machine = `Measured ${new Date().toISOString().slice(0, 10)} on ${cpu} (nproc ${navigator.hardwareConcurrency}), sep ${version}, with \`bun bench/atomify.ts\`.`;
    writeSection(section, machine);
    process.stdout.write(`${section.markdown}\n`);
  } finally {
    removeScratch(ctx);
  }
}
