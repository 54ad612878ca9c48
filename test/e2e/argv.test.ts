// argv after the first "--" reaches the command byte for byte; sep's own flags stop at "--".
import { afterEach, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { cleanupAll, ensureBinary, py, runSep, runIds, tempProject } from "./helpers.ts";

beforeAll(() => ensureBinary(), 300_000);
afterEach(() => cleanupAll());

const PRINT_ARGV = "import sys, json; sys.stdout.write(json.dumps(sys.argv[1:]))";

describe("argv is passed byte-exact", () => {
  const cases: Array<[string, string[]]> = [
    ["spaces", ["a b", "  leading and trailing  ", "tab\there"]],
    ["single and double quotes", ["it's", '"quoted"', `'both" kinds'`, "\\backslash\\"]],
    ["newlines", ["line1\nline2", "\n", "crlf\r\n"]],
    ["unicode", ["héllo", "日本語", "emoji 🚀", "\u00a0nbsp", "\u202eRTL"]],
    ["shell syntax is never evaluated", ["$(touch pwned)", "`touch pwned2`", "$HOME", "${PATH}", "; touch pwned3", "a && b | c > d"]],
    ["globs and tilde", ["*", "?", "[a-z]*", "~", "~/x"]],
    ["empty string arguments", ["", "x", "", ""]],
    ["leading dashes and sep's own flags", ["--timeout", "5", "-m", "1", "--help", "-h", "--version", "--wait-timeout=1", "-"]],
    ["a second -- is kept", ["--", "a", "--", "--name", "x"]],
  ];

  for (const [name, args] of cases) {
    test(name, async () => {
      const dir = tempProject();
      const result = await runSep(["--", ...py(PRINT_ARGV, ...args)], { cwd: dir });
      expect(result.stderr).toBe("");
      expect(result.exitCode).toBe(0);
      expect(JSON.parse(result.stdoutText)).toEqual(args);
      for (const file of ["pwned", "pwned2", "pwned3"]) expect(existsSync(join(dir, file))).toBe(false);
    }, 30_000);
  }
});

test("flags after -- belong to the command: sep -- sh -c 'echo \"$1\"' sh --help", async () => {
  const dir = tempProject();
  const result = await runSep(["--", "sh", "-c", 'echo "$1"', "sh", "--help"], { cwd: dir });
  expect(result.exitCode).toBe(0);
  expect(result.stdoutText).toBe("--help\n");
}, 30_000);

test("flags after -- belong to the command: sep -- CMD --version / -t 1 are not sep's", async () => {
  const dir = tempProject();
  // If sep read "-t 1" as its timeout, the 2 s sleep would be killed with 124.
  const result = await runSep(["--", "sh", "-c", 'sleep 2; echo "$@"', "sh", "-t", "1", "--version"], { cwd: dir });
  expect(result.exitCode).toBe(0);
  expect(result.stdoutText).toBe("-t 1 --version\n");
}, 30_000);

test("`sep pytest` without -- is a usage error (exit 2) that shows `sep -- pytest`", async () => {
  const dir = tempProject();
  const result = await runSep(["pytest"], { cwd: dir });
  expect(result.exitCode).toBe(2);
  expect(result.stdoutText).toBe("");
  expect(result.stderr).toMatch(/sep (\[OPTIONS\] )?-- pytest/);
  expect(runIds(join(dir, "logs"))).toEqual([]);
}, 30_000);

test("`sep touch marker` without -- runs nothing", async () => {
  const dir = tempProject();
  const result = await runSep(["touch", "marker"], { cwd: dir });
  expect(result.exitCode).toBe(2);
  expect(existsSync(join(dir, "marker"))).toBe(false);
}, 30_000);

describe("unknown or malformed options are usage errors (exit 2) and run nothing", () => {
  const cases: Array<[string, string[], RegExp]> = [
    ["misspelled --timout", ["--timout", "5"], /--timout/],
    ["unknown short flag", ["-Z"], /-Z/],
    ["option missing its value", ["--timeout"], /--timeout/],
    ["bad --wait-timeout", ["--wait-timeout", "soon"], /wait-timeout/],
  ];
  for (const [name, flags, message] of cases) {
    test(name, async () => {
      const dir = tempProject();
      const result = await runSep([...flags, "--", "touch", "marker"], { cwd: dir });
      expect(result.exitCode).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stdoutText).toBe("");
      expect(existsSync(join(dir, "marker"))).toBe(false);
    }, 30_000);
  }
});

test("`sep --` with no command is a usage error", async () => {
  const dir = tempProject();
  const result = await runSep(["--"], { cwd: dir });
  expect(result.exitCode).toBe(2);
  expect(result.stderr).toMatch(/command/);
}, 30_000);
