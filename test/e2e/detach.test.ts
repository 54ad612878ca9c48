// Waiting that survives an agent's time-out (DESIGN §10): `sep --detach-after S -- CMD` hands the
// job to a background sep, follows it and exits 75 at the deadline; `sep wait RUN_ID` goes on from
// there; Ctrl-C before and `sep run cancel` after the detach stop the whole tree; an identical
// command still waiting for its turn is joined, not run twice; a killed background sep strands no one.
import { afterEach, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  cleanupAll,
  ensureBinary,
  FIXTURES,
  isAlive,
  killLater,
  onCleanup,
  onlyRun,
  readPid,
  readRun,
  runIds,
  runSep,
  sepEnv,
  startSep,
  tempDir,
  tempProject,
  waitFor,
  waitForFile,
} from "./helpers.ts";

beforeAll(() => ensureBinary(), 300_000);
afterEach(() => cleanupAll());

/** A sep environment with a machine state dir (governor ledger) of the test's own. */
function isolatedEnv(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return sepEnv({ XDG_RUNTIME_DIR: tempDir("sep-e2e-runtime-"), ...extra });
}

/**
 * A temp project whose runs' background seps and jobs are SIGKILLed after the test: they live in
 * their own sessions, so a test that fails half-way (a job held at a gate file) would strand them.
 */
function detachProject(): string {
  const dir = tempProject();
  onCleanup(() => {
    for (const runId of runIds(join(dir, "logs"))) {
      for (const pid of [...backgroundSeps(runId), ...processesWithEnv(`SEP_JOB_ID=${runId}.1`)]) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // gone meanwhile
        }
      }
    }
  });
  return dir;
}

/** A job of 7 processes (its leader, 3 shells, 3 sleeps) that writes leader.pid, then `ready` once all are forked. */
const TREE_JOB = ["sh", "-c", `echo $$ > leader.pid; exec sh '${join(FIXTURES, "spawn-tree.sh")}' 3 120 ready`];

/** The pid of a tree job's leader (= its process group), once its tree is complete; the group is SIGKILLed after the test. */
async function treeLeader(dir: string): Promise<number> {
  await waitForFile(join(dir, "ready"));
  const leader = readPid(join(dir, "leader.pid"));
  onCleanup(() => {
    try {
      process.kill(-leader, "SIGKILL");
    } catch {
      // the group is gone, as it should be
    }
  });
  return leader;
}

/**
 * A TREE_JOB started with --detach-after 1 in a fresh project: the foreground has exited 75, the
 * tree is complete, and the background sep that owns the run (killed after the test) is named.
 */
async function detachedTree() {
  const dir = detachProject();
  const env = isolatedEnv();
  const foreground = await runSep(["--detach-after", "1", "--", ...TREE_JOB], { cwd: dir, env });
  expect(foreground.exitCode).toBe(75);
  const leader = await treeLeader(dir);
  const { runId, run, job } = onlyRun(join(dir, "logs"));
  const owner = run.owner.pid as number;
  killLater(owner);
  return { dir, env, foreground, leader, runId, run, job, owner };
}

/** Live (not zombie) pids whose /proc/PID/stat fields pass `keep` (fields from the state on: state, ppid, pgrp, ...). */
function _liveProcesses(keep: (fields: string[]) => boolean): number[] {
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "latin1");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (fields[0] !== "Z" && fields[0] !== "X" && keep(fields)) pids.push(Number(name));
    } catch {
      // gone while we looked
    }
  }
  return pids;
}

/** Live members of a process group. */
function groupMembers(pgid: number): number[] {
  return _liveProcesses((fields) => Number(fields[2]) === pgid);
}

/** Live processes whose environment holds `entry` (e.g. `SEP_JOB_ID=…`, the job's marker). */
function processesWithEnv(entry: string): number[] {
  const needle = `\0${entry}\0`;
  return _liveProcesses(() => true).filter((pid) => {
    try {
      return `\0${readFileSync(`/proc/${pid}/environ`, "latin1")}`.includes(needle);
    } catch {
      return false;
    }
  });
}

/** Everything of a job still alive: by its marker, and by its process group. */
function jobLeft(jobId: string, leader: number): number[] {
  return [...new Set([...processesWithEnv(`SEP_JOB_ID=${jobId}`), ...groupMembers(leader)])];
}

/** Background seps (of a detaching `sep --`) that own this run. */
function backgroundSeps(runId: string): number[] {
  return processesWithEnv(`SEP_SUPERVISED_RUN=${runId}`);
}

type Write = [fd: 1 | 2, bytes: Buffer];

/**
 * ~3 s of numbered lines on stdout and stderr, one write each: some stdout lines come in two
 * writes with a stderr line between the halves, some hold bytes that are not UTF-8 (NUL, 0xff,
 * a lone continuation byte, ESC, CR), and the last write has no trailing newline. Every stdout
 * write starts with o, b, ; or t and every stderr write with e, so the log parses one way only.
 */
function chatter(): Write[] {
  const writes: Write[] = [];
  for (let i = 1; i <= 30; i++) {
    writes.push([1, Buffer.from(`out ${i}\n`)], [2, Buffer.from(`err ${i}\n`)]);
    if (i % 10 === 5) {
      writes.push([1, Buffer.from(`out ${i} half a line`)], [2, Buffer.from(`err ${i} between the halves\n`)], [1, Buffer.from(`; the rest of out ${i}\n`)]);
    }
    if (i % 10 === 0) writes.push([1, Buffer.concat([Buffer.from(`bin ${i} `), Buffer.from([0x00, 0xff, 0xfe, 0x80, 0xc3, 0x1b, 0x0d, 0x0a])])]);
  }
  writes.push([1, Buffer.from("the end, no newline")]);
  return writes;
}

function emitJob(writes: Write[], pauseSeconds: number, exitCode: number): string[] {
  const spec = JSON.stringify(writes.map(([fd, bytes]) => [fd, bytes.toString("hex")]));
  return ["python3", join(FIXTURES, "emit.py"), spec, String(pauseSeconds), String(exitCode)];
}

/**
 * Why `log` is not exactly the job's stdout writes and stderr writes, each stream in its order,
 * each write whole, nothing twice and nothing missing; undefined when it is.
 */
function notAnInterleaving(log: Buffer, writes: Write[]): string | undefined {
  const streams = { 1: writes.filter(([fd]) => fd === 1).map(([, b]) => b), 2: writes.filter(([fd]) => fd === 2).map(([, b]) => b) };
  const next = { 1: 0, 2: 0 };
  let at = 0;
  while (at < log.length) {
    const fd = ([1, 2] as const).find((candidate) => {
      const write = streams[candidate][next[candidate]];
      return write !== undefined && log.subarray(at, at + write.length).equals(write);
    });
    if (fd === undefined) {
      return `at byte ${at} the log holds ${JSON.stringify(log.subarray(at, at + 40).toString("latin1"))}: neither stdout write ${next[1] + 1} nor stderr write ${next[2] + 1}`;
    }
    at += streams[fd][next[fd]]!.length;
    next[fd]++;
  }
  if (next[1] < streams[1].length || next[2] < streams[2].length) {
    return `the log ends after stdout write ${next[1]}/${streams[1].length} and stderr write ${next[2]}/${streams[2].length}`;
  }
  return undefined;
}

test("nothing is lost across a detach: foreground output + `sep wait` output = the job's log, byte for byte; wait exits with the job's code", async () => {
  const dir = detachProject();
  const env = isolatedEnv();
  const writes = chatter();
  const foreground = await runSep(["--detach-after", "1", "--", ...emitJob(writes, 0.04, 7)], { cwd: dir, env });
  expect(foreground.exitCode).toBe(75);
  const { runId, run } = onlyRun(join(dir, "logs"));
  // The deadline fell while the job ran: the detach is what this test is about.
  expect(run.status).not.toBe("completed");
  expect(foreground.stderr).toContain(runId);
  expect(foreground.stderr).toContain(`sep wait ${runId}`);

  const waited = await runSep(["wait", runId], { cwd: dir, env });
  expect(waited.exitCode).toBe(7);
  const records = readRun(join(dir, "logs"), runId);
  expect(records.job.exitCode).toBe(7);
  const log = records.log!;
  // Both sides of the seam carry output, and together they are the log: no gap, no repeat.
  expect(foreground.stdout.length).toBeGreaterThan(0);
  expect(waited.stdout.length).toBeGreaterThan(0);
  expect(Buffer.concat([foreground.stdout, waited.stdout]).equals(log)).toBe(true);
  // And the log is every write the job made, once, whole, in order (per stream).
  expect(notAnInterleaving(log, writes)).toBeUndefined();
}, 40_000);

test("`sep wait --timeout` on a running job exits 75; the next `sep wait` goes on from where it stopped", async () => {
  const dir = detachProject();
  const env = isolatedEnv();
  const gated = "echo one; echo one-err >&2; until [ -f go1 ]; do sleep 0.05; done; echo two; echo two-err >&2; until [ -f go2 ]; do sleep 0.05; done; echo three; exit 3";
  const foreground = await runSep(["--detach-after", "1", "--", "sh", "-c", gated], { cwd: dir, env });
  expect(foreground.exitCode).toBe(75);
  const { runId } = onlyRun(join(dir, "logs"));
  const log = () => readRun(join(dir, "logs"), runId).log ?? Buffer.alloc(0);

  writeFileSync(join(dir, "go1"), "");
  await waitFor(() => log().includes("two-err\n"), { what: "the job's second part in its log" });
  const first = await runSep(["wait", runId, "--timeout", "1"], { cwd: dir, env });
  expect(first.exitCode).toBe(75);
  expect(first.stderr).toContain(`sep wait ${runId}`);
  expect(first.stdoutText).toContain("two\n");
  // The job is held at go2, so its log stands still: so far, every byte shown exactly once.
  expect(Buffer.concat([foreground.stdout, first.stdout]).equals(log())).toBe(true);

  writeFileSync(join(dir, "go2"), "");
  const second = await runSep(["wait", runId], { cwd: dir, env });
  expect(second.exitCode).toBe(3);
  expect(second.stdoutText).toBe("three\n");
  expect(Buffer.concat([foreground.stdout, first.stdout, second.stdout]).equals(log())).toBe(true);
}, 40_000);

test("a job that ends before the deadline: the foreground prints its output, exits with its code, and leaves no background sep", async () => {
  for (const code of [0, 3]) {
    const dir = detachProject();
    const env = isolatedEnv();
    const foreground = startSep(["--detach-after", "30", "--", "sh", "-c", `echo out-${code}; echo err-${code} >&2; exit ${code}`], { cwd: dir, env });
    const result = await foreground.done;
    expect({ code, exit: result.exitCode }).toEqual({ code, exit: code });
    const { runId, run, job, log } = onlyRun(join(dir, "logs"));
    expect(job.exitCode).toBe(code);
    // It went through a background sep (the run's owner), which is gone with the foreground.
    expect(run.owner.pid).not.toBe(foreground.pid);
    expect(isAlive(run.owner.pid)).toBe(false);
    expect(backgroundSeps(runId)).toEqual([]);
    expect(result.stdout.equals(log!)).toBe(true);
    expect(result.stdoutText).toContain(`out-${code}\n`);
    expect(result.stdoutText).toContain(`err-${code}\n`);
    expect(result.stderr).not.toContain("sep wait");
  }
}, 40_000);

test("Ctrl-C to the foreground before the deadline: exit 130, run cancelled, nothing of the job or its background sep left", async () => {
  const dir = detachProject();
  const env = isolatedEnv();
  const foreground = startSep(["--detach-after", "60", "--", ...TREE_JOB], { cwd: dir, env });
  const leader = await treeLeader(dir);
  const { runId, run, job } = onlyRun(join(dir, "logs"));
  const owner = run.owner.pid as number;
  killLater(owner);
  expect(owner).not.toBe(foreground.pid);
  expect(backgroundSeps(runId)).toEqual([owner]);
  expect(jobLeft(job.id, leader).length).toBe(7);

  foreground.proc.kill("SIGINT");
  await waitFor(() => foreground.proc.exitCode !== null || foreground.proc.signalCode !== null, { what: "the foreground to end after SIGINT" });
  const result = await foreground.done;
  expect(result.exitCode).toBe(130);
  const after = readRun(join(dir, "logs"), runId);
  expect(after.run.conclusion).toBe("cancelled");
  expect(after.job.conclusion).toBe("cancelled");
  expect(after.run.exitCode).toBe(130);
  expect(jobLeft(job.id, leader)).toEqual([]);
  await waitFor(() => !isAlive(owner), { what: "the background sep to exit" });
  expect(backgroundSeps(runId)).toEqual([]);
}, 40_000);

test("after the detach, `sep run cancel` kills the tree and records the run cancelled; `sep wait` then exits 143", async () => {
  const { dir, env, foreground, leader, runId, job, owner } = await detachedTree();
  expect(isAlive(owner)).toBe(true);
  expect(jobLeft(job.id, leader).length).toBe(7);

  const cancel = await runSep(["run", "cancel", runId], { cwd: dir, env });
  expect(cancel.exitCode).toBe(0);
  const after = readRun(join(dir, "logs"), runId);
  expect(after.run.status).toBe("completed");
  expect(after.run.conclusion).toBe("cancelled");
  expect(after.run.exitCode).toBe(143);
  expect(jobLeft(job.id, leader)).toEqual([]);
  await waitFor(() => !isAlive(owner), { what: "the background sep to exit" });
  expect(backgroundSeps(runId)).toEqual([]);

  const waited = await runSep(["wait", runId], { cwd: dir, env });
  expect(waited.exitCode).toBe(143);
  expect(Buffer.concat([foreground.stdout, waited.stdout]).equals(after.log!)).toBe(true);
}, 40_000);

/** A job that holds the project's turn until the test writes `go`; resolves once it runs. */
async function holdTurn(dir: string, env: Record<string, string | undefined>) {
  const holder = startSep(["--", "sh", "-c", "echo x > holding; until [ -f go ]; do sleep 0.05; done"], { cwd: dir, env });
  await waitForFile(join(dir, "holding"));
  return { holder, release: () => writeFileSync(join(dir, "go"), "") };
}

test("a detach while still waiting for the turn: exit 75 saying so; `sep wait` later prints the output and exits with the code", async () => {
  const dir = detachProject();
  const env = isolatedEnv();
  const { holder, release } = await holdTurn(dir, env);
  const waiting = await runSep(["--detach-after", "1", "--", "sh", "-c", "echo queued-out; echo queued-err >&2; exit 5"], { cwd: dir, env });
  expect(waiting.exitCode).toBe(75);
  expect(waiting.stderr).toContain("waiting for its turn");
  expect(waiting.stdout.length).toBe(0);
  const [holderId, runId] = runIds(join(dir, "logs"));
  expect(waiting.stderr).toContain(`sep wait ${runId}`);
  // Recorded from the start, as queued: visible to `sep wait` and `sep run cancel` before it runs.
  const queued = readRun(join(dir, "logs"), runId!);
  expect(queued.job.status).toBe("queued");
  expect(queued.job.startedAt).toBeNull();
  expect(holder.proc.exitCode).toBeNull();

  release();
  expect((await holder.done).exitCode).toBe(0);
  const waited = await runSep(["wait", runId!], { cwd: dir, env });
  expect(waited.exitCode).toBe(5);
  const ran = readRun(join(dir, "logs"), runId!);
  expect(waited.stdout.equals(ran.log!)).toBe(true);
  expect(waited.stdoutText).toContain("queued-out\n");
  expect(waited.stdoutText).toContain("queued-err\n");
  expect(ran.job.conclusion).toBe("failure");
  // Queued while the holder ran, started once it had finished.
  const held = readRun(join(dir, "logs"), holderId!).job;
  expect(Date.parse(ran.job.queuedAt)).toBeLessThanOrEqual(Date.parse(held.completedAt));
  expect(Date.parse(held.completedAt)).toBeLessThanOrEqual(Date.parse(ran.job.startedAt));
}, 40_000);

test("a run detached while waiting for its turn can be cancelled there: recorded cancelled, it never starts", async () => {
  const dir = detachProject();
  const env = isolatedEnv();
  const { holder, release } = await holdTurn(dir, env);
  const waiting = await runSep(["--detach-after", "1", "--", "sh", "-c", "echo started > started; exit 5"], { cwd: dir, env });
  expect(waiting.exitCode).toBe(75);
  const runId = runIds(join(dir, "logs"))[1]!;
  const owner = readRun(join(dir, "logs"), runId).run.owner.pid as number;
  killLater(owner);

  const cancel = await runSep(["run", "cancel", runId], { cwd: dir, env });
  expect(cancel.exitCode).toBe(0);
  const after = readRun(join(dir, "logs"), runId);
  expect(after.run.conclusion).toBe("cancelled");
  expect(after.run.exitCode).toBe(143);
  expect(after.job.startedAt).toBeNull();
  await waitFor(() => !isAlive(owner), { what: "the background sep to exit" });

  release();
  expect((await holder.done).exitCode).toBe(0);
  // The turn it waited for has come and gone: a later job runs, the cancelled one did not.
  expect((await runSep(["--", "true"], { cwd: dir, env })).exitCode).toBe(0);
  expect(existsSync(join(dir, "started"))).toBe(false);
  expect((await runSep(["wait", runId], { cwd: dir, env })).exitCode).toBe(143);
}, 40_000);

test("an identical command while the first still waits for its turn joins it (same output, same code, one run); another argv or cwd does not", async () => {
  const dir = detachProject();
  mkdirSync(join(dir, "sub"));
  const env = isolatedEnv();
  const command = ["sh", "-c", "echo joined-out; echo joined-err >&2; exit 4"];
  const { holder, release } = await holdTurn(dir, env);
  const first = await runSep(["--detach-after", "1", "--", ...command], { cwd: dir, env });
  expect(first.exitCode).toBe(75);
  const runId = runIds(join(dir, "logs"))[1]!;

  const twin = startSep(["--", ...command], { cwd: dir, env });
  await waitFor(() => twin.stderr().includes("joining it"), { what: "the identical command to say it joins" });
  expect(twin.stderr()).toContain(runId);
  const otherArgv = startSep(["--", ...command, "other-argv"], { cwd: dir, env });
  const otherCwd = startSep(["--", ...command], { cwd: join(dir, "sub"), env });
  await waitFor(() => otherArgv.stderr().includes("waiting for") && otherCwd.stderr().includes("waiting for"), {
    what: "the other two to queue for their turns",
  });

  release();
  expect((await holder.done).exitCode).toBe(0);
  const [joined, argvResult, cwdResult] = await Promise.all([twin.done, otherArgv.done, otherCwd.done]);
  const { log } = readRun(join(dir, "logs"), runId);
  expect(joined.exitCode).toBe(4);
  expect(joined.stdout.equals(log!)).toBe(true);
  expect(joined.stdoutText).toContain("joined-out\n");
  const waited = await runSep(["wait", runId], { cwd: dir, env });
  expect(waited.exitCode).toBe(4);
  expect(waited.stdout.equals(log!)).toBe(true);
  for (const other of [argvResult, cwdResult]) {
    expect(other.exitCode).toBe(4);
    expect(other.stderr).not.toContain("joining");
  }

  // One run of the command in this cwd (the first's); the other two ran on their own.
  const jobs = runIds(join(dir, "logs")).map((id) => readRun(join(dir, "logs"), id).job);
  const same = (argv: string[]) => JSON.stringify(argv) === JSON.stringify(command);
  expect(jobs.filter((job) => same(job.argv) && job.cwd === dir).map((job) => job.runId)).toEqual([runId]);
  expect(jobs.filter((job) => same(job.argv) && job.cwd === join(dir, "sub")).length).toBe(1);
  expect(jobs.filter((job) => JSON.stringify(job.argv) === JSON.stringify([...command, "other-argv"])).length).toBe(1);
  expect(jobs.length).toBe(4); // with the holder's
}, 60_000);

test("detachAfter auto: 100 s under CLAUDECODE=1, off without; a bad SEP_DETACH_AFTER stops sep with exit 2", async () => {
  const dir = detachProject();
  const env = isolatedEnv();
  const detachAfter = async (extra: Record<string, string | undefined>) => {
    const result = await runSep(["config", "--json"], { cwd: dir, env: { ...env, ...extra } });
    expect(result.exitCode).toBe(0);
    return JSON.parse(result.stdoutText).values.detachAfter.value;
  };
  expect(await detachAfter({ CLAUDECODE: "1" })).toBe(100);
  expect(await detachAfter({})).toBe(0);
  expect(await detachAfter({ CLAUDECODE: "1", SEP_DETACH_AFTER: "0" })).toBe(0);

  // Under CLAUDECODE=1 the job really runs under a background sep (its parent is not the
  // foreground sep); without it, under the foreground sep itself.
  const parentOfJob = async (extra: Record<string, string>) => {
    const foreground = startSep(["--", "sh", "-c", "echo $PPID"], { cwd: dir, env: { ...env, ...extra } });
    const result = await foreground.done;
    expect(result.exitCode).toBe(0);
    return { foreground: foreground.pid, parent: Number(result.stdoutText.trim()) };
  };
  const underClaude = await parentOfJob({ CLAUDECODE: "1" });
  expect(underClaude.parent).not.toBe(underClaude.foreground);
  const plain = await parentOfJob({});
  expect(plain.parent).toBe(plain.foreground);

  const bad = await runSep(["--", "touch", "ran"], { cwd: dir, env: { ...env, SEP_DETACH_AFTER: "abc" } });
  expect(bad.exitCode).toBe(2);
  expect(bad.stderr).toContain("SEP_DETACH_AFTER");
  expect(bad.stderr).toContain('"abc"');
  expect(existsSync(join(dir, "ran"))).toBe(false);
}, 40_000);

test("a background sep killed by SIGKILL: `sep wait` ends (the run reads cancelled) and the next sep kills the tree it left", async () => {
  const { dir, env, leader, runId, job, owner } = await detachedTree();
  process.kill(owner, "SIGKILL");
  await waitFor(() => !isAlive(owner), { what: "the background sep to die" });

  const wait = startSep(["wait", runId], { cwd: dir, env });
  await waitFor(() => wait.proc.exitCode !== null, { timeoutMs: 15_000, what: "sep wait to end on a run whose sep is dead" });
  const waited = await wait.done;
  const after = readRun(join(dir, "logs"), runId);
  expect(after.run.status).toBe("completed");
  expect(after.run.conclusion).toBe("cancelled");
  expect(waited.exitCode).toBe(after.run.exitCode);

  // The dead sep's tree outlived it (sep wait only reads); the next sep in the project kills it
  // before its own job starts.
  expect(jobLeft(job.id, leader).length).toBe(7);
  const next = await runSep(["--", "true"], { cwd: dir, env });
  expect(next.exitCode).toBe(0);
  expect(next.stderr).toContain("left 7 process(es) running");
  expect(jobLeft(job.id, leader)).toEqual([]);
}, 40_000);

test("a background sep slow to start (its config still loading at the deadline): the run id the foreground gives works with `sep wait`", async () => {
  const dir = detachProject();
  const env = isolatedEnv();
  // Only the background sep (SEP_SUPERVISED_RUN set) is held, before it can record its run.
  writeFileSync(
    join(dir, "sep.config.ts"),
    [
      'import { existsSync, writeFileSync } from "node:fs";',
      "if (process.env.SEP_SUPERVISED_RUN) {",
      '  writeFileSync("background-loading", String(process.pid));',
      '  while (!existsSync("release")) await Bun.sleep(20);',
      "}",
      "export default {};",
      "",
    ].join("\n"),
  );
  // The job outlasts the deadline by seconds: once its run is recorded, the foreground must detach.
  const foreground = startSep(["--detach-after", "1", "--", "sh", "-c", "echo slow-start; sleep 2; exit 6"], { cwd: dir, env });
  await waitForFile(join(dir, "background-loading"));
  readPid(join(dir, "background-loading")); // killed after the test: held, it would wait forever
  // Let the deadline pass while the background sep cannot have recorded anything yet.
  await Promise.race([foreground.done, Bun.sleep(2500)]);
  // It must not leave before the run exists: `sep wait` could not find it.
  expect(foreground.proc.exitCode).toBeNull();
  writeFileSync(join(dir, "release"), "");
  const result = await foreground.done;
  const { runId } = onlyRun(join(dir, "logs"));
  expect(result.exitCode).toBe(75);
  expect(result.stderr).toContain(`sep wait ${runId}`);
  const waited = await runSep(["wait", runId], { cwd: dir, env });
  expect(waited.exitCode).toBe(6);
  expect(Buffer.concat([result.stdout, waited.stdout]).equals(readRun(join(dir, "logs"), runId).log!)).toBe(true);
}, 40_000);

test("`sep wait` and `sep run cancel` without a run id: a usage error (exit 2) that says what is missing", async () => {
  const dir = detachProject();
  const env = isolatedEnv();
  for (const args of [["wait"], ["run", "cancel"]]) {
    const result = await runSep(args, { cwd: dir, env });
    expect({ args, exit: result.exitCode }).toEqual({ args, exit: 2 });
    expect(result.stderr).toContain("needs the run id");
    expect(result.stderr).not.toContain("internal error");
  }
});
