// How sep reports its own failures, driven through dist/sep: `sep: error [CODE]: …` and its hint
// on stderr (also under -q), the JSON error object on stdout under --json, file-system failures
// that name the file and the errno (and change nothing else), and a reader that goes away early.
import { afterEach, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cleanupAll, ensureBinary, onCleanup, runSep, SEP, type SepResult, sepEnv, tempDir, tempProject } from "./helpers.ts";

beforeAll(() => ensureBinary(), 300_000);
afterEach(() => cleanupAll());

/** The error line and the hint line sep printed, parsed; fails the test when they are not there. */
function reported(result: SepResult): { code: string; message: string; hint: string } {
  const match = /^sep: error \[(E_[A-Z_]+)\]: ([\s\S]*?)\nsep: hint: (.*)\n$/.exec(result.stderr);
  if (!match) throw new Error(`no error and hint lines in stderr:\n${result.stderr}`);
  return { code: match[1]!, message: match[2]!, hint: match[3]! };
}

/** Every file and dir under root, relative, with the contents of files: what must not change. */
function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    out[path.slice(root.length + 1)] = entry.isFile() ? readFileSync(path, "latin1") : entry.isDirectory() ? "<dir>" : "<other>";
  }
  return out;
}

describe("--json commands report a failure as JSON on stdout too, with the same exit code", () => {
  const cases: { name: string; args: string[]; env?: Record<string, string>; code: string; exitCode: number }[] = [
    { name: "sep config --json, a bad variable", args: ["config", "--json"], env: { MEMORY_LIMIT_MB: "abc" }, code: "E_CONFIG", exitCode: 2 },
    { name: "sep run view --json, no such run", args: ["run", "view", "nope", "--json"], code: "E_NO_RUN", exitCode: 2 },
    { name: "sep run list --json, a bad --limit", args: ["run", "list", "--json", "--limit", "0"], code: "E_USAGE", exitCode: 2 },
    { name: "sep queue status --json, a bad SEP_SLOTS", args: ["queue", "status", "--json"], env: { SEP_SLOTS: "0" }, code: "E_CONFIG", exitCode: 2 },
    { name: "sep plan --json, no command", args: ["plan", "--json"], code: "E_USAGE", exitCode: 2 },
    { name: "sep doctor --json, an unknown flag next to --json", args: ["doctor", "--bogus", "--json"], code: "E_USAGE", exitCode: 2 },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const dir = tempProject();
      const env = sepEnv(c.env);
      const result = await runSep(c.args, { cwd: dir, env });
      expect(result.exitCode).toBe(c.exitCode);
      const line = reported(result);
      expect(line.code).toBe(c.code);
      expect(JSON.parse(result.stdoutText)).toEqual({ error: { code: c.code, message: line.message, hint: line.hint, exitCode: c.exitCode } });

      // Without --json: the same lines, nothing on stdout.
      const plain = await runSep(c.args.filter((arg) => arg !== "--json"), { cwd: dir, env });
      expect(plain.exitCode).toBe(c.exitCode);
      expect(reported(plain).code).toBe(c.code);
      expect(plain.stdoutText).toBe("");
    });
  }
});

describe("-q never hides an error or its hint", () => {
  const cases: { name: string; args: string[]; code: string; hint: string }[] = [
    { name: "a bad --wait-timeout", args: ["-q", "--wait-timeout", "x", "--", "true"], code: "E_USAGE", hint: "--wait-timeout 30" },
    { name: "no command after --", args: ["-q", "--"], code: "E_USAGE", hint: "sep [OPTIONS] -- COMMAND" },
    { name: "queue start -q, a bad --pipeline-timeout", args: ["queue", "start", "-q", "--pipeline-timeout", "soon"], code: "E_CONFIG", hint: "sep --help" },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const result = await runSep(c.args, { cwd: tempProject() });
      expect(result.exitCode).toBe(2);
      const line = reported(result);
      expect(line.code).toBe(c.code);
      expect(line.hint).toContain(c.hint);
    });
  }
});

describe("file-system failures: exit 1, a SepError naming the file and the errno, nothing else changed", () => {
  // Tests run as root, where chmod stops nothing: each case puts something real in the way (a
  // regular file where a directory must be, a directory where a file must go).
  const locks = (dir: string) => join(dir, ".sequential-locks");
  const paused = (dir: string) => join(locks(dir), "queue", "paused");
  const cases: { name: string; args: string[]; block: (dir: string) => Record<string, string> | void; code: string; errno: string; names: (dir: string) => string }[] = [
    {
      name: "queue add: the lock dir's parent is a regular file",
      args: ["queue", "add", "--", "true"],
      block: (dir) => {
        writeFileSync(join(dir, "blocker"), "a file\n");
        return { SEQUENTIAL_LOCK_BASE_DIR: "blocker/locks" };
      },
      code: "E_STATE_DIR",
      errno: "ENOTDIR",
      names: (dir) => join(dir, "blocker", "locks"),
    },
    {
      name: "queue pause: a directory where the paused flag goes",
      args: ["queue", "pause"],
      block: (dir) => void mkdirSync(join(paused(dir), "inside"), { recursive: true, mode: 0o700 }),
      code: "E_STATE_WRITE",
      errno: "EISDIR",
      names: paused,
    },
    {
      name: "queue resume: the paused flag is a directory",
      args: ["queue", "resume"],
      block: (dir) => void mkdirSync(join(paused(dir), "inside"), { recursive: true, mode: 0o700 }),
      code: "E_STATE_WRITE",
      errno: "EISDIR",
      names: paused,
    },
    {
      name: "init: .gitignore is a directory",
      args: ["init"],
      block: (dir) => void mkdirSync(join(dir, ".gitignore")),
      code: "E_PROJECT_FILE",
      errno: "EISDIR",
      names: (dir) => join(dir, ".gitignore"),
    },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const dir = tempProject();
      const env = sepEnv(c.block(dir) ?? {});
      const before = snapshot(dir);
      const result = await runSep(c.args, { cwd: dir, env });
      expect(result.exitCode).toBe(1);
      const line = reported(result);
      expect(line.code).toBe(c.code);
      expect(line.message).toBe(`cannot ${line.message.split(" ")[1]} ${c.names(dir)}: ${c.errno}`);
      expect(result.stderr).not.toMatch(/internal error|\n\s+at /);
      expect(snapshot(dir)).toEqual(before);
    });
  }

  test("queue start: queue/claimed is a regular file; the stored job stays stored and does not run", async () => {
    const dir = tempProject();
    const added = await runSep(["queue", "add", "--", "touch", "ran"], { cwd: dir });
    expect(added.exitCode).toBe(0);
    writeFileSync(join(locks(dir), "queue", "claimed"), "in the way\n");
    const result = await runSep(["queue", "start"], { cwd: dir });
    expect(result.exitCode).toBe(1);
    const line = reported(result);
    expect(line.code).toBe("E_STATE_DIR");
    expect(line.message).toBe(`cannot create ${join(locks(dir), "queue", "claimed")}: EEXIST`);
    expect(existsSync(join(dir, "ran"))).toBe(false);
    const status = await runSep(["queue", "status", "--json"], { cwd: dir });
    expect(JSON.parse(status.stdoutText).queued.map((job: { id: string }) => job.id)).toEqual(["q1"]);
  });

  // A real full disk, where the machine lets root mount a small tmpfs (skipped elsewhere).
  const canMount = (() => {
    const probe = tempDir("sep-e2e-mount-");
    const mounted = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", probe], { stderr: "ignore" }).exitCode === 0;
    if (mounted) Bun.spawnSync(["umount", probe]);
    return mounted;
  })();
  test.skipIf(!canMount)("queue add on a full disk: E_STATE_WRITE naming the entry and ENOSPC; the queue is as it was", async () => {
    const dir = tempProject();
    const state = join(dir, "state");
    mkdirSync(state);
    expect(Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", state]).exitCode).toBe(0);
    onCleanup(() => void Bun.spawnSync(["umount", "-l", state]));
    const env = sepEnv({ SEQUENTIAL_LOCK_BASE_DIR: "state/locks" });
    expect((await runSep(["queue", "add", "--", "true"], { cwd: dir, env })).exitCode).toBe(0);
    // Fill the file system to its last byte.
    Bun.spawnSync(["sh", "-c", `cat /dev/zero > '${join(state, "filler")}'`], { stderr: "ignore" });
    const before = snapshot(join(state, "locks"));
    const result = await runSep(["queue", "add", "--", "false"], { cwd: dir, env });
    expect(result.exitCode).toBe(1);
    const line = reported(result);
    expect(line.code).toBe("E_STATE_WRITE");
    expect(line.message).toMatch(new RegExp(`^cannot write ${join(state, "locks", "queue")}/\\d+\\.json: ENOSPC$`));
    expect(line.hint).toContain("full");
    expect(snapshot(join(state, "locks"))).toEqual(before);
  });
});

describe("a reader that goes away early: sep exits 0, no EPIPE, no stack", () => {
  /**
   * Run sep with its stdout on a pipe whose only reader has already closed it, so its first write
   * fails with EPIPE: the right side closes the read end, then releases the left through a FIFO.
   */
  async function intoClosedPipe(args: string[], dir: string): Promise<{ exitCode: number; stderr: string }> {
    const fifo = join(tempDir("sep-e2e-fifo-"), "go");
    expect(Bun.spawnSync(["mkfifo", fifo]).exitCode).toBe(0);
    const script = 'fifo=$1; shift; ( read _ < "$fifo"; "$@"; echo "sep exited $?" >&2 ) | ( exec 0<&-; echo go > "$fifo" )';
    const proc = Bun.spawn(["sh", "-c", script, "sh", fifo, SEP, ...args], { cwd: dir, env: sepEnv(), stdout: "ignore", stderr: "pipe" });
    const stderr = await new Response(proc.stderr).text();
    await proc.exited;
    const match = /sep exited (\d+)\n$/.exec(stderr);
    if (!match) throw new Error(`no exit status in:\n${stderr}`);
    return { exitCode: Number(match[1]), stderr: stderr.slice(0, match.index) };
  }

  const cases = [["run", "list"], ["run", "list", "--json"], ["config"], ["config", "--json"], ["queue", "status"], ["plan", "-q", "--", "true"], ["--version"]];
  for (const args of cases) {
    test(`sep ${args.join(" ")}`, async () => {
      const dir = tempProject();
      expect((await runSep(["--", "true"], { cwd: dir })).exitCode).toBe(0); // one run to list
      expect(await intoClosedPipe(args, dir)).toEqual({ exitCode: 0, stderr: "" });
    });
  }
});
