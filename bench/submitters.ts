// Benchmark 4: 8 concurrent submitters × 25 jobs each, under sep and under flock(1). Each job
// appends "start S J ns" and "end S J ns" (CLOCK_MONOTONIC, from the stamp program) to one file.
// Checked: zero overlaps, per-submitter order, and arrival order across submitters (strict FIFO):
// exactly, by ticket number, in an extra audit round that watches sep's tickets directory.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type Context, fmt, monoNs, type Section, stats, table, tempProject, verdict } from "./lib.ts";

const SUBMITTERS = 8;
const JOBS = 25;
const ROUNDS = 2;
/** Spawn-order FIFO check: only pairs whose spawns are this far apart count (start-up takes ~15–30 ms). */
const SPAWN_MARGIN_MS = 50;

interface Job {
  s: number;
  j: number;
  spawnNs: number;
  startNs?: number;
  endNs?: number;
  /** sep only: queuedAt and startedAt from the job record (ms since epoch) */
  queuedAt?: number;
}

interface RoundResult {
  tool: string;
  wallMs: number;
  jobsPerSec: number;
  failures: number;
  missing: number;
  overlaps: number;
  minGapMs: number;
  /** end of one job → start of the next, over the round */
  gapMedianMs: number;
  gapP90Ms: number;
  submitterOrderErrors: number;
  /** pairs (a, b): a spawned ≥ SPAWN_MARGIN_MS before b, yet b started first */
  spawnInversions: number;
  comparablePairs: number;
  /** sep only: pairs with queuedAt(a) < queuedAt(b) (strictly, in ms) in the records, yet b started first */
  recordInversions?: number;
  recordInversionMaxMs?: number;
  /** audit round only: tickets seen by the watcher, and pairs started against ticket order */
  ticketsSeen?: number;
  ticketInversions?: number;
}

/**
 * Watch sep's tickets dir every ~2 ms and note each ticket's number and job (the ticket file holds
 * the waiter's record, with its argv: ["sh", "-c", script, "job", S, J, log]). A ticket taken and dropped within a millisecond (its owner found the
 * slot free at once, so nothing was ahead of it) can be missed; FIFO is then checked on the rest.
 */
function _watchTickets(dir: string): { stop(): Promise<Map<string, string>> } {
  const ticketsDir = join(dir, ".sequential-locks/tickets");
  const seen = new Map<string, string>();
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        for (const name of readdirSync(ticketsDir)) {
          if (!name.endsWith(".json") || name.startsWith(".") || seen.has(name)) continue;
          try {
            const { argv } = JSON.parse(readFileSync(join(ticketsDir, name), "utf8")) as { argv: string[] };
            seen.set(name, `${argv[4]} ${argv[5]}`);
          } catch {
            // dropped between readdir and read
          }
        }
      } catch {
        // not created yet
      }
      await Bun.sleep(2);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return seen;
    },
  };
}

type Tool = "sep" | "flock" | "floor";

async function _round(ctx: Context, tool: Tool, audit = false): Promise<RoundResult> {
  const dir = tempProject(ctx, `submitters-${tool}${audit ? "-audit" : ""}`);
  const watcher = audit ? _watchTickets(dir) : undefined;
  // The audit keeps every record (default keepRuns is 100), so the queuedAt check covers all jobs.
  const env = audit ? { ...ctx.env, SEP_KEEP_RUNS: "0" } : ctx.env;
  const log = join(dir, "jobs.log");
  const lockFile = join(dir, "flock.lock");
  const script = `'${ctx.stamp}' start "$1" "$2" >> "$3"; '${ctx.stamp}' end "$1" "$2" >> "$3"`;
  const wrap = (argv: string[]) => (tool === "sep" ? [ctx.sep, "-q", "--", ...argv] : [tool === "floor" ? ctx.floor : "flock", lockFile, ...argv]);
  const jobs: Job[] = [];
  let failures = 0;

  const submit = async (s: number) => {
    for (let j = 0; j < JOBS; j++) {
      const job: Job = { s, j, spawnNs: monoNs() };
      jobs.push(job);
      const proc = Bun.spawn(wrap(["sh", "-c", script, "job", String(s), String(j), log]), {
        cwd: dir,
        env,
        stdin: "ignore",
        stdout: "ignore",
        stderr: "ignore",
      });
      if ((await proc.exited) !== 0) failures++;
    }
  };
  const t0 = monoNs();
  await Promise.all(Array.from({ length: SUBMITTERS }, (_, s) => submit(s)));
  const wallMs = (monoNs() - t0) / 1e6;
  const tickets = await watcher?.stop();

  const byKey = new Map(jobs.map((job) => [`${job.s} ${job.j}`, job]));
  for (const line of readFileSync(log, "utf8").split("\n")) {
    const [word, s, j, ns] = line.split(" ");
    const job = byKey.get(`${s} ${j}`);
    if (!job || !ns) continue;
    if (word === "start") job.startNs = Number(ns);
    if (word === "end") job.endNs = Number(ns);
  }
  if (tool === "sep") {
    const runsDir = join(dir, "logs/runs");
    for (const run of readdirSync(runsDir)) {
      try {
        const record = JSON.parse(readFileSync(join(runsDir, run, "jobs/1.json"), "utf8")) as { argv: string[]; queuedAt: string };
        const job = byKey.get(`${record.argv[4]} ${record.argv[5]}`);
        if (job) job.queuedAt = Date.parse(record.queuedAt);
      } catch {
        // a missing record shows up as a missing job below
      }
    }
  }

  const done = jobs.filter((job) => job.startNs !== undefined && job.endNs !== undefined);
  const byStart = [...done].sort((a, b) => a.startNs! - b.startNs!);
  let overlaps = 0;
  const gaps: number[] = [];
  let latestEnd = Number.NEGATIVE_INFINITY;
  for (const job of byStart) {
    if (job.startNs! < latestEnd) overlaps++;
    else if (Number.isFinite(latestEnd)) gaps.push((job.startNs! - latestEnd) / 1e6);
    latestEnd = Math.max(latestEnd, job.endNs!);
  }
  const gapStats = stats(gaps);
  let submitterOrderErrors = 0;
  for (let s = 0; s < SUBMITTERS; s++) {
    const mine = byStart.filter((job) => job.s === s);
    mine.forEach((job, i) => {
      if (job.j !== i) submitterOrderErrors++;
    });
  }
  let spawnInversions = 0;
  let comparablePairs = 0;
  let recordInversions = 0;
  let recordInversionMaxMs = 0;
  for (const a of done) {
    for (const b of done) {
      if ((b.spawnNs - a.spawnNs) / 1e6 >= SPAWN_MARGIN_MS) {
        comparablePairs++;
        if (b.startNs! < a.startNs!) spawnInversions++;
      }
      if (a.queuedAt !== undefined && b.queuedAt !== undefined && a.queuedAt < b.queuedAt && b.startNs! < a.startNs!) {
        recordInversions++;
        recordInversionMaxMs = Math.max(recordInversionMaxMs, b.queuedAt - a.queuedAt);
      }
    }
  }
  let ticketInversions = 0;
  const inTicketOrder = [...(tickets ?? [])]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([, key]) => byKey.get(key))
    .filter((job): job is Job => job?.startNs !== undefined);
  inTicketOrder.forEach((a, i) => {
    for (const b of inTicketOrder.slice(i + 1)) if (b.startNs! < a.startNs!) ticketInversions++;
  });
  return {
    tool: audit ? `${tool} (audit)` : tool,
    wallMs,
    jobsPerSec: (SUBMITTERS * JOBS) / (wallMs / 1000),
    failures,
    missing: jobs.length - done.length,
    overlaps,
    minGapMs: gapStats.min,
    gapMedianMs: gapStats.median,
    gapP90Ms: gapStats.p90,
    submitterOrderErrors,
    spawnInversions,
    comparablePairs,
    ...(tool === "sep" ? { recordInversions, recordInversionMaxMs } : {}),
    ...(audit ? { ticketsSeen: inTicketOrder.length, ticketInversions } : {}),
  };
}

export async function submitters(ctx: Context): Promise<Section> {
  const results: RoundResult[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (const tool of round % 2 === 0 ? (["flock", "sep", "floor"] as const) : (["floor", "sep", "flock"] as const)) {
      const r = await _round(ctx, tool);
      ctx.log(`submitters: ${tool} ${fmt(r.wallMs / 1000, 2)} s, ${fmt(r.jobsPerSec)} jobs/s, overlaps ${r.overlaps}`);
      results.push(r);
    }
  }
  const audit = await _round(ctx, "sep", true);
  ctx.log(`submitters: sep audit, ${audit.ticketsSeen} tickets seen, ${audit.ticketInversions} ticket-order inversions`);
  results.push(audit);

  const sep = results.filter((r) => r.tool === "sep");
  const flock = results.filter((r) => r.tool === "flock");
  const floorRate = stats(results.filter((r) => r.tool === "floor").map((r) => r.jobsPerSec)).median;
  const allSep = [...sep, audit];
  const sepRate = stats(sep.map((r) => r.jobsPerSec)).median;
  const flockRate = stats(flock.map((r) => r.jobsPerSec)).median;
  const total = (rs: RoundResult[], key: keyof RoundResult) => rs.reduce((sum, r) => sum + ((r[key] as number | undefined) ?? 0), 0);
  const sepClean =
    total(allSep, "overlaps") === 0 &&
    total(allSep, "failures") === 0 &&
    total(allSep, "missing") === 0 &&
    total(allSep, "submitterOrderErrors") === 0 &&
    (audit.ticketsSeen ?? 0) > 0 &&
    audit.ticketInversions === 0;
  const maxQueuedGap = Math.max(0, ...allSep.map((r) => r.recordInversionMaxMs ?? 0));

  const rows = results.map((r) => [
    r.tool,
    fmt(r.wallMs / 1000, 2),
    fmt(r.jobsPerSec),
    `${r.failures} / ${r.missing}`,
    r.overlaps,
    `${fmt(r.minGapMs, 1)} / ${fmt(r.gapMedianMs, 1)} / ${fmt(r.gapP90Ms, 1)}`,
    r.submitterOrderErrors,
    `${r.spawnInversions} of ${r.comparablePairs}`,
    r.recordInversions === undefined ? "–" : `${r.recordInversions}${r.recordInversions ? ` (≤ ${r.recordInversionMaxMs} ms apart)` : ""}`,
    r.ticketInversions === undefined ? "–" : `${r.ticketInversions} (${r.ticketsSeen} tickets seen)`,
  ]);
  const markdown = [
    `${SUBMITTERS} submitters run concurrently; each runs its ${JOBS} jobs one after another (spawn, wait for exit, next). ` +
      `${ROUNDS} timed rounds per tool (flock, sep and the floor, order reversed every round), then one sep *audit* round (not counted in the throughput) in which ` +
      "the bench also watches sep's tickets directory every ~2 ms to learn each job's ticket number. A job is " +
      "`sh -c 'stamp start S J >> LOG; stamp end S J >> LOG'`; sep runs with `-q`, all stdio to /dev/null.",
    "",
    "- *overlaps*: jobs whose start stamp precedes the latest end stamp of an earlier-started job. *gap*: one job's end stamp → the next " +
      "job's start stamp, i.e. the hand-over under load, with 7 waiters queued behind the holder.",
    "- *order errors*: a submitter's jobs started out of its own order (a sanity check: each submitter waits for its previous job).",
    `- *spawn-order inversions*: pairs where job a was spawned ≥ ${SPAWN_MARGIN_MS} ms before job b, yet b started first ` +
      "(the same outside view for both tools; it also counts a sep whose start-up, before it takes its ticket, was slowed by the load).",
    "- *ticket-order inversions* (sep audit round, exact): pairs of jobs started against the order of their ticket numbers. " +
      "Ticket order *is* arrival order for sep, so strict FIFO means 0.",
    "- *queuedAt inversions* (sep, from the records, for information): pairs where a's `queuedAt` is earlier (ms resolution) " +
      "than b's, yet b started first. sep stamps `queuedAt` just *before* it takes its ticket, so a sep descheduled between the " +
      "two (8 seps and their jobs on 2 cores) can hold an earlier `queuedAt` and a later ticket. The timed rounds run with the " +
      "default `keepRuns` (100), so sep prunes older runs as it goes (part of what a real run costs) and this check covers only " +
      "the records left; the audit round keeps all (`SEP_KEEP_RUNS=0`).",
    "",
    table(
      [
        "tool",
        "wall s",
        "jobs/s",
        "failed / missing",
        "overlaps",
        "gap ms min / median / p90",
        "order errors",
        "spawn-order inversions",
        "queuedAt inversions",
        "ticket-order inversions",
      ],
      rows,
    ),
    "",
    `Throughput (median of the timed rounds): sep ${fmt(sepRate)} jobs/s, flock ${fmt(flockRate)} jobs/s (sep ÷ flock = ` +
      `${fmt(sepRate / flockRate, 2)}); the floor, flock(1) written in Bun and compiled as sep is (\`bench/floor.ts\`), ` +
      `${fmt(floorRate)} jobs/s (${fmt(floorRate / flockRate, 2)}× flock): what any per-invocation Bun process reaches, with ` +
      "nothing of sep's work. With one slot the jobs run back to back, so each job costs the full sep path once: start-up " +
      "(bench 1–2, ~12–17 ms of CPU on a 2-core machine where 8 seps compete), the hand-over (bench 3) and the records; flock(1) " +
      "is a ~1 ms C program that blocks in the kernel. DESIGN §8 sets no throughput goal for this case (the ≥ 300 jobs/s goal " +
      "is for `queue start`, which runs many jobs in one sep and is not measured here).",
  ].join("\n");

  return {
    title: "4. 8 submitters × 25 jobs",
    goals: [
      {
        what: "8 submitters × 25 jobs",
        yardstick: `\`flock(1)\`: ${fmt(flockRate)} jobs/s, ${total(flock, "overlaps")} overlaps, ${total(flock, "spawnInversions")} spawn-order inversions`,
        goal: "zero overlaps, strict FIFO",
        result:
          `${total(allSep, "overlaps")} overlaps in ${allSep.length * SUBMITTERS * JOBS} jobs, ${audit.ticketInversions} ticket-order ` +
          `inversions (${audit.ticketsSeen} tickets seen), ${total(allSep, "failures") + total(allSep, "missing")} failed/missing; ` +
          `${fmt(sepRate)} jobs/s` +
          (total(allSep, "recordInversions") ? `; ${total(allSep, "recordInversions")} queuedAt inversions ≤ ${maxQueuedGap} ms (see §4)` : ""),
        status: verdict(sepClean),
      },
      {
        what: "8 submitters × 25 jobs (wave 2)",
        yardstick: `\`flock(1)\`: ${fmt(flockRate)} jobs/s; floor (flock(1) in Bun) ${fmt(floorRate)} jobs/s = ${fmt(floorRate / flockRate, 2)}×`,
        goal: "≥ 0.3× `flock(1)`'s throughput, zero overlaps, zero ticket-order inversions",
        result: `${fmt(sepRate)} jobs/s = ${fmt(sepRate / flockRate, 2)}× \`flock(1)\`; ${total(allSep, "overlaps")} overlaps, ${audit.ticketInversions} ticket-order inversions`,
        status: sepClean && sepRate >= 0.3 * flockRate ? verdict(true) : `${verdict(false)}${sepClean ? "" : " (overlaps or inversions)"}${sepRate < 0.3 * flockRate ? `: ${fmt(sepRate / flockRate, 2)}× (goal 0.3×)` : ""}`,
      },
    ],
    markdown,
  };
}
