// The machine governor (DESIGN §9) through the real binary: one memory budget for every sep job of
// the machine, admission at a gate, pause and resume under pressure, cleanup after a dead sep,
// `sep status`, learned reservations shared by git worktrees, and the governor switched off.
// Each test gets its own machine state dir (XDG_RUNTIME_DIR), so it sees no other test's jobs.
import { afterEach, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  cleanupAll,
  ensureBinary,
  FIXTURES,
  isAlive,
  MB,
  onCleanup,
  onlyRun,
  readPid,
  runIds,
  readRun,
  runSep,
  SEP,
  type SepProcess,
  sepEnv,
  startSep,
  tempDir,
  tempProject,
  waitFor,
  waitForFile,
} from "./helpers.ts";

beforeAll(() => ensureBinary(), 300_000);
afterEach(() => cleanupAll());

const ALLOC = join(FIXTURES, "alloc.py");
const LEDGER_SUM = join(FIXTURES, "ledger-sum.py");

// ---------------------------------------------------------------------------------------------
// A private machine, its ledger, and /proc

interface Machine {
  /** the XDG_RUNTIME_DIR every sep of the test gets */
  runtime: string;
  ledgerDir: string;
  env: Record<string, string | undefined>;
}

/** A machine state dir of the test's own, and the environment that points its seps there. */
function privateMachine(settings: Record<string, string | undefined> = {}): Machine {
  const runtime = tempDir("sep-e2e-governor-");
  return { runtime, ledgerDir: join(runtime, "sep/governor/ledger"), env: sepEnv({ XDG_RUNTIME_DIR: runtime, ...settings }) };
}

interface Entry {
  id: string;
  pid: number;
  state: "waiting" | "running" | "paused";
  argv: string[];
  projectRoot: string;
  reservationBytes: number;
  reservationSource: string;
  budgetBytes: number;
  pgid?: number;
}

/** The ledger's entry files as they are now (see src/core/governor/ledger.ts); unreadable = absent. */
function ledgerEntries(machine: Machine): Entry[] {
  if (!existsSync(machine.ledgerDir)) return [];
  return readdirSync(machine.ledgerDir)
    .filter((name) => /^\d{12}\.json$/.test(name))
    .sort()
    .flatMap((name) => {
      try {
        return [JSON.parse(readFileSync(join(machine.ledgerDir, name), "utf8")) as Entry];
      } catch {
        return [];
      }
    });
}

/** The entry of the job run by the sep with this pid. */
function entryOf(machine: Machine, sepPid: number): Entry | undefined {
  return ledgerEntries(machine).find((entry) => entry.pid === sepPid);
}

interface ProcStat {
  pid: number;
  state: string;
  ppid: number;
  pgrp: number;
}

function procStat(pid: number): ProcStat | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    // After the last ")": the command name may hold spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { pid, state: fields[0]!, ppid: Number(fields[1]), pgrp: Number(fields[2]) };
  } catch {
    return undefined;
  }
}

function allStats(): ProcStat[] {
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .flatMap((name) => procStat(Number(name)) ?? []);
}

/** Live processes (not zombies) that carry SEP_JOB_ID=marker: a job's whole tree, wherever it went. */
function markedPids(marker: string): number[] {
  const needle = `\0SEP_JOB_ID=${marker}\0`;
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .filter((name) => {
      try {
        return `\0${readFileSync(`/proc/${name}/environ`, "latin1")}`.includes(needle);
      } catch {
        return false;
      }
    })
    .map(Number)
    .filter((pid) => isAlive(pid));
}

/** Live members of a process group. */
function groupPids(pgid: number): number[] {
  return allStats()
    .filter((stat) => stat.pgrp === pgid && stat.state !== "Z" && stat.state !== "X")
    .map((stat) => stat.pid);
}

/** After the test, whatever happened: nothing of this job is left, and nothing of it stays stopped. */
function killJobLater(marker: string): void {
  onCleanup(() => {
    for (const pid of markedPids(marker)) {
      try {
        process.kill(pid, "SIGKILL");
        process.kill(pid, "SIGCONT");
      } catch {
        // gone
      }
    }
  });
}

/** Every file and dir under root, with size and mtime: what "writes nothing" compares. */
function snapshot(root: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      const stat = statSync(path);
      files[path.slice(root.length)] = `${entry.isDirectory() ? "d" : "f"} ${stat.size} ${stat.mtimeMs}`;
      if (entry.isDirectory()) walk(path);
    }
  };
  walk(root);
  return files;
}

/** A job that touches `<tag>.started` in its cwd, then runs until the test creates `<tag>.release`. */
function blockingJob(tag: string): string[] {
  return ["sh", "-c", 'touch "$1.started"; while [ ! -f "$1.release" ]; do sleep 0.02; done', "sh", tag];
}

/** Lines of a sep's stderr that say it waits at the machine gate. */
function gateWaitLines(sep: SepProcess | { stderr: string }): string[] {
  const text = typeof sep.stderr === "function" ? sep.stderr() : sep.stderr;
  return text.split("\n").filter((line) => line.includes("waiting for memory"));
}

/** Every job record under a project's logs dir. */
function jobRecords(projectRoot: string): Array<Record<string, any>> {
  const logDir = join(projectRoot, "logs");
  return runIds(logDir).map((id) => readRun(logDir, id).job);
}

/** A git repository `<base>/repo` with one commit, and a linked worktree `<base>/<name>` for each name. */
function repoWithWorktrees(base: string, names: string[]): { repo: string; worktrees: string[] } {
  const git = (...args: string[]) => {
    const identity = { GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@t", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@t" };
    const result = Bun.spawnSync(["git", ...args], { cwd: base, stdout: "pipe", stderr: "pipe", env: { ...process.env, ...identity } });
    if (result.exitCode !== 0) throw new Error(`git ${args.join(" ")}: ${result.stderr.toString()}`);
  };
  const repo = join(base, "repo");
  git("init", "-q", repo);
  git("-C", repo, "commit", "-q", "--allow-empty", "-m", "init");
  const worktrees = names.map((name) => join(base, name));
  for (const [n, worktree] of worktrees.entries()) git("-C", repo, "worktree", "add", "-q", "-b", `branch${n}`, worktree);
  return { repo, worktrees };
}

// ---------------------------------------------------------------------------------------------

test("never over-admit, never deadlock: 50 seps from 10 projects (4 of them worktrees of one repository) share a 1000 MB budget", async () => {
  const machine = privateMachine({ SEP_MEMORY_BUDGET_MB: "1000" });
  // One repository and three linked worktrees of it, and six projects of their own.
  const { repo, worktrees } = repoWithWorktrees(tempDir("sep-e2e-governor-repo-"), ["wt1", "wt2", "wt3"]);
  const projects = [repo, ...worktrees, ...Array.from({ length: 6 }, () => tempProject())];
  const check = join(tempDir(), "check");

  const jobs = Array.from({ length: 50 }, (_, i) => ({
    id: `job${i}`,
    project: projects[i % projects.length]!,
    reserveMb: 100 + ((i * 37) % 301), // 100 … 400
    sleep: (0.2 + (i % 4) * 0.1).toFixed(1), // 0.2 … 0.5 s
  }));
  const seps = jobs.map((job) =>
    startSep(["--reserve", String(job.reserveMb), "--", "python3", LEDGER_SUM, job.id, check, job.sleep], { cwd: job.project, env: machine.env }),
  );
  // A deadlock shows as seps that never end: say where they stand instead of just timing out.
  const bound = 150_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const results = await Promise.race([
    Promise.all(seps.map((sep) => sep.done)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`not all 50 seps ended within ${bound} ms; ledger: ${JSON.stringify(ledgerEntries(machine).map((e) => [e.argv[2], e.state]))}`)),
        bound,
      );
    }),
  ]).finally(() => clearTimeout(timer));
  for (const [i, result] of results.entries()) expect({ job: jobs[i]!.id, exit: result.exitCode, stderr: result.exitCode === 0 ? "" : result.stderr }).toEqual({ job: jobs[i]!.id, exit: 0, stderr: "" });

  // Every job ran exactly once, and saw at its start at most the budget admitted (itself included).
  const lines = readFileSync(check, "utf8").trim().split("\n").map((line) => {
    const [id, sum, budget] = line.split(" ");
    return { id: id!, sum: Number(sum), budget: Number(budget) };
  });
  expect(lines.map((line) => line.id).sort()).toEqual(jobs.map((job) => job.id).sort());
  const reserveOf = new Map(jobs.map((job) => [job.id, job.reserveMb * MB]));
  for (const line of lines) {
    expect({ ...line, over: line.sum > 1000 * MB }).toEqual({ ...line, over: false });
    // The reader really saw the ledger: its own entry is in its sum, with the budget its sep works with.
    expect(line.sum).toBeGreaterThanOrEqual(reserveOf.get(line.id)!);
    expect(line.budget).toBe(1000 * MB);
  }
  // And the gate did admit jobs side by side (a governor that runs everything one by one never over-admits either).
  expect(lines.some((line) => line.sum > reserveOf.get(line.id)!)).toBe(true);

  // Each record says what it reserved and that the figure came from --reserve.
  const records = projects.flatMap(jobRecords);
  expect(records.length).toBe(50);
  for (const record of records) {
    const id = record.argv[2] as string;
    expect({ id, conclusion: record.conclusion, admission: { ...record.admission, waitedMs: 0 } }).toEqual({
      id,
      conclusion: "success",
      admission: { reservationBytes: reserveOf.get(id)!, reservationSource: "flag", budgetBytes: 1000 * MB, waitedMs: 0 },
    });
  }
  // Nothing is left in the ledger.
  expect(ledgerEntries(machine)).toEqual([]);
}, 200_000);

test("a job whose reservation does not fit says once what it needs, from where and why; it runs when the memory is released", async () => {
  const machine = privateMachine({ SEP_MEMORY_BUDGET_MB: "300" });
  const dirA = tempProject();
  const dirB = tempProject();
  const a = startSep(["--reserve", "250", "--", ...blockingJob("a")], { cwd: dirA, env: machine.env });
  await waitFor(() => existsSync(join(dirA, "a.started")), { what: "A to start" });
  const b = startSep(["--reserve", "200", "--", "touch", "b.ran"], { cwd: dirB, env: machine.env });
  await waitFor(() => gateWaitLines(b).length > 0, { what: "B to say it waits for memory" });
  expect(entryOf(machine, b.pid)?.state).toBe("waiting");

  // While B waits, the ledger changes under it (a small job goes ahead of it and ends, twice):
  // each change wakes B to decide again, and it still says nothing more.
  for (const n of [1, 2]) {
    const dirC = tempProject();
    const c = await runSep(["--reserve", "10", "--", "touch", "c.ran"], { cwd: dirC, env: machine.env });
    expect(c.exitCode).toBe(0);
    expect(existsSync(join(dirC, "c.ran"))).toBe(true);
    expect({ n, stillWaiting: entryOf(machine, b.pid)?.state }).toEqual({ n, stillWaiting: "waiting" });
  }
  expect(existsSync(join(dirB, "b.ran"))).toBe(false);

  writeFileSync(join(dirA, "a.release"), "");
  expect((await a.done).exitCode).toBe(0);
  const resultB = await b.done;
  expect(resultB.exitCode).toBe(0);
  expect(existsSync(join(dirB, "b.ran"))).toBe(true);
  const lines = gateWaitLines(resultB);
  expect(lines.length).toBe(1);
  // What it needs, where that figure came from, and why it waits.
  expect(lines[0]).toContain("needs 200 MB");
  expect(lines[0]).toContain("(--reserve)");
  expect(lines[0]).toContain("250 MB of the 300 MB budget is reserved by 1 running job");
  const { job } = onlyRun(join(dirB, "logs"));
  expect(job.admission.reservationSource).toBe("flag");
  expect(job.admission.reservationBytes).toBe(200 * MB);
  expect(job.admission.waitedMs).toBeGreaterThan(0);
}, 60_000);

test("--wait-timeout counts waiting at the gate: exit 75, the command never ran, no ledger entry of it is left", async () => {
  const machine = privateMachine({ SEP_MEMORY_BUDGET_MB: "300" });
  const dirA = tempProject();
  const dirB = tempProject();
  const a = startSep(["--reserve", "250", "--", ...blockingJob("a")], { cwd: dirA, env: machine.env });
  await waitFor(() => existsSync(join(dirA, "a.started")), { what: "A to start" });
  const b = startSep(["--reserve", "200", "--wait-timeout", "1", "--", "touch", "b.ran"], { cwd: dirB, env: machine.env });
  // It did get to the gate (its own project's turn was free) before it gave up.
  await waitFor(() => entryOf(machine, b.pid)?.state === "waiting", { what: "B to wait at the gate" });
  const result = await b.done;
  expect(result.exitCode).toBe(75);
  expect(result.stderr).toContain("--wait-timeout");
  expect(existsSync(join(dirB, "b.ran"))).toBe(false);
  // Only A is left in the ledger, and no half-written file of B.
  expect(ledgerEntries(machine).map((entry) => entry.pid)).toEqual([a.pid]);
  expect(readdirSync(machine.ledgerDir).filter((name) => name.endsWith(".tmp"))).toEqual([]);
  writeFileSync(join(dirA, "a.release"), "");
  expect((await a.done).exitCode).toBe(0);
}, 30_000);

test("learned reservations: a command's first run reserves its limit; its next run, in another worktree of the repository, its peak + 20 %", async () => {
  const machine = privateMachine({ SEP_MEMORY_BUDGET_MB: "4000" });
  const {
    worktrees: [wt1, wt2],
  } = repoWithWorktrees(tempDir("sep-e2e-governor-repo-"), ["wt1", "wt2"]);
  const limitMb = 1024;
  // Hold the memory long enough for several polls, so the peak is measured.
  const command = ["python3", ALLOC, "150", "0", "1"];
  const options = ["-m", String(limitMb), "--check-interval", "0.05"];

  const first = await runSep([...options, "--", ...command], { cwd: wt1!, env: machine.env });
  expect(first.exitCode).toBe(0);
  const firstJob = onlyRun(join(wt1!, "logs")).job;
  expect(firstJob.admission).toMatchObject({ reservationSource: "limit", reservationBytes: limitMb * MB });
  expect(firstJob.peakMemoryBytes).toBeGreaterThan(140 * MB);

  const second = await runSep([...options, "--", ...command], { cwd: wt2!, env: machine.env });
  expect(second.exitCode).toBe(0);
  const secondJob = onlyRun(join(wt2!, "logs")).job;
  expect(secondJob.admission.reservationSource).toBe("learned");
  expect(secondJob.admission.reservationBytes).toBeGreaterThanOrEqual(Math.floor(1.2 * firstJob.peakMemoryBytes));
  expect(secondJob.admission.reservationBytes).toBeLessThan(limitMb * MB);

  // The same command in a project of another repository has learned nothing: profiles are per repository.
  const other = tempProject();
  const third = await runSep([...options, "--", ...command], { cwd: other, env: machine.env });
  expect(third.exitCode).toBe(0);
  expect(onlyRun(join(other, "logs")).job.admission).toMatchObject({ reservationSource: "limit", reservationBytes: limitMb * MB });
}, 60_000);

// ---------------------------------------------------------------------------------------------
// Pressure: two jobs that reserve little and use much

interface PausedPair {
  dirA: string;
  dirB: string;
  a: SepProcess;
  b: SepProcess;
  aEntry: Entry & { pgid: number };
  bEntry: Entry & { pgid: number };
}

/** B holding 300 MB for good. */
const B_HOLDS = ["python3", ALLOC, "300", "0", "600"];

/**
 * Budget 400 MB. A (admitted first) and then B each reserve 150 MB but allocate 300 MB; together
 * they use more than the budget, so B, the most recently admitted, is paused. A runs until the
 * test creates `release` in its project. Resolves once B's job is stopped (state T).
 */
async function pausedPair(machine: Machine, bOptions: string[] = [], bCommand: string[] = ["python3", ALLOC, "300", "0", "1"]): Promise<PausedPair> {
  const dirA = tempProject();
  const dirB = tempProject();
  const a = startSep(
    ["--reserve", "150", "--", "sh", "-c", `python3 "$1" 300 0 600 & while [ ! -f release ]; do sleep 0.05; done; kill $!; wait; exit 0`, "sh", ALLOC],
    { cwd: dirA, env: machine.env },
  );
  const aEntry = (await waitFor(() => {
    const entry = entryOf(machine, a.pid);
    return entry?.pgid !== undefined && a.stderr().includes("alloc: holding 300 MB") && entry;
  }, { what: "A to hold its 300 MB", timeoutMs: 20_000 })) as PausedPair["aEntry"];
  killJobLater(aEntry.id);
  const b = startSep(["--reserve", "150", ...bOptions, "--", ...bCommand], { cwd: dirB, env: machine.env });
  const bEntry = (await waitFor(() => {
    const entry = entryOf(machine, b.pid);
    return entry?.pgid !== undefined && entry;
  }, { what: "B to be admitted and spawned", timeoutMs: 20_000 })) as PausedPair["bEntry"];
  killJobLater(bEntry.id);
  await waitFor(() => procStat(bEntry.pgid)?.state === "T" && entryOf(machine, b.pid)?.state === "paused", {
    what: "B to be paused (state T, ledger paused)",
    timeoutMs: 20_000,
  });
  return { dirA, dirB, a, b, aEntry, bEntry };
}

/** The states of A's processes: the oldest admitted job is never paused. */
function expectNeverStopped(marker: string): void {
  const states = markedPids(marker).map((pid) => procStat(pid)?.state);
  expect(states.length).toBeGreaterThan(0);
  expect(states.filter((state) => state === "T" || state === "t")).toEqual([]);
}

test("pressure: the youngest job is paused, the oldest never; when the oldest ends it resumes and succeeds, paused time off its timeout", async () => {
  const machine = privateMachine({ SEP_MEMORY_BUDGET_MB: "400" });
  // B's own running time (start, allocate, hold 1 s) is well under its 5 s timeout; it is kept
  // paused for longer than 5 s: it can only succeed if paused time does not count.
  const timeoutS = 5;
  const { dirA, dirB, a, b, aEntry, bEntry } = await pausedPair(machine, ["-t", String(timeoutS)]);
  const pausedSeen = Date.now();
  await waitFor(
    () => {
      expect(procStat(bEntry.pgid)?.state).toBe("T");
      expectNeverStopped(aEntry.id);
      return Date.now() - pausedSeen > (timeoutS + 1) * 1000;
    },
    { what: "B to stay paused past its timeout while A runs", timeoutMs: 30_000, intervalMs: 100 },
  );
  expect(b.proc.exitCode).toBeNull();

  writeFileSync(join(dirA, "release"), "");
  expect((await a.done).exitCode).toBe(0);
  const resultB = await b.done;
  expect(resultB.exitCode).toBe(0);
  const { job } = onlyRun(join(dirB, "logs"));
  expect(job.conclusion).toBe("success");
  expect(job.pausedMs).toBeGreaterThan(0);
  // At least most of what the test watched it stopped for.
  expect(job.pausedMs).toBeGreaterThanOrEqual(timeoutS * 1000);
  expect(onlyRun(join(dirA, "logs")).job.pausedMs).toBe(0);
  expect(ledgerEntries(machine)).toEqual([]);
}, 90_000);

test("SIGINT to a paused job's sep: exit 130 at once (no grace period wasted on a stopped tree), nothing of its tree left", async () => {
  const machine = privateMachine({ SEP_MEMORY_BUDGET_MB: "400" });
  // B's leader cleans up and exits on SIGTERM, as a well-behaved program does; stopped, it can
  // only do so once it is continued. A sep that forgot that would wait out the 60 s grace.
  const bCommand = ["sh", "-c", 'trap "exit 0" TERM; python3 "$1" 300 0 600 & wait', "sh", ALLOC];
  const { dirA, a, b, aEntry, bEntry } = await pausedPair(machine, ["--kill-grace", "60"], bCommand);
  const sentAt = Date.now();
  b.proc.kill("SIGINT");
  const result = await b.done;
  expect(result.exitCode).toBe(130);
  expect(Date.now() - sentAt).toBeLessThan(30_000);
  expect(markedPids(bEntry.id)).toEqual([]);
  expect(groupPids(bEntry.pgid)).toEqual([]);
  expect(entryOf(machine, b.pid)).toBeUndefined();
  // A went on untouched.
  expectNeverStopped(aEntry.id);
  writeFileSync(join(dirA, "release"), "");
  expect((await a.done).exitCode).toBe(0);
}, 60_000);

describe("SIGKILL to a paused job's sep leaves nothing stopped: the next sep that looks at the ledger kills its tree", () => {
  /** B's leftover is gone: no process with its marker, none of its group, none stopped, no entry. */
  const expectGone = async (machine: Machine, pair: PausedPair) => {
    await waitFor(() => markedPids(pair.bEntry.id).length === 0 && groupPids(pair.bEntry.pgid).length === 0, {
      what: "B's leftover tree to be killed",
    });
    expect(markedPids(pair.bEntry.id).map((pid) => procStat(pid)?.state)).toEqual([]);
    expect(ledgerEntries(machine).filter((entry) => entry.pid === pair.b.pid)).toEqual([]);
  };

  test("the running neighbour's sep", async () => {
    const machine = privateMachine({ SEP_MEMORY_BUDGET_MB: "400" });
    const pair = await pausedPair(machine, [], B_HOLDS);
    pair.b.proc.kill("SIGKILL");
    await pair.b.done;
    await expectGone(machine, pair);
    expectNeverStopped(pair.aEntry.id);
    writeFileSync(join(pair.dirA, "release"), "");
    expect((await pair.a.done).exitCode).toBe(0);
  }, 60_000);

  // With both seps dead at once nobody else is looking: what cleans up is the sep run next.
  for (const next of [["status"], ["status", "--json"], ["--", "true"]]) {
    test(`both seps killed; then \`sep ${next.join(" ")}\``, async () => {
      const machine = privateMachine({ SEP_MEMORY_BUDGET_MB: "400" });
      const pair = await pausedPair(machine, [], B_HOLDS);
      pair.a.proc.kill("SIGKILL");
      pair.b.proc.kill("SIGKILL");
      await Promise.all([pair.a.done, pair.b.done]);
      // Nobody has cleaned up yet: B's tree is there, still stopped; A's too.
      expect(markedPids(pair.bEntry.id).map((pid) => procStat(pid)?.state)).toContain("T");
      expect(markedPids(pair.aEntry.id).length).toBeGreaterThan(0);

      const result = await runSep(next, { cwd: tempProject(), env: machine.env });
      expect(result.exitCode).toBe(0);
      if (next[0] === "status") {
        // It says what it cleaned up (on stderr: stdout stays the status), and lists neither dead job.
        expect(result.stderr).toContain(`sep pid ${pair.b.pid} died while its job`);
        expect(result.stderr).toContain("was paused");
        if (next.includes("--json")) expect(JSON.parse(result.stdoutText).jobs).toEqual([]);
        else expect(result.stdoutText).toContain("no sep jobs on this machine");
      }
      await expectGone(machine, pair);
      await waitFor(() => markedPids(pair.aEntry.id).length === 0, { what: "A's leftover tree to be killed" });
      expect(ledgerEntries(machine)).toEqual([]);
    }, 60_000);
  }
});

// ---------------------------------------------------------------------------------------------

test("sep status --json: DESIGN §9's shape, one job running and one waiting; it writes nothing", async () => {
  const machine = privateMachine({ SEP_MEMORY_BUDGET_MB: "300" });
  const dirA = tempProject();
  const dirB = tempProject();
  const argvA = blockingJob("a");
  const argvB = ["sh", "-c", 'echo "$1" > b.ran', "sh", "with  two spaces and a 'quote'"];
  const a = startSep(["--reserve", "250", "--", ...argvA], { cwd: dirA, env: machine.env });
  await waitFor(() => existsSync(join(dirA, "a.started")), { what: "A to start" });
  const b = startSep(["--reserve", "200", "--", ...argvB], { cwd: dirB, env: machine.env });
  await waitFor(() => gateWaitLines(b).length > 0, { what: "B to wait at the gate" });

  const elsewhere = tempDir("sep-e2e-status-cwd-");
  const before = snapshot(machine.runtime);
  const result = await runSep(["status", "--json"], { cwd: elsewhere, env: machine.env });
  expect(result.exitCode).toBe(0);
  const status = JSON.parse(result.stdoutText);
  expect(status.budgetBytes).toBe(300 * MB);
  expect(typeof status.reserveBytes).toBe("number");
  expect(status.availableBytes).toBeGreaterThan(0);
  expect(status.jobs.length).toBe(2);
  const [running, waiting] = status.jobs;
  expect(running).toMatchObject({ pid: a.pid, projectRoot: dirA, argv: argvA, state: "running", reservationBytes: 250 * MB });
  expect(running.memoryBytes).toBeGreaterThan(0);
  expect(waiting).toMatchObject({ pid: b.pid, projectRoot: dirB, argv: argvB, state: "waiting", reservationBytes: 200 * MB, memoryBytes: 0 });
  for (const job of status.jobs) expect(Number.isNaN(Date.parse(job.since))).toBe(false);

  const text = await runSep(["status"], { cwd: elsewhere, env: machine.env });
  expect(text.exitCode).toBe(0);
  expect(text.stdoutText).toMatch(/^running\s.*250 MB/m);
  expect(text.stdoutText).toMatch(/^waiting\s.*200 MB/m);
  // No new file, no changed file, in the state dir or where it ran.
  expect(snapshot(machine.runtime)).toEqual(before);
  expect(readdirSync(elsewhere)).toEqual([]);

  writeFileSync(join(dirA, "a.release"), "");
  expect((await a.done).exitCode).toBe(0);
  expect((await b.done).exitCode).toBe(0);
}, 60_000);

describe("budgets at the edges", () => {
  test("SEP_MEMORY_BUDGET_MB=0: no governor, no ledger entry while a job runs, no admission in its record", async () => {
    const machine = privateMachine({ SEP_MEMORY_BUDGET_MB: "0" });
    const dir = tempProject();
    const sep = startSep(["--reserve", "100", "--", ...blockingJob("a")], { cwd: dir, env: machine.env });
    await waitFor(() => existsSync(join(dir, "a.started")), { what: "the job to start" });
    expect(ledgerEntries(machine)).toEqual([]);
    writeFileSync(join(dir, "a.release"), "");
    expect((await sep.done).exitCode).toBe(0);
    const { job } = onlyRun(join(dir, "logs"));
    expect(job.conclusion).toBe("success");
    expect(job).not.toHaveProperty("admission");
  }, 30_000);

  test("a job larger than the whole budget waits until nothing else is admitted, then runs alone while a later small job waits", async () => {
    const machine = privateMachine({ SEP_MEMORY_BUDGET_MB: "300" });
    const events = join(tempDir(), "events");
    /** A blocking job that also logs its start and end. */
    const job = (tag: string) => ["sh", "-c", `echo "start ${tag}" >> "$2"; touch "$1.started"; while [ ! -f "$1.release" ]; do sleep 0.02; done; echo "end ${tag}" >> "$2"`, "sh", tag, events];
    const [dirSmall, dirBig, dirLater] = [tempProject(), tempProject(), tempProject()];

    const small = startSep(["--reserve", "50", "--", ...job("small")], { cwd: dirSmall, env: machine.env });
    await waitFor(() => existsSync(join(dirSmall, "small.started")), { what: "the small job to start" });
    const big = startSep(["--reserve", "500", "--", ...job("big")], { cwd: dirBig, env: machine.env });
    await waitFor(() => gateWaitLines(big).length > 0, { what: "the big job to wait" });
    expect(gateWaitLines(big)[0]).toContain("needs 500 MB (--reserve); it needs more than the whole budget of 300 MB, so it runs alone");
    expect(existsSync(join(dirBig, "big.started"))).toBe(false);

    writeFileSync(join(dirSmall, "small.release"), "");
    expect((await small.done).exitCode).toBe(0);
    await waitFor(() => existsSync(join(dirBig, "big.started")), { what: "the big job to start once alone" });
    const later = startSep(["--reserve", "50", "--", ...job("later")], { cwd: dirLater, env: machine.env });
    await waitFor(() => gateWaitLines(later).length > 0, { what: "the later small job to wait" });
    expect(existsSync(join(dirLater, "later.started"))).toBe(false);

    writeFileSync(join(dirBig, "big.release"), "");
    expect((await big.done).exitCode).toBe(0);
    await waitFor(() => existsSync(join(dirLater, "later.started")), { what: "the later job to start" });
    writeFileSync(join(dirLater, "later.release"), "");
    expect((await later.done).exitCode).toBe(0);
    expect(readFileSync(events, "utf8")).toBe("start small\nend small\nstart big\nend big\nstart later\nend later\n");
    expect(onlyRun(join(dirBig, "logs")).job.admission).toMatchObject({ reservationBytes: 500 * MB, reservationSource: "flag", budgetBytes: 300 * MB });
  }, 60_000);
});

test("OOM safety: the job's grandchild has oom_score_adj 1000; sep's own stays what it was", async () => {
  const machine = privateMachine({ SEP_MEMORY_BUDGET_MB: "1000" });
  const dir = tempProject();
  // sep starts with oom_score_adj 100 (raising one's own needs no privilege), so "what it was" is
  // not just the default 0.
  const wrapper = Bun.spawn(["sh", "-c", 'echo 100 > /proc/self/oom_score_adj && exec "$0" "$@"', SEP, "--", "sh", "-c", 'sh -c "echo \\$\\$ > grandchild.tmp; mv grandchild.tmp grandchild.pid; while [ ! -f release ]; do sleep 0.02; done"; exit 0'], {
    cwd: dir,
    env: machine.env,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  onCleanup(async () => {
    if (wrapper.exitCode === null) wrapper.kill("SIGKILL");
    await wrapper.exited;
  });
  await waitForFile(join(dir, "grandchild.pid"));
  const grandchild = readPid(join(dir, "grandchild.pid"));
  const sepPid = wrapper.pid; // exec keeps the pid
  expect(readFileSync(`/proc/${sepPid}/cmdline`, "latin1").split("\0")[0]).toBe(SEP);
  // The grandchild is two forks below the job's leader, which is sep's child.
  const leader = procStat(procStat(grandchild)!.ppid)!;
  expect(leader.ppid).toBe(sepPid);
  expect(readFileSync(`/proc/${grandchild}/oom_score_adj`, "latin1").trim()).toBe("1000");
  expect(readFileSync(`/proc/${leader.pid}/oom_score_adj`, "latin1").trim()).toBe("1000");
  expect(readFileSync(`/proc/${sepPid}/oom_score_adj`, "latin1").trim()).toBe("100");
  writeFileSync(join(dir, "release"), "");
  expect(await wrapper.exited).toBe(0);
}, 30_000);

describe("bad governor input: exit 2, the message names the key or flag and the value, nothing ran, no state written", () => {
  const cases: Array<{ name: string; args: string[]; env: Record<string, string>; mention: string[] }> = [
    { name: "SEP_MEMORY_BUDGET_MB=abc", args: [], env: { SEP_MEMORY_BUDGET_MB: "abc" }, mention: ["SEP_MEMORY_BUDGET_MB", '"abc"'] },
    { name: "SEP_MEMORY_RESERVE_MB=-5", args: [], env: { SEP_MEMORY_RESERVE_MB: "-5" }, mention: ["SEP_MEMORY_RESERVE_MB", "-5"] },
    { name: "--reserve 0", args: ["--reserve", "0"], env: {}, mention: ["--reserve", '"0"'] },
    { name: "--reserve x", args: ["--reserve", "x"], env: {}, mention: ["--reserve", '"x"'] },
  ];
  for (const { name, args, env, mention } of cases) {
    test(name, async () => {
      const machine = privateMachine(env);
      const dir = tempProject();
      const result = await runSep([...args, "--", "touch", "ran"], { cwd: dir, env: machine.env });
      expect(result.exitCode).toBe(2);
      for (const word of mention) expect(result.stderr).toContain(word);
      expect(existsSync(join(dir, "ran"))).toBe(false);
      expect(readdirSync(dir)).toEqual([".git"]);
      expect(readdirSync(machine.runtime)).toEqual([]);
    });
  }
});
