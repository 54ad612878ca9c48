// ETAs through the real binary: a command with a history tells the invocations waiting behind it
// when their turn should come (the project turn and the machine gate), and `sep queue status` and
// `sep status` show what is left of it and when the waiting ones should start; learned from the
// governor's profiles, or, with the governor off, from the project's own run records. A command
// with no history gets no figure at all.
import { afterEach, beforeAll, expect, test } from "bun:test";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { cleanupAll, ensureBinary, runSep, type SepProcess, sepEnv, startSep, tempDir, tempProject, waitFor } from "./helpers.ts";

beforeAll(() => ensureBinary(), 300_000);
afterEach(() => cleanupAll());

/** How an estimate reads (src/format.ts formatAbout). */
const ABOUT = String.raw`(?:about \d+ (?:s|min)|under a second)`;

/** A command that takes HISTORY_S seconds and says when it has started (a file named `name` in its cwd). */
const HISTORY_S = 5;
const slowJob = (name: string) => ["sh", "-c", `touch "$1"; sleep ${HISTORY_S}`, "sh", name];

/** Run argv twice at once (two slots), so it has a history of two runs in the time of one. */
async function twoRuns(dir: string, argv: string[], env: Record<string, string | undefined>): Promise<void> {
  const settings = { ...env, SEP_SLOTS: "2" };
  const first = startSep(["-m", "100", "--", ...argv], { cwd: dir, env: settings });
  // Once the first runs, the second is not a twin waiting for its turn (it would join it).
  await waitFor(() => existsSync(join(dir, argv.at(-1)!)), { what: "the first history run to start" });
  const second = startSep(["-m", "100", "--", ...argv], { cwd: dir, env: settings });
  expect((await first.done).exitCode).toBe(0);
  expect((await second.done).exitCode).toBe(0);
  rmSync(join(dir, argv.at(-1)!));
}

/** sep's one line about waiting (for a turn, or for memory), once it has said it. */
async function waitLine(sep: SepProcess, pattern: RegExp): Promise<string> {
  return waitFor(() => sep.stderr().split("\n").find((line) => pattern.test(line)), { what: `a line matching ${pattern}` });
}

test("after two runs, a waiter is told when its turn should come; queue status and sep status show what is left and when the waiting start", async () => {
  const machine = tempDir("sep-e2e-eta-machine-");
  const env = sepEnv({ XDG_RUNTIME_DIR: machine, SEP_MEMORY_BUDGET_MB: "300" });
  const dir = tempProject();
  const other = tempProject();
  const argv = slowJob("started");
  await twoRuns(dir, argv, env);

  // The holder reserves most of the budget, so a job of another project waits at the machine gate.
  const holder = startSep(["--reserve", "250", "--", ...argv], { cwd: dir, env });
  await waitFor(() => existsSync(join(dir, "started")), { what: "the holder to start" });
  const waiter = startSep(["--", "true"], { cwd: dir, env });
  const gated = startSep(["--reserve", "200", "--", "true"], { cwd: other, env });

  const turnLine = await waitLine(waiter, /waiting for/);
  expect(turnLine).toMatch(new RegExp(`\\(pid ${holder.pid}, running [^,]+, ${ABOUT} left\\) to finish; expected to start in ${ABOUT}$`));
  const gateLine = await waitLine(gated, /waiting for memory/);
  expect(gateLine).toMatch(new RegExp(`; expected to start in ${ABOUT}$`));

  const queue = await runSep(["queue", "status", "--json"], { cwd: dir, env });
  expect(queue.exitCode).toBe(0);
  const { running, waiting } = JSON.parse(queue.stdoutText);
  expect(running).toHaveLength(1);
  expect(running[0].expectedMs).toBeGreaterThan(0);
  expect(running[0].leftMs).toBeGreaterThan(0);
  expect(running[0].leftMs).toBeLessThanOrEqual(running[0].expectedMs);
  expect(waiting).toHaveLength(1);
  expect(waiting[0]).toMatchObject({ pid: waiter.pid, expectedMs: null });
  expect(waiting[0].startsInMs).toBeGreaterThan(0);
  const queueText = await runSep(["queue", "status"], { cwd: dir, env });
  expect(queueText.stdoutText).toMatch(new RegExp(`${ABOUT} left\\s+${argv.join(" ").replace(/[$"]/g, ".")}`));
  expect(queueText.stdoutText).toMatch(new RegExp(`expected to start in ${ABOUT}\\s+true$`, "m"));

  const machineStatus = await runSep(["status", "--json"], { cwd: dir, env });
  expect(machineStatus.exitCode).toBe(0);
  const jobs = JSON.parse(machineStatus.stdoutText).jobs;
  const admitted = jobs.find((job: { pid: number }) => job.pid === holder.pid);
  const atGate = jobs.find((job: { pid: number }) => job.pid === gated.pid);
  expect(admitted.state).toBe("running");
  expect(admitted.expectedMs).toBeGreaterThan(0);
  expect(admitted.leftMs).toBeGreaterThan(0);
  expect(atGate).toMatchObject({ state: "waiting", expectedMs: null });
  expect(atGate.startsInMs).toBeGreaterThan(0);
  expect(atGate).not.toHaveProperty("leftMs");
  const statusText = await runSep(["status"], { cwd: dir, env });
  expect(statusText.stdoutText).toMatch(new RegExp(`^running\\s.*${ABOUT} left`, "m"));
  expect(statusText.stdoutText).toMatch(new RegExp(`^waiting\\s.*expected to start in ${ABOUT}`, "m"));

  for (const sep of [holder, waiter, gated]) expect((await sep.done).exitCode).toBe(0);
}, 90_000);

test("governor off: the figures come from the project's run records; before a command has any, none is given", async () => {
  const machine = tempDir("sep-e2e-eta-machine-");
  const env = sepEnv({ XDG_RUNTIME_DIR: machine, SEP_MEMORY_BUDGET_MB: "0" });
  const dir = tempProject();

  // No history: the waiter says whom it waits for, and no figure.
  const unknown = startSep(["--", "sh", "-c", 'touch first; while [ ! -f release ]; do sleep 0.02; done'], { cwd: dir, env });
  await waitFor(() => existsSync(join(dir, "first")), { what: "the first holder to start" });
  const blind = startSep(["--", "true"], { cwd: dir, env });
  const blindLine = await waitLine(blind, /waiting for/);
  expect(blindLine).toContain(`(pid ${unknown.pid}, running `);
  expect(blindLine).not.toMatch(/ left|expected to start/);
  await Bun.write(join(dir, "release"), "");
  for (const sep of [unknown, blind]) expect((await sep.done).exitCode).toBe(0);

  const argv = slowJob("started");
  await twoRuns(dir, argv, env);
  expect(existsSync(join(machine, "sep/governor/profiles"))).toBe(false);

  const holder = startSep(["--", ...argv], { cwd: dir, env });
  await waitFor(() => existsSync(join(dir, "started")), { what: "the holder to start" });
  const waiter = startSep(["--", "true"], { cwd: dir, env });
  expect(await waitLine(waiter, /waiting for/)).toMatch(new RegExp(`${ABOUT} left\\) to finish; expected to start in ${ABOUT}$`));
  const queue = JSON.parse((await runSep(["queue", "status", "--json"], { cwd: dir, env })).stdoutText);
  expect(queue.running[0].expectedMs).toBeGreaterThan(0);
  expect(queue.waiting[0].startsInMs).toBeGreaterThan(0);
  for (const sep of [holder, waiter]) expect((await sep.done).exitCode).toBe(0);
}, 90_000);
