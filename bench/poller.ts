// Benchmarks 6 and 7: the memory poller's CPU cost on a ~200-process tree, against an idle
// one-process job in the same run, and sep's own RSS while it supervises. sep's CPU time is
// utime+stime of the sep process (all its threads) from /proc/PID/stat, over a 10 s window that
// starts 1 s after the job printed "ready" (so sep's start-up and the tree's forking are excluded).
import { join } from "node:path";
import {
  against,
  type Context,
  descendantCount,
  FIXTURES,
  fmt,
  monoNs,
  procSample,
  type Section,
  sleep,
  stats,
  table,
  tempProject,
} from "./lib.ts";

const WINDOW_MS = 10_000;
const SETTLE_MS = 1_000;
const TREE_N = 100; // spawn-tree.sh N forks N shells with one sleep each: 2N processes + the script
const JOB_SECONDS = 13; // outlives SETTLE + WINDOW, then the job ends by itself
const INTERVAL_MS = 250;

interface Measurement {
  kind: "idle" | "tree";
  processes: number;
  windowS: number;
  ticks: number;
  cpuPercent: number;
  vmRssKb: number;
  vmHwmKb: number;
  exitCode: number;
}

async function _waitForReady(stream: ReadableStream<Uint8Array>): Promise<void> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let text = "";
  while (!text.includes("ready")) {
    const { done, value } = await reader.read();
    if (done) throw new Error("job ended before printing ready");
    text += decoder.decode(value, { stream: true });
  }
  // Keep draining, so the job never blocks on a full pipe.
  void (async () => {
    while (!(await reader.read()).done) {}
  })();
}

async function _measure(ctx: Context, kind: "idle" | "tree"): Promise<Measurement> {
  const dir = tempProject(ctx, `poller-${kind}`);
  const job = kind === "tree" ? [join(FIXTURES, "spawn-tree.sh"), String(TREE_N), String(JOB_SECONDS)] : ["sh", "-c", `echo ready; exec sleep ${JOB_SECONDS}`];
  const proc = Bun.spawn([ctx.sep, "--", ...job], { cwd: dir, env: ctx.env, stdin: "ignore", stdout: "pipe", stderr: "ignore" });
  await _waitForReady(proc.stdout);
  await sleep(SETTLE_MS);
  const first = procSample(proc.pid);
  const t0 = monoNs();
  const processes = descendantCount(proc.pid);
  let last = first;
  let hwm = first?.vmHwmKb ?? 0;
  while (monoNs() - t0 < WINDOW_MS * 1e6) {
    await sleep(Math.min(1000, WINDOW_MS - (monoNs() - t0) / 1e6));
    last = procSample(proc.pid) ?? last;
    hwm = Math.max(hwm, last?.vmHwmKb ?? 0);
  }
  const windowS = (monoNs() - t0) / 1e9;
  const exitCode = await proc.exited;
  if (!first || !last) throw new Error(`could not read /proc/${proc.pid}`);
  const ticks = last.ticks - first.ticks;
  return { kind, processes, windowS, ticks, cpuPercent: ((ticks / ctx.clockTicks) / windowS) * 100, vmRssKb: last.vmRssKb, vmHwmKb: hwm, exitCode };
}

export async function poller(ctx: Context): Promise<Section> {
  const results: Measurement[] = [];
  // ABBA order: drifts in machine load hit both kinds alike.
  for (const kind of ["idle", "tree", "tree", "idle"] as const) {
    const m = await _measure(ctx, kind);
    ctx.log(`poller: ${kind} ${m.processes} processes, ${fmt(m.cpuPercent, 2)} % CPU, HWM ${fmt(m.vmHwmKb / 1024)} MB`);
    results.push(m);
    if (Number.isFinite(m.vmHwmKb)) ctx.sepHwm.push({ job: kind === "tree" ? `${m.processes}-process tree (spawn-tree.sh ${TREE_N})` : "idle `sleep`", kb: m.vmHwmKb });
  }
  const tree = stats(results.filter((r) => r.kind === "tree").map((r) => r.cpuPercent));
  const idle = stats(results.filter((r) => r.kind === "idle").map((r) => r.cpuPercent));
  const added = tree.median - idle.median;
  const polls = WINDOW_MS / INTERVAL_MS;
  const perPollMs = ((added / 100) * WINDOW_MS) / polls;

  const cpuRows = results.map((r) => [
    r.kind === "tree" ? `\`spawn-tree.sh ${TREE_N} ${JOB_SECONDS}\`` : `\`sh -c 'echo ready; exec sleep ${JOB_SECONDS}'\``,
    r.processes,
    fmt(r.windowS, 2),
    r.ticks,
    `${fmt(r.cpuPercent, 2)} %`,
    fmt(r.vmRssKb / 1024),
    fmt(r.vmHwmKb / 1024),
    r.exitCode,
  ]);

  const byJob = new Map<string, number>();
  for (const { job, kb } of ctx.sepHwm) byJob.set(job, Math.max(byJob.get(job) ?? 0, kb));
  const maxHwmKb = Math.max(...ctx.sepHwm.map((h) => h.kb));
  const rssRows = [...byJob].map(([job, kb]) => [job, fmt(kb / 1024)]);

  const markdown = [
    `Runs in ABBA order (idle, tree, tree, idle), one temp project each, default settings (check interval 0.25 s, limit 2048 MB). ` +
      `CPU = Δ(utime+stime) of the sep process over a ${WINDOW_MS / 1000} s window that starts ${SETTLE_MS / 1000} s after the job ` +
      `printed "ready", at ${ctx.clockTicks} ticks/s (resolution ${fmt((100 / ctx.clockTicks / (WINDOW_MS / 1000)), 2)} % of a core). ` +
      "*processes* = descendants of sep at the start of the window.",
    "",
    table(["job", "processes", "window s", "CPU ticks", "% of one core", "VmRSS MB (end)", "VmHWM MB", "exit"], cpuRows),
    "",
    `Median: ${fmt(tree.median, 2)} % of one core with the tree, ${fmt(idle.median, 2)} % idle; the ~${TREE_N * 2}-process walk adds ` +
      `${fmt(added, 2)} points, i.e. about ${fmt(perPollMs, 2)} ms of CPU per poll if the flat tree is polled every ${INTERVAL_MS} ms ` +
      `(${polls} polls in the window).`,
    "",
    "### 7. sep's own memory while supervising",
    "",
    "Highest VmHWM (peak RSS) of the sep process, sampled from `/proc/PID/status` while it supervised each kind of job in this run " +
      "(memory-kill runs sampled every 50 ms, poller runs every second):",
    "",
    table(["job sep supervised", "sep VmHWM MB (max)"], rssRows),
  ].join("\n");

  return {
    title: "6–7. Poller cost on a 200-process tree; sep's own RSS",
    goals: [
      {
        what: `poller cost, ~${TREE_N * 2}-process tree`,
        yardstick: `idle \`sep -- sleep\`: ${fmt(idle.median, 2)} %`,
        goal: "≤ 2 % of one core",
        result: `${fmt(tree.median, 2)} % of one core (all of sep), +${fmt(added, 2)} points over idle`,
        status: against(tree.median, 2, "points", 2),
      },
      {
        what: `poller cost, ~${TREE_N * 2}-process tree (wave 2)`,
        yardstick: `idle \`sep -- sleep\`: ${fmt(idle.median, 2)} %`,
        goal: "≤ 1 % of one core",
        result: `${fmt(tree.median, 2)} % of one core (all of sep)`,
        status: against(tree.median, 1, "points", 2),
      },
      {
        what: "sep's own RSS while supervising",
        yardstick: "—",
        goal: "≤ 60 MB",
        result: `VmHWM max ${fmt(maxHwmKb / 1024)} MB over ${ctx.sepHwm.length} jobs`,
        status: against(maxHwmKb / 1024, 60, "MB"),
      },
    ],
    markdown,
  };
}
