// The command's stdout and stderr: live, on their own streams, byte-exact, and also in the job log.
import { afterEach, beforeAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { cleanupAll, ensureBinary, onCleanup, onlyRun, py, runSep, SEP, sepEnv, startSep, tempProject, waitFor } from "./helpers.ts";

beforeAll(() => ensureBinary(), 300_000);
afterEach(() => cleanupAll());

const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
const ALL_BYTES_REVERSED = Buffer.from(Array.from({ length: 256 }, (_, i) => 255 - i));

test("binary bytes 0..255 stay on their own stream, byte-exact, with no trailing newline added", async () => {
  const dir = tempProject();
  const code =
    "import sys; sys.stdout.buffer.write(bytes(range(256))); sys.stdout.flush(); " +
    "sys.stderr.buffer.write(bytes(reversed(range(256)))); sys.stderr.flush()";
  const result = await runSep(["--", ...py(code)], { cwd: dir });
  expect(result.exitCode).toBe(0);
  expect(result.stdout.equals(ALL_BYTES)).toBe(true);
  // sep says nothing on a plain success, so stderr is exactly the command's.
  expect(result.stderrBytes.equals(ALL_BYTES_REVERSED)).toBe(true);
}, 30_000);

test("the job log holds the command's stdout and stderr bytes", async () => {
  const dir = tempProject();
  const code =
    "import sys; sys.stdout.buffer.write(b'OUT:' + bytes(range(256))); sys.stdout.flush(); " +
    "sys.stderr.buffer.write(b'ERR:' + bytes(reversed(range(256)))); sys.stderr.flush()";
  const result = await runSep(["--", ...py(code)], { cwd: dir });
  expect(result.exitCode).toBe(0);
  const { job, log } = onlyRun(join(dir, "logs"));
  expect(log).toBeDefined();
  expect(job.logPath).toBe(join(dir, "logs/runs", job.runId, "jobs/1.log"));
  expect(log!.indexOf(Buffer.concat([Buffer.from("OUT:"), ALL_BYTES]))).toBeGreaterThanOrEqual(0);
  expect(log!.indexOf(Buffer.concat([Buffer.from("ERR:"), ALL_BYTES_REVERSED]))).toBeGreaterThanOrEqual(0);
  expect(log!.length).toBe(4 + 256 + 4 + 256);
}, 30_000);

test("large output (8 MiB on each stream) arrives complete and in order", async () => {
  const dir = tempProject();
  // A pattern whose every 4-byte window is unique within 8 MiB: lost or reordered chunks show.
  const code =
    "import sys, struct\n" +
    "data = b''.join(struct.pack('>I', i) for i in range(2 * 1024 * 1024))\n" +
    "for i in range(0, len(data), 65536):\n" +
    "    sys.stdout.buffer.write(data[i:i + 65536]); sys.stdout.flush()\n" +
    "    sys.stderr.buffer.write(data[i:i + 65536]); sys.stderr.flush()\n";
  const result = await runSep(["--", ...py(code)], { cwd: dir });
  expect(result.exitCode).toBe(0);
  const expected = Buffer.alloc(8 * 1024 * 1024);
  for (let i = 0; i < 2 * 1024 * 1024; i++) expected.writeUInt32BE(i, i * 4);
  expect(result.stdout.length).toBe(expected.length);
  expect(result.stdout.equals(expected)).toBe(true);
  expect(result.stderrBytes.equals(expected)).toBe(true);
  expect(onlyRun(join(dir, "logs")).log!.length).toBe(2 * expected.length);
}, 60_000);

test("sep's own words never go to stdout", async () => {
  const dir = tempProject();
  const cases: string[][] = [
    ["--", "true"],
    ["--", "false"],
    ["-v", "--", "true"],
    ["--timeout", "1", "--kill-grace", "0", "--", "sleep", "30"],
    ["--", "no-such-command-sep-e2e"],
  ];
  for (const args of cases) {
    const result = await runSep(args, { cwd: dir });
    expect({ args, stdout: result.stdoutText }).toEqual({ args, stdout: "" });
  }
}, 60_000);

test("stdout streams live: a line printed first arrives while the command is still running", async () => {
  const dir = tempProject();
  // The command prints "first", then waits for a file the test creates only after it saw "first".
  const script = "echo first; while [ ! -f go ]; do sleep 0.05; done; echo second";
  const sep = startSep(["--", "sh", "-c", script], { cwd: dir });
  await waitFor(() => sep.stdout().toString().includes("first"), { what: '"first" on stdout', timeoutMs: 10_000 });
  expect(sep.proc.exitCode).toBeNull();
  expect(sep.stdout().toString()).toBe("first\n");
  writeFileSync(join(dir, "go"), "");
  const result = await sep.done;
  expect(result.exitCode).toBe(0);
  expect(result.stdoutText).toBe("first\nsecond\n");
}, 30_000);

test("stderr streams live too", async () => {
  const dir = tempProject();
  const script = "echo early >&2; while [ ! -f go ]; do sleep 0.05; done; echo late >&2";
  const sep = startSep(["--", "sh", "-c", script], { cwd: dir });
  await waitFor(() => sep.stderr().includes("early"), { what: '"early" on stderr', timeoutMs: 10_000 });
  expect(sep.proc.exitCode).toBeNull();
  writeFileSync(join(dir, "go"), "");
  const result = await sep.done;
  expect(result.exitCode).toBe(0);
  expect(result.stderr).toBe("early\nlate\n");
}, 30_000);

test("live streaming with a plain sleep (echo first; sleep 3; echo second)", async () => {
  const dir = tempProject();
  const sep = startSep(["--", "sh", "-c", "echo first; sleep 3; echo second"], { cwd: dir });
  await waitFor(() => sep.stdout().toString().includes("first"), { what: '"first" on stdout', timeoutMs: 10_000 });
  // "first" is here and "second" is not: the output was not held back until the end.
  expect(sep.stdout().toString()).toBe("first\n");
  expect(sep.proc.exitCode).toBeNull();
  const result = await sep.done;
  expect(result.stdoutText).toBe("first\nsecond\n");
}, 30_000);

test("stdin is passed through to the command", async () => {
  const dir = tempProject();
  const sep = startSep(["--", "sh", "-c", "read line; echo \"got $line\""], { cwd: dir, stdin: "pipe" });
  const stdin = sep.proc.stdin as import("bun").FileSink;
  stdin.write("hello\n");
  stdin.end();
  const result = await sep.done;
  expect(result.exitCode).toBe(0);
  expect(result.stdoutText).toBe("got hello\n");
}, 30_000);

test("a reader that goes away (sep -- yes | head -n 1) ends the job, as in a plain pipeline", async () => {
  const dir = tempProject();
  const started = Date.now();
  const shell = Bun.spawn(["sh", "-c", '"$0" -- yes | head -n 1', SEP], { cwd: dir, env: sepEnv(), stdout: "pipe", stderr: "pipe" });
  onCleanup(() => shell.kill("SIGKILL"));
  const timer = setTimeout(() => shell.kill("SIGKILL"), 20_000);
  const [code, out] = await Promise.all([shell.exited, new Response(shell.stdout).text()]);
  clearTimeout(timer);
  expect(out).toBe("y\n");
  expect(code).toBe(0);
  expect(Date.now() - started).toBeLessThan(15_000);
  // The job did end (sep recorded it as completed), not killed at the end of the test.
  await waitFor(() => {
    try {
      return onlyRun(join(dir, "logs")).job.status === "completed";
    } catch {
      return false;
    }
  }, { what: "the job to be recorded as completed" });
}, 30_000);
