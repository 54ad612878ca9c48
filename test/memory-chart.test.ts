// Memory over time, drawn: the shared time grid, the terminal sparkline, the Mermaid xychart.
import { describe, expect, test } from "bun:test";
import type { JobRecord, RunRecord } from "../src/core/records/types.ts";
import { CHART_COLOURS, jobSamples, resample, runMemoryChart, sparkline, SPARKLINE_WIDTH } from "../src/memory-chart.ts";

const MB = 1024 * 1024;
const START = "2026-01-01T00:00:00.000Z";
const T0 = Date.parse(START);

function job(fields: Partial<JobRecord>): JobRecord {
  return {
    id: "r.1",
    runId: "r",
    n: 1,
    name: "pytest",
    argv: ["pytest"],
    cwd: "/p",
    status: "completed",
    conclusion: "success",
    exitCode: 0,
    signal: null,
    queuedAt: START,
    startedAt: START,
    completedAt: "2026-01-01T00:00:10.000Z",
    durationMs: 10_000,
    peakMemoryBytes: 400 * MB,
    limits: { timeoutMs: null, memoryLimitBytes: 800 * MB },
    logPath: "/p/logs/runs/r/jobs/1.log",
    ...fields,
  };
}

function run(jobs: JobRecord[]): RunRecord {
  return {
    id: "20260101-000000-000-abcdef",
    title: "t",
    status: "completed",
    conclusion: "success",
    exitCode: 0,
    createdAt: START,
    startedAt: START,
    completedAt: "2026-01-01T00:01:00.000Z",
    durationMs: 60_000,
    peakMemoryBytes: null,
    owner: { pid: 1, startTime: null },
    jobs,
  };
}

/** A ramp from 0 to `peak` over `ms`, one sample every `step` ms. */
function ramp(peak: number, ms: number, step = 250): [number, number][] {
  const points: [number, number][] = [];
  for (let t = 0; t <= ms; t += step) points.push([t, Math.round((peak * t) / ms)]);
  return points;
}

describe("resample", () => {
  const points: [number, number][] = [
    [T0 + 1000, 10],
    [T0 + 1010, 90], // a spike between two grid times
    [T0 + 3000, 20],
  ];

  test("the highest sample near each time, the last one held in between, 0 outside the job", () => {
    // grid every 500 ms from T0 to T0 + 4000
    expect(resample(points, T0, T0 + 4000, 9)).toEqual([0, 0, 90, 90, 90, 90, 20, 0, 0]);
  });

  test("a spike narrower than a step is kept", () => {
    expect(Math.max(...resample(points, T0, T0 + 60_000, 5))).toBe(90);
  });

  test("no points: zeros", () => {
    expect(resample([], T0, T0 + 10, 3)).toEqual([0, 0, 0]);
  });
});

describe("jobSamples", () => {
  test("offsets become absolute times; malformed or out-of-order points are dropped", () => {
    const record = job({ memorySamples: [[0, 1], ["x", 2], [50, -1], [40, 3], [30, 4], null, [60, 5]] as never });
    expect(jobSamples(record)).toEqual([
      [T0, 1],
      [T0 + 40, 3],
      [T0 + 60, 5],
    ]);
  });

  test.each([
    ["no field (a record from before sep kept samples)", {}],
    ["an empty list", { memorySamples: [] }],
    ["no start time", { startedAt: null, memorySamples: [[0, 1]] }],
    ["not a list", { memorySamples: "lots" as never }],
  ] as const)("%s: none", (_, fields) => {
    expect(jobSamples(job(fields as Partial<JobRecord>))).toBeUndefined();
  });
});

describe("sparkline", () => {
  test("30 columns scaled to the memory limit, said in words", () => {
    // climbs to half the limit and holds
    const line = sparkline(job({ memorySamples: [...ramp(400 * MB, 5000), [7500, 400 * MB], [10_000, 400 * MB]], peakMemoryBytes: 400 * MB }))!;
    expect([...line.bars]).toHaveLength(SPARKLINE_WIDTH);
    expect(line.bars).toBe("▁▁▁▁▂▂▂▂▃▃▃▃▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄");
    expect(line.scale).toBe("peak 400 MB of 800 MB");
  });

  test("with no limit, scaled to the peak", () => {
    const line = sparkline(job({ limits: { timeoutMs: null, memoryLimitBytes: null }, memorySamples: ramp(400 * MB, 10_000), peakMemoryBytes: 400 * MB }))!;
    expect(line.bars.at(0)).toBe("▁");
    expect(line.bars.at(-1)).toBe("█");
    expect(line.scale).toBe("peak 400 MB, no limit (scaled to the peak)");
  });

  test("over the limit (a memory kill) stays at the top bar", () => {
    const line = sparkline(job({ memorySamples: [[0, 10 * MB], [100, 900 * MB]], peakMemoryBytes: 900 * MB }))!;
    expect(line.bars.at(-1)).toBe("█");
    expect(line.scale).toBe("peak 900 MB of 800 MB");
  });

  test("one sample fills the line", () => {
    expect(sparkline(job({ memorySamples: [[5, 400 * MB]] }))!.bars).toBe("▄".repeat(SPARKLINE_WIDTH));
  });

  test("none without samples", () => {
    expect(sparkline(job({}))).toBeUndefined();
  });
});

describe("runMemoryChart", () => {
  const at = (ms: number) => new Date(T0 + ms).toISOString();

  test("one line per job on one grid across the run, the limit flat, numbers only", () => {
    const chart = runMemoryChart(
      run([
        job({ n: 1, name: 'evil "name"\n%%{', memorySamples: [[0, 100 * MB], [1000, 200 * MB]], peakMemoryBytes: 200 * MB }),
        job({ n: 2, startedAt: at(3000), memorySamples: [[0, 50 * MB], [1000, 60 * MB]], peakMemoryBytes: 60 * MB }),
      ]),
      { points: 5 },
    )!;
    // grid: 0, 1, 2, 3, 4 s (the run spans 4.0 s)
    expect(chart.block.split("\n")).toEqual([
      "```mermaid",
      `%%{init: {"themeVariables": {"xyChart": {"plotColorPalette": "${CHART_COLOURS[0][1]}, ${CHART_COLOURS[1][1]}, #d62728"}}}}%%`,
      "xychart-beta",
      '    title "Memory of each job over time"',
      '    x-axis "seconds since the run started" 0 --> 4',
      '    y-axis "MB" 0 --> 800',
      '    line "job 1" [100, 200, 0, 0, 0]',
      '    line "job 2" [0, 0, 0, 50, 60]',
      '    line "limit" [800, 800, 800, 800, 800]',
      "```",
      "",
    ]);
    expect(chart.jobs.map(({ job, colour }) => [job.n, colour])).toEqual([
      [1, "blue"],
      [2, "orange"],
    ]);
    expect(chart.limits).toEqual([{ bytes: 800 * MB, colour: "red" }]);
    expect(chart.leftOut).toBe(0);
  });

  test("at most maxJobs lines, the biggest peaks, drawn in run order; the rest counted", () => {
    const jobs = Array.from({ length: 11 }, (_, i) =>
      job({ n: i + 1, startedAt: at(i * 1000), memorySamples: [[0, (i % 4) * MB + MB], [500, ((i * 7) % 11) * MB + MB]], peakMemoryBytes: null }),
    );
    jobs.push(job({ n: 12, memorySamples: undefined })); // no samples: neither drawn nor counted
    const chart = runMemoryChart(run(jobs), { maxJobs: 8 })!;
    const peaks = jobs.slice(0, 11).map((j) => Math.max(...j.memorySamples!.map(([, b]) => b)));
    const expected = peaks
      .map((peak, i) => ({ peak, n: i + 1 }))
      .sort((a, b) => b.peak - a.peak)
      .slice(0, 8)
      .map(({ n }) => n)
      .sort((a, b) => a - b);
    expect(chart.jobs.map(({ job }) => job.n)).toEqual(expected);
    expect(chart.leftOut).toBe(3);
    const lines = chart.block.split("\n").filter((line) => line.startsWith("    line "));
    expect(lines).toHaveLength(8 + 1);
    for (const line of lines) expect(JSON.parse(line.slice(line.indexOf("["))) as number[]).toHaveLength(60);
  });

  test("no exponents: tiny and huge values are plain decimals", () => {
    const chart = runMemoryChart(run([job({ limits: { timeoutMs: null, memoryLimitBytes: null }, memorySamples: [[0, 1], [100, 5e15]], peakMemoryBytes: 5e15 })]))!;
    expect(chart.block).not.toMatch(/\de[+-]?\d/i);
    expect(chart.limits).toEqual([]);
  });

  test("no job with samples, no chart (runs recorded before sep kept them)", () => {
    expect(runMemoryChart(run([job({}), job({ n: 2 })]))).toBeUndefined();
  });
});
