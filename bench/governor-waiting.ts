// Governor: what 50 invocations waiting at the machine gate cost together (DESIGN §8: ≤ 2 % of one
// core), and how fast they drain once the job in front of them ends. Standalone, on the library
// (the gate is not wired into the job lifecycle yet): `bun bench/governor-waiting.ts [SECONDS]`.
//
// One holder takes the whole (tiny) budget; 50 waiters, from 10 "projects", queue behind it with
// the default timing. After they are all waiting, their CPU time (utime + stime from
// /proc/PID/stat) is read twice, SECONDS apart. Yardsticks, same run: 50 idle bun processes that
// only sleep, and 50 that have also loaded the governor's code (as a real sep has) and sleep, to
// separate the gate's cost from the runtime's own (its GC and timers wake an idle process too).
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readLedger } from "../src/core/governor/ledger.ts";

const SECONDS = Number(process.argv[2] ?? 20);
const N = 50;
const scratch = mkdtempSync(join(tmpdir(), "sep-bench-gate-"));
const stateDir = join(scratch, "state");
const CLK_TCK = 100;

const worker = (reservationMb: number, holdMs: number, id: string) => `
  import { admit } from ${JSON.stringify(join(import.meta.dir, "../src/core/governor/gate.ts"))};
  const a = await admit({ stateDir: ${JSON.stringify(stateDir)}, budget: { budgetBytes: 100 * 2 ** 20, reserveBytes: 0 },
    reservation: { bytes: ${reservationMb} * 2 ** 20, source: "flag" },
    job: { id: ${JSON.stringify(id)}, projectRoot: "/p/${id.length % 10}", argv: ["x"], cwd: "/" } });
  await Bun.sleep(${holdMs});
  a.release();`;

function cpuTicks(pids: number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      total += Number(fields[11]) + Number(fields[12]);
    } catch {
      // gone
    }
  }
  return total;
}

async function measure(pids: number[]): Promise<number> {
  const before = cpuTicks(pids);
  const start = performance.now();
  await Bun.sleep(SECONDS * 1000);
  const wallS = (performance.now() - start) / 1000;
  return ((cpuTicks(pids) - before) / CLK_TCK / wallS) * 100; // % of one core
}

try {
  const yardstick = async (code: string) => {
    const idle = Array.from({ length: N }, () => Bun.spawn([process.execPath, "-e", code], { stdout: "ignore", stderr: "ignore" }));
    await Bun.sleep(10_000);
    const pct = await measure(idle.map((p) => p.pid));
    for (const p of idle) p.kill("SIGKILL");
    return pct;
  };
  const idlePct = await yardstick("await Bun.sleep(3_600_000)");
  const loadedPct = await yardstick(`await import(${JSON.stringify(join(import.meta.dir, "../src/core/governor/gate.ts"))}); await Bun.sleep(3_600_000)`);

  const holder = Bun.spawn([process.execPath, "-e", worker(100, 3_600_000, "holder")], { stdout: "ignore", stderr: "inherit" });
  while (!readLedger(stateDir).some((e) => e.state === "running")) await Bun.sleep(50);
  const waiters = Array.from({ length: N }, (_, i) => Bun.spawn([process.execPath, "-e", worker(10, 10, `w${i}`)], { stdout: "ignore", stderr: "inherit" }));
  while (readLedger(stateDir).filter((e) => e.state === "waiting").length < N) await Bun.sleep(100);
  await Bun.sleep(10_000); // let start-up (JIT, GC) settle, as for the yardstick
  const waitingPct = await measure(waiters.map((p) => p.pid));

  const released = performance.now();
  holder.kill("SIGKILL"); // its entry is dropped by whoever looks next
  await Promise.all(waiters.map((p) => p.exited));
  const drainMs = performance.now() - released;

  console.log(`50 waiting at the gate, ${SECONDS} s: ${waitingPct.toFixed(2)} % of one core together (goal ≤ 2 %)`);
  console.log(`yardstick, 50 idle bun processes: ${idlePct.toFixed(2)} %; with the governor's code loaded: ${loadedPct.toFixed(2)} %`);
  console.log(`the gate's own share: ${(waitingPct - loadedPct).toFixed(2)} % of one core for 50 waiters`);
  console.log(`drain after the holder was SIGKILLed: ${drainMs.toFixed(0)} ms for ${N} jobs of 10 ms each, 10 at a time`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
