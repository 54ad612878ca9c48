// Turn-taking: one job at a time per scope (or `slots`), in arrival order; a dead holder frees its
// slot and its leftovers die before the next job; waiting says so once; project and machine scopes.
import { afterEach, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, watch, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  cleanupAll,
  ensureBinary,
  isAlive,
  onlyRun,
  readPid,
  runIds,
  runSep,
  runsMatching,
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

/** A job that appends "start ID NS" and "end ID NS" to `events`, with a short sleep between. */
function recordingJob(events: string, id: string, sleep = "0.1"): string[] {
  return ["sh", "-c", `echo "start $1 $(date +%s%N)" >> "$2"; sleep ${sleep}; echo "end $1 $(date +%s%N)" >> "$2"`, "sh", id, events];
}

interface Interval {
  id: string;
  start: bigint;
  end: bigint;
}

/** Parse the events file into one interval per job; fails on anything malformed. */
function intervals(events: string): Interval[] {
  const byId = new Map<string, Partial<Interval>>();
  for (const line of readFileSync(events, "utf8").trim().split("\n")) {
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

/** The most jobs running at one instant. */
function maxConcurrency(list: Interval[]): number {
  const points = list.flatMap((i) => [
    { at: i.start, delta: 1 },
    { at: i.end, delta: -1 },
  ]);
  // At equal timestamps count ends first: touching intervals do not overlap.
  points.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.delta - b.delta));
  let now = 0;
  let max = 0;
  for (const p of points) {
    now += p.delta;
    max = Math.max(max, now);
  }
  return max;
}

/** A holder that runs until the test creates `release` (touches `started` once running). */
function blockingJob(tag = ""): string[] {
  return ["sh", "-c", `touch "started${tag}"; while [ ! -f "release${tag}" ]; do sleep 0.02; done`];
}

test("10 concurrent submitters: the jobs' intervals never overlap", async () => {
  const dir = tempProject();
  const events = join(dir, "events");
  const submitters = Array.from({ length: 10 }, (_, i) => startSep(["--", ...recordingJob(events, `job${i}`)], { cwd: dir }));
  const results = await Promise.all(submitters.map((s) => s.done));
  for (const result of results) expect(result.exitCode).toBe(0);
  const list = intervals(events);
  expect(list.length).toBe(10);
  expect(maxConcurrency(list)).toBe(1);
  // And line by line: every start is followed by its own end.
  const lines = readFileSync(events, "utf8").trim().split("\n");
  for (let i = 0; i < lines.length; i += 2) {
    expect(lines[i + 1]!.split(" ")[1]).toBe(lines[i]!.split(" ")[1]!);
  }
  expect(runIds(join(dir, "logs")).length).toBe(10);
}, 120_000);

test("FIFO: jobs run in the order their submitters arrived", async () => {
  const dir = tempProject();
  const order = join(dir, "order");
  const holder = startSep(["--", ...blockingJob()], { cwd: dir });
  await waitFor(() => existsSync(join(dir, "started")), { what: "the holder to start" });
  const waiters: SepProcess[] = [];
  for (let i = 1; i <= 6; i++) {
    const waiter = startSep(["--", "sh", "-c", 'echo "$1" >> "$2"', "sh", String(i), order], { cwd: dir });
    // Arrival is fixed once the waiter says it waits: its ticket is taken by then.
    await waitFor(() => /waiting/.test(waiter.stderr()), { what: `waiter ${i} to say it waits` });
    waiters.push(waiter);
  }
  writeFileSync(join(dir, "release"), "");
  expect((await holder.done).exitCode).toBe(0);
  for (const waiter of waiters) expect((await waiter.done).exitCode).toBe(0);
  expect(readFileSync(order, "utf8")).toBe("1\n2\n3\n4\n5\n6\n");
}, 60_000);

test("FIFO: a waiter killed while waiting does not block the ones behind it", async () => {
  const dir = tempProject();
  const holder = startSep(["--", ...blockingJob()], { cwd: dir });
  await waitFor(() => existsSync(join(dir, "started")), { what: "the holder to start" });
  const doomed = startSep(["--", "touch", "doomed-ran"], { cwd: dir });
  await waitFor(() => /waiting/.test(doomed.stderr()), { what: "the doomed waiter to wait" });
  const next = startSep(["--", "touch", "next-ran"], { cwd: dir });
  await waitFor(() => /waiting/.test(next.stderr()), { what: "the next waiter to wait" });
  process.kill(doomed.pid, "SIGKILL");
  await doomed.proc.exited;
  writeFileSync(join(dir, "release"), "");
  expect((await holder.done).exitCode).toBe(0);
  const result = await next.done;
  expect(result.exitCode).toBe(0);
  expect(result.durationMs).toBeLessThan(30_000);
  expect(existsSync(join(dir, "next-ran"))).toBe(true);
  expect(existsSync(join(dir, "doomed-ran"))).toBe(false);
}, 60_000);

/** The syscall a process's main thread is blocked in (/proc/PID/syscall's first field), or undefined. */
function blockedIn(pid: number): number | undefined {
  try {
    const first = readFileSync(`/proc/${pid}/syscall`, "utf8").split(" ")[0];
    return first === undefined || first === "running" ? undefined : Number(first);
  } catch {
    return undefined;
  }
}

// poll(2) as the kernel numbers it: glibc's poll() is the poll syscall on x86-64 and ppoll on arm64.
const POLL_SYSCALLS: Record<string, number[]> = { x64: [7, 271], arm64: [73] };

test.if(process.platform === "linux" && process.arch in POLL_SYSCALLS)("a waiting sep sleeps in the kernel: its main thread is blocked in poll(2), the first in line and the one behind it", async () => {
  const dir = tempProject();
  const holder = startSep(["--", ...blockingJob()], { cwd: dir });
  await waitFor(() => existsSync(join(dir, "started")), { what: "the holder to start" });
  const first = startSep(["--", "true", "first"], { cwd: dir });
  await waitFor(() => /waiting/.test(first.stderr()), { what: "the first waiter to wait" });
  const behind = startSep(["--", "true", "behind"], { cwd: dir });
  await waitFor(() => /waiting/.test(behind.stderr()), { what: "the second waiter to wait" });
  const polls = POLL_SYSCALLS[process.arch]!;
  // Between blocks it turns its event loop over for a moment: look until both are seen in poll.
  await waitFor(() => polls.includes(blockedIn(first.pid) ?? -1) && polls.includes(blockedIn(behind.pid) ?? -1), {
    what: "both waiters blocked in poll(2)",
  });
  writeFileSync(join(dir, "release"), "");
  expect((await holder.done).exitCode).toBe(0);
  expect((await first.done).exitCode).toBe(0);
  expect((await behind.done).exitCode).toBe(0);
}, 60_000);

test("SIGINT while waiting: exit 130, nothing ran, and the queue moves on", async () => {
  const dir = tempProject();
  const holder = startSep(["--", ...blockingJob()], { cwd: dir });
  await waitFor(() => existsSync(join(dir, "started")), { what: "the holder to start" });
  const waiter = startSep(["--", "touch", "interrupted-ran"], { cwd: dir });
  await waitFor(() => /waiting/.test(waiter.stderr()), { what: "the waiter to wait" });
  process.kill(waiter.pid, "SIGINT");
  const interrupted = await waiter.done;
  expect(interrupted.exitCode).toBe(130);
  writeFileSync(join(dir, "release"), "");
  expect((await holder.done).exitCode).toBe(0);
  expect(existsSync(join(dir, "interrupted-ran"))).toBe(false);
  const after = await runSep(["--wait-timeout", "10", "--", "touch", "after-ran"], { cwd: dir });
  expect(after.exitCode).toBe(0);
  expect(existsSync(join(dir, "after-ran"))).toBe(true);
}, 60_000);

describe("a holder killed with SIGKILL frees the slot; its leftovers die before the next job; its run is marked cancelled", () => {
  // "after": the next sep starts once the holder is dead; "before": it is already waiting.
  for (const when of ["after", "before"] as const) {
    test(`next sep started ${when} the kill`, async () => {
      const dir = tempProject();
      const script = "echo $$ > leader.pid; sleep 300 & echo $! > left.tmp; mv left.tmp left.pid; exec sleep 300";
      const holder = startSep(["--name", "crashing-holder", "--", "sh", "-c", script], { cwd: dir });
      await waitForFile(join(dir, "left.pid"));
      const leader = readPid(join(dir, "leader.pid"));
      const left = readPid(join(dir, "left.pid"));
      // The slot's started record names the running job's process group once it is spawned.
      await waitFor(
        () => {
          const slot = join(dir, ".sequential-locks/slots/0.started.json");
          return existsSync(slot) && JSON.parse(readFileSync(slot, "utf8")).pgid === leader;
        },
        { what: "the holder to record its job's process group" },
      );

      // The next job checks, while it runs, whether the dead holder's processes are still there.
      const check =
        'for p in "$@"; do s=$(awk \'{print $3}\' /proc/$p/stat 2>/dev/null); ' +
        'if [ -z "$s" ] || [ "$s" = Z ]; then echo "$p dead"; else echo "$p alive"; fi; done';
      const nextArgs = ["--wait-timeout", "20", "--", "sh", "-c", check, "sh", String(left), String(leader)];
      let next: SepProcess | undefined;
      if (when === "before") {
        next = startSep(nextArgs, { cwd: dir });
        await waitFor(() => /waiting/.test(next!.stderr()), { what: "the next sep to wait" });
      }
      process.kill(holder.pid, "SIGKILL");
      await holder.proc.exited;
      if (when === "after") {
        expect(isAlive(left)).toBe(true); // sep's death alone does not kill its detached job
        next = startSep(nextArgs, { cwd: dir });
      }
      const result = await next!.done;
      expect(result.exitCode).toBe(0);
      expect(result.durationMs).toBeLessThan(20_000);
      expect(result.stdoutText).toBe(`${left} dead\n${leader} dead\n`);
      expect(result.stderr).toContain(String(holder.pid));

      const [dead] = runsMatching(join(dir, "logs"), "exec sleep 300");
      expect(dead).toBeDefined();
      expect(dead!.run.status).toBe("completed");
      expect(dead!.run.conclusion).toBe("cancelled");
      expect(dead!.job.status).toBe("completed");
      expect(dead!.job.conclusion).toBe("cancelled");
    }, 60_000);
  }
});

/** The names of the files created, renamed or removed in a project's slots dir while fn runs. */
async function slotEvents(dir: string, fn: () => Promise<void>): Promise<string[]> {
  const seen: string[] = [];
  const watcher = watch(join(dir, ".sequential-locks/slots"), (_event, name) => {
    if (name) seen.push(String(name));
  });
  try {
    await fn();
    // The holder record's last event is its removal at the release: every event before it is in.
    await waitFor(() => seen.filter((name) => name === "0.json").length >= 2, { what: "the holder record's creation and removal" });
    return seen;
  } finally {
    watcher.close();
  }
}

describe("the slot's started record (the job's process group, for the next holder's cleanup after a crash)", () => {
  test("with the governor on, a job over within a moment never writes it (the ledger has its group); a longer job does", async () => {
    const dir = tempProject();
    expect((await runSep(["--", "true"], { cwd: dir })).exitCode).toBe(0); // makes the slots dir
    const short = await slotEvents(dir, async () => {
      expect((await runSep(["--", "true"], { cwd: dir })).exitCode).toBe(0);
    });
    expect(short).not.toContain("0.started.json");
    const long = await slotEvents(dir, async () => {
      expect((await runSep(["--", "sh", "-c", "sleep 0.5"], { cwd: dir })).exitCode).toBe(0);
    });
    expect(long).toContain("0.started.json");
  });

  test("with the governor off, every job writes it at once: the slot's record is then the only one with the group", async () => {
    const dir = tempProject();
    const env = sepEnv({ SEP_MEMORY_BUDGET_MB: "0" });
    expect((await runSep(["--", "true"], { cwd: dir, env })).exitCode).toBe(0);
    const events = await slotEvents(dir, async () => {
      expect((await runSep(["--", "true"], { cwd: dir, env })).exitCode).toBe(0);
    });
    expect(events).toContain("0.started.json");
  });
});

test("waiting prints one line on stderr naming what it waits for", async () => {
  const dir = tempProject();
  const holder = startSep(["--name", "the-holder-label", "--", ...blockingJob()], { cwd: dir });
  await waitFor(() => existsSync(join(dir, "started")), { what: "the holder to start" });
  const waiter = startSep(["--", "true"], { cwd: dir });
  await waitFor(() => waiter.stderr().includes("\n"), { what: "the waiter's message" });
  // Let the waiter poll the lock many times (it backs off to 10 ms): it must not repeat itself.
  await Bun.sleep(700);
  writeFileSync(join(dir, "release"), "");
  await holder.done;
  const result = await waiter.done;
  expect(result.exitCode).toBe(0);
  expect(result.stdoutText).toBe("");
  const lines = result.stderr.trim().split("\n");
  expect(lines.length).toBe(1);
  expect(lines[0]).toMatch(/wait/i);
  expect(lines[0]).toContain("the-holder-label");
  expect(lines[0]).toContain(String(holder.pid));
}, 30_000);

test("-q: a waiter says nothing while it waits", async () => {
  const dir = tempProject();
  const holder = startSep(["--", ...blockingJob()], { cwd: dir });
  await waitFor(() => existsSync(join(dir, "started")), { what: "the holder to start" });
  const waiter = startSep(["-q", "--", "true"], { cwd: dir });
  // It has taken its ticket once the ticket file is there (the holder's ticket is gone by now).
  await waitFor(() => existsSync(join(dir, ".sequential-locks/tickets")) && readdirSync(join(dir, ".sequential-locks/tickets")).some((n) => /^\d+\.json$/.test(n)), {
    what: "the waiter's ticket",
  });
  writeFileSync(join(dir, "release"), "");
  await holder.done;
  const result = await waiter.done;
  expect(result.exitCode).toBe(0);
  expect(result.stderr).toBe("");
}, 30_000);

test("a sep that gets its turn at once says nothing on stderr", async () => {
  const dir = tempProject();
  const result = await runSep(["--", "true"], { cwd: dir });
  expect(result.exitCode).toBe(0);
  expect(result.stderr).toBe("");
}, 30_000);

describe("SEP_SLOTS=2", () => {
  test("two jobs run at once, never a third", async () => {
    const dir = tempProject();
    const env = sepEnv({ SEP_SLOTS: "2" });
    const a = startSep(["--", ...blockingJob("A")], { cwd: dir, env });
    const b = startSep(["--", ...blockingJob("B")], { cwd: dir, env });
    await waitFor(() => existsSync(join(dir, "startedA")) && existsSync(join(dir, "startedB")), { what: "both jobs to run at once" });
    const third = await runSep(["--wait-timeout", "1", "--", "touch", "third-ran"], { cwd: dir, env });
    expect(third.exitCode).toBe(75);
    expect(existsSync(join(dir, "third-ran"))).toBe(false);
    writeFileSync(join(dir, "releaseA"), "");
    writeFileSync(join(dir, "releaseB"), "");
    expect((await a.done).exitCode).toBe(0);
    expect((await b.done).exitCode).toBe(0);
  }, 30_000);

  test("8 concurrent submitters: at most two intervals overlap", async () => {
    const dir = tempProject();
    const env = sepEnv({ SEP_SLOTS: "2" });
    const events = join(dir, "events");
    const submitters = Array.from({ length: 8 }, (_, i) => startSep(["--", ...recordingJob(events, `job${i}`, "0.3")], { cwd: dir, env }));
    for (const result of await Promise.all(submitters.map((s) => s.done))) expect(result.exitCode).toBe(0);
    const list = intervals(events);
    expect(list.length).toBe(8);
    expect(maxConcurrency(list)).toBeLessThanOrEqual(2);
  }, 120_000);
});

describe("scope project", () => {
  test("sep from a subdirectory uses the root's lock dir and logs, and creates nothing in the subdir", async () => {
    const root = tempProject();
    const sub = join(root, "a/b");
    mkdirSync(sub, { recursive: true });
    const result = await runSep(["--", "pwd"], { cwd: sub });
    expect(result.exitCode).toBe(0);
    expect(result.stdoutText).toBe(`${sub}\n`); // the command still runs where sep was started
    expect(readdirSync(sub)).toEqual([]);
    expect(readdirSync(join(root, "a"))).toEqual(["b"]);
    expect(existsSync(join(root, ".sequential-locks"))).toBe(true);
    const { job } = onlyRun(join(root, "logs"));
    expect(job.cwd).toBe(sub);
  }, 30_000);

  test("the root and a subdirectory share one queue", async () => {
    const root = tempProject();
    const sub = join(root, "pkg");
    mkdirSync(sub);
    const holder = startSep(["--", ...blockingJob()], { cwd: root });
    await waitFor(() => existsSync(join(root, "started")), { what: "the holder to start" });
    const waiter = await runSep(["--wait-timeout", "1", "--", "touch", "sub-ran"], { cwd: sub });
    expect(waiter.exitCode).toBe(75);
    expect(existsSync(join(sub, "sub-ran"))).toBe(false);
    writeFileSync(join(root, "release"), "");
    expect((await holder.done).exitCode).toBe(0);
  }, 30_000);

  test("a relative SEQUENTIAL_LOCK_BASE_DIR / SEP_LOG_DIR is relative to the project root, not the cwd", async () => {
    const root = tempProject();
    const sub = join(root, "deep/er");
    mkdirSync(sub, { recursive: true });
    const env = sepEnv({ SEQUENTIAL_LOCK_BASE_DIR: "./state/locks", SEP_LOG_DIR: "state/records" });
    expect((await runSep(["--", "true"], { cwd: sub, env })).exitCode).toBe(0);
    expect(existsSync(join(root, "state/locks/slots"))).toBe(true);
    expect(runIds(join(root, "state/records")).length).toBe(1);
    expect(readdirSync(sub)).toEqual([]);
  }, 30_000);

  test("two different projects do not share a queue", async () => {
    const a = tempProject();
    const b = tempProject();
    const holder = startSep(["--", ...blockingJob()], { cwd: a });
    await waitFor(() => existsSync(join(a, "started")), { what: "the holder to start" });
    const other = await runSep(["--wait-timeout", "5", "--", "touch", "b-ran"], { cwd: b });
    expect(other.exitCode).toBe(0);
    expect(existsSync(join(b, "b-ran"))).toBe(true);
    writeFileSync(join(a, "release"), "");
    expect((await holder.done).exitCode).toBe(0);
  }, 30_000);
});

describe("scope machine (SEP_SCOPE=machine)", () => {
  test("two projects share one queue in $XDG_RUNTIME_DIR/sep", async () => {
    const runtime = tempDir("sep-e2e-xdg-");
    const env = sepEnv({ SEP_SCOPE: "machine", XDG_RUNTIME_DIR: runtime });
    const a = tempProject();
    const b = tempProject();
    const holder = startSep(["--", ...blockingJob()], { cwd: a, env });
    await waitFor(() => existsSync(join(a, "started")), { what: "the holder to start" });
    const waiter = await runSep(["--wait-timeout", "1", "--", "touch", "b-ran"], { cwd: b, env });
    expect(waiter.exitCode).toBe(75);
    expect(existsSync(join(b, "b-ran"))).toBe(false);
    writeFileSync(join(a, "release"), "");
    expect((await holder.done).exitCode).toBe(0);

    expect(statSync(join(runtime, "sep")).isDirectory()).toBe(true);
    expect(statSync(join(runtime, "sep")).mode & 0o777).toBe(0o700);
    expect(existsSync(join(a, ".sequential-locks"))).toBe(false);
    expect(existsSync(join(b, ".sequential-locks"))).toBe(false);
  }, 30_000);

  test("without XDG_RUNTIME_DIR the machine queue lives in ~/.local/state/sep", async () => {
    const home = tempDir("sep-e2e-home-");
    const env = sepEnv({ SEP_SCOPE: "machine", XDG_RUNTIME_DIR: undefined, HOME: home });
    const a = tempProject();
    expect((await runSep(["--", "true"], { cwd: a, env })).exitCode).toBe(0);
    expect(statSync(join(home, ".local/state/sep")).mode & 0o777).toBe(0o700);
    expect(existsSync(join(home, ".local/state/sep/slots"))).toBe(true);
    expect(existsSync(join(a, ".sequential-locks"))).toBe(false);
  }, 30_000);

  test("a holder in project A killed with SIGKILL: a sep in project B kills A's leftovers and marks A's run cancelled", async () => {
    const runtime = tempDir("sep-e2e-xdg-");
    const env = sepEnv({ SEP_SCOPE: "machine", XDG_RUNTIME_DIR: runtime });
    const a = tempProject();
    const b = tempProject();
    const holder = startSep(["--", "sh", "-c", "echo $$ > leader.tmp; mv leader.tmp leader.pid; exec sleep 300"], { cwd: a, env });
    await waitForFile(join(a, "leader.pid"));
    const leader = readPid(join(a, "leader.pid"));
    await waitFor(
      () => {
        const slot = join(runtime, "sep/slots/0.started.json");
        return existsSync(slot) && JSON.parse(readFileSync(slot, "utf8")).pgid === leader;
      },
      { what: "the holder to record its job" },
    );
    process.kill(holder.pid, "SIGKILL");
    await holder.proc.exited;
    const next = await runSep(["--wait-timeout", "20", "--", "true"], { cwd: b, env });
    expect(next.exitCode).toBe(0);
    expect(isAlive(leader)).toBe(false);
    const { run } = onlyRun(join(a, "logs"));
    expect(run.status).toBe("completed");
    expect(run.conclusion).toBe("cancelled");
  }, 60_000);

  test("concurrent submitters from two projects never overlap", async () => {
    const runtime = tempDir("sep-e2e-xdg-");
    const env = sepEnv({ SEP_SCOPE: "machine", XDG_RUNTIME_DIR: runtime });
    const a = tempProject();
    const b = tempProject();
    const events = join(tempDir(), "events");
    const submitters = Array.from({ length: 8 }, (_, i) =>
      startSep(["--", ...recordingJob(events, `${i % 2 ? "a" : "b"}${i}`)], { cwd: i % 2 ? a : b, env }),
    );
    for (const result of await Promise.all(submitters.map((s) => s.done))) expect(result.exitCode).toBe(0);
    const list = intervals(events);
    expect(list.length).toBe(8);
    expect(maxConcurrency(list)).toBe(1);
  }, 120_000);
});
