// The gate: the admission arithmetic as a table; admit() in-process against a real ledger in a temp
// state dir (FIFO, back-filling, the head's deadline, time-outs, aborts, jobs larger than the
// budget, free memory); 50 real processes from 10 projects at once; and a SIGKILLed owner.
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import type { MachineMemory } from "../../../src/core/governor/budget.ts";
import { MB } from "../../../src/core/governor/budget.ts";
import { type Admission, admit, type AdmitOptions, decideAdmission, type GateWaitingInfo } from "../../../src/core/governor/gate.ts";
import { Ledger, ledgerLayout, readLedger } from "../../../src/core/governor/ledger.ts";
import { readStat } from "../../../src/core/proc/index.ts";
import { WaitAbortedError, WaitTimeoutError } from "../../../src/core/turn/wait.ts";
import { SepError } from "../../../src/errors.ts";
import { isAlive } from "../../../src/core/proc/index.ts";
import { killSpawned, spawnTracked, type TempDir, tempDir, trackPid, waitFor, waitForOutput } from "../../helpers.ts";

const WORKERS = join(import.meta.dir, "workers");
const dirs: TempDir[] = [];
const held: Admission[] = [];
afterEach(async () => {
  for (const admission of held.splice(0)) admission.release();
  await killSpawned();
  for (const dir of dirs.splice(0)) dir.cleanup();
});
function stateDir(): string {
  const dir = tempDir("sep-gate-");
  dirs.push(dir);
  return join(dir.path, "state");
}

/** Plenty of free memory, whatever the machine is doing: these tests are about the budget. */
const roomy: MachineMemory = { totalBytes: 64 * 1024 * MB, memAvailableBytes: 64 * 1024 * MB, cgroupLimitBytes: null, cgroupFreeBytes: null };
/** Every timed look a minute apart: only ledger events can end a wait within a test's bounds. */
const SLOW = { headPollMs: 60_000, waiterPollMs: 60_000, maxWaiterPollMs: 60_000 };

let counter = 0;
function options(state: string, reservationMb: number, extra: Partial<AdmitOptions> = {}): AdmitOptions {
  const id = `job-${++counter}`;
  return {
    stateDir: state,
    budget: { budgetBytes: 100 * MB, reserveBytes: 0 },
    reservation: { bytes: reservationMb * MB, source: "flag" },
    job: { id, projectRoot: "/p", argv: ["run", id], cwd: "/p" },
    readMemory: () => roomy,
    timing: { headPollMs: 20, waiterPollMs: 20, maxWaiterPollMs: 100, ledgerNetMs: 20 },
    ...extra,
  };
}
async function admitted(promise: Promise<Admission>): Promise<Admission> {
  const admission = await promise;
  held.push(admission);
  return admission;
}
/** Resolves to "pending" if the promise has not settled after ms. */
async function settledWithin<T>(promise: Promise<T>, ms: number): Promise<T | "pending"> {
  return Promise.race([promise, Bun.sleep(ms).then(() => "pending" as const)]);
}

describe("decideAdmission", () => {
  const now = 1_000_000;
  const base = { availableBytes: 10_000, reserveBytes: 1000, budgetBytes: 5000, nowMs: now, headWaitMs: 60_000 };
  const me = (seq: number, reservationBytes: number, waitedMs = 0) => ({ seq, reservationBytes, waitingSinceMs: now - waitedMs });
  const cases: Array<[label: string, view: Parameters<typeof decideAdmission>[0], admit: boolean, reason: string]> = [
    ["empty machine: fits", { ...base, self: me(1, 3000), waiting: [], admitted: [] }, true, ""],
    ["Σ reservations + own over the budget", { ...base, self: me(2, 3000), waiting: [], admitted: [{ reservationBytes: 2500, memoryBytes: 2500 }] }, false, "budget"],
    ["exactly the budget fits", { ...base, self: me(2, 2500), waiting: [], admitted: [{ reservationBytes: 2500, memoryBytes: 2500 }] }, true, ""],
    [
      "free memory less what admitted jobs may still grow into",
      // 10000 − 1000 reserve − (2000 − 500) growth = 7500 free ≥ 2000: fits; with 4000 available it does not
      { ...base, availableBytes: 4000, self: me(2, 2000), waiting: [], admitted: [{ reservationBytes: 2000, memoryBytes: 500 }] },
      false,
      "memory",
    ],
    // 2500 − 1000 reserve − 0 = 1500 free < 2000: refused; counting the −2000 "growth" would free 3500 and admit it.
    ["a job over its reservation does not count negative growth", { ...base, availableBytes: 2500, self: me(2, 2000), waiting: [], admitted: [{ reservationBytes: 1000, memoryBytes: 3000 }] }, false, "memory"],
    ["larger than the budget, nothing admitted, head: alone", { ...base, self: me(1, 9000), waiting: [], admitted: [] }, true, ""],
    // No memory limit and no history reserves the whole budget, which is more than is ever free once
    // anything else runs on the machine: it must run alone, not wait for memory forever.
    ["exactly the whole budget, nothing admitted, less free than that: alone", { ...base, availableBytes: 5500, self: me(1, 5000), waiting: [], admitted: [] }, true, ""],
    ["larger than the budget while something runs", { ...base, self: me(2, 9000), waiting: [], admitted: [{ reservationBytes: 10, memoryBytes: 0 }] }, false, "alone"],
    ["larger than the budget, not the head", { ...base, self: me(2, 9000), waiting: [me(1, 6000, 10)], admitted: [] }, false, "alone"],
    ["behind a head that does not fit: goes ahead", { ...base, self: me(3, 1000), waiting: [me(2, 4000, 1000)], admitted: [{ reservationBytes: 2000, memoryBytes: 0 }] }, true, ""],
    ["behind a head that fits: the head goes first", { ...base, self: me(3, 1000), waiting: [me(2, 1000, 1000)], admitted: [] }, false, "head"],
    [
      "behind a non-fitting head and a fitting second: the second goes first",
      { ...base, self: me(4, 1000), waiting: [me(2, 4000, 10), me(3, 1000, 5)], admitted: [{ reservationBytes: 2000, memoryBytes: 0 }] },
      false,
      "head",
    ],
    ["the head has waited 60 s: no one passes it", { ...base, self: me(3, 1000), waiting: [me(2, 4000, 60_000)], admitted: [{ reservationBytes: 2000, memoryBytes: 0 }] }, false, "head"],
    ["a new arrival (no seq yet) is behind every waiter", { ...base, self: me(Number.MAX_SAFE_INTEGER, 1000), waiting: [me(7, 1000, 0)], admitted: [] }, false, "head"],
  ];
  test.each(cases)("%s", (_label, view, admit, reason) => {
    const decision = decideAdmission(view);
    expect(decision.admit).toBe(admit);
    expect(decision.admit ? "" : decision.reason).toBe(reason);
  });
});

describe("admit(), in one process, on a real ledger", () => {
  test("an empty machine admits at once; the entry is a locked file until release()", async () => {
    const state = stateDir();
    const admission = await admitted(admit(options(state, 30)));
    expect(admission.record).toMatchObject({ reservationBytes: 30 * MB, reservationSource: "flag", budgetBytes: 100 * MB });
    expect(admission.record.waitedMs).toBe(0);
    const entries = readLedger(state);
    expect(entries.map((e) => e.state)).toEqual(["running"]);
    expect(entries[0]).toMatchObject({ pid: process.pid, reservationBytes: 30 * MB, projectRoot: "/p" });
    const layout = ledgerLayout(state);
    expect(statSync(layout.dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(layout.dir, readdirSync(layout.dir).find((n) => n.endsWith(".json"))!)).mode & 0o777).toBe(0o600);
    admission.release();
    admission.release(); // idempotent
    expect(readLedger(state)).toEqual([]);
  });

  test("budget: waits until it fits; says why once; back-fills behind a head that does not fit", async () => {
    const state = stateDir();
    const big = await admitted(admit(options(state, 80)));
    const infos: GateWaitingInfo[] = [];
    const head = admitted(admit(options(state, 50, { onWaiting: (info) => infos.push(info) })));
    await waitFor(() => readLedger(state).some((e) => e.state === "waiting"), 5000, "the head waits");
    // A small job behind it fits and goes ahead (the head has waited well under 60 s).
    const small = await admitted(admit(options(state, 10)));
    expect(readLedger(state).map((e) => e.state)).toEqual(["running", "waiting", "running"]);
    expect(await settledWithin(head, 150)).toBe("pending");
    expect(infos).toEqual([
      { needBytes: 50 * MB, source: "flag", freeBytes: roomy.memAvailableBytes - 80 * MB, budgetBytes: 100 * MB, admittedBytes: 80 * MB, admittedJobs: 1, ahead: 0, reason: "budget" },
    ]);
    big.release();
    const admission = await head;
    expect(admission.record.waitedMs).toBeGreaterThan(0);
    expect(infos.length).toBe(1);
    small.release();
  });

  test("once the head has waited headWaitMs, a job that would fit waits behind it", async () => {
    const state = stateDir();
    const timing = { headPollMs: 20, waiterPollMs: 20, maxWaiterPollMs: 50, headWaitMs: 200 };
    const big = await admitted(admit(options(state, 80, { timing })));
    const head = admitted(admit(options(state, 50, { timing })));
    await Bun.sleep(300);
    const infos: GateWaitingInfo[] = [];
    const small = admitted(admit(options(state, 10, { timing, onWaiting: (info) => infos.push(info) })));
    expect(await settledWithin(small, 200)).toBe("pending");
    expect(infos[0]).toMatchObject({ reason: "head", ahead: 1 });
    big.release();
    await head;
    await small; // 50 + 10 fit together once the big one is gone
  });

  test("arrival order: with room for one at a time, jobs are admitted in the order they came", async () => {
    const state = stateDir();
    const first = await admitted(admit(options(state, 60)));
    const order: number[] = [];
    const waiting = [1, 2, 3, 4].map(async (n) => {
      await Bun.sleep(n * 30); // arrive in order
      const admission = await admitted(admit(options(state, 60)));
      order.push(n);
      await Bun.sleep(30);
      admission.release();
    });
    await Bun.sleep(200);
    first.release();
    await Promise.all(waiting);
    expect(order).toEqual([1, 2, 3, 4]);
  });

  test("larger than the whole budget: runs alone, when nothing else is admitted", async () => {
    const state = stateDir();
    const small = await admitted(admit(options(state, 10)));
    const huge = admitted(admit(options(state, 500)));
    expect(await settledWithin(huge, 150)).toBe("pending");
    small.release();
    const alone = await huge;
    expect(alone.record.reservationBytes).toBe(500 * MB);
    // and while it runs, even a small job waits
    const after = admitted(admit(options(state, 10)));
    expect(await settledWithin(after, 150)).toBe("pending");
    alone.release();
    await after;
  });

  test("free memory: waits while MemAvailable − reserve is short, the head's poll admits it when memory frees", async () => {
    const state = stateDir();
    let available = 100 * MB;
    const readMemory = () => ({ ...roomy, memAvailableBytes: available });
    const infos: GateWaitingInfo[] = [];
    const waiting = admitted(
      admit(options(state, 60, { readMemory, budget: { budgetBytes: 1000 * MB, reserveBytes: 50 * MB }, onWaiting: (info) => infos.push(info) })),
    );
    expect(await settledWithin(waiting, 150)).toBe("pending");
    expect(infos[0]).toMatchObject({ reason: "memory", freeBytes: 50 * MB, needBytes: 60 * MB });
    available = 200 * MB; // something else on the machine ended: no ledger event, only the poll sees it
    await waiting;
  });

  test("memory freed outside the ledger: the head's poll nudges a job behind it that now fits", async () => {
    const state = stateDir();
    let available = 5 * MB; // room for neither
    const readMemory = () => ({ ...roomy, memAvailableBytes: available });
    const budget = { budgetBytes: 1000 * MB, reserveBytes: 0 };
    const head = admit(options(state, 80, { readMemory, budget, timing: { headPollMs: 20 } }));
    await waitFor(() => readLedger(state).length === 1, 5000, "the head waits");
    // Behind it, a job whose own polls are a minute apart: only a nudge can wake it in time.
    const slow = { headPollMs: 60_000, waiterPollMs: 60_000, maxWaiterPollMs: 60_000 };
    const behind = admitted(admit(options(state, 10, { readMemory, budget, timing: slow })));
    await waitFor(() => readLedger(state).filter((e) => e.state === "waiting").length === 2, 5000, "both wait");
    await Bun.sleep(100);
    expect(readLedger(state).map((e) => e.state)).toEqual(["waiting", "waiting"]);
    available = 50 * MB; // enough for the small one, not for the head
    expect(await settledWithin(behind, 5000)).not.toBe("pending");
    expect(await settledWithin(head, 100)).toBe("pending");
    available = 200 * MB;
    held.push(await head);
  });

  test("--wait-timeout counts the gate: WaitTimeoutError (75), and the entry is gone", async () => {
    const state = stateDir();
    await admitted(admit(options(state, 90)));
    const error = await admit(options(state, 50, { waitTimeoutMs: 150 })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WaitTimeoutError);
    expect((error as WaitTimeoutError).exitCode).toBe(75);
    expect(readLedger(state).length).toBe(1);
  });

  test("an aborted signal ends the wait with WaitAbortedError, and the entry is gone", async () => {
    const state = stateDir();
    await admitted(admit(options(state, 90)));
    const controller = new AbortController();
    const waiting = admit(options(state, 50, { signal: controller.signal, timing: { headPollMs: 60_000 } }));
    await waitFor(() => readLedger(state).length === 2, 5000, "it waits");
    controller.abort();
    expect(await waiting.catch((e: unknown) => e)).toBeInstanceOf(WaitAbortedError);
    expect(readLedger(state).length).toBe(1);
  });

  test("a wait wakes on ledger events, not on its poll: a release admits the waiter at once", async () => {
    const state = stateDir();
    const big = await admitted(admit(options(state, 90)));
    // Polls a minute apart: only the inotify event of the release can wake it within the bound.
    const waiting = admitted(admit(options(state, 50, { timing: { ...SLOW, ledgerNetMs: 60_000 } })));
    await waitFor(() => readLedger(state).length === 2, 5000, "it waits");
    big.release();
    expect(await settledWithin(waiting, 5000)).not.toBe("pending");
  });

  test("a wait for room in the budget looks only at its net (5 s by default), not every second", async () => {
    const state = stateDir();
    const big = await admitted(admit(options(state, 90)));
    // The memory reader counts the looks: each decision reads the machine's memory once.
    let looks = 0;
    const readMemory = () => {
      looks++;
      return roomy;
    };
    // Memory-bound cadence of 50 ms, ledger net of 60 s: a budget wait must take the latter.
    const waiting = admitted(admit(options(state, 50, { readMemory, timing: { headPollMs: 50, waiterPollMs: 50, maxWaiterPollMs: 60_000, ledgerNetMs: 60_000 } })));
    await waitFor(() => readLedger(state).length === 2, 5000, "it waits");
    const before = looks;
    await Bun.sleep(600);
    expect(looks - before).toBeLessThanOrEqual(1);
    big.release();
    expect(await settledWithin(waiting, 5000)).not.toBe("pending");
  });

});

describe("admit(), real processes", () => {
  test("the head's sep is SIGKILLed while it waits: the waiter behind it is woken by the death and goes first", async () => {
    const state = stateDir();
    const dir = dirs[dirs.length - 1]!.path;
    const holder = await admitted(admit(options(state, 60)));
    // The head: another process, waiting for 50 MB that do not fit beside the 60 held.
    const head = spawnTracked(
      [process.execPath, join(WORKERS, "admit-hold.ts"), JSON.stringify({ stateDir: state, project: "/p", id: "head", reservationMb: 50, budgetMb: 100, holdMs: 0, checkFile: join(dir, "checks.log") })],
      { detached: false },
    );
    await waitFor(() => readLedger(state).some((e) => e.id === "head" && e.state === "waiting"), 10_000, "the head waits");
    // Behind it, 40 MB that would fit, but the head has waited past headWaitMs (0): it goes first.
    // Every timed look is a minute away: only the event of the head's death can wake it in time.
    const behind = admitted(admit(options(state, 40, { timing: { ...SLOW, ledgerNetMs: 60_000, headWaitMs: 0 } })));
    await waitFor(() => readLedger(state).filter((e) => e.state === "waiting").length === 2, 5000, "it waits behind the head");
    expect(await settledWithin(behind, 300)).toBe("pending");
    head.kill("SIGKILL");
    await head.exited;
    const admission = await settledWithin(behind, 5000);
    expect(admission).not.toBe("pending");
    expect(readLedger(state).map((e) => [e.id.startsWith("job-"), e.state])).toEqual([
      [true, "running"],
      [true, "running"],
    ]);
    holder.release();
  }, 30_000);

  test("50 seps from 10 projects at once, small budget: never over it, each admitted once, none stuck", async () => {
    const state = stateDir();
    const dir = dirs[dirs.length - 1]!.path;
    const checkFile = join(dir, "checks.log");
    const budgetMb = 100;
    const workers = Array.from({ length: 50 }, (_, i) => {
      const args = {
        stateDir: state,
        project: `/projects/p${i % 10}`,
        id: `w${i}`,
        reservationMb: 10 + ((i * 37) % 51), // 10..60 MB
        budgetMb,
        holdMs: 100 + ((i * 53) % 300),
        checkFile,
      };
      return spawnTracked([process.execPath, join(WORKERS, "admit-hold.ts"), JSON.stringify(args)], { detached: false });
    });
    const codes = await Promise.race([
      Promise.all(workers.map((w) => w.exited)),
      Bun.sleep(120_000).then(() => "deadlock" as const),
    ]);
    if (codes === "deadlock") {
      throw new Error(`not all workers ended within 120 s; ledger: ${JSON.stringify(readLedger(state).map((e) => [e.id, e.state]))}`);
    }
    const stderr = await Promise.all(workers.map((w) => new Response(w.stderr).text()));
    expect(codes.every((code) => code === 0) ? "all 0" : stderr.filter(Boolean).join("\n")).toBe("all 0");
    const lines = readFileSync(checkFile, "utf8").trim().split("\n").map((line) => line.split(" "));
    expect(lines.length).toBe(100);
    for (const [, , sum, counted] of lines) {
      expect(Number(sum)).toBeLessThanOrEqual(budgetMb * MB);
      expect(counted).toBe("1");
    }
    const admissions = lines.filter(([, event]) => event === "admitted").map(([id]) => id);
    expect(admissions.length).toBe(50);
    expect(new Set(admissions).size).toBe(50);
    expect(readLedger(state)).toEqual([]);
  }, 150_000);

  test.if(process.platform === "linux")("a SIGKILLed owner: the next admit() drops its entry and kills its stopped job", async () => {
    const state = stateDir();
    const owner = spawnTracked([process.execPath, join(WORKERS, "admit-stopped-job.ts"), state, "dead-owner-job"], { detached: false });
    const { pid } = JSON.parse(await waitForOutput(owner.stdout, "}\n", 15_000)) as { pid: number };
    trackPid(pid);
    await waitFor(() => readStat(pid)?.state === "T", 5000, "the job is stopped");
    expect(readLedger(state).map((e) => e.state)).toEqual(["running"]);
    owner.kill("SIGKILL");
    await owner.exited;
    expect(readStat(pid)?.state).toBe("T"); // the sep died; its job is still there, stopped

    const warnings: string[] = [];
    const next = await admitted(admit(options(state, 900, { budget: { budgetBytes: 1000 * MB, reserveBytes: 0 }, onWarning: (m) => warnings.push(m) })));
    expect(next.record.reservationBytes).toBe(900 * MB); // the dead entry's 100 MB no longer counts
    expect(warnings.join("\n")).toContain(`killed 1 process(es) it left: ${pid}`);
    await waitFor(() => !isAlive(pid), 5000, "the stopped job is gone");
    expect(readLedger(state).length).toBe(1);
    expect(readdirSync(ledgerLayout(state).dir).filter((n) => !n.startsWith(".")).length).toBe(1);
  }, 30_000);
});

describe("the ledger", () => {
  test("reading it (sep status) never creates the state dir", () => {
    const state = stateDir();
    expect(readLedger(state)).toEqual([]);
    expect(existsSync(state)).toBe(false);
  });

  test("a symlinked state dir is refused (exit 1, naming it); sep status shows nothing from it", async () => {
    const state = stateDir();
    const real = `${state}-real`;
    mkdirSync(real, { recursive: true, mode: 0o700 });
    symlinkSync(real, state);
    const error = await admit(options(state, 10)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SepError);
    expect((error as SepError).exitCode).toBe(1);
    expect((error as Error).message).toContain(`refusing to use ${state}: it is a symlink`);
    expect(readLedger(state)).toEqual([]);
  });

  test("locked() is reentrant and refuses an async function", () => {
    const ledger = new Ledger({ stateDir: stateDir() });
    expect(ledger.locked(() => ledger.locked(() => 7))).toBe(7);
    expect(() => ledger.locked(() => Promise.resolve(1))).toThrow(/synchronous/);
    expect(() => ledger.entries()).toThrow(/inside locked/);
  });
});
