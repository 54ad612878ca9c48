// errors.ts: the code table (and docs/errors.md, which lists it), SepError's defaults, and the one
// formatter the CLI edge uses for the error line, its hint and the --json error object.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, ERROR_CODES, type ErrorCode, errorJson, errorReport, formatError, SepError, UsageError } from "../src/errors.ts";

const CODES = Object.keys(ERROR_CODES) as ErrorCode[];

describe("ERROR_CODES", () => {
  test("docs/errors.md lists every code, in the same order, with its meaning and exit code", () => {
    const doc = readFileSync(join(import.meta.dir, "../docs/errors.md"), "utf8");
    const rows = [...doc.matchAll(/^\| `(E_[A-Z_]+)` \| (.+) \| ([^|]+) \|$/gm)].map((m) => ({ code: m[1], meaning: m[2], exit: m[3]!.trim() }));
    expect(rows.map((row) => row.code)).toEqual(CODES);
    for (const row of rows) {
      const info = ERROR_CODES[row.code as ErrorCode];
      expect(row.meaning).toBe(info.meaning);
      expect(row.exit.split(" / ")[0]).toBe(String(info.exitCode));
    }
  });

  test("every code is E_ and upper case; usage and configuration exit 2 (DESIGN §3)", () => {
    for (const code of CODES) expect(code).toMatch(/^E_[A-Z]+(_[A-Z]+)*$/);
    expect([ERROR_CODES.E_USAGE.exitCode, ERROR_CODES.E_CONFIG.exitCode]).toEqual([2, 2]);
  });

  test.each(CODES.map((code) => [code] as const))("%s: a SepError without options gets the code's exit code and hint", (code) => {
    const error = new SepError(code, "message");
    expect([error.exitCode, error.hint]).toEqual([ERROR_CODES[code].exitCode, ERROR_CODES[code].hint]);
    expect(error.hint).not.toBe("");
  });

  test("a thrower's own hint and exit code win", () => {
    const error = new SepError("E_INTERRUPTED", "m", { hint: "h", exitCode: 143 });
    expect([error.hint, error.exitCode]).toEqual(["h", 143]);
  });
});

describe("errorReport", () => {
  const cases: { name: string; thrown: unknown; expected: Partial<ReturnType<typeof errorReport>>; message?: RegExp }[] = [
    { name: "UsageError", thrown: new UsageError("bad flag", "see help"), expected: { code: "E_USAGE", message: "bad flag", hint: "see help", exitCode: 2 } },
    { name: "ConfigError", thrown: new ConfigError("bad value", "fix it"), expected: { code: "E_CONFIG", message: "bad value", hint: "fix it", exitCode: 2 } },
    { name: "SepError with its code's defaults", thrown: new SepError("E_WAIT_TIMEOUT", "gave up"), expected: { code: "E_WAIT_TIMEOUT", exitCode: 75, hint: ERROR_CODES.E_WAIT_TIMEOUT.hint } },
    { name: "a plain Error is a bug in sep: its stack", thrown: new TypeError("x is undefined"), expected: { code: "E_INTERNAL", exitCode: 1 }, message: /^internal error: TypeError: x is undefined\n\s+at / },
    { name: "a thrown string", thrown: "oops", expected: { code: "E_INTERNAL", message: "internal error: oops", exitCode: 1 } },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const report = errorReport(c.thrown);
      expect(report).toMatchObject(c.expected);
      if (c.message) expect(report.message).toMatch(c.message);
    });
  }
});

describe("formatError / errorJson", () => {
  const report = { code: "E_CONFIG", message: "TIMEOUT must be a number", hint: "edit TIMEOUT in /p/.env.development", exitCode: 2 } as const;
  const cases: { name: string; input: Parameters<typeof formatError>; text: string }[] = [
    {
      name: "the error line with its code, the hint under it",
      input: [report],
      text: "sep: error [E_CONFIG]: TIMEOUT must be a number\nsep: hint: edit TIMEOUT in /p/.env.development\n",
    },
    {
      name: "colour marks the label only",
      input: [report, { colour: true }],
      text: "sep: \x1b[31merror [E_CONFIG]:\x1b[0m TIMEOUT must be a number\nsep: hint: edit TIMEOUT in /p/.env.development\n",
    },
    {
      name: "a message of several lines keeps them, the hint comes last",
      input: [{ ...report, message: "A must be 1\nB must be 2", hint: "fix each value above" }],
      text: "sep: error [E_CONFIG]: A must be 1\nB must be 2\nsep: hint: fix each value above\n",
    },
  ];
  for (const c of cases) test(c.name, () => expect(formatError(...c.input)).toBe(c.text));

  test("errorJson: { error: { code, message, hint, exitCode } } and a newline", () => {
    const text = errorJson({ ...report, extra: "not shown" } as typeof report);
    expect(text.endsWith("}\n")).toBe(true);
    expect(JSON.parse(text)).toEqual({ error: { code: "E_CONFIG", message: "TIMEOUT must be a number", hint: "edit TIMEOUT in /p/.env.development", exitCode: 2 } });
  });
});
