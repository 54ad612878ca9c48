// `sep top` through the real binary: live in a real terminal (tmux: a fixed-size pane, keys, a
// resize, signals), as one plain snapshot into a pipe, and as JSON lines; always over real seps
// (a holder running a real allocator, a job waiting at the machine gate, one waiting for its
// project's turn) in a private machine state dir, and never changing a state file.
import { afterEach, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { commandKey, recordProfileRun, relativeCwd, repositoryKey } from "../../src/core/governor/profiles.ts";
import {
  cleanupAll,
  ensureBinary,
  FIXTURES,
  MB,
  onCleanup,
  runSep,
  SEP,
  type SepProcess,
  sepEnv,
  startSep,
  tempDir,
  tempProject,
  waitFor,
} from "./helpers.ts";

beforeAll(() => ensureBinary(), 300_000);
afterEach(() => cleanupAll());

const ALLOC = join(FIXTURES, "alloc.py");
/** How long the holder's command usually takes, as its learned profile says: its ETA is about 10 min. */
const USUAL_MS = 600_000;

// ---------------------------------------------------------------------------------------------
// A busy private machine

interface Busy {
  runtime: string;
  env: Record<string, string | undefined>;
  dirA: string;
  dirB: string;
  holderArgv: string[];
  holder: SepProcess;
  gateWaiter: SepProcess;
  turnWaiter: SepProcess;
}

/** A machine state dir of the test's own (300 MB budget), and the environment that points seps there. */
function privateMachine(settings: Record<string, string> = {}) {
  const runtime = tempDir("sep-e2e-top-");
  return { runtime, env: sepEnv({ XDG_RUNTIME_DIR: runtime, SEP_MEMORY_BUDGET_MB: "300", ...settings }) };
}

/** End a sep gracefully after the test (its job's tree goes with it), before the helpers' SIGKILL. */
function stopLater(sep: SepProcess): SepProcess {
  onCleanup(async () => {
    if (sep.proc.exitCode === null && sep.proc.signalCode === null) sep.proc.kill("SIGTERM");
    await sep.done;
  });
  return sep;
}

function ledgerEntries(runtime: string): Array<Record<string, any>> {
  const dir = join(runtime, "sep/governor/ledger");
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => /^\d{12}\.json$/.test(name))
    .flatMap((name) => {
      try {
        return [JSON.parse(readFileSync(join(dir, name), "utf8"))];
      } catch {
        return [];
      }
    });
}

/**
 * In project A a holder runs a real allocator (reserving 250 MB; its profile says it usually takes
 * 10 min) and a second invocation waits for A's turn; in project B a job reserving 200 MB waits at
 * the gate. Returns once all three are settled: no state file changes until one of them ends. The
 * allocator takes 10 s to reach its 80 MB, so a view refreshed meanwhile sees it climb.
 */
async function busyMachine(machine = privateMachine()): Promise<Busy> {
  const dirA = tempProject();
  const dirB = tempProject();
  const holderArgv = ["python3", ALLOC, "80", "8", "600"];
  // A learned profile for the holder's command, written as a finished run writes it.
  const stateDir = join(machine.runtime, "sep");
  const repoKey = repositoryKey(dirA);
  recordProfileRun({ stateDir, key: commandKey(repoKey, holderArgv, relativeCwd(dirA, dirA)), repositoryKey: repoKey, argv: holderArgv, cwd: ".", run: { peakBytes: 80 * MB, durationMs: USUAL_MS, finishedAt: new Date().toISOString() } });

  const holder = stopLater(startSep(["--reserve", "250", "--", ...holderArgv], { cwd: dirA, env: machine.env }));
  await waitFor(() => ledgerEntries(machine.runtime).some((entry) => entry.pid === holder.pid && entry.pgid), { what: "the holder to be admitted and spawned" });
  await waitFor(() => JSON.parse(readFileSync(join(dirA, ".sequential-locks/slots/0.started.json"), "utf8")).pgid, { what: "the holder's slot record to name its job" });
  const gateWaiter = stopLater(startSep(["--reserve", "200", "--", "touch", "b.ran"], { cwd: dirB, env: machine.env }));
  await waitFor(() => gateWaiter.stderr().includes("waiting for memory"), { what: "B to wait at the gate" });
  const turnWaiter = stopLater(startSep(["--", "echo", "after-a"], { cwd: dirA, env: machine.env }));
  await waitFor(() => turnWaiter.stderr().includes("to finish"), { what: "A's second invocation to wait for A's turn" });
  return { ...machine, dirA, dirB, holderArgv, holder, gateWaiter, turnWaiter };
}

/** Every file and dir under the roots: kind, mode, size, mtime and a hash of the bytes. */
function stateFiles(...roots: string[]): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const stat = lstatSync(path);
      if (stat.isDirectory()) {
        files[path] = `d ${stat.mode} ${stat.mtimeMs}`;
        walk(path);
      } else {
        files[path] = `f ${stat.mode} ${stat.size} ${stat.mtimeMs} ${createHash("sha256").update(readFileSync(path)).digest("hex")}`;
      }
    }
  };
  for (const root of roots) if (existsSync(root)) walk(root);
  return files;
}

function busyState(busy: Busy): Record<string, string> {
  return stateFiles(busy.runtime, join(busy.dirA, ".sequential-locks"), join(busy.dirB, ".sequential-locks"));
}

// ---------------------------------------------------------------------------------------------
// A real terminal: tmux

const TMUX = Bun.which("tmux");
const noTmux = !TMUX && !process.env.CI;
// Said, never silent; under CI a missing tmux fails these tests instead.
if (noTmux) console.warn("SKIPPED: the `sep top` terminal tests: tmux is not installed (apt-get install tmux)");

/** A tmux server of the test's own (its own socket, no config file), one session of a fixed size, running /bin/sh. */
class Pane {
  private readonly socket: string;

  constructor(cwd: string, env: Record<string, string | undefined>, columns: number, rows: number) {
    this.socket = join(tempDir("sep-e2e-tmux-"), "socket");
    const shellEnv = { ...env, SHELL: "/bin/sh", PS1: "$ ", ENV: undefined, TMUX: undefined, TMUX_PANE: undefined };
    this.tmux(["-f", "/dev/null", "new-session", "-d", "-s", "top", "-c", cwd, "-x", String(columns), "-y", String(rows), "/bin/sh"], shellEnv);
    onCleanup(() => {
      // Whatever still runs in the pane (a sep top that failed to quit) goes with the server.
      const shell = Number(this.tmux(["display", "-p", "-t", "top", "#{pane_pid}"]).trim());
      for (const pid of descendantsOf(shell)) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // gone
        }
      }
      this.tmux(["kill-server"]);
    });
  }

  tmux(args: string[], env?: Record<string, string | undefined>): string {
    const result = Bun.spawnSync([TMUX ?? "tmux", "-S", this.socket, ...args], { stdout: "pipe", stderr: "pipe", env: env ?? sepEnv() });
    if (result.exitCode !== 0 && args[0] !== "kill-server") throw new Error(`tmux ${args.join(" ")}: ${result.stderr.toString()}`);
    return result.stdout.toString();
  }

  /** Type a line into the shell, once it shows its prompt. */
  async type(line: string): Promise<void> {
    await this.until((rows) => rows.some((row) => row.startsWith("$")), "the shell's prompt");
    this.tmux(["send-keys", "-t", "top", "-l", line]);
    this.tmux(["send-keys", "-t", "top", "Enter"]);
  }

  key(name: string): void {
    this.tmux(["send-keys", "-t", "top", name]);
  }

  /** What the pane shows now, one string per row, trailing blanks trimmed (as tmux gives it). */
  screen(): string[] {
    return this.tmux(["capture-pane", "-p", "-t", "top"]).replace(/\n$/, "").split("\n");
  }

  display(format: string): string {
    return this.tmux(["display", "-p", "-t", "top", format]).trim();
  }

  resize(columns: number, rows: number): void {
    this.tmux(["resize-window", "-t", "top", "-x", String(columns), "-y", String(rows)]);
  }

  /** Wait until the screen has a row for which find() holds; return the whole screen then. */
  async until(find: (rows: string[]) => boolean, what: string, timeoutMs = 15_000): Promise<string[]> {
    let rows: string[] = [];
    try {
      await waitFor(() => find((rows = this.screen())), { what, timeoutMs, intervalMs: 50 });
    } catch (error) {
      throw new Error(`${(error as Error).message}; the screen was:\n${rows.join("\n")}`);
    }
    return rows;
  }
}

/** Every process below pid, from /proc. */
function descendantsOf(pid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const name of readdirSync("/proc").filter((entry) => /^\d+$/.test(entry))) {
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "latin1");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(name)]);
    } catch {
      // gone
    }
  }
  const found: number[] = [];
  for (let queue = [pid]; queue.length > 0; ) {
    const children = parents.get(queue.shift()!) ?? [];
    found.push(...children);
    queue.push(...children);
  }
  return found;
}

/** The shell line that runs sep top in the pane: its pid into top.pid, its exit code printed after it, the tty's modes before and after. */
function topLine(dir: string, args: string[]): string {
  const quote = (word: string) => `'${word.replaceAll("'", `'\\''`)}'`;
  const top = [SEP, "top", ...args].map(quote).join(" ");
  return `stty -g > ${quote(join(dir, "stty.before"))}; sh -c 'echo $$ > top.pid; exec "$@"' sh ${top}; echo "sep-top-exit=$?"; stty -g > ${quote(join(dir, "stty.after"))}`;
}

const width = (line: string) => Bun.stringWidth(line);
/** The exit code the shell printed after sep top (after a resize, tmux may put the restored cursor past an old prompt). */
const exitLine = (rows: string[]) => rows.map((row) => /(?:^|\s)sep-top-exit=(\d+)$/.exec(row)?.[1]).find((code) => code !== undefined);

/** After sep top has exited: the alternate screen is left, the cursor shown, the tty's modes what they were (raw mode off). */
function expectTerminalRestored(pane: Pane, dir: string): void {
  expect(pane.display("#{alternate_on}")).toBe("0");
  expect(pane.display("#{cursor_flag}")).toBe("1");
  expect(readFileSync(join(dir, "stty.after"), "utf8")).toBe(readFileSync(join(dir, "stty.before"), "utf8"));
}

describe.skipIf(noTmux)("sep top in a terminal (tmux)", () => {
  test("the jobs appear live: budget bar, project, command, memory, reservation, ETA, why each waits; q quits with 0, puts the terminal back, and no state file changed", async () => {
    const machine = privateMachine();
    const here = tempDir("sep-e2e-top-cwd-");
    const pane = new Pane(here, machine.env, 160, 40);
    await pane.type(topLine(here, ["--interval", "0.25"]));
    await pane.until((rows) => rows.some((row) => row.includes("no sep jobs on this machine")), "sep top to show an empty machine");
    expect(pane.display("#{alternate_on}")).toBe("1");
    expect(pane.display("#{cursor_flag}")).toBe("0");

    // The jobs start after sep top did: it finds them at its next refreshes.
    const busy = await busyMachine(machine);
    const project = basename(busy.dirA);
    const rows = await pane.until(
      (rows) => rows.some((row) => new RegExp(`^running\\s+${project}\\s+python3 .*alloc\\.py.*[█·]{8}\\s+([6-9]\\d|\\d{3}) MB`).test(row)),
      "the holder to show as running with its allocator's memory",
    );
    const before = busyState(busy);
    const [title, bar, figures] = rows;
    expect(title).toStartWith("sep top");
    expect(bar).toStartWith("budget [");
    expect(width(bar!)).toBe(160);
    expect(bar).toContain("█"); // used by the allocator
    expect(bar).toContain("▒"); // reserved, not used yet
    expect(figures).toContain("reserve 250 MB of the 300 MB budget");
    const header = rows.find((row) => row.startsWith("STATE"))!;
    for (const column of ["PROJECT", "COMMAND", "MEMORY", "LAST MINUTE", "RESERVED", "ELAPSED", "ETA"]) expect(header).toContain(column);
    const running = rows.find((row) => row.startsWith("running"))!;
    expect(running).toContain("250 MB");
    expect(running).toMatch(/about (9|10) min left/);
    // The sparkline: the allocator's climb over the refreshes so far.
    const spark = running.slice(header.indexOf("LAST MINUTE"), header.indexOf("RESERVED"));
    expect(spark).toMatch(/[▁▂▃▄▅▆▇][▁▂▃▄▅▆▇█]*█/);

    const gateRow = rows.findIndex((row) => row.startsWith("waiting") && row.includes(basename(busy.dirB)));
    expect(rows[gateRow]).toContain("touch b.ran");
    expect(rows[gateRow]).toContain("200 MB");
    expect(rows[gateRow + 1]).toContain("↳ waiting for memory: needs 200 MB (--reserve); 250 MB of the 300 MB budget is reserved by 1 running job");
    const turnRow = rows.findIndex((row) => row.startsWith("waiting") && row.includes("echo after-a"));
    expect(rows[turnRow]).toContain(project);
    expect(rows[turnRow + 1]).toContain(`↳ waiting for ${busy.holderArgv.join(" ")} (pid ${busy.holder.pid}) to finish`);
    for (const row of rows) expect(width(row)).toBeLessThanOrEqual(160);

    pane.key("q");
    const after = await pane.until((rows) => exitLine(rows) !== undefined, "sep top to exit");
    expect(exitLine(after)).toBe("0");
    expectTerminalRestored(pane, here);
    // The shell's own screen is back: the line that started sep top is on it.
    expect(after.join("\n")).toContain("$ stty -g > ");
    expect(busyState(busy)).toEqual(before);
  }, 90_000);

  test("a resize redraws at the new width without waiting for a refresh; SIGTERM quits with 143 and puts the terminal back", async () => {
    const busy = await busyMachine();
    const here = tempDir("sep-e2e-top-cwd-");
    const pane = new Pane(here, busy.env, 160, 40);
    // An hour between refreshes: only the resize can bring a new frame.
    await pane.type(topLine(here, ["--interval", "3600"]));
    const wide = await pane.until((rows) => rows.some((row) => row.startsWith("waiting") && row.includes("echo after-a")), "the first frame");
    expect(width(wide[1]!)).toBe(160);
    expect(wide.find((row) => row.startsWith("STATE"))).toContain("LAST MINUTE");

    pane.resize(90, 30);
    // Drawn anew, not cropped by the terminal: the bar ends in its bracket at the new edge.
    const narrow = await pane.until((rows) => /^budget \[.*\]$/.test(rows[1] ?? "") && width(rows[1]!) === 90, "the frame at 90 columns");
    for (const row of narrow) expect(width(row)).toBeLessThanOrEqual(90);
    const header = narrow.find((row) => row.startsWith("STATE"))!;
    expect(header).not.toContain("LAST MINUTE"); // the first column to go when narrow
    expect(header).toContain("COMMAND");
    expect(narrow.find((row) => row.includes("↳ waiting for memory"))).toBeDefined();
    expect(narrow.some((row) => row.startsWith("running"))).toBe(true);

    const pid = Number(readFileSync(join(here, "top.pid"), "utf8"));
    process.kill(pid, "SIGTERM");
    const after = await pane.until((rows) => exitLine(rows) !== undefined, "sep top to exit");
    expect(exitLine(after)).toBe("143");
    expectTerminalRestored(pane, here);
  }, 90_000);

  test("Ctrl-C quits with 0 and puts the terminal back", async () => {
    const machine = privateMachine();
    const here = tempDir("sep-e2e-top-cwd-");
    const pane = new Pane(here, machine.env, 100, 20);
    await pane.type(topLine(here, []));
    await pane.until((rows) => rows.some((row) => row.includes("no sep jobs on this machine")), "sep top to start");
    // While it runs, its terminal is in raw mode (keys come one by one, Ctrl-C is a key, no echo).
    const during = Bun.spawnSync(["stty", "-F", pane.display("#{pane_tty}"), "-g"], { stdout: "pipe" }).stdout.toString();
    expect(during).not.toBe(readFileSync(join(here, "stty.before"), "utf8"));
    pane.key("C-c");
    const after = await pane.until((rows) => exitLine(rows) !== undefined, "sep top to exit");
    expect(exitLine(after)).toBe("0");
    expectTerminalRestored(pane, here);
  }, 60_000);
});

// ---------------------------------------------------------------------------------------------
// Without a terminal

describe("sep top without a terminal", () => {
  test("stdout a pipe: one plain snapshot of every job, exit 0, no escape codes; no state file changed", async () => {
    const busy = await busyMachine();
    const before = busyState(busy);
    const elsewhere = tempDir("sep-e2e-top-cwd-");
    const result = await runSep(["top"], { cwd: elsewhere, env: busy.env });
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toBe("");
    const out = result.stdoutText;
    expect(out).not.toContain("\x1b");
    const lines = out.split("\n");
    expect(lines[1]).toMatch(/^budget \[[█▒·]{40}\]$/);
    expect(out).toContain("reserve 250 MB of the 300 MB budget (memoryBudgetMb 300)");
    expect(out).toContain("1 running, 0 paused, 1 waiting for memory, 1 waiting for a turn");
    expect(out).toMatch(new RegExp(`^running\\s+${basename(busy.dirA)}\\s+${busy.holderArgv.join(" ")}\\s+[█·]{8}\\s+[\\d.]+ MB\\s+250 MB\\s+\\S+\\s+about (9|10) min left$`, "m"));
    expect(out).toMatch(new RegExp(`^waiting\\s+${basename(busy.dirB)}\\s+touch b\\.ran\\s+-\\s+200 MB`, "m"));
    expect(out).toContain("↳ waiting for memory: needs 200 MB (--reserve)");
    // Found through the holder's ledger entry (its scope's lock dir), though sep top ran elsewhere.
    expect(out).toMatch(new RegExp(`^waiting\\s+${basename(busy.dirA)}\\s+echo after-a`, "m"));
    expect(out).toContain(`↳ waiting for ${busy.holderArgv.join(" ")} (pid ${busy.holder.pid}) to finish`);
    expect(busyState(busy)).toEqual(before);
    expect(readdirSync(elsewhere)).toEqual([]);
  }, 60_000);

  test("--json: one object per refresh, one per line, with each job's state, memory, reservation and why it waits; SIGTERM ends it with 143", async () => {
    const busy = await busyMachine();
    const before = busyState(busy);
    const top = startSep(["top", "--json", "--interval", "0.25"], { cwd: busy.dirB, env: busy.env });
    const lines = () => top.stdout().toString().split("\n").filter((line) => line.endsWith("}"));
    await waitFor(() => lines().length >= 3, { what: "three JSON lines" });
    top.proc.kill("SIGTERM");
    const result = await top.done;
    expect(result.exitCode).toBe(143);
    expect(result.stdoutText.endsWith("\n")).toBe(true);
    const views = result.stdoutText.trimEnd().split("\n").map((line) => JSON.parse(line));
    const times = views.map((view) => Date.parse(view.at));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    const view = views.at(-1);
    expect(view).toMatchObject({ governor: true, budgetBytes: 300 * MB, reservedBytes: 250 * MB });
    expect(view.availableBytes).toBeGreaterThan(0);
    expect(view.jobsMemoryBytes).toBeGreaterThan(0);
    const [running, atGate, forTurn] = view.jobs;
    expect(running).toMatchObject({ state: "running", pid: busy.holder.pid, projectRoot: busy.dirA, argv: busy.holderArgv, reservationBytes: 250 * MB, reservationSource: "flag", expectedDurationMs: USUAL_MS, wait: null, why: null });
    expect(running.memoryBytes).toBeGreaterThan(0);
    expect(running.recentPeakBytes).toBeGreaterThanOrEqual(running.memoryBytes);
    expect(running.etaMs).toBeGreaterThan(0);
    expect(running.etaMs).toBeLessThanOrEqual(USUAL_MS);
    expect(atGate).toMatchObject({ state: "waiting", pid: busy.gateWaiter.pid, projectRoot: busy.dirB, argv: ["touch", "b.ran"], reservationBytes: 200 * MB, memoryBytes: 0, etaMs: null });
    expect(atGate.wait).toMatchObject({ for: "memory", startsNow: false, gate: { needBytes: 200 * MB, source: "flag", reason: "budget", admittedBytes: 250 * MB, admittedJobs: 1, ahead: 0 } });
    expect(atGate.why).toBe("waiting for memory: needs 200 MB (--reserve); 250 MB of the 300 MB budget is reserved by 1 running job");
    expect(forTurn).toMatchObject({ state: "waiting", pid: busy.turnWaiter.pid, projectRoot: busy.dirA, argv: ["echo", "after-a"], reservationBytes: null, wait: { for: "turn", ahead: 0, holders: [{ pid: busy.holder.pid }] } });
    expect(busyState(busy)).toEqual(before);
  }, 60_000);

  test("a dead sep's ledger entry and ticket stay as they are: sep top shows neither and removes neither", async () => {
    const busy = await busyMachine();
    // SIGKILL every sep at once (one left alive would drop the others' entries): their entries and
    // the ticket stay behind, their flocks gone.
    const holderEntry = ledgerEntries(busy.runtime).find((entry) => entry.pid === busy.holder.pid)!;
    for (const sep of [busy.turnWaiter, busy.gateWaiter, busy.holder]) sep.proc.kill("SIGKILL");
    await Promise.all([busy.turnWaiter.done, busy.gateWaiter.done, busy.holder.done]);
    killMarkedLater(holderEntry.id);
    const tickets = readdirSync(join(busy.dirA, ".sequential-locks/tickets")).filter((name) => name.endsWith(".json"));
    expect(tickets.length).toBe(1);
    expect(ledgerEntries(busy.runtime).length).toBe(2);
    const before = busyState(busy);
    const result = await runSep(["top"], { cwd: busy.dirA, env: busy.env });
    expect(result.exitCode).toBe(0);
    expect(result.stdoutText).toContain("no sep jobs on this machine");
    expect(busyState(busy)).toEqual(before);
  }, 60_000);

  test("a live ledger entry edited by hand into a wrong shape is skipped, not a crash; the well-formed one beside it shows", async () => {
    const machine = privateMachine();
    const ledger = join(machine.runtime, "sep/governor/ledger");
    mkdirSync(ledger, { recursive: true, mode: 0o700 });
    const since = new Date().toISOString();
    const entry = (seq: number, fields: Record<string, unknown>) => {
      const path = join(ledger, `${String(seq).padStart(12, "0")}.json`);
      writeFileSync(path, JSON.stringify({ id: `job${seq}`, pid: process.pid, seq, state: "running", since, waitingSince: since, admittedAt: since, reservationBytes: 100 * MB, reservationSource: "flag", budgetBytes: 300 * MB, argv: ["make", `target${seq}`], cwd: "/", projectRoot: "/srv/proj", ...fields }));
      // A process holds the entry's lock on an open file, as a live owner does (one process: killing it ends it all).
      const holder = Bun.spawn(["sh", "-c", 'exec 9<"$1"; flock 9; exec sleep 60', "sh", path], { stdout: "ignore", stderr: "ignore" });
      onCleanup(() => holder.kill("SIGKILL"));
      return path;
    };
    const paths = [entry(1, { projectRoot: 42, admittedAt: 7 }), entry(2, {})];
    const held = (path: string) => Bun.spawnSync(["flock", "-n", path, "true"]).exitCode === 1;
    await waitFor(() => paths.every(held), { what: "both entries' locks to be held" });
    const result = await runSep(["top"], { cwd: tempDir(), env: machine.env });
    expect(result.exitCode).toBe(0);
    expect(result.stdoutText).toMatch(/^running\s+proj\s+make target2/m);
    expect(result.stdoutText).not.toContain("target1");
  }, 30_000);

  test("the governor off: the project's own turns still show, its holder running with its memory and its waiter waiting for the turn", async () => {
    const machine = privateMachine({ SEP_MEMORY_BUDGET_MB: "0" });
    const dir = tempProject();
    const holder = stopLater(startSep(["--", "python3", ALLOC, "40", "0", "600"], { cwd: dir, env: machine.env }));
    await waitFor(() => holder.stderr().includes("holding 40 MB"), { what: "the holder to hold its 40 MB" });
    const waiter = stopLater(startSep(["--", "echo", "next"], { cwd: dir, env: machine.env }));
    await waitFor(() => waiter.stderr().includes("to finish"), { what: "the second invocation to wait" });
    const before = stateFiles(machine.runtime, join(dir, ".sequential-locks"));
    const result = await runSep(["top"], { cwd: dir, env: machine.env });
    expect(result.exitCode).toBe(0);
    const out = result.stdoutText;
    expect(out.split("\n")[1]).toMatch(/^memory \[[█·]{40}\]$/);
    expect(out).toContain("governor off (memoryBudgetMb 0)");
    expect(out).toMatch(new RegExp(`^running\\s+${basename(dir)}\\s+python3 ${ALLOC} 40 0 600\\s+[█·]{8}\\s+(4\\d|5\\d) MB\\s+-\\s`, "m"));
    expect(out).toMatch(/^waiting\s+\S+\s+echo next/m);
    expect(out).toContain(`↳ waiting for python3 ${ALLOC} 40 0 600 (pid ${holder.pid}) to finish`);
    expect(stateFiles(machine.runtime, join(dir, ".sequential-locks"))).toEqual(before);
  }, 60_000);

  test("--interval below 0.25 s: exit 2, the message names the flag and the value; nothing is created", async () => {
    for (const value of ["0.1", "0", "abc", "4000"]) {
      const machine = privateMachine();
      const dir = tempProject();
      const result = await runSep(["top", "--interval", value], { cwd: dir, env: machine.env });
      expect({ value, code: result.exitCode }).toEqual({ value, code: 2 });
      expect(result.stderr).toContain("--interval");
      expect(result.stderr).toContain(JSON.stringify(value));
      expect(readdirSync(dir)).toEqual([".git"]);
      expect(readdirSync(machine.runtime)).toEqual([]);
    }
  }, 30_000);

  test("sep top --help names its options", async () => {
    const result = await runSep(["top", "--help"], { cwd: tempDir(), env: sepEnv() });
    expect(result.exitCode).toBe(0);
    for (const word of ["--interval", "--json", "q quits"]) expect(result.stdoutText).toContain(word);
  });
});

/** The job of a sep that was SIGKILLed keeps running in its own group: end it (by its SEP_JOB_ID) after the test. */
function killMarkedLater(marker: string): void {
  onCleanup(() => {
    for (const name of readdirSync("/proc").filter((entry) => /^\d+$/.test(entry))) {
      try {
        if (`\0${readFileSync(`/proc/${name}/environ`, "latin1")}`.includes(`\0SEP_JOB_ID=${marker}\0`)) process.kill(Number(name), "SIGKILL");
      } catch {
        // gone, or not ours
      }
    }
  });
}
