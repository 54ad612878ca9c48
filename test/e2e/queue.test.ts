// The durable queue, driven through dist/sep as a user would: `queue add` stores argv byte for byte
// with its own limits and runs nothing; `queue start` drains FIFO as one run and returns; failures,
// --fail-fast and the pipeline timeout; one drain per scope; status, remove, clear, pause, resume,
// stop; the legacy spellings; corrupt entries; 200 concurrent adds; SIGKILL at bad moments.
import { afterEach, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  cleanupAll,
  ensureBinary,
  FIXTURES,
  isAlive,
  onlyRun,
  readPid,
  readRun,
  runIds,
  runSep,
  type SepProcess,
  type SepResult,
  sepEnv,
  startSep,
  tempProject,
  waitFor,
  waitForFile,
} from "./helpers.ts";

beforeAll(() => ensureBinary(), 300_000);
afterEach(() => cleanupAll());

// ---------------------------------------------------------------------------------------------
// Small tools

const PRINT_ARGV = ["python3", "-c", "import sys,json; print(json.dumps(sys.argv[1:]))"];

function sep(dir: string, args: string[], env?: Record<string, string | undefined>): Promise<SepResult> {
  return runSep(args, { cwd: dir, env: env ? sepEnv(env) : undefined });
}

/** `sep queue add [OPTIONS] -- ARGV`; asserts success and returns the id it printed. */
async function add(dir: string, argv: string[], options: string[] = []): Promise<string> {
  const result = await sep(dir, ["queue", "add", ...options, "--", ...argv]);
  if (result.exitCode !== 0) throw new Error(`queue add failed (${result.exitCode}): ${result.stderr}`);
  return result.stdoutText.trim();
}

async function status(dir: string): Promise<Record<string, any>> {
  const result = await sep(dir, ["queue", "status", "--json"]);
  expect(result.exitCode).toBe(0);
  return JSON.parse(result.stdoutText);
}

const queueDir = (dir: string) => join(dir, ".sequential-locks", "queue");
const logDir = (dir: string) => join(dir, "logs");

/** Numbered entry files stored in the queue dir (not claimed, not set aside). */
function storedFiles(dir: string): string[] {
  return existsSync(queueDir(dir)) ? readdirSync(queueDir(dir)).filter((name) => /^\d+\.json$/.test(name)).sort() : [];
}

/** Every job record of a run, in order. */
function jobsOf(dir: string, runId: string): Record<string, any>[] {
  const { run, runDir } = readRun(logDir(dir), runId);
  return (run.jobs as unknown[]).map((_, i) => JSON.parse(readFileSync(join(runDir, "jobs", `${i + 1}.json`), "utf8")));
}

/** A job that appends its tag to `order` (relative to the job's cwd, the project). */
function appendJob(tag: string, file = "order"): string[] {
  return ["sh", "-c", 'echo "$1" >> "$2"', "sh", tag, file];
}

/** A job that runs until the test creates release-TAG; touches started-TAG first and done-TAG last. */
function blocker(tag: string): string[] {
  return ["sh", "-c", `touch started-${tag}; while [ ! -f release-${tag} ]; do sleep 0.02; done; touch done-${tag}`];
}

/** A job with a child: writes leader.pid and child.pid, then waits on a long sleep. */
function treeJob(seconds = 300): string[] {
  return ["sh", "-c", `sleep ${seconds} & echo $! > child.pid; echo $$ > leader.pid; wait`];
}

/** Wait for treeJob's pid files; both are killed after the test whatever happens. */
async function treePids(dir: string): Promise<{ leader: number; child: number }> {
  await waitForFile(join(dir, "leader.pid"));
  await waitForFile(join(dir, "child.pid"));
  return { leader: readPid(join(dir, "leader.pid")), child: readPid(join(dir, "child.pid")) };
}

/**
 * Wait until sep reports the job as running (`queue status`), i.e. it has recorded who holds the
 * slot. (A SIGKILL before that record exists is a separate, narrower case.)
 */
async function waitUntilRecordedRunning(dir: string): Promise<void> {
  await waitFor(async () => (await status(dir)).running.length === 1, { what: "queue status to show the running job" });
}

function release(dir: string, tag: string): void {
  writeFileSync(join(dir, `release-${tag}`), "");
}

function startDrain(dir: string, args: string[] = [], env?: Record<string, string | undefined>): SepProcess {
  return startSep(["queue", "start", ...args], { cwd: dir, env: env ? sepEnv(env) : undefined });
}

/** Live processes (not zombies) whose cwd is inside dir: a drain, a worker or a job of that project. */
function processesIn(dir: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cwd = readlinkSync(`/proc/${name}/cwd`);
      if ((cwd === dir || cwd.startsWith(`${dir}/`)) && isAlive(Number(name))) found.push(Number(name));
    } catch {
      // gone, or not ours
    }
  }
  return found;
}

function readLines(path: string): string[] {
  return existsSync(path) ? readFileSync(path, "utf8").split("\n").filter(Boolean) : [];
}

// ---------------------------------------------------------------------------------------------
// queue add

describe("queue add", () => {
  test("stores argv byte-exact, prints the id, says nothing ran; queue start runs it as given (B6)", async () => {
    const dir = tempProject();
    const args = [
      "a b",
      "it's \"quoted\" \\ back",
      "line1\nline2",
      "$(touch injected)",
      "`touch injected2`",
      "ünïcødé ✓ 日本 🚀",
      "",
      "--help",
      "--",
      "*",
      "tab\there",
      "  lead and trail  ",
    ];
    const added = await sep(dir, ["queue", "add", "--", ...PRINT_ARGV, ...args]);
    expect(added.exitCode).toBe(0);
    expect(added.stdoutText).toBe("q1\n");
    expect(added.stderr).toMatch(/nothing ran/);
    expect(added.stderr).toContain("sep queue start");

    // The add itself runs nothing.
    expect(await add(dir, ["touch", "ran-marker"])).toBe("q2");
    expect(existsSync(join(dir, "ran-marker"))).toBe(false);
    expect(readdirSync(dir).sort()).toEqual([".git", ".sequential-locks"]);

    const stored = JSON.parse(readFileSync(join(queueDir(dir), storedFiles(dir)[0]!), "utf8"));
    expect(stored.argv).toEqual([...PRINT_ARGV, ...args]);
    expect(stored.cwd).toBe(dir);

    const drained = await sep(dir, ["queue", "start"]);
    expect(drained.exitCode).toBe(0);
    expect(JSON.parse(drained.stdoutText.trim().split("\n")[0]!)).toEqual(args);
    expect(existsSync(join(dir, "ran-marker"))).toBe(true);
    // Never through a shell.
    expect(existsSync(join(dir, "injected"))).toBe(false);
    expect(existsSync(join(dir, "injected2"))).toBe(false);
    const jobs = jobsOf(dir, onlyRun(logDir(dir)).runId);
    expect(jobs[0]!.argv).toEqual([...PRINT_ARGV, ...args]);
  }, 30_000);

  test("per-job -t, -m and --name are stored and applied at start, not leaked to other jobs (B11)", async () => {
    const dir = tempProject();
    // Settings at start time (.env.development, the environment) must not override what a job was added with.
    writeFileSync(join(dir, ".env.development"), "TIMEOUT=30\nMEMORY_LIMIT_MB=2048\n");
    await add(dir, ["sleep", "10"], ["-t", "1", "--name", "short-leash"]);
    await add(dir, ["sleep", "1.5"]);
    await add(dir, ["python3", join(FIXTURES, "alloc.py"), "200", "0", "5"], ["-m", "40", "--check-interval", "0.05"]);
    await add(dir, ["python3", join(FIXTURES, "alloc.py"), "80", "0", "0.2"]);

    const queued = (await status(dir)).queued;
    expect(queued.map((job: any) => job.overrides)).toEqual([{ timeout: 1 }, {}, { memoryLimitMb: 40, checkInterval: 0.05 }, {}]);
    expect(queued[0].name).toBe("short-leash");

    const result = await sep(dir, ["queue", "start"], { TIMEOUT: "20" });
    expect(result.exitCode).toBe(124); // the first failing job's code
    const jobs = jobsOf(dir, onlyRun(logDir(dir)).runId);
    expect(jobs.map((job) => [job.conclusion, job.exitCode])).toEqual([
      ["timed_out", 124],
      ["success", 0],
      ["memory_exceeded", 137],
      ["success", 0],
    ]);
    expect(jobs[0]!.name).toBe("short-leash");
    expect(jobs[0]!.limits.timeoutMs).toBe(1000);
    expect(jobs[1]!.limits.timeoutMs).toBe(20_000);
    expect(jobs[2]!.limits.memoryLimitBytes).toBe(40 * 1024 * 1024);
    expect(jobs[3]!.limits.memoryLimitBytes).toBe(2048 * 1024 * 1024);
    expect(jobs[1]!.name).toBe("sleep 1.5");
  }, 60_000);

  test("--report FILE given to queue add is written relative to where the job was added", async () => {
    const dir = tempProject();
    const sub = join(dir, "sub");
    mkdirSync(sub);
    const added = await runSep(["queue", "add", "--report", "report.json", "--", "pwd"], { cwd: sub });
    expect(added.exitCode).toBe(0);
    const result = await sep(dir, ["queue", "start"]);
    expect(result.exitCode).toBe(0);
    expect(result.stdoutText).toBe(`${sub}\n`); // the job ran in sub
    expect(existsSync(join(sub, "report.json"))).toBe(true);
    expect(existsSync(join(dir, "report.json"))).toBe(false);
  }, 30_000);

  test("usage errors exit 2, name the flag, and store nothing", async () => {
    const dir = tempProject();
    const noDash = await sep(dir, ["queue", "add", "echo", "hi"]);
    expect(noDash.exitCode).toBe(2);
    expect(noDash.stderr).toContain("--");
    const bare = await sep(dir, ["queue", "add"]);
    expect(bare.exitCode).toBe(2);
    const empty = await sep(dir, ["queue", "add", "--"]);
    expect(empty.exitCode).toBe(2);
    const badTimeout = await sep(dir, ["queue", "add", "-t", "abc", "--", "true"]);
    expect(badTimeout.exitCode).toBe(2);
    expect(badTimeout.stderr).toContain("--timeout");
    expect(badTimeout.stderr).toContain("abc");
    const badMemory = await sep(dir, ["queue", "add", "-m", "-5", "--", "true"]);
    expect(badMemory.exitCode).toBe(2);
    const badWait = await sep(dir, ["queue", "add", "--wait-timeout", "soon", "--", "true"]);
    expect(badWait.exitCode).toBe(2);
    expect(badWait.stderr).toContain("--wait-timeout");
    const unknown = await sep(dir, ["queue", "add", "--no-such-flag", "--", "true"]);
    expect(unknown.exitCode).toBe(2);
    for (const result of [noDash, bare, empty, badTimeout, badMemory, badWait, unknown]) expect(result.stdoutText).toBe("");
    // Nothing stored, nothing created.
    expect(readdirSync(dir)).toEqual([".git"]);
    expect((await status(dir)).queued).toEqual([]);
  }, 30_000);
});

// ---------------------------------------------------------------------------------------------
// queue start

describe("queue start", () => {
  test("drains in FIFO order as one run with N jobs, then returns (B10)", async () => {
    const dir = tempProject();
    for (let i = 1; i <= 4; i++) await add(dir, ["sh", "-c", 'echo "$1" >> order; echo "out-$1"', "sh", String(i)]);
    const result = await sep(dir, ["queue", "start"]);
    expect(result.exitCode).toBe(0);
    expect(readFileSync(join(dir, "order"), "utf8")).toBe("1\n2\n3\n4\n");
    const { run, runDir, runId } = onlyRun(logDir(dir));
    expect(run.status).toBe("completed");
    expect(run.conclusion).toBe("success");
    expect(run.exitCode).toBe(0);
    expect(run.jobs.length).toBe(4);
    expect(readdirSync(join(runDir, "jobs")).sort()).toEqual(["1.json", "1.log", "2.json", "2.log", "3.json", "3.log", "4.json", "4.log"]);
    for (const [i, job] of jobsOf(dir, runId).entries()) {
      expect(job.n).toBe(i + 1);
      expect(job.conclusion).toBe("success");
      expect(readFileSync(join(runDir, "jobs", `${i + 1}.log`), "utf8")).toContain(`out-${i + 1}`);
    }
    expect(storedFiles(dir)).toEqual([]);
    expect(result.stdoutText).toBe("out-1\nout-2\nout-3\nout-4\n");
  }, 30_000);

  test("by default every job runs after a failure, and the exit code is the first failure's (B2)", async () => {
    const dir = tempProject();
    await add(dir, ["true"]);
    await add(dir, ["sh", "-c", "exit 3"]);
    await add(dir, ["touch", "after1"]);
    await add(dir, ["sh", "-c", "exit 5"]);
    await add(dir, ["touch", "after2"]);
    const result = await sep(dir, ["queue", "start"]);
    expect(result.exitCode).toBe(3);
    expect(existsSync(join(dir, "after1"))).toBe(true);
    expect(existsSync(join(dir, "after2"))).toBe(true);
    const { run, runId } = onlyRun(logDir(dir));
    expect(run.status).toBe("completed");
    expect(run.conclusion).toBe("failure");
    expect(run.exitCode).toBe(3);
    expect(jobsOf(dir, runId).map((job) => [job.conclusion, job.exitCode])).toEqual([
      ["success", 0],
      ["failure", 3],
      ["success", 0],
      ["failure", 5],
      ["success", 0],
    ]);
    expect(storedFiles(dir)).toEqual([]);
  }, 30_000);

  test("--fail-fast stops at the first failure and records the rest as skipped (no longer stored)", async () => {
    const dir = tempProject();
    await add(dir, ["true"]);
    await add(dir, ["sh", "-c", "exit 4"]);
    await add(dir, ["touch", "x"]);
    await add(dir, ["touch", "y"]);
    const result = await sep(dir, ["queue", "start", "--fail-fast"]);
    expect(result.exitCode).toBe(4);
    expect(existsSync(join(dir, "x"))).toBe(false);
    expect(existsSync(join(dir, "y"))).toBe(false);
    const { run, runId } = onlyRun(logDir(dir));
    expect(run.exitCode).toBe(4);
    expect(run.conclusion).toBe("failure");
    const jobs = jobsOf(dir, runId);
    expect(jobs.map((job) => job.conclusion)).toEqual(["success", "failure", "skipped", "skipped"]);
    for (const job of jobs.slice(2)) {
      expect(job.status).toBe("completed");
      expect(job.startedAt).toBeNull();
    }
    expect(jobs[2]!.argv).toEqual(["touch", "x"]);
    expect(storedFiles(dir)).toEqual([]);
    expect((await status(dir)).queued).toEqual([]);
  }, 30_000);

  test.each([
    ["--pipeline-timeout 1", ["--pipeline-timeout", "1"], {}],
    ["PIPELINE_TIMEOUT=1", [], { PIPELINE_TIMEOUT: "1" }],
  ] as const)("%s ends the run: exit 124, the current job's tree killed, the rest skipped", async (_, flags, env) => {
    const dir = tempProject();
    await add(dir, treeJob(5));
    await add(dir, ["echo", "x"]);
    const drain = startDrain(dir, [...flags], env);
    const { leader, child } = await treePids(dir);
    const result = await drain.done;
    expect(result.exitCode).toBe(124);
    expect(result.stdoutText).not.toContain("x");
    expect(isAlive(leader)).toBe(false);
    expect(isAlive(child)).toBe(false);
    const { run, runId } = onlyRun(logDir(dir));
    expect(run.status).toBe("completed");
    expect(run.conclusion).toBe("timed_out");
    expect(run.exitCode).toBe(124);
    const jobs = jobsOf(dir, runId);
    expect(jobs.map((job) => [job.conclusion, job.exitCode])).toEqual([
      ["timed_out", 124],
      ["skipped", null],
    ]);
    expect(storedFiles(dir)).toEqual([]);
  }, 30_000);

  test("the pipeline timeout ends a drain whose job waits for its turn, on time, though the wait sleeps in the kernel", async () => {
    const dir = tempProject();
    const holder = startSep(["--", ...blocker("p")], { cwd: dir });
    await waitFor(() => existsSync(join(dir, "started-p")), { what: "the holder to start" });
    await add(dir, ["touch", "never"]);
    const startedAt = Date.now();
    // 3 s: by then the waiter's looks have backed off to blocks of ~2 s (from 2.05 s to 4.1 s), so a
    // time limit that waited for the block's end would come ~1 s late.
    const result = await sep(dir, ["queue", "start", "--pipeline-timeout", "3"]);
    const tookMs = Date.now() - startedAt;
    release(dir, "p");
    expect((await holder.done).exitCode).toBe(0);
    expect(result.exitCode).toBe(124);
    expect(existsSync(join(dir, "never"))).toBe(false);
    expect(tookMs).toBeLessThan(3800);
  }, 30_000);

  test("a stored job whose --wait-timeout passes did not run: the drain is not green (exit 75)", async () => {
    const dir = tempProject();
    const holder = startSep(["--", ...blocker("h")], { cwd: dir });
    await waitFor(() => existsSync(join(dir, "started-h")), { what: "the holder to start" });
    await add(dir, ["touch", "never"], ["--wait-timeout", "0.3"]);
    const result = await sep(dir, ["queue", "start"]);
    release(dir, "h");
    expect((await holder.done).exitCode).toBe(0);
    expect(existsSync(join(dir, "never"))).toBe(false);
    expect(result.stderr).toMatch(/gave up waiting/);
    expect(result.exitCode).toBe(75);
    const drained = runIds(logDir(dir))
      .map((id) => readRun(logDir(dir), id))
      .find((records) => records.job.argv[0] === "touch")!;
    expect(drained.run.conclusion).not.toBe("success");
  }, 30_000);

  test("an empty queue: exit 0 with a message, no run recorded", async () => {
    const dir = tempProject();
    const result = await sep(dir, ["queue", "start"]);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toMatch(/empty/);
    expect(result.stdoutText).toBe("");
    expect(runIds(logDir(dir))).toEqual([]);
  }, 15_000);
});

// ---------------------------------------------------------------------------------------------
// Turns shared with `sep -- CMD`, and one drain per scope

interface Interval {
  id: string;
  start: bigint;
  end: bigint;
}

function recordingJob(events: string, id: string): string[] {
  return ["sh", "-c", `echo "start $1 $(date +%s%N)" >> "$2"; sleep 0.15; echo "end $1 $(date +%s%N)" >> "$2"`, "sh", id, events];
}

function intervals(events: string): Interval[] {
  const byId = new Map<string, Partial<Interval>>();
  for (const line of readLines(events)) {
    const match = /^(start|end) (\S+) (\d+)$/.exec(line);
    if (!match) throw new Error(`malformed event line ${JSON.stringify(line)}`);
    const entry = byId.get(match[2]!) ?? { id: match[2]! };
    entry[match[1] as "start" | "end"] = BigInt(match[3]!);
    byId.set(match[2]!, entry);
  }
  return [...byId.values()].map((entry) => {
    if (entry.start === undefined || entry.end === undefined) throw new Error(`job ${entry.id} lacks a start or an end`);
    return entry as Interval;
  });
}

test("queued jobs and direct `sep -- CMD` invocations never overlap", async () => {
  const dir = tempProject();
  const events = join(dir, "events");
  for (let i = 0; i < 5; i++) await add(dir, recordingJob(events, `queued${i}`));
  const drain = startDrain(dir);
  const direct = Array.from({ length: 5 }, (_, i) => startSep(["--", ...recordingJob(events, `direct${i}`)], { cwd: dir }));
  const results = await Promise.all([drain.done, ...direct.map((d) => d.done)]);
  for (const result of results) expect(result.exitCode).toBe(0);
  const list = intervals(events).sort((a, b) => (a.start < b.start ? -1 : 1));
  expect(list.length).toBe(10);
  for (let i = 1; i < list.length; i++) {
    if (list[i]!.start < list[i - 1]!.end) throw new Error(`${list[i - 1]!.id} and ${list[i]!.id} overlapped`);
  }
  // One run for the drain (5 jobs) and one per direct invocation.
  const runs = runIds(logDir(dir)).map((id) => readRun(logDir(dir), id).run);
  expect(runs.map((run) => run.jobs.length).sort()).toEqual([1, 1, 1, 1, 1, 5]);
}, 60_000);

test("one drain per scope: a second start names the draining pid; --wait drains what is left after it", async () => {
  const dir = tempProject();
  await add(dir, blocker("1"));
  await add(dir, ["touch", "second"]);
  const first = startDrain(dir);
  await waitFor(() => existsSync(join(dir, "started-1")), { what: "the first job to start" });

  const refused = await sep(dir, ["queue", "start"]);
  expect(refused.exitCode).not.toBe(0);
  expect(refused.stderr).toContain(`pid ${first.pid}`);
  expect(existsSync(join(dir, "second"))).toBe(false);

  const waiting = startDrain(dir, ["--wait"]);
  await waitFor(() => waiting.stderr().includes(`pid ${first.pid}`), { what: "the second drain to say whom it waits for" });
  // End the first drain early: its current job is cancelled, the stored one stays for the next drain.
  process.kill(first.pid, "SIGINT");
  expect((await first.done).exitCode).toBe(130);
  const result = await waiting.done;
  expect(result.exitCode).toBe(0);
  expect(existsSync(join(dir, "second"))).toBe(true);
  const ids = runIds(logDir(dir));
  expect(ids.length).toBe(2);
  expect(readRun(logDir(dir), ids[0]!).run.conclusion).toBe("cancelled");
  expect(jobsOf(dir, ids[1]!).map((job) => job.argv)).toEqual([["touch", "second"]]);
}, 60_000);

// ---------------------------------------------------------------------------------------------
// queue status

describe("queue status", () => {
  test("--json shows the running job, invocations waiting for a turn and stored jobs; text shows the same", async () => {
    const dir = tempProject();
    // Clock readings around each event bound what status may report: a counter that starts at an
    // event between `before` and `after`, read at a moment between `asked` and `answered`, lies
    // in [asked - after, answered - before].
    await add(dir, blocker("1"));
    const beforeAdd = Date.now();
    await add(dir, ["echo", "stored-one"]);
    const afterAdd = Date.now();
    const beforeDrain = Date.now();
    const drain = startDrain(dir);
    await waitFor(() => existsSync(join(dir, "started-1")), { what: "the first job to start" });
    const jobStarted = Date.now(); // the job touched started-1 after sep recorded its start
    const beforeDirect = Date.now();
    const direct = startSep(["--", "true"], { cwd: dir });
    await waitFor(() => /waiting/.test(direct.stderr()), { what: "the direct invocation to wait" });
    const directWaiting = Date.now();

    const asked = Date.now();
    const s = await status(dir);
    const answered = Date.now();
    const within = (ms: number, since: { after: number; before: number }) => {
      expect(ms).toBeGreaterThanOrEqual(asked - since.after);
      expect(ms).toBeLessThanOrEqual(answered - since.before);
    };
    for (const key of ["running", "waiting", "queued"]) expect(Array.isArray(s[key])).toBe(true);
    expect(s.running.length).toBe(1);
    const running = s.running[0];
    expect(running.pid).toBe(drain.pid);
    expect(running.argv).toEqual(blocker("1"));
    // Elapsed since the job started (not since q1 was stored), and it has been running a while.
    within(running.elapsedMs, { before: beforeDrain, after: jobStarted });
    expect(running.elapsedMs).toBeGreaterThan(0);
    expect(running.memoryBytes).toBeGreaterThan(0);
    expect(s.waiting.length).toBe(1);
    expect(s.waiting[0].pid).toBe(direct.pid);
    expect(s.waiting[0].argv).toEqual(["true"]);
    // Waiting since the direct invocation began; it began after the running job started.
    within(s.waiting[0].waitMs, { before: beforeDirect, after: directWaiting });
    expect(s.waiting[0].waitMs).toBeGreaterThan(0);
    expect(s.waiting[0].waitMs).toBeLessThanOrEqual(running.elapsedMs);
    expect(s.queued.length).toBe(1);
    expect(s.queued[0].id).toBe("q2");
    expect(s.queued[0].argv).toEqual(["echo", "stored-one"]);
    // Stored since `queue add`, before the drain started: longer than the running job has run.
    within(s.queued[0].waitMs, { before: beforeAdd, after: afterAdd });
    expect(s.queued[0].waitMs).toBeGreaterThanOrEqual(running.elapsedMs);
    expect(s.drain.pid).toBe(drain.pid);

    const text = await sep(dir, ["queue", "status"]);
    expect(text.exitCode).toBe(0);
    expect(text.stdoutText).toContain(`pid ${drain.pid}`);
    expect(text.stdoutText).toMatch(/running \(1\)/);
    expect(text.stdoutText).toContain(String(drain.pid));
    expect(text.stdoutText).toMatch(/waiting for a turn \(1\)/);
    expect(text.stdoutText).toContain(String(direct.pid));
    expect(text.stdoutText).toMatch(/stored \(1\)/);
    expect(text.stdoutText).toMatch(/q2\s+\S+\s+-\s+echo stored-one/); // "-": no ETA for a command that never ran

    release(dir, "1");
    expect((await drain.done).exitCode).toBe(0);
    expect((await direct.done).exitCode).toBe(0);
    const after = await status(dir);
    expect([after.running, after.waiting, after.queued]).toEqual([[], [], []]);
  }, 60_000);

  test("in a fresh project it shows an empty queue and creates no files", async () => {
    const dir = tempProject();
    const text = await sep(dir, ["queue", "status"]);
    expect(text.exitCode).toBe(0);
    expect(text.stdoutText).toMatch(/stored \(0\)/);
    const s = await status(dir);
    expect([s.running, s.waiting, s.queued]).toEqual([[], [], []]);
    expect(readdirSync(dir)).toEqual([".git"]);
  }, 15_000);
});

// ---------------------------------------------------------------------------------------------
// remove, clear, pause, resume, stop

describe("queue remove / clear / pause / resume / stop", () => {
  test("remove ID takes one job out; an unknown id exits 2 naming it", async () => {
    const dir = tempProject();
    for (const tag of ["1", "2", "3"]) await add(dir, appendJob(tag));
    const removed = await sep(dir, ["queue", "remove", "q2"]);
    expect(removed.exitCode).toBe(0);
    expect(removed.stderr).toContain("q2");
    const unknown = await sep(dir, ["queue", "remove", "q99"]);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain("q99");
    const missing = await sep(dir, ["queue", "remove"]);
    expect(missing.exitCode).toBe(2);
    expect((await status(dir)).queued.map((job: any) => job.id)).toEqual(["q1", "q3"]);
    expect((await sep(dir, ["queue", "start"])).exitCode).toBe(0);
    expect(readFileSync(join(dir, "order"), "utf8")).toBe("1\n3\n");
  }, 30_000);

  test("clear removes the pending jobs only: the running job continues and finishes", async () => {
    const dir = tempProject();
    await add(dir, blocker("1"));
    await add(dir, ["touch", "two"]);
    await add(dir, ["touch", "three"]);
    const drain = startDrain(dir);
    await waitFor(() => existsSync(join(dir, "started-1")), { what: "the first job to start" });
    const cleared = await sep(dir, ["queue", "clear"]);
    expect(cleared.exitCode).toBe(0);
    expect((await status(dir)).queued).toEqual([]);
    expect(existsSync(join(dir, "done-1"))).toBe(false);
    release(dir, "1");
    expect((await drain.done).exitCode).toBe(0);
    expect(existsSync(join(dir, "done-1"))).toBe(true);
    expect(existsSync(join(dir, "two"))).toBe(false);
    expect(existsSync(join(dir, "three"))).toBe(false);
    const { run } = onlyRun(logDir(dir));
    expect(run.jobs.length).toBe(1);
    expect(run.conclusion).toBe("success");
  }, 30_000);

  test("pause lets the running job finish and holds the next; resume starts it", async () => {
    const dir = tempProject();
    await add(dir, blocker("1"));
    await add(dir, ["touch", "second"]);
    const drain = startDrain(dir);
    await waitFor(() => existsSync(join(dir, "started-1")), { what: "the first job to start" });
    expect((await sep(dir, ["queue", "pause"])).exitCode).toBe(0);
    release(dir, "1");
    await waitFor(() => existsSync(join(dir, "done-1")) && /paused/.test(drain.stderr()), { what: "the drain to finish job 1 and hold" });
    const held = await status(dir);
    expect(held.paused).toBe(true);
    expect(held.running).toEqual([]);
    expect(held.queued.map((job: any) => job.id)).toEqual(["q2"]);
    expect(existsSync(join(dir, "second"))).toBe(false);
    expect(drain.proc.exitCode).toBeNull();

    expect((await sep(dir, ["queue", "resume"])).exitCode).toBe(0);
    expect((await drain.done).exitCode).toBe(0);
    expect(existsSync(join(dir, "second"))).toBe(true);
    expect(onlyRun(logDir(dir)).run.jobs.length).toBe(2);
    expect((await status(dir)).paused).toBe(false);
  }, 30_000);

  test("stop kills the current job's tree, cancels the run, ends the drain (B5), keeps pending jobs", async () => {
    const dir = tempProject();
    await add(dir, treeJob());
    await add(dir, ["touch", "second"]);
    const drain = startDrain(dir);
    const { leader, child } = await treePids(dir);
    expect(processesIn(dir)).toEqual(expect.arrayContaining([drain.pid, leader, child]));
    const stopped = await sep(dir, ["queue", "stop"]);
    expect(stopped.exitCode).toBe(0);
    expect(stopped.stderr).toContain(String(drain.pid));
    const result = await drain.done;
    expect(result.exitCode).not.toBe(0);
    // No headless worker left behind (B5): nothing runs in the project any more.
    expect(isAlive(drain.pid)).toBe(false);
    expect(processesIn(dir)).toEqual([]);
    expect(isAlive(leader)).toBe(false);
    expect(isAlive(child)).toBe(false);
    const { run, runId } = onlyRun(logDir(dir));
    expect(run.status).toBe("completed");
    expect(run.conclusion).toBe("cancelled");
    expect(jobsOf(dir, runId)[0]!.conclusion).toBe("cancelled");
    const after = await status(dir);
    expect(after.drain).toBeNull();
    expect(after.running).toEqual([]);
    expect(after.queued.map((job: any) => job.argv)).toEqual([["touch", "second"]]);
    expect(existsSync(join(dir, "second"))).toBe(false);
  }, 30_000);

  test("stop --clear also removes the pending jobs", async () => {
    const dir = tempProject();
    await add(dir, treeJob());
    await add(dir, ["touch", "second"]);
    const drain = startDrain(dir);
    const { leader, child } = await treePids(dir);
    expect((await sep(dir, ["queue", "stop", "--clear"])).exitCode).toBe(0);
    expect((await drain.done).exitCode).not.toBe(0);
    expect(processesIn(dir)).toEqual([]);
    expect(isAlive(leader) || isAlive(child)).toBe(false);
    expect((await status(dir)).queued).toEqual([]);
    expect(storedFiles(dir)).toEqual([]);
    expect(existsSync(join(dir, "second"))).toBe(false);
  }, 30_000);
});

// ---------------------------------------------------------------------------------------------
// Legacy spellings

test("legacy --queue-start, --queue-status, --queue-pause, --queue-resume, --clear-queue, --queue-stop", async () => {
  const dir = tempProject();
  await add(dir, treeJob());
  await add(dir, ["touch", "two"]);
  await add(dir, ["touch", "three"]);

  const shown = await sep(dir, ["--queue-status"]);
  expect(shown.exitCode).toBe(0);
  expect(shown.stdoutText).toMatch(/stored \(3\)/);

  expect((await sep(dir, ["--queue-pause"])).exitCode).toBe(0);
  expect((await status(dir)).paused).toBe(true);
  expect((await sep(dir, ["--queue-resume"])).exitCode).toBe(0);
  expect((await status(dir)).paused).toBe(false);

  const drain = startSep(["--queue-start"], { cwd: dir });
  const { leader, child } = await treePids(dir);
  const during = await sep(dir, ["--queue-status"]);
  expect(during.stdoutText).toContain(`pid ${drain.pid}`);

  expect((await sep(dir, ["--clear-queue"])).exitCode).toBe(0);
  expect((await status(dir)).queued).toEqual([]);

  expect((await sep(dir, ["--queue-stop"])).exitCode).toBe(0);
  expect((await drain.done).exitCode).not.toBe(0);
  expect(isAlive(drain.pid)).toBe(false);
  expect(isAlive(leader) || isAlive(child)).toBe(false);
  expect(processesIn(dir)).toEqual([]);
  expect(onlyRun(logDir(dir)).run.conclusion).toBe("cancelled");
  expect(existsSync(join(dir, "two")) || existsSync(join(dir, "three"))).toBe(false);

  // And a legacy start with its options: drains, fails fast, returns.
  await add(dir, ["sh", "-c", "exit 6"]);
  await add(dir, ["touch", "four"]);
  const legacy = await sep(dir, ["--queue-start", "--fail-fast"]);
  expect(legacy.exitCode).toBe(6);
  expect(existsSync(join(dir, "four"))).toBe(false);
  const empty = await sep(dir, ["--queue-start"]);
  expect(empty.exitCode).toBe(0);
  expect(empty.stderr).toMatch(/empty/);
}, 60_000);

// ---------------------------------------------------------------------------------------------
// Corrupt entries

test("entries edited into nonsense are set aside into queue/corrupt, named on stderr, and the rest still run", async () => {
  const dir = tempProject();
  for (const tag of ["1", "2", "3", "4", "5", "6"]) await add(dir, appendJob(tag));
  const files = storedFiles(dir);
  expect(files.length).toBe(6);
  const nonsense: Record<string, string> = {
    [files[1]!]: "this is {not json",
    [files[2]!]: "[]",
    [files[3]!]: '{"argv": "not an array"}',
    [files[4]!]: "",
  };
  for (const [name, text] of Object.entries(nonsense)) writeFileSync(join(queueDir(dir), name), text);

  const before = await status(dir);
  expect(before.queued.map((job: any) => job.id)).toEqual(["q1", "q6"]);
  expect([...before.corrupt].sort()).toEqual(Object.keys(nonsense).sort());

  const result = await sep(dir, ["queue", "start"]);
  expect(result.exitCode).toBe(0);
  expect(result.stderr).not.toMatch(/internal error/);
  expect(readFileSync(join(dir, "order"), "utf8")).toBe("1\n6\n");
  for (const name of Object.keys(nonsense)) expect(result.stderr).toContain(name);
  const corruptDir = join(queueDir(dir), "corrupt");
  const setAside = readdirSync(corruptDir);
  expect(setAside.length).toBe(4);
  // Kept as they were, for a person to look at.
  for (const [name, text] of Object.entries(nonsense)) {
    const kept = setAside.find((file) => file.endsWith(name));
    expect(kept).toBeDefined();
    expect(readFileSync(join(corruptDir, kept!), "utf8")).toBe(text);
  }
  expect(storedFiles(dir)).toEqual([]);
  expect(onlyRun(logDir(dir)).run.jobs.length).toBe(2);
  expect((await status(dir)).corrupt).toEqual([]);
}, 30_000);

test("a queue counter edited into nonsense never makes `queue add` overwrite a stored job", async () => {
  const dir = tempProject();
  const ids = [await add(dir, appendJob("one")), await add(dir, appendJob("two"))];
  writeFileSync(join(dir, ".sequential-locks", "queue-counter"), "garbage\n");
  ids.push(await add(dir, appendJob("three")));
  expect(new Set(ids).size).toBe(3); // ids name one job each (`queue remove ID`)
  const result = await sep(dir, ["queue", "start"]);
  expect(result.exitCode).toBe(0);
  expect(readLines(join(dir, "order"))).toEqual(["one", "two", "three"]);
}, 30_000);

// ---------------------------------------------------------------------------------------------
// Concurrency and crashes

test("200 concurrent `queue add` calls while a --follow drain runs: every job runs exactly once", async () => {
  const dir = tempProject();
  const drain = startDrain(dir, ["--follow"]);
  const tokens = join(dir, "tokens");
  const expected: string[] = [];
  const ids: string[] = [];
  const WAVES = 8;
  const PER_WAVE = 25;
  for (let wave = 0; wave < WAVES; wave++) {
    const adds = Array.from({ length: PER_WAVE }, (_, i) => {
      const token = `tok-${wave}-${i}`;
      expected.push(token);
      return startSep(["queue", "add", "-q", "--", "sh", "-c", 'echo "$1" >> tokens', "sh", token], { cwd: dir }).done;
    });
    for (const result of await Promise.all(adds)) {
      expect(result.exitCode).toBe(0);
      ids.push(result.stdoutText.trim());
    }
  }
  expect(new Set(ids).size).toBe(200);
  await waitFor(() => readLines(tokens).length >= 200, { timeoutMs: 60_000, what: "all 200 jobs to run" });
  await waitFor(async () => (await status(dir)).running.length === 0, { what: "the last job to end" });
  process.kill(drain.pid, "SIGINT");
  const result = await drain.done;
  expect(result.stderr).not.toMatch(/internal error|set it aside/);
  const lines = readLines(tokens);
  expect(lines.length).toBe(200);
  expect(new Set(lines).size).toBe(200);
  expect([...lines].sort()).toEqual([...expected].sort());
  expect(storedFiles(dir)).toEqual([]);
  const recorded = runIds(logDir(dir)).reduce((sum, id) => sum + readRun(logDir(dir), id).run.jobs.length, 0);
  expect(recorded).toBe(200);
}, 90_000);

describe("SIGKILL", () => {
  test("of the drain mid-job: the next start kills the leftover, cancels the killed run, runs the rest", async () => {
    const dir = tempProject();
    await add(dir, treeJob());
    await add(dir, ["touch", "two"]);
    await add(dir, ["touch", "three"]);
    const first = startDrain(dir);
    const { leader, child } = await treePids(dir);
    await waitUntilRecordedRunning(dir);
    process.kill(first.pid, "SIGKILL");
    await first.done;
    // The job is detached: it outlives its sep.
    expect(isAlive(leader)).toBe(true);
    const killedRun = runIds(logDir(dir))[0]!;

    const next = await sep(dir, ["queue", "start"]);
    expect(next.exitCode).toBe(0);
    expect(isAlive(leader)).toBe(false);
    expect(isAlive(child)).toBe(false);
    expect(existsSync(join(dir, "two"))).toBe(true);
    expect(existsSync(join(dir, "three"))).toBe(true);
    const killed = readRun(logDir(dir), killedRun);
    expect(killed.run.status).toBe("completed");
    expect(killed.run.conclusion).toBe("cancelled");
    expect(killed.job.status).toBe("completed");
    expect(killed.job.conclusion).toBe("cancelled");
    const ids = runIds(logDir(dir));
    expect(ids.length).toBe(2);
    expect(jobsOf(dir, ids[1]!).map((job) => job.argv)).toEqual([
      ["touch", "two"],
      ["touch", "three"],
    ]);
    expect(storedFiles(dir)).toEqual([]);
  }, 60_000);

  test("of the drain on its last job: the next start still cancels the killed run and kills the leftover", async () => {
    const dir = tempProject();
    await add(dir, treeJob());
    const first = startDrain(dir);
    const { leader, child } = await treePids(dir);
    await waitUntilRecordedRunning(dir);
    process.kill(first.pid, "SIGKILL");
    await first.done;
    const killedRun = runIds(logDir(dir))[0]!;

    const next = await sep(dir, ["queue", "start"]);
    expect(next.exitCode).toBe(0);
    const killed = readRun(logDir(dir), killedRun);
    expect(killed.run.status).toBe("completed");
    expect(killed.run.conclusion).toBe("cancelled");
    expect(isAlive(leader)).toBe(false);
    expect(isAlive(child)).toBe(false);
  }, 30_000);

  test("of racing `queue add` calls never leaves a corrupt queue", async () => {
    const dir = tempProject();
    const adds: { token: string; proc: SepProcess; killed: boolean }[] = [];
    for (let i = 0; i < 40; i++) {
      const token = `tok-${i}`;
      const proc = startSep(["queue", "add", "--", "sh", "-c", 'echo "$1" >> tokens', "sh", token], { cwd: dir });
      adds.push({ token, proc, killed: i % 2 === 0 });
    }
    // Kill every other one at a spread of moments: before, during and after its write.
    await Promise.all(
      adds
        .filter((a) => a.killed)
        .map(async (a, i) => {
          await Bun.sleep((i * 7) % 60);
          try {
            process.kill(a.proc.pid, "SIGKILL");
          } catch {
            // already done
          }
        }),
    );
    const results = await Promise.all(adds.map((a) => a.proc.done));
    // Adds that reported success must have their job stored; killed ones may or may not.
    const acknowledged = adds.filter((_, i) => results[i]!.exitCode === 0).map((a) => a.token);
    expect(acknowledged.length).toBeGreaterThanOrEqual(20);
    expect(await add(dir, ["sh", "-c", 'echo "$1" >> tokens', "sh", "after"])).toMatch(/^q\d+$/);

    const before = await status(dir);
    expect(before.corrupt).toEqual([]);
    const result = await sep(dir, ["queue", "start"]);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).not.toMatch(/internal error|set it aside|corrupt/);
    const lines = readLines(join(dir, "tokens"));
    expect(new Set(lines).size).toBe(lines.length);
    for (const token of [...acknowledged, "after"]) expect(lines).toContain(token);
    expect(storedFiles(dir)).toEqual([]);
  }, 60_000);
});
