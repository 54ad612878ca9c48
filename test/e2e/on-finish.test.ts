// The on-finish command (--on-finish, SEP_ON_FINISH, onFinish) through the real binary: after each
// run of `sep -- CMD` and of `sep queue start` it gets the run record on stdin (the bytes of `sep
// run view --json`) and the run's id, conclusion and exit code in its environment; the run's argv
// reaches it only as data; whatever becomes of it is a warning, never sep's exit code; it runs once
// per run (in the background sep of a detached one), and never for input sep refused.
import { afterEach, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cleanupAll, ensureBinary, isAlive, onlyRun, runSep, sepEnv, tempDir, tempProject, waitFor } from "./helpers.ts";

beforeAll(() => ensureBinary(), 300_000);
afterEach(() => cleanupAll());

/** Saves what it was given into $OUT: stdin as record.json, its SEP_RUN_* variables, one line per call in calls. */
const RECORDING_HOOK = 'cat > "$OUT/record.json"; env | grep "^SEP_RUN_" | sort > "$OUT/env.txt"; echo called >> "$OUT/calls"; echo "hook says hello"';

/** A project, a dir the hook writes into, and the environment that tells it where. */
function setup(extra: Record<string, string | undefined> = {}) {
  const dir = tempProject();
  const out = tempDir("sep-e2e-on-finish-");
  return { dir, out, env: sepEnv({ OUT: out, XDG_RUNTIME_DIR: tempDir("sep-e2e-runtime-"), ...extra }) };
}

function calls(out: string): number {
  return existsSync(join(out, "calls")) ? readFileSync(join(out, "calls"), "utf8").split("\n").filter(Boolean).length : 0;
}

function hookEnv(out: string): Record<string, string> {
  return Object.fromEntries(
    readFileSync(join(out, "env.txt"), "utf8")
      .split("\n")
      .filter(Boolean)
      .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
  );
}

test("it gets the run record on stdin, byte for byte what `sep run view --json` prints, and the run in its environment; its output goes to stderr", async () => {
  const { dir, out, env } = setup();
  const result = await runSep(["--on-finish", RECORDING_HOOK, "--", "sh", "-c", "echo from the job; exit 3"], { cwd: dir, env });
  expect(result.exitCode).toBe(3);
  expect(result.stdoutText).toBe("from the job\n");
  expect(result.stderr).toContain("hook says hello\n");
  const { runId } = onlyRun(join(dir, "logs"));
  const view = await runSep(["run", "view", runId, "--json"], { cwd: dir, env });
  expect(readFileSync(join(out, "record.json"), "utf8")).toBe(view.stdoutText);
  expect(hookEnv(out)).toMatchObject({ SEP_RUN_ID: runId, SEP_RUN_CONCLUSION: "failure", SEP_RUN_EXIT_CODE: "3", SEP_RUN_STATUS: "completed", SEP_RUN_JOBS: "1", SEP_RUN_TITLE: "sh -c echo from the job; exit 3" });
  expect(calls(out)).toBe(1);
}, 30_000);

test("the run's argv reaches it only as data: quotes, newlines, $(…) and backticks are never run", async () => {
  const { dir, out, env } = setup();
  const nasty = `it's "quoted"\n$(touch pwned-dollar) \`touch pwned-tick\`; touch pwned-semicolon`;
  const argv = ["sh", "-c", 'printf "%s" "$1" > arg.txt', "sh", nasty];
  const hook = 'cat > "$OUT/record.json"; printf "%s" "$SEP_RUN_TITLE" > "$OUT/title.txt"';
  const result = await runSep(["--on-finish", hook, "--", ...argv], { cwd: dir, env });
  expect(result.exitCode).toBe(0);
  expect(readFileSync(join(dir, "arg.txt"), "utf8")).toBe(nasty);
  const record = JSON.parse(readFileSync(join(out, "record.json"), "utf8"));
  expect(record.jobs[0].argv).toEqual(argv);
  expect(readFileSync(join(out, "title.txt"), "utf8")).toBe(argv.join(" "));
  for (const where of [dir, out]) expect(readdirSync(where).filter((name) => name.startsWith("pwned"))).toEqual([]);
}, 30_000);

describe("whatever becomes of it is a warning on stderr, never sep's exit code", () => {
  const cases = [
    { name: "a non-zero exit", hook: "exit 7", says: "failed: exit 7" },
    { name: "not found", hook: "no-such-command-for-sep-tests", says: "failed: exit 127 (not found)" },
    { name: "killed", hook: "kill -9 $$", says: "was killed by SIGKILL" },
  ];
  for (const c of cases) {
    for (const jobExit of [0, 5]) {
      test(`${c.name}, after a job that exits ${jobExit}; -q still shows it`, async () => {
        const { dir, env } = setup({ SEP_ON_FINISH: c.hook });
        const result = await runSep(["-q", "--", "sh", "-c", `exit ${jobExit}`], { cwd: dir, env });
        expect(result.exitCode).toBe(jobExit);
        expect(result.stderr).toContain(`sep: warning: the on-finish command ${JSON.stringify(c.hook)} ${c.says}\n`);
      }, 30_000);
    }
  }

  test("one still running after 10 s is stopped, with everything it started", async () => {
    const { dir, out, env } = setup();
    const hook = 'echo $$ > "$OUT/hook.pid"; sleep 120 & echo $! > "$OUT/child.pid"; wait';
    const result = await runSep(["--on-finish", hook, "--", "true"], { cwd: dir, env });
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toContain(`sep: warning: the on-finish command ${JSON.stringify(hook)} was stopped: it took longer than 10s\n`);
    for (const name of ["hook.pid", "child.pid"]) expect(isAlive(Number(readFileSync(join(out, name), "utf8")))).toBe(false);
  }, 40_000);

  test("a run with a huge argv: a hook that never reads its stdin (a record larger than a pipe holds) is no failure; SEP_RUN_TITLE is cut, the record has it whole", async () => {
    const { dir, out, env } = setup();
    const big = "x".repeat(100_000);
    const argv = ["sh", "-c", "exit 0", big, big];
    const ignoring = await runSep(["--on-finish", "true", "--", ...argv], { cwd: dir, env });
    expect(ignoring.exitCode).toBe(0);
    expect(ignoring.stderr).toBe("");
    const reading = await runSep(["--on-finish", 'cat > "$OUT/record.json"; printf "%s" "$SEP_RUN_TITLE" > "$OUT/title.txt"', "--", ...argv], { cwd: dir, env });
    expect(reading.stderr).toBe("");
    expect(JSON.parse(readFileSync(join(out, "record.json"), "utf8")).title).toBe(argv.join(" "));
    const title = readFileSync(join(out, "title.txt"), "utf8");
    expect(title.length).toBe(4096);
    expect(argv.join(" ").startsWith(title.slice(0, -1))).toBe(true);
  }, 30_000);
});

describe("where it is set, and when it does not run", () => {
  test("SEP_ON_FINISH, .env.development and sep.config.ts set it, `sep config` shows it and its source, and --on-finish '' switches it off", async () => {
    const { dir, out, env } = setup();
    writeFileSync(join(dir, "sep.config.ts"), `export default { onFinish: ${JSON.stringify(RECORDING_HOOK)} };\n`);
    const shown = JSON.parse((await runSep(["config", "--json"], { cwd: dir, env })).stdoutText).values.onFinish;
    expect(shown).toEqual({ value: RECORDING_HOOK, source: "config", origin: join(dir, "sep.config.ts"), env: "SEP_ON_FINISH" });
    const table = (await runSep(["config"], { cwd: dir, env: { ...env, SEP_ON_FINISH: "echo from-env" } })).stdoutText;
    expect(table).toMatch(/^onFinish\s+SEP_ON_FINISH\s+echo from-env\s+env SEP_ON_FINISH$/m);
    expect((await runSep(["config"], { cwd: tempProject(), env })).stdoutText).toMatch(/^onFinish\s+SEP_ON_FINISH\s+\(none\)\s+default$/m);

    expect((await runSep(["--", "true"], { cwd: dir, env })).exitCode).toBe(0);
    expect(calls(out)).toBe(1);
    expect((await runSep(["--on-finish", "", "--", "true"], { cwd: dir, env })).exitCode).toBe(0);
    expect(calls(out)).toBe(1);
  }, 30_000);

  test("input sep refuses (exit 2) runs nothing, not even the on-finish command", async () => {
    const { dir, out, env } = setup({ SEP_ON_FINISH: RECORDING_HOOK });
    for (const [args, extra] of [
      [["--timeout", "abc", "--", "true"], {}],
      [["--", "true"], { MEMORY_LIMIT_MB: "lots" }],
      [["--no-such-flag", "--", "true"], {}],
      [["queue", "start", "--pipeline-timeout", "soon"], {}],
    ] as [string[], Record<string, string>][]) {
      const result = await runSep(args, { cwd: dir, env: { ...env, ...extra } });
      expect(result.exitCode).toBe(2);
    }
    expect(calls(out)).toBe(0);
    expect(existsSync(join(dir, "logs"))).toBe(false);
  }, 30_000);

  test("queue add does not take it: a stored job is part of whichever run drains it", async () => {
    const { dir, env } = setup();
    const result = await runSep(["queue", "add", "--on-finish", "true", "--", "true"], { cwd: dir, env });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("--on-finish");
  }, 30_000);
});

test("sep queue start: once for the whole run, with every job in the record", async () => {
  const { dir, out, env } = setup();
  for (const code of [0, 4]) expect((await runSep(["queue", "add", "--", "sh", "-c", `exit ${code}`], { cwd: dir, env })).exitCode).toBe(0);
  const result = await runSep(["queue", "start", "--on-finish", RECORDING_HOOK], { cwd: dir, env });
  expect(result.exitCode).toBe(4);
  expect(calls(out)).toBe(1);
  const record = JSON.parse(readFileSync(join(out, "record.json"), "utf8"));
  expect(record.jobs.map((job: { exitCode: number }) => job.exitCode)).toEqual([0, 4]);
  const view = await runSep(["run", "view", record.id, "--json"], { cwd: dir, env });
  expect(readFileSync(join(out, "record.json"), "utf8")).toBe(view.stdoutText);
  expect(hookEnv(out)).toMatchObject({ SEP_RUN_ID: record.id, SEP_RUN_CONCLUSION: "failure", SEP_RUN_EXIT_CODE: "4", SEP_RUN_JOBS: "2" });

  // An empty queue is no run: nothing to tell.
  expect((await runSep(["queue", "start", "--on-finish", RECORDING_HOOK], { cwd: dir, env })).exitCode).toBe(0);
  expect(calls(out)).toBe(1);
}, 30_000);

describe("a run left to a background sep (--detach-after) gets it once, from that sep", () => {
  test("detached: the caller exits 75 and runs nothing; the background sep runs it when the run ends", async () => {
    const { dir, out, env } = setup({ SEP_ON_FINISH: RECORDING_HOOK });
    const foreground = await runSep(["--detach-after", "1", "--", "sh", "-c", "sleep 3"], { cwd: dir, env });
    expect(foreground.exitCode).toBe(75);
    expect(calls(out)).toBe(0);
    const { runId, run } = onlyRun(join(dir, "logs"));
    // The run's owner is the background sep: once it has gone, every call it would make is made.
    await waitFor(() => !isAlive(run.owner.pid), { timeoutMs: 30_000, what: "the background sep to end" });
    expect(calls(out)).toBe(1);
    expect(hookEnv(out)).toMatchObject({ SEP_RUN_ID: runId, SEP_RUN_CONCLUSION: "success", SEP_RUN_EXIT_CODE: "0" });
    expect((await runSep(["wait", runId], { cwd: dir, env })).exitCode).toBe(0);
    expect(calls(out)).toBe(1);
  }, 60_000);

  test("not detached: the caller relays what it says, and waits for it even past the deadline rather than detach a finished run", async () => {
    const { dir, out, env } = setup({ SEP_ON_FINISH: `sleep 2; ${RECORDING_HOOK}` });
    const foreground = await runSep(["--detach-after", "1", "--", "sh", "-c", "exit 6"], { cwd: dir, env });
    expect(foreground.exitCode).toBe(6);
    expect(foreground.stderr).toContain("hook says hello\n");
    expect(foreground.stderr).not.toContain("goes on in the background");
    expect(calls(out)).toBe(1);
  }, 60_000);
});

test("the notify-send example `sep init` prints works as written: the conclusion, the exit code and the title reach notify-send", async () => {
  const { dir, out, env } = setup();
  const init = await runSep(["init"], { cwd: dir, env });
  expect(init.exitCode).toBe(0);
  const example = /e\.g\.: (SEP_ON_FINISH='notify-send .*')$/m.exec(init.stderr)?.[1];
  expect(example).toBeDefined();
  // The same line is in .env.development, commented out: uncomment it.
  const dotenv = join(dir, ".env.development");
  const text = readFileSync(dotenv, "utf8");
  expect(text).toContain(`# ${example}\n`);
  writeFileSync(dotenv, text.replace(`# ${example}\n`, `${example}\n`));
  // A notify-send of our own that writes down its arguments, one per line.
  const bin = join(out, "bin");
  mkdirSync(bin);
  writeFileSync(join(bin, "notify-send"), '#!/bin/sh\nprintf "%s\\n" "$@" > "$OUT/notified"\n');
  chmodSync(join(bin, "notify-send"), 0o755);
  const result = await runSep(["--", "sh", "-c", "exit 2", "it's $(not run)"], { cwd: dir, env: { ...env, PATH: `${bin}:${process.env.PATH}` } });
  expect(result.exitCode).toBe(2);
  expect(readFileSync(join(out, "notified"), "utf8")).toBe(`sep: failure (exit 2)\nsh -c exit 2 it's $(not run)\n`);
}, 30_000);
