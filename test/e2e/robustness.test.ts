// What a crash, a signal at the wrong moment or a malformed file must never do: lose a stored job,
// start a job sep was told to stop, pile up zombies, or break the Actions log.
import { afterEach, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { missingTool } from "../atomify/helpers.ts";
import { cleanupAll, ensureBinary, isAlive, onlyRun, readPid, readRun, runIds, runSep, SEP, sepEnv, startSep, tempProject, waitFor, waitForFile } from "./helpers.ts";

beforeAll(() => ensureBinary(), 300_000);
afterEach(() => cleanupAll());

test("a drain killed while its job waits for a turn loses nothing: the next drain runs the job", async () => {
  const dir = tempProject();
  const holder = startSep(["--", "sh", "-c", "echo x > holding; sleep 3"], { cwd: dir });
  await waitForFile(join(dir, "holding"));
  expect((await runSep(["queue", "add", "--", "sh", "-c", "echo RAN > ran.txt"], { cwd: dir })).exitCode).toBe(0);
  const drain = startSep(["queue", "start"], { cwd: dir });
  await waitFor(() => drain.stderr().includes("waiting for"), { what: "the drain to wait for its turn" });
  drain.proc.kill("SIGKILL");
  await drain.done;
  await holder.done;

  const again = await runSep(["queue", "start"], { cwd: dir });
  expect(again.exitCode).toBe(0);
  expect(again.stderr).toContain("returned q1 to the queue");
  expect(readFileSync(join(dir, "ran.txt"), "utf8")).toBe("RAN\n");
  // The dead drain's run says what happened to the job there: it never started.
  const runs = runIds(join(dir, "logs")).map((id) => readRun(join(dir, "logs"), id).run);
  const dead = runs.find((run) => run.title.includes("RAN") && run.conclusion === "cancelled");
  expect(dead?.jobs.map((job: { conclusion: string }) => job.conclusion)).toEqual(["skipped"]);
}, 30_000);

test("a command after -- for a subcommand that takes none is refused, not dropped", async () => {
  const dir = tempProject();
  for (const args of [["queue", "start"], ["--queue-start"], ["queue", "status"], ["run", "list"]]) {
    const result = await runSep([...args, "--", "touch", "x"], { cwd: dir });
    expect({ args, code: result.exitCode }).toEqual({ args, code: 2 });
    expect(result.stderr).toContain(`takes no command after "--"`);
  }
  expect(existsSync(join(dir, "x"))).toBe(false);
});

test("a SIGTERM that arrives before the job starts: nothing starts, exit 143", async () => {
  const dir = tempProject();
  // The config holds sep before the spawn until the SIGTERM has come: it says when it is being
  // loaded, then waits for the signal itself. sep installs its own handler before loading the
  // config, so by the time the config's listener runs, sep's has seen the signal too.
  writeFileSync(
    join(dir, "sep.config.ts"),
    [
      'import { writeFileSync } from "node:fs";',
      'const termed = new Promise((resolve) => process.once("SIGTERM", resolve));',
      'writeFileSync("config-loading", "x");',
      "await termed;",
      "export default {};",
      "",
    ].join("\n"),
  );
  const sep = startSep(["--", "touch", "started"], { cwd: dir });
  await waitForFile(join(dir, "config-loading"));
  sep.proc.kill("SIGTERM");
  const result = await sep.done;
  expect(result.exitCode).toBe(143);
  expect(existsSync(join(dir, "started"))).toBe(false);
  // Not started and then killed: it never started at all.
  expect(result.stderr).toContain("interrupted by SIGTERM");
  expect(result.stderr).toContain("touch started did not run");
}, 20_000);

/** The pids in /proc whose state is Z and whose parent is ppid. */
function _zombiesOf(ppid: number): number[] {
  return _procStats()
    .filter((stat) => stat.state === "Z" && stat.ppid === ppid)
    .map((stat) => stat.pid);
}

/** state and ppid of every process in /proc (fields 3 and 4 of /proc/PID/stat, read after the last ")"). */
function _procStats(): Array<{ pid: number; state: string; ppid: number }> {
  const stats: Array<{ pid: number; state: string; ppid: number }> = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "latin1");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      stats.push({ pid: Number(name), state: fields[0]!, ppid: Number(fields[1]) });
    } catch {
      // gone while we looked
    }
  }
  return stats;
}

/** Live processes whose environment holds SEP_JOB_ID=jobId (the job's marker); zombies have none. */
function _processesOfJob(jobId: string): number[] {
  const needle = `\0SEP_JOB_ID=${jobId}\0`;
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .filter((name) => {
      try {
        return `\0${readFileSync(`/proc/${name}/environ`, "latin1")}`.includes(needle);
      } catch {
        return false;
      }
    })
    .map(Number);
}

test("orphans of a job that exit are reaped while it runs, not kept as zombies of sep; none is left after it", async () => {
  const dir = tempProject();
  // 100 orphans that exit at once (each `(true &)` leaves its `true` to sep, the subreaper), and
  // one that stays; the job then runs until the test writes `go`.
  const script = [
    "for i in $(seq 100); do (true &); done",
    "(sleep 300 & echo $! > daemon.tmp; mv daemon.tmp daemon.pid)",
    "echo $$ > leader.tmp; mv leader.tmp leader.pid",
    "while [ ! -f go ]; do sleep 0.02; done",
  ].join("; ");
  const sep = startSep(["--", "sh", "-c", script], { cwd: dir });
  await waitForFile(join(dir, "leader.pid"));
  const daemon = readPid(join(dir, "daemon.pid"));
  const leader = readPid(join(dir, "leader.pid"));
  // The orphans went to sep (not to PID 1), so their zombies are sep's to reap.
  expect(_procStats().find((stat) => stat.pid === daemon)?.ppid).toBe(sep.pid);
  // All 100 gone from sep's children, not just not zombies yet: each exited and was reaped.
  const otherChildrenOfSep = () => _procStats().filter((stat) => stat.ppid === sep.pid && stat.pid !== leader && stat.pid !== daemon);
  await waitFor(() => otherChildrenOfSep().length === 0, { what: "sep to reap its job's exited orphans" });
  expect(_zombiesOf(sep.pid)).toEqual([]);
  // ...while the job still runs.
  expect(isAlive(leader)).toBe(true);
  expect(sep.proc.exitCode).toBeNull();

  await Bun.write(join(dir, "go"), "");
  expect((await sep.done).exitCode).toBe(0);
  const { job } = onlyRun(join(dir, "logs"));
  expect(job.conclusion).toBe("success");
  // At the end: the staying orphan was killed, nothing of the job is left, alive or zombie. (A
  // zombie sep left behind goes to PID 1, and stays visible where PID 1 never reaps, as here.)
  expect(isAlive(daemon)).toBe(false);
  expect(_processesOfJob(job.id)).toEqual([]);
  expect(_procStats().filter((stat) => stat.state === "Z" && [daemon, leader].includes(stat.pid))).toEqual([]);
}, 20_000);

test("run view during a drain shows the job that runs now", async () => {
  const dir = tempProject();
  await runSep(["queue", "add", "--", "true"], { cwd: dir });
  await runSep(["queue", "add", "--", "sh", "-c", "echo x > second; sleep 3"], { cwd: dir });
  const drain = startSep(["queue", "start"], { cwd: dir });
  await waitForFile(join(dir, "second"));
  const view = await runSep(["run", "view", "--json"], { cwd: dir });
  const run = JSON.parse(view.stdoutText);
  expect(run.jobs.map((job: { status: string }) => job.status)).toEqual(["completed", "in_progress"]);
  expect((await drain.done).exitCode).toBe(0);
}, 20_000);

test("a stored job whose fields are not what they claim (a date that is no date) is set aside, the rest run", async () => {
  const dir = tempProject();
  await runSep(["queue", "add", "--", "sh", "-c", "echo one >> ran.txt"], { cwd: dir });
  await runSep(["queue", "add", "--", "sh", "-c", "echo two >> ran.txt"], { cwd: dir });
  const first = join(dir, ".sequential-locks", "queue", "000000000001.json");
  const entry = JSON.parse(readFileSync(first, "utf8"));
  writeFileSync(first, JSON.stringify({ ...entry, addedAt: "yesterday" }));
  const result = await runSep(["queue", "start"], { cwd: dir });
  expect(result.exitCode).toBe(0);
  expect(result.stderr).toContain("set it aside");
  expect(readFileSync(join(dir, "ran.txt"), "utf8")).toBe("two\n");
});

test("GitHub Actions: the resume token starts its own line even when the job's stderr did not end one", async () => {
  const dir = tempProject();
  const env = sepEnv({ GITHUB_ACTIONS: "true" });
  const proc = Bun.spawn(["sh", "-c", `'${SEP}' -- sh -c 'printf "50%%" >&2; exit 1' 2>&1`], { cwd: dir, env, stdout: "pipe" });
  const lines = (await new Response(proc.stdout).text()).split("\n");
  const token = lines.find((line) => line.startsWith("::stop-commands::"))!.slice("::stop-commands::".length);
  expect(lines).toContain(`::${token}::`);
  expect(lines).toContain("::endgroup::");
  expect(lines.some((line) => line.startsWith("::error title="))).toBe(true);
});

test("run view of a run with a malformed job record says it cannot read it, never crashes", async () => {
  const dir = tempProject();
  const runDir = join(dir, "logs", "runs", "20260101-000000-000-abcdef");
  mkdirSync(runDir, { recursive: true });
  writeFileSync(join(runDir, "run.json"), JSON.stringify({ id: "x", status: "completed", jobs: [{}] }));
  const result = await runSep(["run", "view", "abcdef"], { cwd: dir });
  expect(result.stderr).not.toContain("internal error");
  expect([1, 2]).toContain(result.exitCode ?? -1);
});

test("a job that started under a drain killed by SIGKILL is never run again, even once that run's record is gone", async () => {
  const dir = tempProject();
  await runSep(["queue", "add", "--", "sh", "-c", "echo ran >> count; sleep 5"], { cwd: dir });
  const drain = startSep(["queue", "start"], { cwd: dir });
  await waitForFile(join(dir, "count"));
  drain.proc.kill("SIGKILL");
  await drain.done;
  rmSync(join(dir, "logs"), { recursive: true, force: true }); // pruned, deleted, or another log dir
  const again = await runSep(["queue", "start"], { cwd: dir });
  expect(again.exitCode).toBe(0);
  expect(again.stderr).toContain("had started under the drain that died");
  expect(readFileSync(join(dir, "count"), "utf8")).toBe("ran\n");
}, 30_000);

test("sep queue stop while the drain's next job waits for its turn: that job stays stored", async () => {
  const dir = tempProject();
  const holder = startSep(["--", "sh", "-c", "echo x > holding; sleep 3"], { cwd: dir });
  await waitForFile(join(dir, "holding"));
  await runSep(["queue", "add", "--", "sh", "-c", "echo A >> ran.txt"], { cwd: dir });
  await runSep(["queue", "add", "--", "sh", "-c", "echo B >> ran.txt"], { cwd: dir });
  const drain = startSep(["queue", "start"], { cwd: dir });
  await waitFor(() => drain.stderr().includes("waiting for"), { what: "the drain to wait for its turn" });
  expect((await runSep(["queue", "stop"], { cwd: dir })).exitCode).toBe(0);
  await drain.done;
  await holder.done;
  const status = JSON.parse((await runSep(["queue", "status", "--json"], { cwd: dir })).stdoutText);
  expect(status.queued.map((job: { id: string }) => job.id)).toEqual(["q1", "q2"]);
  expect((await runSep(["queue", "start"], { cwd: dir })).exitCode).toBe(0);
  expect(readFileSync(join(dir, "ran.txt"), "utf8")).toBe("A\nB\n");
}, 30_000);

test.skipIf(missingTool("shellcheck"))("the jobs of one atomified queue add are consecutive, whatever adds race it", async () => {
  const dir = tempProject();
  for (let i = 0; i < 12; i++) writeFileSync(join(dir, `f${String(i).padStart(2, "0")}.sh`), "#!/bin/sh\ntrue\n");
  const files = Array.from({ length: 12 }, (_, i) => `f${String(i).padStart(2, "0")}.sh`);
  // shellcheck is split per named file: each add stores 12 jobs.
  const [a, b] = await Promise.all([
    runSep(["queue", "add", "--name", "A", "--", "shellcheck", ...files], { cwd: dir }),
    runSep(["queue", "add", "--name", "B", "--", "shellcheck", ...files], { cwd: dir }),
  ]);
  const seqs = (out: string) => out.trim().split("\n").map((id) => Number(id.slice(1)));
  for (const result of [a, b]) {
    const ids = seqs(result.stdoutText);
    expect(ids).toHaveLength(12);
    expect(ids).toEqual(ids.map((_, i) => ids[0]! + i));
  }
}, 30_000);
