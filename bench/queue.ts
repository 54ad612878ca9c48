// Issue 3's numbers: `sep queue start` draining 1000 stored `true` jobs against a bare shell loop
// and a flock(1) loop in the same rounds (DESIGN §8: ≥ 300 jobs/s); `sep queue add` one job at a
// time (the 1000 adds that fill each round's queue), against `sep --version` interleaved with them;
// and `sep run list` / `run view` with 1000 runs on disk, against `sep --version`.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type Context, fmt, rotated, type Section, stats, table, tempProject, timeRun, verdict } from "./lib.ts";

const JOBS = 1000;
/** Drain rounds; each fills a fresh queue with JOBS real `sep queue add` calls first. */
const ROUNDS = Number(process.env.SEP_BENCH_QUEUE_ROUNDS ?? 3);
/** One `sep --version` after every VERSION_EVERY adds: the start-up yardstick, interleaved. */
const VERSION_EVERY = 5;
const GOAL_JOBS_PER_SEC = 300;
const RUNS_ON_DISK = 1000;
const LIST_ROUNDS = 15;
const LIST_WARMUP = 2;

interface JobRec {
  n: number;
  conclusion: string | null;
  exitCode: number | null;
  queuedAt: string;
  startedAt: string | null;
  completedAt: string | null;
  durationMs: number | null;
}

interface RunRec {
  id: string;
  status: string;
  conclusion: string | null;
  exitCode: number | null;
  createdAt: string;
  startedAt: string | null;
  completedAt: string | null;
  jobs: JobRec[];
}

interface DrainRound {
  round: number;
  order: string;
  sep: { ms: number; cpuMs: number; exitCode: number | null };
  shell: { ms: number; cpuMs: number; exitCode: number | null };
  flock: { ms: number; cpuMs: number; exitCode: number | null };
  /** what the run record says */
  check: { jobs: number; success: number; fifo: boolean; runConclusion: string | null; left: number; problems: string[] };
  /** from the record, ms resolution: per job, runJob's own span (resolve, spawn, wait, reap) */
  jobMs: number[];
  /** completedAt of job i → startedAt of job i+1: records, queue claim, turn, progress lines */
  gapMs: number[];
  /** drain spawned → run createdAt (sep start-up), createdAt → first job started, last job → exit */
  startupMs: number;
  firstJobMs: number;
  tailMs: number;
}

function readNewestRun(dir: string): RunRec | undefined {
  try {
    const runs = readdirSync(join(dir, "logs/runs")).filter((name) => !name.startsWith(".")).sort();
    return JSON.parse(readFileSync(join(dir, "logs/runs", runs.at(-1)!, "run.json"), "utf8")) as RunRec;
  } catch {
    return undefined;
  }
}

function queueLength(dir: string): number {
  try {
    return readdirSync(join(dir, ".sequential-locks/queue")).filter((name) => /^\d+\.json$/.test(name)).length;
  } catch {
    return 0;
  }
}

const loop = (body: string) => `i=0; while [ $i -lt ${JOBS} ]; do ${body}; i=$((i+1)); done`;

/**
 * task-spooler's batch, once: 1000 `tsp -n /bin/true` queued from one shell loop against a private
 * tsp server with one slot, then `tsp -w` (the last job, so all of them, one slot being FIFO). Its
 * time includes queueing each job (a client process per job), which `sep queue start` does not:
 * a yardstick for the order of magnitude, not a like-for-like drain. undefined when tsp is missing.
 */
function tspBatch(ctx: Context): { ms: number; rate: number } | undefined {
  const tsp = Bun.which("tsp", { PATH: ctx.env.PATH ?? "" }) ?? Bun.which("ts", { PATH: ctx.env.PATH ?? "" });
  if (!tsp || !tsp.endsWith("tsp")) return undefined;
  const dir = tempProject(ctx, "queue-tsp");
  const env = { ...ctx.env, TS_SOCKET: join(dir, "tsp.socket"), TS_MAXFINISHED: String(JOBS + 10), TMPDIR: dir };
  Bun.spawnSync([tsp, "-S", "1"], { env, cwd: dir });
  const run = timeRun(["sh", "-c", `i=0; while [ $i -lt ${JOBS} ]; do "$0" -n /bin/true >/dev/null || exit 1; i=$((i+1)); done; "$0" -w`, tsp], dir, env);
  Bun.spawnSync([tsp, "-K"], { env, cwd: dir });
  if (run.exitCode !== 0) throw new Error(`tsp batch exited ${run.exitCode}`);
  return { ms: run.ms, rate: JOBS / (run.ms / 1000) };
}

async function drainRound(ctx: Context, round: number, adds: number[], addCpu: number[], versions: number[], versionCpu: number[]): Promise<DrainRound> {
  const dir = tempProject(ctx, `queue-${round}`);
  const env = { ...ctx.env, SEP_KEEP_RUNS: "0" };
  const lockFile = join(dir, "flock.lock");

  // Fill the queue: JOBS sequential `sep queue add -- true` (the add benchmark), with a `sep --version`
  // after every VERSION_EVERY adds, so both see the same machine at the same moments.
  for (let i = 0; i < JOBS; i++) {
    const add = timeRun([ctx.sep, "queue", "add", "--", "true"], dir, env);
    if (add.exitCode !== 0) throw new Error(`sep queue add exited ${add.exitCode} (round ${round}, add ${i + 1})`);
    adds.push(add.ms);
    addCpu.push(add.cpuMs);
    if (i % VERSION_EVERY === VERSION_EVERY - 1) {
      const version = timeRun([ctx.sep, "--version"], dir, env);
      versions.push(version.ms);
      versionCpu.push(version.cpuMs);
    }
    if ((i + 1) % 250 === 0) ctx.log(`queue: round ${round + 1}: ${i + 1} jobs stored`);
  }
  const stored = queueLength(dir);
  if (stored !== JOBS) throw new Error(`round ${round}: ${stored} jobs stored after ${JOBS} adds`);

  // The three contenders, in an order rotated every round.
  const contenders: { name: "sep" | "shell" | "flock"; argv: string[] }[] = [
    { name: "sep", argv: [ctx.sep, "queue", "start"] },
    { name: "shell", argv: ["sh", "-c", loop("/bin/true")] },
    { name: "flock", argv: ["sh", "-c", loop('flock "$0" /bin/true'), lockFile] },
  ];
  const result: Partial<Record<"sep" | "shell" | "flock", DrainRound["sep"]>> = {};
  let spawnedAt = 0;
  const order = rotated(contenders, round);
  for (const c of order) {
    if (c.name === "sep") spawnedAt = Date.now();
    result[c.name] = timeRun(c.argv, dir, env);
  }
  const sep = result.sep!;

  // Every job ran, once, in order, and succeeded: the run record says so.
  const problems: string[] = [];
  const run = readNewestRun(dir);
  if (sep.exitCode !== 0) problems.push(`queue start exited ${sep.exitCode}`);
  if (result.shell!.exitCode !== 0) problems.push(`shell loop exited ${result.shell!.exitCode}`);
  if (result.flock!.exitCode !== 0) problems.push(`flock loop exited ${result.flock!.exitCode}`);
  if (!run) problems.push("no run record");
  const jobs = run?.jobs ?? [];
  const success = jobs.filter((job) => job.conclusion === "success" && job.exitCode === 0).length;
  const fifo = jobs.every((job, i) => job.n === i + 1 && (i === 0 || job.queuedAt >= jobs[i - 1]!.queuedAt));
  if (jobs.length !== JOBS) problems.push(`${jobs.length} jobs in the run record`);
  if (success !== JOBS) problems.push(`${success} successful jobs`);
  if (!fifo) problems.push("jobs not in the order they were stored");
  const left = queueLength(dir);
  if (left !== 0) problems.push(`${left} jobs still stored`);

  const ms = (iso: string | null) => (iso ? Date.parse(iso) : Number.NaN);
  const jobMs = jobs.map((job) => ms(job.completedAt) - ms(job.startedAt));
  const gapMs = jobs.slice(1).map((job, i) => ms(job.startedAt) - ms(jobs[i]!.completedAt));
  const created = ms(run?.createdAt ?? null);
  return {
    round,
    order: order.map((c) => c.name).join(" → "),
    sep,
    shell: result.shell!,
    flock: result.flock!,
    check: { jobs: jobs.length, success, fifo, runConclusion: run?.conclusion ?? null, left, problems },
    jobMs,
    gapMs,
    startupMs: created - spawnedAt,
    firstJobMs: ms(jobs[0]?.startedAt ?? null) - created,
    tailMs: spawnedAt + sep.ms - ms(jobs.at(-1)?.completedAt ?? null),
  };
}

interface ListResult {
  name: string;
  ms: number[];
  cpuMs: number[];
  failures: number;
}

async function runHistory(ctx: Context): Promise<{ fill: { ms: number; exitCode: number | null }; runs: number; listed: number; results: ListResult[]; checks: string[] }> {
  const dir = tempProject(ctx, "queue-history");
  const env = { ...ctx.env, SEP_KEEP_RUNS: "0" };
  // Real records, one run per `sep -- true` (job record, log file and all), none pruned.
  ctx.log(`queue: writing ${RUNS_ON_DISK} runs with \`sep -q -- true\`…`);
  const fill = timeRun(["sh", "-c", loop('"$0" -q -- true'), ctx.sep], dir, env);
  const runs = readdirSync(join(dir, "logs/runs")).filter((name) => !name.startsWith(".")).length;
  const checks: string[] = [];
  if (fill.exitCode !== 0) checks.push(`the loop of \`sep -- true\` exited ${fill.exitCode}`);
  if (runs !== RUNS_ON_DISK) checks.push(`${runs} runs on disk, not ${RUNS_ON_DISK}`);

  // What the commands print, checked once (the timed runs send it to /dev/null).
  const json = Bun.spawnSync([ctx.sep, "run", "list", "--json", "--limit", String(RUNS_ON_DISK)], { cwd: dir, env, stdout: "pipe", stderr: "pipe" });
  let listed = 0;
  try {
    listed = (JSON.parse(json.stdout.toString()) as RunRec[]).filter((run) => run.conclusion === "success").length;
  } catch {
    checks.push("`run list --json` printed no JSON array");
  }
  if (listed !== RUNS_ON_DISK) checks.push(`\`run list --json --limit ${RUNS_ON_DISK}\` listed ${listed} successful runs`);
  const plain = Bun.spawnSync([ctx.sep, "run", "list"], { cwd: dir, env, stdout: "pipe", stderr: "pipe" });
  if (plain.exitCode !== 0 || plain.stdout.toString().split("\n").filter(Boolean).length < 20) checks.push("`run list` printed fewer than 20 lines");
  const view = Bun.spawnSync([ctx.sep, "run", "view"], { cwd: dir, env, stdout: "pipe", stderr: "pipe" });
  if (view.exitCode !== 0 || !view.stdout.toString().includes("success")) checks.push("`run view` did not show the latest run");

  const contenders: { name: string; argv: string[] }[] = [
    { name: "`sep --version`", argv: [ctx.sep, "--version"] },
    { name: "`sep run list` (default limit 20)", argv: [ctx.sep, "run", "list"] },
    { name: `\`sep run list --limit ${RUNS_ON_DISK}\``, argv: [ctx.sep, "run", "list", "--limit", String(RUNS_ON_DISK)] },
    { name: `\`sep run list --json --limit ${RUNS_ON_DISK}\``, argv: [ctx.sep, "run", "list", "--json", "--limit", String(RUNS_ON_DISK)] },
    { name: "`sep run view` (latest)", argv: [ctx.sep, "run", "view"] },
  ];
  const results = contenders.map((c) => ({ name: c.name, ms: [] as number[], cpuMs: [] as number[], failures: 0 }));
  for (let round = -LIST_WARMUP; round < LIST_ROUNDS; round++) {
    for (const c of rotated(contenders, Math.max(0, round))) {
      const r = timeRun(c.argv, dir, env);
      const slot = results.find((x) => x.name === c.name)!;
      if (r.exitCode !== 0) slot.failures++;
      if (round >= 0) {
        slot.ms.push(r.ms);
        slot.cpuMs.push(r.cpuMs);
      }
    }
  }
  return { fill, runs, listed, results, checks };
}

export async function queue(ctx: Context): Promise<Section> {
  const adds: number[] = [];
  const addCpu: number[] = [];
  const versions: number[] = [];
  const versionCpu: number[] = [];
  const rounds: DrainRound[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const r = await drainRound(ctx, round, adds, addCpu, versions, versionCpu);
    ctx.log(
      `queue: round ${round + 1}: sep ${fmt(r.sep.ms / 1000, 2)} s (${fmt(JOBS / (r.sep.ms / 1000))} jobs/s), ` +
        `shell ${fmt(r.shell.ms / 1000, 2)} s, flock ${fmt(r.flock.ms / 1000, 2)} s; ${r.check.problems.length ? r.check.problems.join(", ") : "all jobs ran"}`,
    );
    rounds.push(r);
  }
  const hist = await runHistory(ctx);

  const rate = (ms: number) => JOBS / (ms / 1000);
  const sepRate = stats(rounds.map((r) => rate(r.sep.ms))).median;
  const tsp = tspBatch(ctx);
  ctx.log(`queue: tsp batch ${tsp ? `${fmt(tsp.ms / 1000, 2)} s (${fmt(tsp.rate)} jobs/s)` : "not installed"}`);
  const shellRate = stats(rounds.map((r) => rate(r.shell.ms))).median;
  const flockRate = stats(rounds.map((r) => rate(r.flock.ms))).median;
  const sepCpu = stats(rounds.map((r) => r.sep.cpuMs)).median;
  const allRan = rounds.every((r) => r.check.problems.length === 0);
  const met = sepRate >= GOAL_JOBS_PER_SEC;
  const diff = Math.abs(sepRate - GOAL_JOBS_PER_SEC);
  const rateStatus = met
    ? `**met**, ${fmt(diff)} jobs/s to spare (${fmt((diff / GOAL_JOBS_PER_SEC) * 100, 0)} % of the goal)`
    : `**missed** by ${fmt(diff)} jobs/s (${fmt((diff / GOAL_JOBS_PER_SEC) * 100, 0)} % of the goal): ${fmt(1000 / sepRate, 2)} ms per job, goal ${fmt(1000 / GOAL_JOBS_PER_SEC, 2)} ms`;
  const add = stats(adds);
  const version = stats(versions);
  const jobSpan = stats(rounds.flatMap((r) => r.jobMs));
  const gap = stats(rounds.flatMap((r) => r.gapMs));
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

  const drainRows = rounds.map((r) => [
    r.round + 1,
    r.order,
    `${fmt(r.sep.ms / 1000, 2)} s = **${fmt(rate(r.sep.ms))}**/s (CPU ${fmt(r.sep.cpuMs / 1000, 2)} s)`,
    `${fmt(r.shell.ms / 1000, 2)} s = ${fmt(rate(r.shell.ms))}/s (CPU ${fmt(r.shell.cpuMs / 1000, 2)} s)`,
    `${fmt(r.flock.ms / 1000, 2)} s = ${fmt(rate(r.flock.ms))}/s (CPU ${fmt(r.flock.cpuMs / 1000, 2)} s)`,
    `${fmt(r.sep.ms / r.shell.ms, 2)}× / ${fmt(r.sep.ms / r.flock.ms, 2)}×`,
    r.check.problems.length ? r.check.problems.join("; ") : `${r.check.success}/${r.check.jobs} success, FIFO, run ${r.check.runConclusion}, queue empty`,
  ]);
  const splitRows = rounds.map((r) => [
    r.round + 1,
    fmt(r.sep.ms, 0),
    fmt(r.startupMs, 0),
    fmt(r.firstJobMs, 0),
    `${fmt(sum(r.jobMs), 0)} (${fmt(stats(r.jobMs).median, 0)} / ${fmt(stats(r.jobMs).p90, 0)})`,
    `${fmt(sum(r.gapMs), 0)} (${fmt(stats(r.gapMs).median, 0)} / ${fmt(stats(r.gapMs).p90, 0)})`,
    fmt(r.tailMs, 0),
  ]);
  const addRows = [
    ["`sep queue add -- true`", add.n, fmt(add.median), fmt(add.p90), fmt(add.min), fmt(add.max), fmt(stats(addCpu).median), `${fmt(add.median / version.median, 2)}×`],
    ["`sep --version`", version.n, fmt(version.median), fmt(version.p90), fmt(version.min), fmt(version.max), fmt(stats(versionCpu).median), "1.00×"],
  ];
  const histVersion = stats(hist.results[0]!.ms).median;
  const histRows = hist.results.map((r) => {
    const s = stats(r.ms);
    return [r.name, s.n, fmt(s.median), fmt(s.p90), fmt(s.min), fmt(s.max), fmt(stats(r.cpuMs).median), `${fmt(s.median / histVersion, 2)}×`, r.failures];
  });
  const listJson = stats(hist.results[3]!.ms);
  const listDefault = stats(hist.results[1]!.ms);
  const viewLatest = stats(hist.results[4]!.ms);

  const markdown = [
    `${ROUNDS} rounds. Each round makes a fresh temp project (\`SEP_KEEP_RUNS=0\`) and stores ${JOBS} jobs with ${JOBS} sequential ` +
      `\`sep queue add -- true\` (timed one by one for the add benchmark, with a \`sep --version\` after every ${VERSION_EVERY}th add), ` +
      "then runs the three contenders in an order rotated every round:",
    "",
    "- `sep queue start` (default flags; stdout and stderr to /dev/null, so its two progress lines per job cost a write each and no terminal);",
    `- a bare shell loop: \`sh -c '${loop("/bin/true")}'\` — \`/bin/true\` is an external command (fork + exec), not the shell builtin;`,
    `- a \`flock(1)\` loop: the same loop running \`flock LOCKFILE /bin/true\`.`,
    "",
    "Wall time from spawn to exit around `Bun.spawnSync`; CPU is user+sys of the process and the children it waited for (rusage). " +
      "Each drain is then checked against its run record: 1000 jobs, all `success` with exit 0, in stored order, and nothing left stored.",
    "",
    table(["round", "order", "`sep queue start`", "shell loop", "`flock` loop", "sep time ÷ shell / ÷ flock", "check"], drainRows),
    "",
    `Median: sep ${fmt(sepRate)} jobs/s (${fmt(1000 / sepRate, 2)} ms per job, CPU ${fmt(sepCpu / 1000, 2)} s per drain), ` +
      `shell loop ${fmt(shellRate)} jobs/s (${fmt(1000 / shellRate, 2)} ms), \`flock\` loop ${fmt(flockRate)} jobs/s (${fmt(1000 / flockRate, 2)} ms). ` +
      `sep ÷ shell loop = ${fmt(sepRate / shellRate, 2)}, sep ÷ \`flock\` loop = ${fmt(sepRate / flockRate, 2)}. ` +
      `Load moves all three together (the *÷* column, median ${fmt(stats(rounds.map((r) => r.sep.ms / r.shell.ms)).median, 2)}× the shell ` +
      `loop's time). A drain is CPU-bound: its CPU time (sep's own, on its helper threads too, and the 1000 \`true\`s') is ` +
      `${fmt(stats(rounds.map((r) => r.sep.cpuMs)).min / JOBS, 2)}–${fmt(stats(rounds.map((r) => r.sep.cpuMs)).max / JOBS, 2)} ms per job, ` +
      `about its wall time, against the goal's ${fmt(1000 / GOAL_JOBS_PER_SEC, 2)} ms per job: whatever else wants the 2 cores comes ` +
      "straight out of that margin.",
    "",
    "Where a drain's wall time goes, from its own run record (ISO timestamps, ms resolution, so per-job figures are coarse; " +
      "the sums are not): *start-up* = drain spawned → run `createdAt`; *to first job* = `createdAt` → job 1 `startedAt` " +
      "(drain lock, recovery check, first queue read, turn); *in jobs* = Σ each job's `startedAt` → `completedAt`, i.e. sep's " +
      "`runJob` (resolve the command, spawn, first memory sample, wait, tree check, pumps) around `true`; *between jobs* = " +
      "Σ `completedAt` of one job → `startedAt` of the next (records, claim, next entry, turn, progress lines); *tail* = last " +
      "job's `completedAt` → exit (final run record, summary table of 1000 rows, prune).",
    "",
    table(["round", "wall ms", "start-up ms", "to first job ms", "in jobs ms (median / p90 per job)", "between jobs ms (median / p90)", "tail ms"], splitRows),
    "",
    `Over all rounds, per job: in the job ${fmt(jobSpan.median, 0)} ms median (p90 ${fmt(jobSpan.p90, 0)}), between jobs ` +
      `${fmt(gap.median, 0)} ms median (p90 ${fmt(gap.p90, 0)}).`,
    "",
    `#### \`sep queue add\`, one job at a time`,
    "",
    `The ${add.n} adds that filled the drain rounds' queues (${ROUNDS} × ${JOBS}, sequential, each a new process), and the ` +
      `\`sep --version\` run after every ${VERSION_EVERY}th of them:`,
    "",
    table(["command", "n", "median ms", "p90 ms", "min ms", "max ms", "CPU median ms", "÷ `--version`"], addRows),
    "",
    `An add costs ${fmt(add.median - version.median)} ms more than start-up alone (config resolution, the queue lock, the counter, a listing of ` +
      `the queue, two atomic writes); ${JOBS} adds take ~${fmt((add.median * JOBS) / 1000, 1)} s, about ${fmt((add.median * JOBS) / (1000 / sepRate) / JOBS, 1)}× ` +
      "as long as draining them.",
    "",
    `#### \`sep run list\` / \`run view\` with ${RUNS_ON_DISK} runs on disk`,
    "",
    `One temp project, \`SEP_KEEP_RUNS=0\`; ${RUNS_ON_DISK} real runs written by a shell loop of \`sep -q -- true\` ` +
      `(${fmt(hist.fill.ms / 1000, 1)} s, ${fmt(RUNS_ON_DISK / (hist.fill.ms / 1000))} runs/s; ${hist.runs} runs on disk). ` +
      `Checked once: \`run list --json --limit ${RUNS_ON_DISK}\` lists ${hist.listed} successful runs, \`run list\` prints its table, ` +
      `\`run view\` shows the latest run${hist.checks.length ? `; **problems**: ${hist.checks.join("; ")}` : ""}. ` +
      `Then ${LIST_ROUNDS} rounds (after ${LIST_WARMUP} warm-up) of the five commands in rotated order, stdout to /dev/null:`,
    "",
    table(["command", "n", "median ms", "p90 ms", "min ms", "max ms", "CPU median ms", "÷ `--version`", "failures"], histRows),
  ].join("\n");

  return {
    title: "Queue and history",
    goals: [
      {
        what: `\`queue start\` of ${JOBS} stored \`true\` jobs`,
        yardstick: `shell loop of \`/bin/true\` ${fmt(shellRate)} jobs/s; \`flock\` loop ${fmt(flockRate)} jobs/s`,
        goal: `≥ ${GOAL_JOBS_PER_SEC} jobs/s`,
        result:
          `median ${fmt(sepRate)} jobs/s (${fmt(1000 / sepRate, 2)} ms per job, CPU ${fmt(sepCpu / JOBS, 2)} ms per job; ${ROUNDS} rounds, ` +
          `${fmt(Math.min(...rounds.map((r) => rate(r.sep.ms))))}–${fmt(Math.max(...rounds.map((r) => rate(r.sep.ms))))}); ` +
          (allRan ? `every job ran and succeeded, in order` : `**check failed**: ${rounds.flatMap((r) => r.check.problems).join("; ")}`),
        status: allRan ? rateStatus : "**error**",
      },
      {
        what: `\`queue start\` of ${JOBS} stored \`true\` jobs (wave 2)`,
        yardstick: `\`flock\` loop ${fmt(flockRate)} jobs/s; \`tsp\` batch ${tsp ? `${fmt(tsp.rate)} jobs/s (queueing included)` : "– (task-spooler not installed)"}`,
        goal: "≥ 1.0× the `flock` loop and ≥ 500 jobs/s",
        result: `median ${fmt(sepRate)} jobs/s = ${fmt(sepRate / flockRate, 2)}× the \`flock\` loop; records included, every job checked`,
        status:
          allRan && sepRate >= flockRate && sepRate >= 500
            ? verdict(true)
            : `${verdict(false)}${allRan ? "" : " (check failed)"}: ${fmt(sepRate / flockRate, 2)}× (goal 1.0×), ${fmt(sepRate)} jobs/s (goal 500)`,
      },
      {
        what: "`queue add`, time per add",
        yardstick: `\`sep --version\` ${fmt(version.median)} ms (interleaved)`,
        goal: "— (measure)",
        result: `median ${fmt(add.median)} ms, p90 ${fmt(add.p90)} ms (n = ${add.n}) = ${fmt(add.median / version.median, 2)}× \`--version\``,
        status: "info",
      },
      {
        what: `\`run list\` with ${RUNS_ON_DISK} runs on disk`,
        yardstick: `\`sep --version\` ${fmt(histVersion)} ms`,
        goal: "— (measure)",
        result:
          `\`run list\` ${fmt(listDefault.median)} ms, \`--json --limit ${RUNS_ON_DISK}\` ${fmt(listJson.median)} ms, ` +
          `\`run view\` ${fmt(viewLatest.median)} ms (medians)` +
          (hist.checks.length ? `; **problems**: ${hist.checks.join("; ")}` : ""),
        status: hist.checks.length || hist.results.some((r) => r.failures) ? "**error**" : "info",
      },
    ],
    markdown,
  };
}
