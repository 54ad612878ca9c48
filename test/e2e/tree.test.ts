// The whole process tree is the job: leftovers die when the leader exits, limits kill the whole
// tree, and every descendant carries the SEP_JOB_ID marker.
import { afterEach, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { cleanupAll, ensureBinary, FIXTURES, isAlive, killLater, onlyRun, readPid, runSep, startSep, tempProject, waitForFile } from "./helpers.ts";

beforeAll(() => ensureBinary(), 300_000);
afterEach(() => cleanupAll());

/** Session id of a live process (field 6 of /proc/PID/stat). */
function sessionOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[3]);
}

describe("when the leader exits, every descendant still alive is killed", () => {
  // Each script leaves one process behind, writes its pid to `left.pid` (atomically) and exits 0.
  const cases: Array<[string, string]> = [
    ["a background child (sleep 300 &)", "sleep 300 & echo $! > left.tmp; mv left.tmp left.pid"],
    [
      "a double-forked setsid daemon",
      '( setsid sh -c "sleep 300 & echo \\$! > left.tmp; mv left.tmp left.pid; wait" & ); ' +
        "while [ ! -s left.pid ]; do sleep 0.02; done",
    ],
    [
      "a double-forked daemon with a cleared environment (no marker: found as sep's orphan)",
      '( setsid env -i /bin/sh -c "/bin/sleep 300 & echo \\$! > left.tmp; /bin/mv left.tmp left.pid; wait" & ); ' +
        "while [ ! -s left.pid ]; do sleep 0.02; done",
    ],
    [
      "a child that ignores SIGTERM",
      "sh -c 'trap \"\" TERM; sleep 300' & echo $! > left.tmp; mv left.tmp left.pid; sleep 0.2",
    ],
  ];
  for (const [name, script] of cases) {
    test(name, async () => {
      const dir = tempProject();
      const sep = startSep(["--kill-grace", "1", "--", "sh", "-c", script], { cwd: dir });
      await waitForFile(join(dir, "left.pid"));
      const left = readPid(join(dir, "left.pid"));
      const result = await sep.done;
      expect(result.exitCode).toBe(0);
      expect(result.durationMs).toBeLessThan(15_000);
      // Killed before sep exited, not some time later.
      expect(isAlive(left)).toBe(false);
      expect(onlyRun(join(dir, "logs")).job.conclusion).toBe("success");
    }, 30_000);
  }
});

test("the setsid daemon of the cases above really left the job's session (kill(-pgid) alone would miss it)", async () => {
  const dir = tempProject();
  const script =
    'echo $$ > leader.pid; ( setsid sh -c "sleep 300 & echo \\$! > left.tmp; mv left.tmp left.pid; wait" & ); ' +
    "while [ ! -f go ]; do sleep 0.02; done";
  const sep = startSep(["--", "sh", "-c", script], { cwd: dir });
  await waitForFile(join(dir, "left.pid"));
  const leader = readPid(join(dir, "leader.pid"));
  const left = readPid(join(dir, "left.pid"));
  expect(sessionOf(left)).not.toBe(sessionOf(leader));
  await Bun.write(join(dir, "go"), "");
  expect((await sep.done).exitCode).toBe(0);
  expect(isAlive(left)).toBe(false);
}, 30_000);

test("a timeout kills a TERM-ignoring tree within killGrace and exits 124", async () => {
  const dir = tempProject();
  const script = `echo $$ > leader.pid; sh ${join(FIXTURES, "ignore-sigterm.sh")} 60 & echo $! > stubborn.pid; wait`;
  const sep = startSep(["--timeout", "1", "--kill-grace", "1", "--", "sh", "-c", script], { cwd: dir });
  await waitForFile(join(dir, "stubborn.pid"));
  const leader = readPid(join(dir, "leader.pid"));
  const stubborn = readPid(join(dir, "stubborn.pid"));
  const result = await sep.done;
  expect(result.exitCode).toBe(124);
  // 1 s limit + 1 s grace; generous bound for a loaded machine, far below the script's 60 s.
  expect(result.durationMs).toBeLessThan(15_000);
  expect(isAlive(stubborn)).toBe(false);
  expect(isAlive(leader)).toBe(false);
  const { job } = onlyRun(join(dir, "logs"));
  expect(job.conclusion).toBe("timed_out");
  expect(job.exitCode).toBe(124);
}, 30_000);

test("a timeout kills ignore-sigterm.sh run directly as the leader", async () => {
  const dir = tempProject();
  const sep = startSep(["--timeout", "1", "--kill-grace", "1", "--", "sh", "-c", `echo $$ > leader.pid; exec sh ${join(FIXTURES, "ignore-sigterm.sh")} 60`], {
    cwd: dir,
  });
  await waitForFile(join(dir, "leader.pid"));
  const leader = readPid(join(dir, "leader.pid"));
  const result = await sep.done;
  expect(result.exitCode).toBe(124);
  expect(result.durationMs).toBeLessThan(15_000);
  expect(result.stdoutText).toContain("ready");
  expect(isAlive(leader)).toBe(false);
}, 30_000);

test("a timeout kills a whole spawn-tree.sh tree (8 shells + 8 sleeps)", async () => {
  const dir = tempProject();
  // spawn-tree.sh writes tree.ready once all 16 exist; the test looks at the tree only then. The
  // limit just has to outlast that set-up (milliseconds; if load ever made it lose, sep would end
  // first and the race below says so, rather than a partial tree passing).
  const script = `sh ${join(FIXTURES, "spawn-tree.sh")} 8 300 tree.ready & echo $! > tree.tmp; mv tree.tmp tree.pid; wait`;
  const sep = startSep(["--timeout", "3", "--kill-grace", "1", "--", "sh", "-c", script], { cwd: dir });
  const endedFirst = sep.done.then((result) => {
    throw new Error(`sep ended (exit ${result.exitCode}) before spawn-tree.sh was ready`);
  });
  endedFirst.catch(() => {}); // only the race below looks at it
  await Promise.race([Promise.all([waitForFile(join(dir, "tree.pid")), waitForFile(join(dir, "tree.ready"))]), endedFirst]);
  const root = readPid(join(dir, "tree.pid"));
  const sleeps = readFileSync(join(dir, "tree.ready"), "utf8").trim().split("\n").map(Number);
  for (const pid of sleeps) killLater(pid);

  // The whole tree, alive, while sep still runs it: 8 shells, each with its sleep. Told apart by
  // their place in the tree, not by name: a sleep may not have exec'd yet (still named "sh").
  const shells = _childrenOf(root);
  const sleepsSeen = shells.flatMap(_childrenOf);
  const members = [...shells, ...sleepsSeen];
  for (const pid of members) killLater(pid);
  expect(sep.proc.exitCode).toBeNull();
  expect(shells.map((pid) => _childrenOf(pid).length)).toEqual(Array(8).fill(1));
  const byNumber = (a: number, b: number) => a - b;
  expect(sleepsSeen.sort(byNumber)).toEqual([...sleeps].sort(byNumber));
  expect(_descendantsOf(root).sort(byNumber)).toEqual([...members].sort(byNumber));
  for (const pid of [root, ...members]) expect({ pid, alive: isAlive(pid) }).toEqual({ pid, alive: true });

  const result = await sep.done;
  expect(result.exitCode).toBe(124);
  expect(onlyRun(join(dir, "logs")).job.conclusion).toBe("timed_out");
  for (const pid of [root, ...members]) expect({ pid, alive: isAlive(pid) }).toEqual({ pid, alive: false });
}, 30_000);

/** A process's children (/proc/PID/task/PID/children); none when it is gone. */
function _childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").split(" ").filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function _descendantsOf(root: number): number[] {
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    let children: string;
    try {
      children = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8");
    } catch {
      continue;
    }
    for (const word of children.split(" ")) {
      if (!word) continue;
      found.push(Number(word));
      queue.push(Number(word));
    }
  }
  return found;
}

test("every descendant sees SEP_JOB_ID, equal to the job's id", async () => {
  const dir = tempProject();
  const script = [
    'echo "leader=$SEP_JOB_ID"',
    'sh -c \'echo "child=$SEP_JOB_ID"\'',
    'sh -c \'sh -c "echo grandchild=\\$SEP_JOB_ID"\'',
    "python3 -c 'import os; print(\"python=\" + os.environ[\"SEP_JOB_ID\"])'",
    '( setsid sh -c \'echo "daemon=$SEP_JOB_ID" > daemon.out\' & ); while [ ! -s daemon.out ]; do sleep 0.02; done; cat daemon.out',
  ].join("; ");
  const result = await runSep(["--", "sh", "-c", script], { cwd: dir });
  expect(result.exitCode).toBe(0);
  const { job } = onlyRun(join(dir, "logs"));
  expect(typeof job.id).toBe("string");
  expect(job.id.length).toBeGreaterThan(0);
  expect(result.stdoutText).toBe(["leader", "child", "grandchild", "python", "daemon"].map((who) => `${who}=${job.id}\n`).join(""));
}, 30_000);

test("SEP_JOB_ID differs between jobs", async () => {
  const dir = tempProject();
  const a = await runSep(["--", "sh", "-c", 'echo "$SEP_JOB_ID"'], { cwd: dir });
  const b = await runSep(["--", "sh", "-c", 'echo "$SEP_JOB_ID"'], { cwd: dir });
  expect(a.stdoutText.trim()).not.toBe("");
  expect(a.stdoutText).not.toBe(b.stdoutText);
}, 30_000);
