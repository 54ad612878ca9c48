// Shared pieces of the benchmarks: the binary under test, temp projects, a cross-process clock,
// the `stamp` program, statistics and Markdown formatting.
import { dlopen, FFIType as T } from "bun:ffi";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { COMPILE_OPTIONS } from "../build.ts";

export const REPO = resolve(import.meta.dir, "..");
export const FIXTURES = join(REPO, "test/fixtures");

/** One benchmark's contribution to the report. */
export interface Section {
  title: string;
  /** rows for the summary table, one per DESIGN §8 goal this benchmark checks */
  goals: GoalRow[];
  /** the detailed tables and notes */
  markdown: string;
}

export interface GoalRow {
  what: string;
  yardstick: string;
  goal: string;
  result: string;
  /** met / missed, or a word such as "info" for rows without a goal */
  status: string;
}

export interface Context {
  /** a private copy of dist/sep (others may rebuild dist/sep while the bench runs) */
  sep: string;
  /** absolute path of the stamp program: `stamp WORDS...` prints WORDS and CLOCK_MONOTONIC ns */
  stamp: string;
  stampKind: string;
  /**
   * absolute path of the floor program (bench/floor.ts, compiled as sep is): `floor --version`, and
   * `floor LOCKFILE COMMAND...`, flock(1) in Bun. The least a per-invocation Bun process pays.
   */
  floor: string;
  /** absolute path of a python3 interpreter (not a pyenv shim) */
  python: string;
  /** scratch dir for the whole run, removed at the end */
  scratch: string;
  /** clean environment for every process the bench starts: no sep settings leak in */
  env: Record<string, string>;
  /** clock ticks per second, for /proc/PID/stat times */
  clockTicks: number;
  /** sep's VmHWM seen while it supervised each kind of job, gathered across benchmarks for bench 7 */
  sepHwm: { job: string; kb: number }[];
  log(message: string): void;
}

// ---------------------------------------------------------------- clock

const _libc = dlopen("libc.so.6", { clock_gettime: { args: [T.i32, T.ptr], returns: T.i32 } });
const _timespec = new BigInt64Array(2);
const CLOCK_MONOTONIC = 1;

/**
 * CLOCK_MONOTONIC in ns through clock_gettime(2). Unlike Bun's process.hrtime (counted from this
 * process's start), it is one clock for every process on the machine, so it compares directly with
 * the stamps our child commands print. A Number holds ns exactly for ~104 days of uptime.
 */
export function monoNs(): number {
  _libc.symbols.clock_gettime(CLOCK_MONOTONIC, _timespec);
  return Number(_timespec[0]) * 1e9 + Number(_timespec[1]);
}

export function monoMs(): number {
  return monoNs() / 1e6;
}

// ---------------------------------------------------------------- setup

function _which(name: string, env: Record<string, string>): string | undefined {
  return Bun.which(name, { PATH: env.PATH ?? "" }) ?? undefined;
}

/** Build the stamp program: C (gcc/cc) if possible, else a perl script, both on CLOCK_MONOTONIC. */
function _buildStamp(dir: string, env: Record<string, string>): { path: string; kind: string } {
  const out = join(dir, "stamp");
  const compiler = _which("gcc", env) ?? _which("cc", env);
  if (compiler) {
    for (const flags of [["-O2", "-static"], ["-O2"]]) {
      const cc = Bun.spawnSync([compiler, ...flags, "-o", out, join(import.meta.dir, "stamp.c")], { env, stderr: "pipe" });
      if (cc.exitCode === 0) return { path: out, kind: `C (${flags.join(" ")}), CLOCK_MONOTONIC` };
    }
  }
  const perl = _which("perl", env);
  if (!perl) throw new Error("bench needs gcc/cc or perl to build its timestamp program");
  writeFileSync(
    out,
    `#!${perl}\nuse Time::HiRes qw(clock_gettime CLOCK_MONOTONIC);\nmy $t = clock_gettime(CLOCK_MONOTONIC);\nprint join("", map { "$_ " } @ARGV), sprintf("%.0f\\n", $t * 1e9);\n`,
    { mode: 0o755 },
  );
  return { path: out, kind: "perl Time::HiRes, CLOCK_MONOTONIC" };
}

function _python(env: Record<string, string>): string {
  const py = Bun.spawnSync(["python3", "-c", "import sys; print(sys.executable)"], { env, stderr: "ignore" });
  const path = py.stdout.toString().trim();
  if (py.exitCode !== 0 || !path) throw new Error("bench needs python3 (for test/fixtures/alloc.py)");
  return path;
}

export async function makeContext(log: (message: string) => void): Promise<Context> {
  const scratch = mkdtempSync(join(tmpdir(), "sep-bench-"));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    HOME: process.env.HOME ?? scratch,
    LANG: "C.UTF-8",
    NO_COLOR: "1",
    TERM: "dumb",
    XDG_RUNTIME_DIR: _runtimeDir(scratch),
  };
  // SEP_BENCH_BIN benchmarks another binary (an installed one, or an older build to compare with).
  const built = process.env.SEP_BENCH_BIN ? resolve(process.env.SEP_BENCH_BIN) : join(REPO, "dist/sep");
  if (!existsSync(built)) throw new Error(`${built} is missing: run \`npm run build\` first`);
  const sep = join(scratch, "sep");
  copyFileSync(built, sep);
  Bun.spawnSync(["chmod", "755", sep]);
  const stamp = _buildStamp(scratch, env);
  const floor = await _buildFloor(scratch);
  const clockTicks = Number(Bun.spawnSync(["getconf", "CLK_TCK"]).stdout.toString().trim()) || 100;
  return { sep, stamp: stamp.path, stampKind: stamp.kind, floor, python: _python(env), scratch, env, clockTicks, sepHwm: [], log };
}

/** bench/floor.ts as an executable built as sep is: the same Bun, bytecode, minify and compile options (JIT policy). */
async function _buildFloor(scratch: string): Promise<string> {
  const outfile = join(scratch, "floor");
  const result = await Bun.build({
    entrypoints: [join(import.meta.dir, "floor.ts")],
    format: "esm",
    compile: { outfile, ...COMPILE_OPTIONS },
    bytecode: true,
    minify: true,
  });
  if (!result.success) throw new Error(`building the floor program failed: ${result.logs.join("\n")}`);
  return outfile;
}

/**
 * A private XDG_RUNTIME_DIR for the machine state (the governor's ledger and profiles), so the bench
 * neither sees nor leaves state of other seps of this user. On a tmpfs when the machine has one, as
 * a login session's /run/user/UID is (systemd; GitHub's hosted runners have one too): the state
 * dir is where sep creates a few small files per job, and creating files costs ~0.2 ms each on this
 * VM's ext4 against ~0.01 ms on a tmpfs. SEP_BENCH_RUNTIME_ON_DISK=1 keeps it on the scratch dir.
 */
function _runtimeDir(scratch: string): string {
  const base = process.env.SEP_BENCH_RUNTIME_ON_DISK === "1" || !existsSync("/dev/shm") ? scratch : "/dev/shm";
  const dir = mkdtempSync(join(base, "sep-bench-runtime-"));
  chmodSync(dir, 0o700);
  _outsideScratch.push(dir);
  return dir;
}
/** dirs made outside the scratch dir (runtime dirs, tmpfs projects), removed with it */
const _outsideScratch: string[] = [];

let _projects = 0;

/** A fresh project dir (with `.git`, so sep anchors its state there) inside the scratch dir. */
export function tempProject(ctx: Context, name: string): string {
  const dir = join(ctx.scratch, `${String(++_projects).padStart(2, "0")}-${name}`);
  mkdirSync(join(dir, ".git"), { recursive: true });
  return dir;
}

/**
 * A fresh project dir on a tmpfs (/dev/shm), where creating a file costs ~0.01 ms instead of the
 * disk's ~0.2: how much of a figure is the disk. undefined where the machine has no /dev/shm.
 */
export function tmpfsProject(name: string): string | undefined {
  if (!existsSync("/dev/shm")) return undefined;
  const dir = mkdtempSync(join("/dev/shm", `sep-bench-${name}-`));
  _outsideScratch.push(dir);
  mkdirSync(join(dir, ".git"));
  return dir;
}

export function removeScratch(ctx: Context): void {
  rmSync(ctx.scratch, { recursive: true, force: true });
  for (const dir of _outsideScratch) rmSync(dir, { recursive: true, force: true });
}

// ---------------------------------------------------------------- processes

/**
 * Wall time of one synchronous run, in ms, measured around spawnSync (same overhead for every
 * command), and the child's CPU time (user+sys, from its rusage), which other load on the machine
 * disturbs far less than wall time.
 */
export function timeRun(argv: string[], cwd: string, env: Record<string, string>): { ms: number; cpuMs: number; exitCode: number | null } {
  const t0 = monoNs();
  const run = Bun.spawnSync(argv, { cwd, env, stdin: "ignore", stdout: "ignore", stderr: "ignore" });
  const ms = (monoNs() - t0) / 1e6;
  return { ms, cpuMs: Number(run.resourceUsage?.cpuTime.total ?? Number.NaN) / 1000, exitCode: run.exitCode };
}

/** utime+stime and the memory lines of /proc/PID/status; undefined once the process is gone. */
export function procSample(pid: number): { ticks: number; vmRssKb: number; vmHwmKb: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name, which may contain spaces and parentheses: split after the last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]); // utime (14) + stime (15)
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? Number.NaN);
    return { ticks, vmRssKb: kb("VmRSS"), vmHwmKb: kb("VmHWM") };
  } catch {
    return undefined;
  }
}

/** All descendants of pid, via /proc/PID/task/TID/children. */
export function descendantCount(pid: number): number {
  let count = 0;
  const stack = [pid];
  while (stack.length > 0) {
    const p = stack.pop()!;
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      continue;
    }
    for (const tid of tasks) {
      let children = "";
      try {
        children = readFileSync(`/proc/${p}/task/${tid}/children`, "utf8");
      } catch {
        continue;
      }
      for (const c of children.split(" ").filter(Boolean)) {
        count++;
        stack.push(Number(c));
      }
    }
  }
  return count;
}

export function sleep(ms: number): Promise<void> {
  return Bun.sleep(ms);
}

// ---------------------------------------------------------------- statistics

export interface Stats {
  n: number;
  median: number;
  p90: number;
  min: number;
  max: number;
}

/** Nearest-rank quantile of sorted values. */
function _quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[rank - 1]!;
}

export function stats(values: number[]): Stats {
  const sorted = [...values].sort((a, b) => a - b);
  const median =
    sorted.length % 2 === 1 ? sorted[(sorted.length - 1) / 2]! : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;
  return { n: sorted.length, median: sorted.length ? median : Number.NaN, p90: _quantile(sorted, 0.9), min: sorted[0] ?? Number.NaN, max: sorted.at(-1) ?? Number.NaN };
}

/** Rotate the order of the contenders each round, so none always runs first (caches, load). */
export function rotated<T>(items: T[], round: number): T[] {
  const k = round % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

// ---------------------------------------------------------------- formatting

export function fmt(value: number, digits = 1): string {
  return Number.isFinite(value) ? value.toFixed(digits) : "–";
}

export function table(header: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

export function verdict(met: boolean): string {
  return met ? "**met**" : "**missed**";
}

/** A numeric goal "value ≤ goal": met or missed, and by how much. */
export function against(value: number, goal: number, unit: string, digits = 1): string {
  const diff = Math.abs(goal - value);
  const pct = goal !== 0 ? ` (${fmt((diff / goal) * 100, 0)} % of the goal)` : "";
  const sp = unit.startsWith("×") || unit === "%" ? "" : " ";
  return value <= goal
    ? `**met**, ${fmt(diff, digits)}${sp}${unit} to spare${pct}`
    : `**missed** by ${fmt(diff, digits)}${sp}${unit}${pct}`;
}
