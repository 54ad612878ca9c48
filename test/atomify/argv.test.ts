// Reading arguments without running the tool: option values, positionals, ambiguity; putting the
// atom's files in the place of the command's paths; quoting for display; the pytest-xdist cap.
import { describe, expect, test } from "bun:test";
import { batches, formatArgv, type OptionSpec, scanArgs, shellQuote, withItems, words } from "../../src/atomify/argv.ts";
import { clampWorkers, workerEnv } from "../../src/atomify/pytest-workers.ts";

const SPEC: OptionSpec = { value: words("-k -n --tb -c"), flag: words("-x -v -q --strict"), optional: words("--cov") };

describe("scanArgs", () => {
  const cases: { args: string[]; positionals: number[]; options?: [string, string | undefined][]; ambiguous?: string }[] = [
    { args: ["tests/"], positionals: [0] },
    { args: ["-k", "tests", "tests/"], positionals: [2], options: [["-k", "tests"]] },
    { args: ["--tb", "short", "a.py"], positionals: [2], options: [["--tb", "short"]] },
    { args: ["--tb=short", "a.py"], positionals: [1], options: [["--tb", "short"]] },
    { args: ["-n4", "a.py"], positionals: [1], options: [["-n", "4"]] },
    { args: ["-xvn", "2", "a.py"], positionals: [2], options: [["-x", undefined], ["-v", undefined], ["-n", "2"]] },
    { args: ["--cov", "src", "tests"], positionals: [2], options: [["--cov", "src"]] },
    { args: ["--cov", "-x", "tests"], positionals: [2], options: [["--cov", undefined], ["-x", undefined]] },
    { args: ["--unknown", "tests"], positionals: [1], ambiguous: "--unknown" },
    { args: ["tests", "--unknown"], positionals: [0] },
    { args: ["--unknown=1", "tests"], positionals: [1] },
    { args: ["-Z", "tests"], positionals: [1], ambiguous: "-Z" },
    { args: ["-x", "--", "-weird-name.py"], positionals: [2] },
    { args: ["-"], positionals: [0] },
  ];
  for (const c of cases) {
    test(JSON.stringify(c.args), () => {
      const scanned = scanArgs(c.args, SPEC);
      expect(scanned.positionals).toEqual(c.positionals);
      expect(scanned.ambiguous).toBe(c.ambiguous);
      if (c.options) expect(scanned.options.map((o) => [o.name, o.value])).toEqual(c.options);
    });
  }
});

describe("withItems keeps every other word in its place", () => {
  test("the items take the place of the first path; the other paths go", () => {
    expect(withItems(["-q", "tests/unit", "--tb=short", "tests/b.py", "-x"], [1, 3], ["tests/unit/a.py"])).toEqual(["-q", "tests/unit/a.py", "--tb=short", "-x"]);
  });
  test("with no paths, the items go first, where no option can swallow them", () => {
    expect(withItems(["--cov"], [], ["t/a.py", "t/b.py"])).toEqual(["t/a.py", "t/b.py", "--cov"]);
  });
  test("batches", () => {
    expect(batches([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(batches([1], 10)).toEqual([[1]]);
  });
});

describe("display quoting", () => {
  test.each([
    ["plain", "plain"],
    ["a b", "'a b'"],
    ["it's", `'it'\\''s'`],
    ["", "''"],
    ["$(touch /tmp/x)", "'$(touch /tmp/x)'"],
    ["tests/t.py::test_p[a b]", "'tests/t.py::test_p[a b]'"],
  ])("%p", (word, quoted) => expect(shellQuote(word)).toBe(quoted));
  test("formatArgv", () => expect(formatArgv(["bash", "-c", "a b"])).toBe("bash -c 'a b'"));
});

describe("PYTEST_MAX_WORKERS clamps xdist worker counts in their own word", () => {
  const cases: [string[], number, string[]][] = [
    [["-n", "auto", "t"], 1, ["-n", "1", "t"]],
    [["-n", "8"], 2, ["-n", "2"]],
    [["-n", "2"], 4, ["-n", "2"]],
    [["-n0"], 1, ["-n0"]],
    [["-nauto"], 3, ["-n3"]],
    [["-n16"], 3, ["-n3"]],
    [["--numprocesses=logical"], 2, ["--numprocesses=2"]],
    [["--numprocesses", "auto"], 2, ["--numprocesses", "2"]],
    [["--maxprocesses=9"], 2, ["--maxprocesses=2"]],
    [["-k", "-n", "--", "-n", "8"], 1, ["-k", "-n", "--", "-n", "8"]],
  ];
  for (const [args, max, expected] of cases) {
    test(`${args.join(" ")} (max ${max})`, () => expect(clampWorkers(args, max).args).toEqual(expected));
  }
  test("each rewrite is noted", () => {
    expect(clampWorkers(["-n", "auto"], 1).notes).toEqual(["-n auto → -n 1 (PYTEST_MAX_WORKERS=1)"]);
  });
  test("PYTEST_XDIST_AUTO_NUM_WORKERS is the cap, or a smaller value already set", () => {
    expect(workerEnv(2, {})).toEqual({ PYTEST_XDIST_AUTO_NUM_WORKERS: "2" });
    expect(workerEnv(4, { PYTEST_XDIST_AUTO_NUM_WORKERS: "1" })).toEqual({ PYTEST_XDIST_AUTO_NUM_WORKERS: "1" });
    expect(workerEnv(2, { PYTEST_XDIST_AUTO_NUM_WORKERS: "8" })).toEqual({ PYTEST_XDIST_AUTO_NUM_WORKERS: "2" });
  });
});
