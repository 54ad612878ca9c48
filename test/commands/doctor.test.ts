// `sep doctor`'s output: the report's lines, the summary line, and GitHub annotations.
import { describe, expect, test } from "bun:test";
import { githubAnnotations, renderFindings, summaryLine } from "../../src/commands/doctor.ts";
import type { Finding } from "../../src/doctor/index.ts";

describe("output", () => {
  const findings: Finding[] = [
    { check: "config", status: "ok", message: "configuration is valid" },
    { check: "log-dir", status: "warn", message: "open to others", fix: "chmod 700 logs" },
    { check: "workflows", status: "fail", message: 'job "a" queues `sep queue add -- x`', file: ".github/workflows/ci.yml", line: 6, fix: "add `sep queue start`" },
  ];

  test("words without a terminal: one line per finding, then the summary", () => {
    expect(renderFindings(findings, { symbols: false, colour: false })).toBe(
      [
        "ok    config     configuration is valid",
        "warn  log-dir    open to others — fix: chmod 700 logs",
        'fail  workflows  .github/workflows/ci.yml:6: job "a" queues `sep queue add -- x` — fix: add `sep queue start`',
        "sep doctor: 1 failed, 1 warning, 1 ok (exit 1)",
        "",
      ].join("\n"),
    );
  });

  test("symbols on a terminal", () => {
    const lines = renderFindings(findings, { symbols: true, colour: false }).split("\n");
    expect(lines.slice(0, 3).map((line) => line[0])).toEqual(["✓", "!", "✗"]);
  });

  test("the summary without failures has no exit note", () => {
    expect(summaryLine(findings.slice(0, 2))).toBe("sep doctor: 0 failed, 1 warning, 1 ok");
  });

  test("GitHub annotations for warn and fail, with file and line, escaped", () => {
    expect(githubAnnotations(findings)).toBe(
      [
        "::warning title=sep doctor%3A log-dir::open to others — fix: chmod 700 logs",
        '::error title=sep doctor%3A workflows,file=.github/workflows/ci.yml,line=6::job "a" queues `sep queue add -- x` — fix: add `sep queue start`',
        "",
      ].join("\n"),
    );
    expect(githubAnnotations([{ check: "config", status: "fail", message: "50%\nnext" }])).toBe("::error title=sep doctor%3A config::50%25%0Anext\n");
  });
});
