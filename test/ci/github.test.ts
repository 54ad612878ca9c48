// The pure parts of the GitHub Actions output: escaping, annotations, the step summary table.
import { describe, expect, test } from "bun:test";
import { errorAnnotation, escapeData, escapeProperty, stepSummary } from "../../src/ci/github.ts";
import type { JobRecord, RunRecord } from "../../src/core/records/types.ts";

function job(fields: Partial<JobRecord>): JobRecord {
  return {
    id: "r.1",
    runId: "r",
    n: 1,
    name: "pytest -x",
    argv: ["pytest", "-x"],
    cwd: "/p",
    status: "completed",
    conclusion: "success",
    exitCode: 0,
    signal: null,
    queuedAt: "2026-01-01T00:00:00.000Z",
    startedAt: "2026-01-01T00:00:00.000Z",
    completedAt: "2026-01-01T00:00:01.500Z",
    durationMs: 1500,
    peakMemoryBytes: 300 * 1024 * 1024,
    limits: { timeoutMs: 60_000, memoryLimitBytes: 512 * 1024 * 1024 },
    logPath: "/p/logs/runs/r/jobs/1.log",
    ...fields,
  };
}

describe("escaping", () => {
  test.each([
    ["plain", "plain", "plain"],
    ["100%", "100%25", "100%25"],
    ["a\nb\r\nc", "a%0Ab%0D%0Ac", "a%0Ab%0D%0Ac"],
    ["key: a, b", "key: a, b", "key%3A a%2C b"],
    ["%0A", "%250A", "%250A"],
  ])("%j", (input, data, property) => {
    expect(escapeData(input)).toBe(data);
    expect(escapeProperty(input)).toBe(property);
  });
});

describe("errorAnnotation", () => {
  test("success and skipped have none", () => {
    expect(errorAnnotation(job({}))).toBeUndefined();
    expect(errorAnnotation(job({ conclusion: "skipped", exitCode: null }))).toBeUndefined();
  });

  test.each([
    [{ conclusion: "failure", exitCode: 3 }, "failed, conclusion failure, exit code 3"],
    [{ conclusion: "timed_out", exitCode: 124 }, "killed by sep at the time limit (limit 1m00s), conclusion timed_out, exit code 124"],
    [{ conclusion: "memory_exceeded", exitCode: 137, kill: { reason: "memory", measuredBytes: 600 * 1024 * 1024, processes: [] } }, "killed by sep at the memory limit (used 600 MB, limit 512 MB), conclusion memory_exceeded, exit code 137"],
    [{ conclusion: "cancelled", exitCode: 130 }, "cancelled, conclusion cancelled, exit code 130"],
    [{ conclusion: "startup_failure", exitCode: 127 }, "could not start, conclusion startup_failure, exit code 127"],
  ] as const)("%j names command, conclusion and exit code", (fields, tail) => {
    const line = errorAnnotation(job(fields as Partial<JobRecord>));
    expect(line).toBe(`::error title=sep%3A ${fields.conclusion}::pytest -x: ${tail}`);
  });

  test("a command name cannot add lines to the annotation", () => {
    const line = errorAnnotation(job({ name: "evil\n::add-mask::x", conclusion: "failure", exitCode: 1 }))!;
    expect(line.split("\n")).toHaveLength(1);
  });
});

test("stepSummary: a heading and one row per job, pipes in names escaped", () => {
  const run: RunRecord = {
    id: "20260101-000000-000-abcdef",
    title: "t",
    status: "completed",
    conclusion: "failure",
    exitCode: 2,
    createdAt: "2026-01-01T00:00:00.000Z",
    startedAt: "2026-01-01T00:00:00.000Z",
    completedAt: "2026-01-01T00:00:03.000Z",
    durationMs: 3000,
    peakMemoryBytes: 300 * 1024 * 1024,
    owner: { pid: 1, startTime: null },
    jobs: [job({}), job({ n: 2, name: "sh -c 'a | b'", conclusion: "failure", exitCode: 2, peakMemoryBytes: null })],
  };
  const lines = stepSummary(run).trimEnd().split("\n");
  expect(lines[0]).toBe("### sep run `20260101-000000-000-abcdef`: failure (exit 2)");
  expect(lines[2]).toBe("| # | command | conclusion | exit | duration | peak memory |");
  expect(lines[4]).toBe("| 1 | `pytest -x` | success | 0 | 1.5s | 300 MB |");
  expect(lines[5]).toBe("| 2 | `sh -c 'a \\| b'` | failure | 2 | 1.5s | - |");
  expect(lines).toHaveLength(6);
});

describe("the memory chart in the step summary", () => {
  const MB = 1024 * 1024;
  const at = (ms: number) => new Date(Date.parse("2026-01-01T00:00:00.000Z") + ms).toISOString();
  const summaryOf = (jobs: JobRecord[]) =>
    stepSummary({
      id: "20260101-000000-000-abcdef",
      title: "t",
      status: "completed",
      conclusion: "success",
      exitCode: 0,
      createdAt: at(0),
      startedAt: at(0),
      completedAt: at(60_000),
      durationMs: 60_000,
      peakMemoryBytes: null,
      owner: { pid: 1, startTime: null },
      jobs,
    });

  test("a mermaid xychart under the table, and a legend naming each line's colour and command", () => {
    const lines = summaryOf([
      job({ memorySamples: [[0, 10 * MB], [1000, 300 * MB]] }),
      job({ n: 2, name: "mypy | tee", startedAt: at(1500), peakMemoryBytes: 80 * MB, memorySamples: [[0, 80 * MB]] }),
    ]).split("\n");
    const open = lines.indexOf("```mermaid");
    expect(lines.slice(open - 2, open)).toEqual(["#### Memory over time", ""]);
    expect(lines[open + 2]).toBe("xychart-beta");
    const close = lines.indexOf("```", open);
    expect(lines.slice(open, close).filter((line) => line.startsWith("    line "))).toHaveLength(3);
    expect(lines.slice(close + 1)).toEqual([
      "",
      "- blue: job 1 `pytest -x`, peak 300 MB",
      "- orange: job 2 `mypy \\| tee`, peak 80 MB",
      "- red, flat: memory limit 512 MB",
      "",
      "",
    ]);
  });

  test("at most 8 jobs are charted, and the summary says how many were left out", () => {
    const jobs = Array.from({ length: 10 }, (_, i) => job({ n: i + 1, startedAt: at(i * 1000), peakMemoryBytes: (i + 1) * MB, memorySamples: [[0, (i + 1) * MB]] }));
    const lines = summaryOf(jobs).split("\n");
    expect(lines.filter((line) => line.startsWith("    line \"job"))).toHaveLength(8);
    expect(lines.filter((line) => /^- \w+: job \d+ /.test(line)).map((line) => line.split(" ")[3])).toEqual(["3", "4", "5", "6", "7", "8", "9", "10"]);
    expect(lines).toContain("- 2 more jobs with smaller peaks not charted (at most 8)");
  });

  test("jobs without samples (recorded before sep kept them): the summary is the table alone", () => {
    expect(summaryOf([job({})])).not.toContain("mermaid");
  });
});
