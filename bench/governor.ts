// The machine governor's benchmark (DESIGN §8 wave 2, §9): a mixed workload from 4 projects
// submitted at once — 16 real allocators, peaks 100 MB–1.2 GB, durations 1–5 s — under a 3 GB
// budget set by config. Side by side in one run: unconstrained parallel (no sep), serial (one slot
// for all, `scope = machine`), GNU parallel `--memfree` (literally 3G, and set so that it stops at
// the budget), and the governor on its first run (no history: every job reserves its limit), its
// second and third (learned), plus a learned round with the default one slot per project.
// Per contender: makespan, and the peak of the jobs' summed RSS sampled from /proc every 50 ms.
// Goals: the governor's peak never over the budget; learned makespan ≤ 1.3× the lower bound
// max(longest job, Σ peak × duration / budget) and ≤ 0.6× serial.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { against, type Context, fmt, monoMs, rotated, type Section, stats, table, tempProject } from "./lib.ts";

const MB = 1024 * 1024;
/** the budget, by config: SEP_MEMORY_BUDGET_MB (sep's MB are MiB) */
const BUDGET_MB = 3072;
/** every job's memory limit (MEMORY_LIMIT_MB), above every peak: with no history a job reserves this */
const LIMIT_MB = 1536;
const PROJECTS = 4;
const JOBS = 16;
const SEED = 20_250_301;
/** the comparison is run this many times (each with a fresh governor state dir); medians reported */
const REPS = Number(process.env.SEP_BENCH_GOVERNOR_REPS ?? 2);
const SAMPLE_MS = 50;
/** between two submissions, so the arrival order (and with it FIFO) is defined */
const STAGGER_MS = 30;
/** a job must be able to touch its peak in time: at this rate, with this much to spare */
const ALLOC_MB_PER_S = 600;
const ALLOC_SLACK_S = 0.25;
const GOAL_LB_RATIO = 1.3;
/** contenders run in the first repetition only (GNU parallel's literal 3G, the 1-slot learned round) */
const EXTRAS = new Set(["par3g", "gov4"]);
/** SEP_BENCH_GOVERNOR_LITERAL=1 adds GNU parallel with a literal `--memfree 3G` */
const LITERAL = process.env.SEP_BENCH_GOVERNOR_LITERAL === "1";
/** the learned margin of DESIGN §9 (profiles.ts LEARNED_MARGIN), for the what-if figures */
const LEARNED_MARGIN = 1.2;
/** seeds of the same generator, for how typical this workload's packing is */
const WHATIF_SEEDS = 200;
const GOAL_SERIAL_RATIO = 0.6;

/** Allocate MB MiB, every page touched (bytes * n fills them), hold it until DURATION s after start. */
const JOB_PY = `import sys, time
t0 = time.monotonic()
mb, dur = int(sys.argv[1]), float(sys.argv[2])
chunks = [b"\\x01" * (1 << 20) for _ in range(mb)]
t1 = time.monotonic()
time.sleep(max(0.0, t0 + dur - time.monotonic()))
print(f"alloc_s={t1 - t0:.3f} total_s={time.monotonic() - t0:.3f}", flush=True)
`;

interface WorkJob {
  /** arrival order, 0-based */
  i: number;
  project: number;
  peakMb: number;
  durationS: number;
}

// ---------------------------------------------------------------- the workload

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle<T>(items: T[], rand: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/**
 * 16 jobs: peaks evenly spread over 100–1200 MB, durations over 1–5 s, paired by a seeded shuffle
 * (redrawn until every job can touch its peak in its duration at ALLOC_MB_PER_S), in a seeded
 * arrival order, 4 jobs in each of 4 projects (seeded too).
 */
export function workload(seed = SEED): WorkJob[] {
  const rand = mulberry32(seed);
  const peaks = Array.from({ length: JOBS }, (_, i) => Math.round((100 + (i * 1100) / (JOBS - 1)) / 10) * 10);
  const durations = Array.from({ length: JOBS }, (_, i) => Math.round((1 + (i * 4) / (JOBS - 1)) * 10) / 10);
  let paired: number[];
  do paired = shuffle(durations, rand);
  while (!paired.every((d, i) => d >= peaks[i]! / ALLOC_MB_PER_S + ALLOC_SLACK_S));
  const pairs = peaks.map((peakMb, i) => ({ peakMb, durationS: paired[i]! }));
  const arrival = shuffle(pairs, rand);
  const projects = shuffle(
    Array.from({ length: JOBS }, (_, i) => i % PROJECTS),
    rand,
  );
  return arrival.map((p, i) => ({ i, project: projects[i]!, ...p }));
}

export function lowerBound(jobs: WorkJob[]): { longestS: number; areaMbS: number; areaS: number; boundS: number } {
  const longestS = Math.max(...jobs.map((j) => j.durationS));
  const areaMbS = jobs.reduce((sum, j) => sum + j.peakMb * j.durationS, 0);
  const areaS = areaMbS / BUDGET_MB;
  return { longestS, areaMbS, areaS, boundS: Math.max(longestS, areaS) };
}

export interface SimJob {
  /** arrival order */
  i: number;
  project: number;
  reservationMb: number;
  runS: number;
}

/**
 * The makespan the governor's rules give with zero latency. Pure. Everything arrives at 0 in
 * arrival order (i); per project, the first `slots` unfinished jobs hold the project's turns (a
 * job waiting at the machine gate keeps its turn, as in in-turn.ts) and join the gate's line when
 * they get their turn — so with one slot a project's later job joins behind jobs of other projects
 * that arrived after it; the gate admits, in its line's order, every job whose reservation still
 * fits (Σ admitted + its own ≤ budget): the head first, a later one only past a head that does not
 * fit (gate.ts decideAdmission; free memory never binds here, the 60 s head rule never comes).
 */
export function simulate(jobs: readonly SimJob[], budgetMb: number, slots: number): number {
  const order = [...jobs].sort((a, b) => a.i - b.i);
  const done = new Set<number>();
  const running = new Map<number, number>(); // i -> end time
  const line: SimJob[] = []; // the gate's line, in the order jobs reached it
  const inLine = new Set<number>();
  let now = 0;
  while (done.size < order.length) {
    // Jobs that got their project turn join the gate's line.
    for (const j of order) {
      if (done.has(j.i) || inLine.has(j.i)) continue;
      const ahead = order.filter((o) => o.project === j.project && o.i < j.i && !done.has(o.i)).length;
      if (ahead < slots) {
        line.push(j);
        inLine.add(j.i);
      }
    }
    let used = line.filter((j) => running.has(j.i)).reduce((sum, j) => sum + j.reservationMb, 0);
    for (const j of line) {
      if (done.has(j.i) || running.has(j.i)) continue;
      const alone = j.reservationMb > budgetMb && running.size === 0;
      if (alone || used + j.reservationMb <= budgetMb) {
        running.set(j.i, now + j.runS);
        used += j.reservationMb;
      }
    }
    const next = Math.min(...running.values());
    now = next;
    for (const [i, end] of running) {
      if (end <= next) {
        running.delete(i);
        done.add(i);
      }
    }
  }
  return now;
}

// ---------------------------------------------------------------- sampling the jobs' memory

const PAGE = Number(Bun.spawnSync(["getconf", "PAGESIZE"]).stdout.toString().trim()) || 4096;

function _read(path: string): string | undefined {
  try {
    return readFileSync(path, "latin1");
  } catch {
    return undefined;
  }
}

/** pid and all its descendants, via /proc/PID/task/TID/children. */
function treeOf(pid: number): number[] {
  const out: number[] = [];
  const stack = [pid];
  while (stack.length > 0) {
    const p = stack.pop()!;
    out.push(p);
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      continue;
    }
    for (const tid of tasks) {
      const children = _read(`/proc/${p}/task/${tid}/children`);
      if (children) for (const c of children.split(" ")) if (c) stack.push(Number(c));
    }
  }
  return out;
}

/**
 * Every SAMPLE_MS: the RSS of every job process (a `python*` in the trees of the processes the
 * bench started: the jobs themselves, the seps, or GNU parallel), summed. sep and parallel are not
 * counted: the budget is the jobs'.
 */
class Sampler {
  peakBytes = 0;
  maxJobs = 0;
  samples = 0;
  /** Σ over samples of summed RSS × interval, for the mean */
  private _byteMs = 0;
  private _last = 0;
  private _timer: ReturnType<typeof setInterval> | undefined;
  tickMs: number[] = [];
  /** per pid: the most it was seen using */
  perPid = new Map<number, number>();

  constructor(private readonly roots: () => number[]) {}

  start(): void {
    this._last = monoMs();
    this._timer = setInterval(() => this.tick(), SAMPLE_MS);
    this.tick();
  }

  stop(): void {
    if (this._timer) clearInterval(this._timer);
    this.tick();
  }

  tick(): void {
    const t0 = monoMs();
    let sum = 0;
    let jobs = 0;
    for (const root of this.roots()) {
      for (const pid of treeOf(root)) {
        const comm = _read(`/proc/${pid}/comm`);
        if (!comm?.startsWith("python")) continue;
        const statm = _read(`/proc/${pid}/statm`);
        if (!statm) continue;
        const rss = Number(statm.split(" ")[1]) * PAGE;
        if (!(rss > 0)) continue;
        sum += rss;
        jobs++;
        if (rss > (this.perPid.get(pid) ?? 0)) this.perPid.set(pid, rss);
      }
    }
    const now = monoMs();
    this._byteMs += sum * (now - this._last);
    this._last = now;
    this.samples++;
    if (sum > this.peakBytes) this.peakBytes = sum;
    if (jobs > this.maxJobs) this.maxJobs = jobs;
    this.tickMs.push(now - t0);
  }

  meanBytes(spanMs: number): number {
    return spanMs > 0 ? this._byteMs / spanMs : Number.NaN;
  }
}

// ---------------------------------------------------------------- contenders

type Kind = "bare" | "serial" | "parallel" | "governor";

interface Contender {
  key: string;
  name: string;
  kind: Kind;
  /** sep's configuration for this contender */
  env?: Record<string, string>;
  /** GNU parallel's --memfree, in bytes; computed just before it runs for the budget-emulating one */
  memfree?: () => number;
  memfreeWords?: string;
}

interface SepJob {
  argv: string[];
  conclusion: string | null;
  exitCode: number | null;
  startedAt: string | null;
  completedAt: string | null;
  peakMemoryBytes: number | null;
  admission?: { reservationBytes: number; reservationSource: string; waitedMs: number };
  pausedMs?: number;
}

interface Outcome {
  key: string;
  name: string;
  rep: number;
  makespanS: number;
  /** Date.now() at the first submission, to place the job records' ISO times */
  startedAtMs: number;
  /** user+sys of the processes the bench started and what they waited for (jobs + seps / parallel) */
  cpuS: number;
  peakBytes: number;
  meanBytes: number;
  maxJobs: number;
  samples: number;
  tickMedianMs: number;
  /** per job: the allocation time and the whole time the job itself reported */
  allocS: number[];
  totalS: number[];
  problems: string[];
  /** sep contenders: the job records */
  records: SepJob[];
  /** GNU parallel: jobs killed for memory and re-run, from its joblog */
  parallelKills?: number;
  /** GNU parallel: first job start → last job start, from its joblog */
  parallelStartSpreadS?: number;
  memfreeBytes?: number;
  loadBefore: number;
}

function _parseJobOutput(text: string, alloc: number[], total: number[]): number {
  let n = 0;
  for (const m of text.matchAll(/alloc_s=([\d.]+) total_s=([\d.]+)/g)) {
    alloc.push(Number(m[1]));
    total.push(Number(m[2]));
    n++;
  }
  return n;
}

/** MemFree + Buffers + Cached + SwapCached: what GNU parallel 20221122 calls free memory (its memfreescript). */
function parallelFreeBytes(): number {
  const text = readFileSync("/proc/meminfo", "utf8");
  let kb = 0;
  for (const key of ["MemFree", "Buffers", "Cached", "SwapCached"]) kb += Number(new RegExp(`^${key}:\\s+(\\d+)`, "m").exec(text)?.[1] ?? 0);
  return kb * 1024;
}

function memAvailableBytes(): number {
  return Number(/^MemAvailable:\s+(\d+)/m.exec(readFileSync("/proc/meminfo", "utf8"))?.[1] ?? 0) * 1024;
}

function _readRuns(logDir: string): SepJob[] {
  let names: string[];
  try {
    names = readdirSync(join(logDir, "runs")).filter((name) => !name.startsWith("."));
  } catch {
    return [];
  }
  const jobs: SepJob[] = [];
  for (const name of names) {
    try {
      const run = JSON.parse(readFileSync(join(logDir, "runs", name, "run.json"), "utf8")) as { jobs: SepJob[] };
      jobs.push(...run.jobs);
    } catch {
      // a run without its record shows up as a missing job below
    }
  }
  return jobs;
}

async function runContender(ctx: Context, c: Contender, rep: number, jobs: WorkJob[], dirs: string[], jobPy: string, tag: string): Promise<Outcome> {
  const outDir = join(ctx.scratch, "out", tag);
  mkdirSync(outDir, { recursive: true });
  const logDirName = `logs-${tag}`;
  const cmd = (j: WorkJob) => [ctx.python, jobPy, String(j.peakMb), String(j.durationS)];
  const procs: ReturnType<typeof Bun.spawn>[] = [];
  const loadBefore = loadavg()[0]!;
  const sampler = new Sampler(() => procs.filter((p) => p.exitCode === null && p.signalCode === null).map((p) => p.pid));
  let memfreeBytes: number | undefined;
  const joblog = join(outDir, "joblog");

  sampler.start();
  const startedAtMs = Date.now();
  const t0 = monoMs();
  // A contender that fails to start must not leave the sampler's interval keeping the whole bench
  // alive after its report is printed.
  try {
    if (c.kind === "parallel") {
      memfreeBytes = c.memfree!();
      const lines = jobs.map((j) => `cd '${dirs[j.project]}' && exec ${cmd(j).map((w) => `'${w}'`).join(" ")}`);
      procs.push(
        Bun.spawn(
          ["parallel", "--will-cite", "--jobs", String(JOBS), "--memfree", String(memfreeBytes), "--joblog", joblog, "--tmpdir", outDir, ":::", ...lines],
          { cwd: ctx.scratch, env: { ...ctx.env, SHELL: "/bin/sh" }, stdin: "ignore", stdout: Bun.file(join(outDir, "stdout")), stderr: Bun.file(join(outDir, "stderr")) },
        ),
      );
    } else {
      for (const j of jobs) {
        if (j.i > 0) await Bun.sleep(STAGGER_MS);
        const argv = c.kind === "bare" ? cmd(j) : [ctx.sep, "--", ...cmd(j)];
        const env = c.kind === "bare" ? ctx.env : { ...ctx.env, ...c.env, SEP_LOG_DIR: logDirName };
        procs.push(
          Bun.spawn(argv, {
            cwd: dirs[j.project],
            env,
            stdin: "ignore",
            stdout: Bun.file(join(outDir, `${j.i}.out`)),
            stderr: Bun.file(join(outDir, `${j.i}.err`)),
          }),
        );
      }
    }
  } catch (error) {
    sampler.stop();
    for (const p of procs) p.kill("SIGKILL");
    throw error;
  }
  const codes = await Promise.all(procs.map((p) => p.exited));
  const makespanMs = monoMs() - t0;
  sampler.stop();

  const problems: string[] = [];
  const allocS: number[] = [];
  const totalS: number[] = [];
  codes.forEach((code, i) => {
    if (code !== 0) problems.push(`${c.kind === "parallel" ? "parallel" : `job ${i + 1}`} exited ${code}`);
  });
  let parallelKills: number | undefined;
  let parallelStartSpreadS: number | undefined;
  if (c.kind === "parallel") {
    const n = _parseJobOutput(_read(join(outDir, "stdout")) ?? "", allocS, totalS);
    if (n !== JOBS) problems.push(`${n} jobs reported their end, not ${JOBS}`);
    const rows = (_read(joblog) ?? "").trim().split("\n").slice(1).map((line) => line.split("\t"));
    // Seq Host Starttime JobRuntime Send Receive Exitval Signal Command
    parallelKills = rows.filter((r) => r[7] !== "0").length;
    const starts = rows.map((r) => Number(r[2])).filter(Number.isFinite);
    if (starts.length) parallelStartSpreadS = Math.max(...starts) - Math.min(...starts);
    const ok = rows.filter((r) => r[6] === "0" && r[7] === "0").length;
    if (ok !== JOBS) problems.push(`joblog: ${ok} jobs ended well, not ${JOBS}`);
  } else {
    for (const j of jobs) {
      if (_parseJobOutput(_read(join(outDir, `${j.i}.out`)) ?? "", allocS, totalS) !== 1) problems.push(`job ${j.i + 1} did not report its end`);
    }
  }
  const records = c.kind === "serial" || c.kind === "governor" ? dirs.flatMap((dir) => _readRuns(join(dir, logDirName))) : [];
  if (c.kind === "serial" || c.kind === "governor") {
    const good = records.filter((r) => r.conclusion === "success" && r.exitCode === 0).length;
    if (records.length !== JOBS || good !== JOBS) problems.push(`${good}/${records.length} job records say success, want ${JOBS}`);
    if (c.kind === "governor" && records.some((r) => !r.admission)) problems.push("a job record has no admission: was the governor on?");
  }
  return {
    key: c.key,
    name: c.name,
    rep,
    makespanS: makespanMs / 1000,
    startedAtMs,
    cpuS: procs.reduce((sum, p) => sum + Number(p.resourceUsage()?.cpuTime.total ?? Number.NaN), 0) / 1e6,
    peakBytes: sampler.peakBytes,
    meanBytes: sampler.meanBytes(makespanMs),
    maxJobs: sampler.maxJobs,
    samples: sampler.samples,
    tickMedianMs: stats(sampler.tickMs).median,
    allocS,
    totalS,
    problems,
    records,
    parallelKills,
    parallelStartSpreadS,
    memfreeBytes,
    loadBefore,
  };
}

// ---------------------------------------------------------------- the benchmark

export async function governor(ctx: Context): Promise<Section> {
  // GNU parallel is a yardstick of every repetition: say so before minutes of rounds are spent.
  if (!Bun.which("parallel", { PATH: ctx.env.PATH ?? "" })) throw new Error("GNU parallel is not installed (apt-get install parallel): the governor bench compares with it");
  const jobs = workload();
  const lb = lowerBound(jobs);
  const names = ["alpha", "beta", "gamma", "delta"];
  const dirs = names.map((name) => tempProject(ctx, `gov-${name}`));
  const jobPy = join(ctx.scratch, "govjob.py");
  writeFileSync(jobPy, JOB_PY);
  const sumPeakMb = jobs.reduce((s, j) => s + j.peakMb, 0);

  // Unconstrained (and GNU parallel with a literal 3G, which on a big machine holds nothing back)
  // put every job in memory at once: only on a machine that has room for them and then some.
  const roomForAll = memAvailableBytes() > (sumPeakMb + 4096) * MB;

  const sepBase = { SEP_MEMORY_BUDGET_MB: String(BUDGET_MB), MEMORY_LIMIT_MB: String(LIMIT_MB), SEP_KEEP_RUNS: "0" };
  const state = (name: string) => {
    const dir = join(ctx.scratch, "xdg", name);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return dir;
  };
  const outcomes: Outcome[] = [];
  const skipped: string[] = [];

  for (let rep = 0; rep < REPS; rep++) {
    // A fresh machine state dir per repetition: the governor's round 1 has no history, rounds 2 and
    // 3 learn from the rounds before them; serial has its own (its line lives there).
    const govState = state(`governor-${rep}`);
    const governorSeries: Contender[] = [
      { key: "gov1", name: "governor, round 1 (no history: reserves the limit)", kind: "governor", env: { ...sepBase, XDG_RUNTIME_DIR: govState, SEP_SLOTS: String(JOBS / PROJECTS) } },
      { key: "gov2", name: "governor, round 2 (learned from round 1)", kind: "governor", env: { ...sepBase, XDG_RUNTIME_DIR: govState, SEP_SLOTS: String(JOBS / PROJECTS) } },
      { key: "gov3", name: "governor, round 3 (learned)", kind: "governor", env: { ...sepBase, XDG_RUNTIME_DIR: govState, SEP_SLOTS: String(JOBS / PROJECTS) } },
      { key: "gov4", name: "governor, round 4 (learned), `SEP_SLOTS=1` per project", kind: "governor", env: { ...sepBase, XDG_RUNTIME_DIR: govState, SEP_SLOTS: "1" } },
    ];
    const others: Contender[] = [
      { key: "bare", name: "unconstrained parallel (no sep)", kind: "bare" },
      {
        key: "serial",
        name: "serial: sep, `SEP_SCOPE=machine`, one slot for all",
        kind: "serial",
        env: { ...sepBase, SEP_MEMORY_BUDGET_MB: "0", SEP_SCOPE: "machine", SEP_SLOTS: "1", XDG_RUNTIME_DIR: state(`serial-${rep}`) },
      },
      // Taken literally, 3G holds nothing back on a big machine (see the text): only on request.
      ...(LITERAL ? [{ key: "par3g", name: "GNU parallel `--memfree 3G`", kind: "parallel" as const, memfree: () => 3 * 1024 * MB, memfreeWords: "3G" }] : []),
      {
        key: "parbudget",
        name: "GNU parallel `--memfree` (free − 3 GB)",
        kind: "parallel",
        memfree: () => parallelFreeBytes() - BUDGET_MB * MB,
        memfreeWords: "its free memory at start − 3 GB",
      },
    ];
    // The governor's rounds stay in order (they learn); the block moves with the rotation.
    const order = rotated<Contender[]>([...others.map((c) => [c]), governorSeries], rep).flat();
    for (const c of order) {
      // The two extra contenders run in the first repetition only: the bench stays under ~5 minutes.
      if (rep > 0 && EXTRAS.has(c.key)) continue;
      if ((c.key === "bare" || c.key === "par3g") && !roomForAll) {
        if (rep === 0) skipped.push(`${c.name}: skipped, MemAvailable below Σ peaks + 4 GB`);
        continue;
      }
      const o = await runContender(ctx, c, rep, jobs, dirs, jobPy, `${c.key}-${rep}`);
      outcomes.push(o);
      if (c.kind === "governor" && o.peakBytes > BUDGET_MB * MB) {
        ctx.log(`governor: *** OVER BUDGET *** rep ${rep + 1} ${c.key}: the jobs' summed RSS peaked at ${fmt(o.peakBytes / MB, 0)} MB > ${BUDGET_MB} MB`);
      }
      ctx.log(
        `governor: rep ${rep + 1}: ${c.key}: ${fmt(o.makespanS, 2)} s, peak ${fmt(o.peakBytes / MB, 0)} MB, ${o.maxJobs} jobs at once` +
          (o.problems.length ? `; PROBLEMS: ${o.problems.join("; ")}` : ""),
      );
    }
  }
  // SEP_BENCH_GOVERNOR_DUMP=FILE keeps every contender's figures and job records for a closer look.
  if (process.env.SEP_BENCH_GOVERNOR_DUMP) writeFileSync(process.env.SEP_BENCH_GOVERNOR_DUMP, JSON.stringify({ jobs, outcomes }, null, 1));
  return report(jobs, lb, outcomes, skipped);
}

// ---------------------------------------------------------------- the report

function report(jobs: WorkJob[], lb: ReturnType<typeof lowerBound>, outcomes: Outcome[], skipped: string[]): Section {
  const keys = [...new Set(outcomes.map((o) => o.key))];
  const of = (key: string) => outcomes.filter((o) => o.key === key);
  const med = (key: string, f: (o: Outcome) => number) => stats(of(key).map(f)).median;
  const serialS = med("serial", (o) => o.makespanS);
  const gov = outcomes.filter((o) => o.key.startsWith("gov"));
  const govPeakMax = Math.max(...gov.map((o) => o.peakBytes));
  const overBudget = gov.filter((o) => o.peakBytes > BUDGET_MB * MB);
  const learnedS = med("gov3", (o) => o.makespanS);
  const problems = outcomes.filter((o) => o.problems.length > 0);
  const reps = Math.max(...outcomes.map((o) => o.rep)) + 1;
  const range = (key: string, f: (o: Outcome) => number, d = 2) => {
    const xs = of(key).map(f);
    return xs.length > 1 ? ` (${xs.map((x) => fmt(x, d)).join(", ")})` : "";
  };
  const records = (key: string) => of(key).flatMap((o) => o.records);

  const rows = keys.map((key) => {
    const first = of(key)[0]!;
    const ms = med(key, (o) => o.makespanS);
    const kills =
      first.parallelKills === undefined
        ? ""
        : `; killed and re-run: ${of(key).map((o) => o.parallelKills).join(", ")}; all ${JOBS} started within ${of(key).map((o) => fmt(o.parallelStartSpreadS ?? Number.NaN, 2)).join(", ")} s`;
    const paused = key.startsWith("gov") ? `; paused ${fmt(stats(of(key).map((o) => o.records.reduce((s, r) => s + (r.pausedMs ?? 0), 0))).median / 1000, 1)} s in all` : "";
    return [
      first.name + (first.memfreeBytes !== undefined ? ` (${fmt(first.memfreeBytes / (1024 * MB), 1)} GB)` : ""),
      `**${fmt(ms, 2)}**${range(key, (o) => o.makespanS)}`,
      `**${fmt(med(key, (o) => o.peakBytes) / MB, 0)}**${range(key, (o) => o.peakBytes / MB, 0)}${key.startsWith("gov") && of(key).some((o) => o.peakBytes > BUDGET_MB * MB) ? " **OVER BUDGET**" : ""}`,
      fmt(med(key, (o) => o.meanBytes) / MB, 0),
      `${fmt(ms / lb.boundS, 2)}×`,
      `${fmt(ms / serialS, 2)}×`,
      String(Math.max(...of(key).map((o) => o.maxJobs))),
      fmt(med(key, (o) => o.cpuS), 1),
      `${fmt(stats(of(key).flatMap((o) => o.allocS)).median, 2)} / ${fmt(stats(of(key).flatMap((o) => o.allocS)).max, 2)}` + kills + paused,
    ];
  });

  const byArgs = new Map(jobs.map((j) => [`${j.peakMb} ${j.durationS}`, j]));
  const runS = (r: SepJob) => (Date.parse(r.completedAt ?? "") - Date.parse(r.startedAt ?? "")) / 1000;
  const nominalOf = (r: SepJob) => byArgs.get(r.argv.slice(-2).join(" "))?.durationS ?? Number.NaN;
  /**
   * The gate's hand-over, per job that waited there: its start (record) − the last end of another
   * job before it (the release that let it in, or the last one that could have).
   */
  const handovers = (rs: SepJob[]) =>
    rs
      .filter((r) => (r.admission?.waitedMs ?? 0) > 0)
      .map((r) => {
        const start = Date.parse(r.startedAt ?? "");
        const ends = rs.map((x) => Date.parse(x.completedAt ?? "")).filter((end) => end <= start);
        return ends.length ? start - Math.max(...ends) : Number.NaN;
      })
      .filter(Number.isFinite);

  // Outside the job's own clock (python's start-up and exit, sep's spawn and reap): sep's run time −
  // the time the job printed, per job of the serial runs (each job alone).
  const outsideJob = stats(
    of("serial").flatMap((o) =>
      o.totalS.length !== JOBS
        ? []
        : o.records.flatMap((r) => {
            const j = byArgs.get(r.argv.slice(-2).join(" "));
            return j ? [runS(r) - o.totalS[j.i]!] : [];
          }),
    ),
  );

  // Why the learned governor takes what it takes: its reservations, and the lower bound they allow.
  const govDetail = ["gov1", "gov2", "gov3", "gov4"].filter((k) => of(k).length > 0).map((key) => {
    const recs = records(key);
    const sources = [...new Set(recs.map((r) => r.admission?.reservationSource ?? "none"))].join(", ");
    const resMb = recs.map((r) => (r.admission?.reservationBytes ?? 0) / MB);
    // Σ reservation × time actually held (startedAt → completedAt) / budget: the best a
    // reservation-keeping scheduler could do with these reservations and these run times.
    const area = (rs: SepJob[]) => rs.reduce((s, r) => s + ((r.admission?.reservationBytes ?? 0) / MB) * runS(r), 0) / BUDGET_MB;
    const areaS = stats(of(key).map((o) => area(o.records))).median;
    const run = stats(recs.map(runS));
    const extra = stats(recs.map((r) => runS(r) - nominalOf(r)));
    const waited = stats(of(key).map((o) => o.records.reduce((s, r) => s + (r.admission?.waitedMs ?? 0), 0) / 1000)).median;
    const util = stats(of(key).map((o) => (area(o.records) * BUDGET_MB) / (BUDGET_MB * o.makespanS))).median;
    const hand = stats(of(key).flatMap((o) => handovers(o.records)));
    return [
      key.replace("gov", "round "),
      sources,
      `${fmt(Math.min(...resMb), 0)}–${fmt(Math.max(...resMb), 0)} (Σ ${fmt(resMb.reduce((a, b) => a + b, 0) / of(key).length, 0)})`,
      fmt(areaS, 2),
      `${fmt(run.median, 2)} / ${fmt(run.max, 2)}`,
      `${fmt(extra.median, 2)} / ${fmt(extra.max, 2)}`,
      fmt(waited, 1),
      `${fmt(hand.median, 0)} / ${fmt(hand.p90, 0)} (n ${hand.n})`,
      `${fmt(util * 100, 0)} %`,
    ];
  });

  // Where the governor's makespan goes: the same rules with zero latency (simulate), step by step
  // from the lower bound to what was measured.
  const simFor = (o: Outcome, slots: number) => {
    const matched = o.records.flatMap((r) => {
      const j = byArgs.get(r.argv.slice(-2).join(" "));
      return j ? [{ j, r }] : [];
    });
    if (matched.length !== JOBS) return undefined;
    const sim = (res: (x: (typeof matched)[0]) => number, run: (x: (typeof matched)[0]) => number) =>
      simulate(matched.map((x) => ({ i: x.j.i, project: x.j.project, reservationMb: res(x), runS: run(x) })), BUDGET_MB, slots);
    const resOf = (x: (typeof matched)[0]) => (x.r.admission?.reservationBytes ?? 0) / MB;
    const firstStart = Math.min(...o.records.map((r) => Date.parse(r.startedAt ?? "")));
    const lastEnd = Math.max(...o.records.map((r) => Date.parse(r.completedAt ?? "")));
    return {
      nominal: sim((x) => x.j.peakMb, (x) => x.j.durationS),
      reserved: sim(resOf, (x) => x.j.durationS),
      reservedRun: sim(resOf, (x) => runS(x.r)),
      firstStartS: (firstStart - o.startedAtMs) / 1000,
      jobsSpanS: (lastEnd - firstStart) / 1000,
      tailS: o.makespanS - (lastEnd - o.startedAtMs) / 1000,
      actual: o.makespanS,
    };
  };
  const decompRows = ["gov1", "gov3", "gov4"].filter((k) => of(k).length > 0).map((key) => {
    const slots = key === "gov4" ? 1 : JOBS / PROJECTS;
    const sims = of(key).map((o) => simFor(o, slots)).filter((x) => x !== undefined);
    const m = (f: (x: NonNullable<ReturnType<typeof simFor>>) => number) => stats(sims.map(f)).median;
    const r = (x: number) => `${fmt(x, 2)} (${fmt(x / lb.boundS, 2)}×)`;
    return [
      key.replace("gov", "round "),
      r(m((x) => x.nominal)),
      r(m((x) => x.reserved)),
      r(m((x) => x.reservedRun)),
      `${fmt(m((x) => x.firstStartS), 2)} + ${fmt(m((x) => x.jobsSpanS), 2)} + ${fmt(m((x) => x.tailS), 2)}`,
      r(m((x) => x.actual)),
    ];
  });

  // What-ifs with zero latency and nominal durations: this workload in other orders, and other
  // workloads of the same generator in arrival order, with exact and with learned (× margin) reservations.
  const fifo = (w: WorkJob[], margin: number) => simulate(w.map((j) => ({ i: j.i, project: j.project, reservationMb: j.peakMb * margin, runS: j.durationS })), BUDGET_MB, JOBS);
  const byArea = (margin: number) =>
    simulate(
      [...jobs].sort((a, b) => b.peakMb * b.durationS - a.peakMb * a.durationS).map((j, k) => ({ i: k, project: 0, reservationMb: j.peakMb * margin, runS: j.durationS })),
      BUDGET_MB,
      JOBS,
    );
  const seeds = Array.from({ length: WHATIF_SEEDS }, (_, k) => {
    const w = workload(k + 1);
    const b = lowerBound(w).boundS;
    return { exact: fifo(w, 1) / b, learned: fifo(w, LEARNED_MARGIN) / b };
  });
  const q = (xs: number[]) => {
    const sorted = [...xs].sort((a, b) => a - b);
    const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
    return `${fmt(at(0.1), 2)} / ${fmt(at(0.5), 2)} / ${fmt(at(0.9), 2)}`;
  };
  const whatIf = {
    fifoExact: fifo(jobs, 1),
    fifoLearned: fifo(jobs, LEARNED_MARGIN),
    areaExact: byArea(1),
    areaLearned: byArea(LEARNED_MARGIN),
    seedsExact: q(seeds.map((x) => x.exact)),
    seedsLearned: q(seeds.map((x) => x.learned)),
    seedsLearnedMet: seeds.filter((x) => x.learned <= GOAL_LB_RATIO).length,
  };

  const serialRecs = records("serial");
  const measuredArea = (() => {
    // What the jobs really used when alone (the serial runs): sep's measured peak × the job's run time.
    const byArgv = new Map<string, { peak: number[]; dur: number[] }>();
    for (const r of serialRecs) {
      const k = r.argv.join(" ");
      const e = byArgv.get(k) ?? { peak: [], dur: [] };
      e.peak.push((r.peakMemoryBytes ?? 0) / MB);
      e.dur.push((Date.parse(r.completedAt ?? "") - Date.parse(r.startedAt ?? "")) / 1000);
      byArgv.set(k, e);
    }
    let area = 0;
    let longest = 0;
    for (const e of byArgv.values()) {
      const dur = stats(e.dur).median;
      area += stats(e.peak).median * dur;
      longest = Math.max(longest, dur);
    }
    return { area, longest, n: byArgv.size };
  })();

  const jobRows = jobs.map((j) => [j.i + 1, ["alpha", "beta", "gamma", "delta"][j.project]!, j.peakMb, fmt(j.durationS, 1), fmt(j.peakMb * j.durationS, 0)]);
  const lbLine =
    `max(longest job ${fmt(lb.longestS, 1)} s, Σ peak × duration / budget = ${fmt(lb.areaMbS, 0)} MB·s / ${BUDGET_MB} MB = ${fmt(lb.areaS, 2)} s) = **${fmt(lb.boundS, 2)} s**`;

  const peakStatus = overBudget.length === 0 ? `**met**, ${fmt(BUDGET_MB - govPeakMax / MB, 0)} MB to spare (${fmt(((BUDGET_MB - govPeakMax / MB) / BUDGET_MB) * 100, 0)} % of the budget)` : `**MISSED**: ${overBudget.map((o) => `${o.key} rep ${o.rep + 1} peaked at ${fmt(o.peakBytes / MB, 0)} MB`).join("; ")}`;
  const bad = problems.length ? `; **check failed**: ${problems.map((o) => `${o.key} rep ${o.rep + 1}: ${o.problems.join(", ")}`).join("; ")}` : "";
  const yard = [
    of("bare").length ? `unconstrained ${fmt(med("bare", (o) => o.peakBytes) / MB, 0)} MB` : "",
    of("parbudget").length ? `GNU parallel (free − 3 GB) ${fmt(med("parbudget", (o) => o.peakBytes) / MB, 0)} MB` : "",
    of("par3g").length ? `\`--memfree 3G\` ${fmt(med("par3g", (o) => o.peakBytes) / MB, 0)} MB` : "",
  ].filter(Boolean).join("; ");

  const markdown = [
    `${JOBS} jobs in ${PROJECTS} projects (temp dirs, each with \`.git\`), all submitted at once in a fixed arrival order ` +
      `(${STAGGER_MS} ms apart, the same for every contender), each a real allocator: \`python3 govjob.py MB SECONDS\` touches MB MiB ` +
      "(1 MiB `bytes` objects, every byte written) as fast as it can, then holds them until SECONDS after its start, so its RSS is real. " +
      `Peaks are spread evenly over 100–1200 MB and durations over 1–5 s, paired by a seeded shuffle (seed ${SEED}; redrawn until every job ` +
      `can touch its peak in its time at ${ALLOC_MB_PER_S} MB/s + ${ALLOC_SLACK_S} s) and spread over the projects by a seeded shuffle:`,
    "",
    table(["arrival", "project", "peak MB", "duration s", "peak × duration MB·s"], jobRows),
    "",
    `Budget **${BUDGET_MB} MB** by config (\`SEP_MEMORY_BUDGET_MB=${BUDGET_MB}\`); every job's limit \`MEMORY_LIMIT_MB=${LIMIT_MB}\`, above every peak, ` +
      "so with no history a job reserves its limit and two fit the budget at once. Lower bound: " +
      lbLine +
      ". It counts the nominal peaks and durations; what the jobs really used alone (the serial runs' job records: sep's peak, which " +
      `includes python's ~9 MB, × the job's run time) gives ${fmt(measuredArea.area / BUDGET_MB, 2)} s (${fmt(measuredArea.area, 0)} MB·s, ` +
      `longest ${fmt(measuredArea.longest, 2)} s).`,
    "",
    "Contenders, " + `${reps} repetition${reps > 1 ? "s" : ""}, each with fresh machine state dirs (\`XDG_RUNTIME_DIR\` in the bench's scratch dir, never the user's); ` +
      "the order rotates per repetition, the governor's four rounds running back to back in one state dir:",
    "",
    "- *unconstrained*: the 16 python jobs started directly;",
    `- *serial*: \`sep -- …\` with \`SEP_SCOPE=machine SEP_SLOTS=1\` (one line for every project) and \`SEP_MEMORY_BUDGET_MB=0\`, the wave-1 answer;`,
    "- *GNU parallel* (Debian `parallel` 20221122): one `parallel --jobs 16 --memfree SIZE ::: …` with the 16 commands in arrival order. " +
      "`--memfree` starts no further job while its free memory (MemFree + Buffers + Cached + SwapCached) is below SIZE and kills the youngest " +
      "job (re-queued) below SIZE/2. Taken literally, `--memfree 3G` only keeps 3 GB of the machine free: on a 24 GB machine " +
      "it holds nothing back (16 jobs at once, like unconstrained; `SEP_BENCH_GOVERNOR_LITERAL=1` adds it as a contender). The " +
      "budget-keeping setting, used here, is SIZE = its free memory at start − 3 GB, computed just before it runs (its figure is in the row);",
    `- *governor*: \`sep -- …\` per job with \`SEP_MEMORY_BUDGET_MB=${BUDGET_MB} MEMORY_LIMIT_MB=${LIMIT_MB} SEP_SLOTS=${JOBS / PROJECTS}\`: ` +
      `${JOBS / PROJECTS} slots per project (all of a project's jobs), so the machine gate, not the per-project line, decides what runs; ` +
      "round 4 repeats round 3 with the default one slot per project.",
    "",
    `Memory: every ${SAMPLE_MS} ms the bench sums the RSS (\`/proc/PID/statm\`) of every python process in the trees it started ` +
      "(sep's and parallel's own memory not counted). Makespan: first submission → last process exited. Medians over the repetitions, each one in brackets.",
    "",
    table(
      ["contender", "makespan s", "peak Σ RSS MB", "mean Σ RSS MB", "÷ lower bound", "÷ serial", "jobs at once (max)", "CPU s (jobs + seps / parallel)", "allocation s, median / max per job"],
      rows,
    ),
    "",
    ...(skipped.length ? [`Skipped: ${skipped.join("; ")}.`, ""] : []),
    "The governor's rounds, from the job records: the reservations (source and size), the reservation lower bound (Σ reservation × the job's " +
      "run time / budget: the best any scheduler keeping those reservations could do), the jobs' run times (sep's `startedAt` → `completedAt`: " +
      "python's start-up and exit are in them: alone, in the serial runs, a job's run time exceeds its own clock by " +
      `${fmt(outsideJob.median, 2)} s median, ${fmt(outsideJob.max, 2)} s max), the time they waited at the gate, ` +
      "the gate's hand-over (for each job that waited: its start − the last end of another job before it), and the share of budget × makespan " +
      "their reservations filled.",
    "",
    table(
      ["round", "reservation from", "reservation MB, min–max (Σ)", "reservation bound s", "run time s, median / max", "run time − nominal s, median / max", "Σ waited at the gate s", "gate hand-over ms, median / p90", "budget filled by reservations"],
      govDetail,
    ),
    "",
    "Where the makespan goes (medians; × = ÷ lower bound). The governor's rules with zero latency (`simulate()`: everything arrives at 0; " +
      "a job joins the gate's line when it has its project turn — at once with 4 slots per project, after its project's previous job with 1; " +
      "the gate admits, in its line's order, every job whose reservation fits, a later one past a head that does not), fed step by step with " +
      "(a) each job's nominal peak as its reservation and its nominal duration — the cost of FIFO first-fit packing alone; (b) the " +
      "reservation sep really made, nominal durations — plus the reservation margin; (c) those reservations and the run times sep " +
      "recorded — plus what each job took beyond its nominal time (python's start-up and exit, a CPU shared with the other jobs and the " +
      "machine's load); then what was measured, split into submission → first job started, first start → last job's end (job records, ms), " +
      "last end → last sep exited. Measured ≈ (c) means sep's own latency (gate, hand-over, start-up) costs next to nothing.",
    "",
    table(["round", "(a) packing only s", "(b) + sep's reservations s", "(c) + recorded run times s", "measured: to first start + jobs + tail s", "measured makespan s"], decompRows),
    "",
    `What the rules allow at best (zero latency, nominal durations): in arrival order (FIFO first-fit) ${fmt(whatIf.fifoExact, 2)} s ` +
      `(${fmt(whatIf.fifoExact / lb.boundS, 2)}×) with every reservation exactly its peak, ${fmt(whatIf.fifoLearned, 2)} s ` +
      `(${fmt(whatIf.fifoLearned / lb.boundS, 2)}×) with the learned margin (× ${LEARNED_MARGIN}); the same jobs sorted by peak × duration, ` +
      `largest first (an offline order FIFO forbids): ${fmt(whatIf.areaExact, 2)} s (${fmt(whatIf.areaExact / lb.boundS, 2)}×) and ` +
      `${fmt(whatIf.areaLearned, 2)} s (${fmt(whatIf.areaLearned / lb.boundS, 2)}×). Over ${WHATIF_SEEDS} other seeds of the same generator, ` +
      `FIFO first-fit ÷ lower bound is ${whatIf.seedsExact} (p10 / median / p90) with exact reservations and ${whatIf.seedsLearned} with ` +
      `the × ${LEARNED_MARGIN} margin; ${whatIf.seedsLearnedMet} of ${WHATIF_SEEDS} reach ≤ ${GOAL_LB_RATIO}× with the margin.`,
    "",
    `Sampler: ${outcomes.reduce((s, o) => s + o.samples, 0)} samples, median ${fmt(stats(outcomes.map((o) => o.tickMedianMs)).median, 2)} ms each. ` +
      `Load before each contender: ${outcomes.map((o) => `${o.key}/${o.rep + 1} ${o.loadBefore.toFixed(2)}`).join(", ")}.` +
      (problems.length ? `\n\n**Problems**: ${problems.map((o) => `${o.key} rep ${o.rep + 1}: ${o.problems.join(", ")}`).join("; ")}` : ""),
  ].join("\n");

  return {
    title: "Machine governor: mixed multi-project workload under a budget",
    goals: [
      {
        what: `governor: peak of the jobs' summed memory, every round (${gov.length} rounds)`,
        yardstick: yard,
        goal: `never over the budget (${BUDGET_MB} MB)`,
        result: `max ${fmt(govPeakMax / MB, 0)} MB (rounds 1–4 medians ${["gov1", "gov2", "gov3", "gov4"].map((k) => fmt(med(k, (o) => o.peakBytes) / MB, 0)).join(", ")} MB)${bad}`,
        status: problems.length ? "**error**" : peakStatus,
      },
      {
        what: "governor, learned (round 3): makespan ÷ lower bound",
        yardstick: `lower bound ${fmt(lb.boundS, 2)} s (${lbLine.replace(/\*\*/g, "")})`,
        goal: `≤ ${GOAL_LB_RATIO}×`,
        result:
          `median ${fmt(learnedS, 2)} s = ${fmt(learnedS / lb.boundS, 2)}× (round 1: ${fmt(med("gov1", (o) => o.makespanS), 2)} s = ${fmt(med("gov1", (o) => o.makespanS) / lb.boundS, 2)}×); ` +
          `the rules' own floor on this workload, zero latency: FIFO first-fit ${fmt(whatIf.fifoExact / lb.boundS, 2)}× with exact peaks, ` +
          `${fmt(whatIf.fifoLearned / lb.boundS, 2)}× with the × ${LEARNED_MARGIN} learned margin${bad}`,
        status: problems.length ? "**error**" : against(learnedS / lb.boundS, GOAL_LB_RATIO, "×", 2),
      },
      {
        what: "governor, learned (round 3): makespan ÷ serial",
        yardstick: `serial (\`scope = machine\`, 1 slot) ${fmt(serialS, 2)} s`,
        goal: `≤ ${GOAL_SERIAL_RATIO}×`,
        result: `${fmt(learnedS / serialS, 2)}× (round 1: ${fmt(med("gov1", (o) => o.makespanS) / serialS, 2)}×)${bad}`,
        status: problems.length ? "**error**" : against(learnedS / serialS, GOAL_SERIAL_RATIO, "×", 2),
      },
    ],
    markdown,
  };
}

