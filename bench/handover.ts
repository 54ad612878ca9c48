// Benchmark 3: hand-over latency. A holder runs `sh -c 'sleep 0.3; stamp end'`; a waiter started
// while the holder runs executes `stamp start`. latency = waiter's stamp − holder's stamp, both read
// from CLOCK_MONOTONIC by the tiny stamp program (one clock for all processes, unlike Bun's
// process.hrtime). The same pair runs under sep and under flock(1), interleaved; a calibration
// `sh -c 'stamp; stamp'` in the same rounds gives the floor that any hand-over pays (one stamp
// exiting, one being exec'd), subtracted for the "net" figures.
import { join } from "node:path";
import { against, type Context, fmt, monoNs, rotated, type Section, sleep, stats, table, tempProject, tmpfsProject, verdict } from "./lib.ts";

const PAIRS = 25;
/** pairs for the teardown / pickup split (a diagnostic, not the headline number) */
const SPLIT_PAIRS = 12;
const HOLD_S = 0.3;
/** The waiter is started this long after the holder: well after the holder has its turn, well before it ends. */
const WAITER_DELAY_MS = 120;

interface Sample {
  latencyMs: number;
}

async function _output(proc: Bun.Subprocess<"ignore", "pipe", "pipe">): Promise<{ out: string; err: string; code: number }> {
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { out, err, code };
}

function _lastStamp(text: string, word: string): number | undefined {
  const line = text
    .split("\n")
    .filter((l) => l.startsWith(`${word} `))
    .at(-1);
  return line ? Number(line.split(" ").at(-1)) : undefined;
}

type Wrap = (argv: string[]) => string[];

async function _pair(ctx: Context, dir: string, holderWrap: Wrap, waiterWrap: Wrap, expectWaitMessage: boolean): Promise<Sample | string> {
  const spawn = (argv: string[]) => Bun.spawn(argv, { cwd: dir, env: ctx.env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const holder = spawn(holderWrap(["sh", "-c", `sleep ${HOLD_S}; exec '${ctx.stamp}' end`]));
  await sleep(WAITER_DELAY_MS);
  const waiterSpawnNs = monoNs();
  const waiter = spawn(waiterWrap([ctx.stamp, "start"]));
  const [h, w] = await Promise.all([_output(holder), _output(waiter)]);
  if (h.code !== 0 || w.code !== 0) return `exit codes holder ${h.code}, waiter ${w.code}: ${h.err.trim()} ${w.err.trim()}`.trim();
  const end = _lastStamp(h.out, "end");
  const start = _lastStamp(w.out, "start");
  if (end === undefined || start === undefined) return "missing stamp";
  // A sample counts only if the waiter really waited: started before the holder ended and (sep) said so.
  if (waiterSpawnNs >= end) return "waiter started after the holder ended";
  if (expectWaitMessage && !/waiting/i.test(w.err)) return "waiter did not report waiting";
  return { latencyMs: (start - end) / 1e6 };
}

async function _calibration(ctx: Context, dir: string): Promise<number> {
  const proc = Bun.spawn(["sh", "-c", `'${ctx.stamp}' a; '${ctx.stamp}' b`], { cwd: dir, env: ctx.env, stdout: "pipe", stderr: "ignore" });
  const out = await new Response(proc.stdout).text();
  await proc.exited;
  return ((_lastStamp(out, "b") ?? Number.NaN) - (_lastStamp(out, "a") ?? Number.NaN)) / 1e6;
}

/**
 * Where sep's hand-over time goes, split at the moment the slot's kernel lock changes hands, by
 * letting flock(1) (which blocks in the kernel, so it wakes at once) stand in on one side:
 * - teardown: a sep holder, and `flock SLOT_LOCK stamp` as the waiter: holder's end → lock free;
 * - pickup: `flock SLOT_LOCK sh -c '…; stamp end'` as the holder, and a sep waiter: lock free → the
 *   sep waiter's command starts (its polling delay plus starting the job).
 */
async function _split(ctx: Context, dir: string, part: "teardown" | "pickup"): Promise<number | undefined> {
  const slotLock = join(dir, ".sequential-locks/slots/0.lock");
  const sep = (argv: string[]) => [ctx.sep, "--", ...argv];
  const flock = (argv: string[]) => ["flock", slotLock, ...argv];
  const holderWrap = part === "teardown" ? sep : flock;
  const waiterWrap = part === "teardown" ? flock : sep;
  const sample = await _pair(ctx, dir, holderWrap, waiterWrap, part === "pickup");
  return typeof sample === "string" ? undefined : sample.latencyMs;
}

export async function handover(ctx: Context): Promise<Section> {
  const sepDir = tempProject(ctx, "handover-sep");
  const flockDir = tempProject(ctx, "handover-flock");
  const lockFile = join(flockDir, "flock.lock");
  const floorLock = join(flockDir, "floor.lock");
  const tmpfsDir = tmpfsProject("handover");
  const tools = [
    { name: "sep", dir: sepDir, wrap: (argv: string[]) => [ctx.sep, "--", ...argv], waitMessage: true },
    { name: "flock", dir: flockDir, wrap: (argv: string[]) => ["flock", lockFile, ...argv], waitMessage: false },
    // flock(1) written in Bun (bench/floor.ts): the hand-over any per-invocation Bun process pays.
    { name: "floor", dir: flockDir, wrap: (argv: string[]) => [ctx.floor, floorLock, ...argv], waitMessage: false },
    // The same sep with its project on a tmpfs: what the disk's file creation costs the hand-over.
    ...(tmpfsDir ? [{ name: "sepTmpfs", dir: tmpfsDir, wrap: (argv: string[]) => [ctx.sep, "--", ...argv], waitMessage: true }] : []),
  ];
  const latencies: Record<string, number[]> = { sep: [], flock: [], floor: [], sepTmpfs: [] };
  const rejected: Record<string, string[]> = { sep: [], flock: [], floor: [], sepTmpfs: [] };
  const calibration: number[] = [];

  // One warm-up pair each (page cache, first-run directory creation).
  for (const t of tools) await _pair(ctx, t.dir, t.wrap, t.wrap, t.waitMessage);
  const split: Record<"teardown" | "pickup", number[]> = { teardown: [], pickup: [] };
  const splitDir = tempProject(ctx, "handover-split");
  for (let round = 0; round < PAIRS; round++) {
    for (const t of rotated(tools, round)) {
      const sample = await _pair(ctx, t.dir, t.wrap, t.wrap, t.waitMessage);
      if (typeof sample === "string") rejected[t.name]!.push(sample);
      else latencies[t.name]!.push(sample.latencyMs);
    }
    calibration.push(await _calibration(ctx, flockDir));
    if (round < SPLIT_PAIRS) {
      for (const part of ["teardown", "pickup"] as const) {
        const ms = await _split(ctx, splitDir, part);
        if (ms !== undefined) split[part].push(ms);
      }
    }
  }

  const cal = stats(calibration);
  const sep = stats(latencies.sep!);
  const flock = stats(latencies.flock!);
  const floor = stats(latencies.floor!);
  const teardown = stats(split.teardown);
  const pickup = stats(split.pickup);
  const sepNet = stats(latencies.sep!.map((x) => x - cal.median));
  const flockNet = stats(latencies.flock!.map((x) => x - cal.median));
  const sepTmpfs = latencies.sepTmpfs!.length > 0 ? stats(latencies.sepTmpfs!) : undefined;
  const sepTmpfsNet = sepTmpfs ? stats(latencies.sepTmpfs!.map((x) => x - cal.median)) : undefined;
  ctx.log(`handover: sep ${fmt(sep.median, 2)} ms${sepTmpfs ? ` (project on tmpfs ${fmt(sepTmpfs.median, 2)} ms)` : ""}, flock ${fmt(flock.median, 2)} ms, floor ${fmt(floor.median, 2)} ms, calibration ${fmt(cal.median, 2)} ms`);

  const row = (name: string, raw: ReturnType<typeof stats>, net?: ReturnType<typeof stats>) => [
    name,
    raw.n,
    fmt(raw.median, 2),
    fmt(raw.p90, 2),
    fmt(raw.min, 2),
    fmt(raw.max, 2),
    net ? fmt(net.median, 2) : "–",
    net ? fmt(net.p90, 2) : "–",
  ];
  const notes = Object.entries(rejected)
    .filter(([, r]) => r.length > 0)
    .map(([name, r]) => `${name}: ${r.length} pair(s) discarded (${[...new Set(r)].slice(0, 3).join("; ")})`);
  const markdown = [
    `${PAIRS} pairs per tool, sep and flock alternating (order rotated each round), plus one warm-up pair each. ` +
      "The headline is sep with its project in the bench's scratch dir on the disk; the same sep with its project on a " +
      "tmpfs (/dev/shm) runs in the same rounds, to show what the disk's file creation costs. " +
      `Holder: \`sh -c 'sleep ${HOLD_S}; exec stamp end'\`; waiter: \`stamp start\`, started ${WAITER_DELAY_MS} ms after the holder. ` +
      `The timestamps come from \`stamp\` (${ctx.stampKind}; source \`bench/stamp.c\`), which reads CLOCK_MONOTONIC first thing in ` +
      "`main`: that clock is shared by all processes, so stamps of two processes subtract exactly. A pair is kept only if the " +
      "waiter was spawned before the holder's end stamp and (sep) printed its \"waiting\" message.",
    "",
    "Calibration: `sh -c 'stamp a; stamp b'`, once per round: b − a is what any hand-over pays just to end one stamp " +
      "process and exec the next. The *net* columns subtract its median.",
    "",
    table(
      ["", "n", "median ms", "p90 ms", "min ms", "max ms", "net median ms", "net p90 ms"],
      [
        row("sep", sep, sepNet),
        ...(sepTmpfs && sepTmpfsNet ? [row("sep, project on a tmpfs (diagnostic)", sepTmpfs, sepTmpfsNet)] : []),
        row("`flock(1)`", flock, flockNet),
        row("floor: flock(1) in Bun (`bench/floor.ts`)", floor, stats(latencies.floor!.map((x) => x - cal.median))),
        row("calibration (stamp; stamp)", cal),
      ],
    ),
    "",
    "Where sep's time goes, split where the slot's kernel lock changes hands (flock(1) on sep's own slot lock file " +
      "stands in on one side; it blocks in the kernel, so it adds ~nothing but its ~0.5 ms exec, like the calibration):",
    "",
    table(
      ["part", "how", "n", "median ms", "p90 ms", "min ms", "max ms"],
      [
        ["teardown", "sep holder → `flock SLOT_LOCK stamp` waiter: holder's end → lock released", teardown.n, fmt(teardown.median, 2), fmt(teardown.p90, 2), fmt(teardown.min, 2), fmt(teardown.max, 2)],
        ["pickup", "`flock SLOT_LOCK` holder → sep waiter: lock released → command started", pickup.n, fmt(pickup.median, 2), fmt(pickup.p90, 2), fmt(pickup.min, 2), fmt(pickup.max, 2)],
      ],
    ),
    "",
    `sep − flock (medians): ${fmt(sep.median - flock.median, 2)} ms. The waiting sep (first in line) sleeps in the kernel, ` +
      "blocked in poll(2) on the inotify event of the slot lock file's close, as flock(1) sleeps in flock(2); the holder unlocks " +
      "before it closes, so the first look after the wake takes the slot (after a holder's death the kernel sends the event a " +
      "moment before it drops the lock, and the waiter looks again). What remains is work: the holder's sep noticing its " +
      "command's exit, the last memory sample and tree check, then leaving the ledger and releasing the slot (the *teardown* " +
      "row; its records are written after the release), and the waiter's sep taking the slot, its admission at the machine " +
      "gate, the slot record, the run's directories and log file, and the spawn (the *pickup* row), each step run once, cold, " +
      "in a process that has just started. The tmpfs row shows how little of it is the disk" +
      (sepTmpfs ? ` (${fmt(sep.median - sepTmpfs.median, 2)} ms of the median)` : "") +
      ". The two rows are medians of separate samples, each including one flock(1) exec or exit (~0.5–1 ms), so they add " +
      "up to the sep row only roughly.",
    "",
    `The *floor* row is \`bench/floor.ts\`, flock(1) written in Bun and compiled as sep is: it blocks in flock(2) on the main ` +
      "thread, spawns its command, waits for it and unlocks; no config, records or governor. Its hand-over, " +
      `${fmt(floor.median, 2)} ms = ${fmt(floor.median / flock.median, 2)}× \`flock(1)\`, is what the runtime itself costs: the ` +
      "holder noticing its child's exit through the event loop, and the waiter's spawn.",
    notes.length ? `\nDiscarded: ${notes.join("; ")}.` : "",
  ].join("\n");

  return {
    title: "3. Hand-over latency",
    goals: [
      {
        what: "hand-over: waiter starts after holder ends",
        yardstick: `\`flock(1)\` median ${fmt(flock.median, 2)} ms (p90 ${fmt(flock.p90, 2)})`,
        goal: "median ≤ 10 ms",
        result: `median ${fmt(sep.median, 2)} ms, p90 ${fmt(sep.p90, 2)} ms (net of stamp cost: ${fmt(sepNet.median, 2)} / ${fmt(sepNet.p90, 2)})`,
        status: against(sep.median, 10, "ms", 2),
      },
      {
        what: "hand-over to the next waiter (wave 2)",
        yardstick: `\`flock(1)\` median ${fmt(flock.median, 2)} ms; floor (flock(1) in Bun) ${fmt(floor.median, 2)} ms = ${fmt(floor.median / flock.median, 2)}×`,
        goal: "median ≤ 1.5× `flock(1)`, and ≤ 2 ms",
        result: `median ${fmt(sep.median, 2)} ms = ${fmt(sep.median / flock.median, 2)}× \`flock(1)\``,
        status:
          sep.median <= 1.5 * flock.median && sep.median <= 2
            ? verdict(true)
            : `${verdict(false)}: ${fmt(sep.median / flock.median, 2)}× (goal 1.5×), ${fmt(sep.median, 2)} ms (goal 2 ms)`,
      },
    ],
    markdown,
  };
}
