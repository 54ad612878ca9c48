// The strict flag parser (parseFlags) and the seconds flags (parseSeconds), table-tested against
// the real run options of `sep -- CMD`.
import { describe, expect, test } from "bun:test";
import { parseFlags, type ParsedFlags, parseSeconds } from "../../src/commands/args.ts";
import { runOptions } from "../../src/commands/run-options.ts";
import { UsageError } from "../../src/errors.ts";

/** What fn threw, checked to be a usage error (exit 2: nothing ran). */
function usageErrorOf(fn: () => unknown): UsageError {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(UsageError);
  expect((thrown as UsageError).exitCode).toBe(2);
  return thrown as UsageError;
}

const parse = (tokens: string[]) => parseFlags(tokens, runOptions, "sep");

describe("parseFlags: accepted spellings", () => {
  const rows: Array<[name: string, tokens: string[], parsed: ParsedFlags]> = [
    ["nothing", [], { values: {}, positionals: [] }],
    ["--name=value", ["--timeout=5"], { values: { timeout: "5" }, positionals: [] }],
    ["--name=value keeps everything after the first =", ["--name=a=b c"], { values: { name: "a=b c" }, positionals: [] }],
    ["--name value", ["--timeout", "5"], { values: { timeout: "5" }, positionals: [] }],
    ["--name value takes the next token as it is, even one that looks like a flag", ["--name", "--verbose"], { values: { name: "--verbose" }, positionals: [] }],
    ["-n value (alias, stored under the long name)", ["-t", "5"], { values: { timeout: "5" }, positionals: [] }],
    ["-m value", ["-m", "512"], { values: { "memory-limit": "512" }, positionals: [] }],
    ["--flag", ["--verbose"], { values: { verbose: true }, positionals: [] }],
    ["-f (boolean alias)", ["-q"], { values: { quiet: true }, positionals: [] }],
    ["--no-flag", ["--no-atomify"], { values: { atomify: false }, positionals: [] }],
    ["--no-flag of a flag that is on by --flag", ["--verbose", "--no-verbose"], { values: { verbose: false }, positionals: [] }],
    ["--wait-timeout 2.5 stays a string (parseSeconds judges it)", ["--wait-timeout", "2.5"], { values: { "wait-timeout": "2.5" }, positionals: [] }],
    ["- is a positional", ["-"], { values: {}, positionals: ["-"] }],
    ["plain words are positionals, in order, between flags", ["pytest", "-v", "tests/", "-", "--timeout", "1", "x"], { values: { verbose: true, timeout: "1" }, positionals: ["pytest", "tests/", "-", "x"] }],
  ];
  for (const [name, tokens, parsed] of rows) test(`${name}: ${JSON.stringify(tokens)}`, () => expect(parse(tokens)).toEqual(parsed));
});

describe("parseFlags: refused, with the flag named", () => {
  const rows: Array<[name: string, tokens: string[], message: string]> = [
    ["an unknown long flag (a typo must not drop the limit)", ["--timout", "5"], "unknown option --timout for sep"],
    ["an unknown long flag given =value", ["--timout=5"], "unknown option --timout for sep"],
    ["an unknown short flag", ["-x"], "unknown option -x for sep"],
    ["--no- of a flag that is not a boolean", ["--no-timeout"], "unknown option --no-timeout for sep"],
    ["a long flag missing its value", ["--timeout"], "option --timeout needs a value"],
    ["a short flag missing its value", ["-t"], "option -t needs a value"],
    ["a value missing after other flags", ["--verbose", "--name"], "option --name needs a value"],
    ["a boolean given =value", ["--verbose=true"], 'option --verbose takes no value (got "--verbose=true")'],
    ["a --no- boolean given =value", ["--no-atomify=1"], 'option --no-atomify takes no value (got "--no-atomify=1")'],
  ];
  for (const [name, tokens, message] of rows) {
    test(`${name}: ${JSON.stringify(tokens)}`, () => {
      const error = usageErrorOf(() => parse(tokens));
      expect(error.message).toContain(message);
      expect(error.hint).toBe("see `sep --help`");
    });
  }

  test("the error names where the flag was given", () => {
    expect(usageErrorOf(() => parseFlags(["--bogus"], runOptions, "sep queue add")).message).toBe("unknown option --bogus for sep queue add");
  });
});

describe("parseSeconds", () => {
  const good: Array<[value: string | undefined, ms: number | undefined]> = [
    [undefined, undefined],
    ["0", 0],
    ["1", 1000],
    ["2.5", 2500],
    ["0.25", 250],
    ["600", 600_000],
  ];
  for (const [value, ms] of good) test(`${JSON.stringify(value)} -> ${ms} ms`, () => expect(parseSeconds(value, "--wait-timeout")).toBe(ms));

  const bad: unknown[] = ["abc", "-1", "1e3", "", " ", "1.5.2", "Infinity", "NaN", "0x10", "5s", true, 5];
  for (const value of bad) {
    test(`${JSON.stringify(value)} is refused, naming the flag and the value`, () => {
      const error = usageErrorOf(() => parseSeconds(value, "--wait-timeout"));
      expect(error.message).toBe(`--wait-timeout must be a number of seconds ≥ 0 (got ${JSON.stringify(value)} on the command line)`);
    });
  }
});
