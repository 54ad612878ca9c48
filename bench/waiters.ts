// Benchmark: what 50 invocations cost while they wait (DESIGN §8 wave 2: all of them together ≤ 2 %
// of one core), in two places: 50 `sep -- true` behind a holder in one project (the project turn),
// and 50 from 50 projects behind a holder that reserves the whole memory budget (the machine gate).
// CPU = Δ(utime+stime) of the 50 sep processes (all their threads) from /proc/PID/stat over a
// WINDOW_MS window that starts SETTLE_MS after all of them are waiting, so their start-up is not
// counted. Yardstick in the same run: 50 `flock(1)` waiters on one lock, which block in the kernel.
// Afterwards the holder ends and every waiter must run its job and exit 0.
import { join } from "node:path";
import { type Context, fmt, procSample, type Section, sleep, table, tempProject, verdict } from "./lib.ts";

const N = 50;
const WINDOW_MS = 10_000;
const SETTLE_MS = 10_000;
const GOAL_PERCENT = 2;

interface Measured {
  name: string;
  percent: number;
  ticks: number;
  windowS: number;
  ran: number;
  failed: number;
  drainMs: number;
}

async function _window(pids: number[]): Promise<{ ticks: number; windowS: number }> {
  const ticksOf = () => pids.reduce((sum, pid) => sum + (procSample(pid)?.ticks ?? 0), 0);
  const before = ticksOf();
  const t0 = performance.now();
  await sleep(WINDOW_MS);
  const windowS = (performance.now() - t0) / 1000;
  return { ticks: ticksOf() - before, windowS };
}

async function _until(what: string, check: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** Start the holder, then the 50 waiters; measure them while they wait; end the holder; wait for all. */
async function _measure(
  ctx: Context,
  name: string,
  holder: { argv: string[]; cwd: string; env: Record<string, string> },
  waiter: (i: number) => { argv: string[]; cwd: string; env: Record<string, string> },
  waiting: (i: number, stderr: string) => boolean,
): Promise<Measured> {
  // Its own process group, so the end reaches all of it (flock(1) hands its lock to its child).
  const hold = Bun.spawn(holder.argv, { cwd: holder.cwd, env: holder.env, stdin: "ignore", stdout: "pipe", stderr: "ignore", detached: true });
  // The holder's job prints "held" once it runs.
  const reader = hold.stdout.getReader();
  let text = "";
  while (!text.includes("held")) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`${name}: the holder ended before its job ran`);
    text += new TextDecoder().decode(value);
  }
  const stderrs: string[] = Array.from({ length: N }, () => "");
  const procs = Array.from({ length: N }, (_, i) => {
    const spec = waiter(i);
    const proc = Bun.spawn(spec.argv, { cwd: spec.cwd, env: spec.env, stdin: "ignore", stdout: "ignore", stderr: "pipe" });
    void (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of proc.stderr) stderrs[i] += decoder.decode(chunk);
    })();
    return proc;
  });
  await _until(`${name}: all ${N} waiting`, () => stderrs.every((stderr, i) => waiting(i, stderr)));
  await sleep(SETTLE_MS);
  const { ticks, windowS } = await _window(procs.map((p) => p.pid));
  const released = performance.now();
  process.kill(-hold.pid, "SIGTERM");
  const codes = await Promise.all(procs.map((p) => p.exited));
  const drainMs = performance.now() - released;
  await hold.exited;
  const percent = (ticks / ctx.clockTicks / windowS) * 100;
  ctx.log(`waiters: ${name}: ${fmt(percent, 2)} % of one core for ${N}; all ran: ${codes.every((c) => c === 0)}`);
  return { name, percent, ticks, windowS, ran: codes.filter((c) => c === 0).length, failed: codes.filter((c) => c !== 0).length, drainMs };
}

/** 50 copies of sep's runtime doing nothing but sleep. */
async function _idleRuntimes(ctx: Context): Promise<Measured> {
  const procs = Array.from({ length: N }, () =>
    Bun.spawn([ctx.sep, "-e", "await Bun.sleep(600_000)"], { env: { ...ctx.env, BUN_BE_BUN: "1" }, stdin: "ignore", stdout: "ignore", stderr: "ignore" }),
  );
  await sleep(SETTLE_MS + 2000);
  const { ticks, windowS } = await _window(procs.map((p) => p.pid));
  for (const p of procs) p.kill("SIGKILL");
  await Promise.all(procs.map((p) => p.exited));
  const percent = (ticks / ctx.clockTicks / windowS) * 100;
  ctx.log(`waiters: 50 idle runtimes: ${fmt(percent, 2)} %`);
  return { name: "yardstick: 50 idle Bun runtimes (sep's binary, `BUN_BE_BUN=1 … -e 'await Bun.sleep(…)'`)", percent, ticks, windowS, ran: N, failed: 0, drainMs: Number.NaN };
}

export async function waiters(ctx: Context): Promise<Section> {
  const holdJob = ["sh", "-c", "echo held; exec sleep 600"];
  const quiet = { ...ctx.env };

  // 1. The project turn: one project, a holder and 50 behind it.
  const project = tempProject(ctx, "waiters-turn");
  const turn = await _measure(
    ctx,
    "50 waiting for the project turn",
    { argv: [ctx.sep, "--", ...holdJob], cwd: project, env: quiet },
    // Each command differs (`true N`): identical ones would join the first as its twin, not wait.
    (i) => ({ argv: [ctx.sep, "--", "true", String(i)], cwd: project, env: quiet }),
    (_, stderr) => /waiting/.test(stderr),
  );

  // 2. The machine gate: a 1000 MB budget, a holder reserving all of it, 50 projects behind it.
  const gateEnv = { ...ctx.env, SEP_MEMORY_BUDGET_MB: "1000", SEP_MEMORY_RESERVE_MB: "0" };
  const holderProject = tempProject(ctx, "waiters-gate-holder");
  const projects = Array.from({ length: N }, (_, i) => tempProject(ctx, `waiters-gate-${i}`));
  const gate = await _measure(
    ctx,
    "50 waiting at the machine gate (50 projects)",
    { argv: [ctx.sep, "--reserve", "1000", "--", ...holdJob], cwd: holderProject, env: gateEnv },
    (i) => ({ argv: [ctx.sep, "--reserve", "10", "--", "true", String(i)], cwd: projects[i]!, env: gateEnv }),
    (_, stderr) => /memory|budget/i.test(stderr),
  );

  // Yardstick: 50 flock(1) waiters on one lock, behind a flock(1) holder.
  const lockDir = tempProject(ctx, "waiters-flock");
  const lock = join(lockDir, "lock");
  const flock = await _measure(
    ctx,
    "yardstick: 50 `flock(1)` waiting on one lock",
    { argv: ["flock", lock, ...holdJob], cwd: lockDir, env: quiet },
    () => ({ argv: ["flock", lock, "true"], cwd: lockDir, env: quiet }),
    () => true,
  );

  // Yardstick: the same runtime, idle. sep's binary runs as plain Bun with BUN_BE_BUN=1; 50 of them
  // only sleep, so this is what 50 idle runtimes cost (their GC and heap timers), sep's code aside.
  const idle = await _idleRuntimes(ctx);

  const rows = [turn, gate, flock, idle].map((m) => [m.name, N, fmt(m.windowS, 2), m.ticks, `${fmt(m.percent, 2)} %`, `${m.ran} / ${m.failed}`, fmt(m.drainMs, 0)]);
  const goalRow = (m: Measured, what: string) => ({
    what,
    yardstick: `50 \`flock(1)\` waiters: ${fmt(flock.percent, 2)} %; 50 idle Bun runtimes (sep's binary as plain Bun, sleeping): ${fmt(idle.percent, 2)} %`,
    goal: `all of them together ≤ ${GOAL_PERCENT} % of one core`,
    result: `${fmt(m.percent, 2)} % of one core (${m.ticks} ticks in ${fmt(m.windowS, 1)} s); then all ${m.ran} ran and exited 0${m.failed ? `, ${m.failed} failed` : ""}`,
    status: m.failed === 0 && m.percent <= GOAL_PERCENT ? `${verdict(true)}, ${fmt(GOAL_PERCENT - m.percent, 2)} points to spare` : `${verdict(false)}${m.percent > GOAL_PERCENT ? ` by ${fmt(m.percent - GOAL_PERCENT, 2)} points` : ""}${m.failed ? `; ${m.failed} waiters failed` : ""}`,
  });
  return {
    title: "50 invocations waiting: the project turn and the machine gate",
    goals: [goalRow(turn, "50 invocations waiting in one project"), goalRow(gate, "50 invocations waiting at the machine gate")],
    markdown: [
      `A holder runs \`sh -c 'echo held; exec sleep 600'\`; once it prints, ${N} waiters start. CPU = Δ(utime+stime) of the ${N} waiting processes (all threads) from /proc/PID/stat at ${ctx.clockTicks} ticks/s, over a ${WINDOW_MS / 1000} s window that starts ${SETTLE_MS / 1000} s after every waiter said it waits (sep: its "waiting" line). Then the holder gets SIGTERM and every waiter must run its job (\`true N\`, each different, since an identical command would join the first as its twin instead of waiting) and exit 0; *drain* is from that signal to the last exit.`,
      "",
      `- project turn: one project, default settings; the first in line wakes on the slot lock's close, the others on the tickets directory, each with a slow poll as the net.`,
      `- machine gate: \`SEP_MEMORY_BUDGET_MB=1000\`, the holder \`--reserve 1000\` in its own project, each waiter \`--reserve 10\` in its own project (50 projects), so every one of them waits at the gate, not for a turn.`,
      "",
      table(["waiting", "n", "window s", "CPU ticks", "% of one core", "ran / failed", "drain ms"], rows),
    ].join("\n"),
  };
}
