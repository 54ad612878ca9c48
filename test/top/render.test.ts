// sep top's frame, pure: bars, the sparkline, ETAs, how the table fits a width, how a frame is
// cut to the terminal's height, and the escape codes a frame is written with.
import { describe, expect, test } from "bun:test";
import type { MachineView, ViewJob } from "../../src/core/governor/view.ts";
import { MemoryHistory } from "../../src/top/history.ts";
import { etaText, meter, renderFrame, sparkline, whyText } from "../../src/top/render.ts";
import { frameText } from "../../src/top/terminal.ts";

const MB = 1024 * 1024;
const NOW = Date.parse("2026-01-02T03:04:05Z");

describe("meter", () => {
  test.each([
    { name: "empty", parts: [{ bytes: 0, char: "█" }], whole: 100, bar: "··········" },
    { name: "half used", parts: [{ bytes: 50, char: "█" }], whole: 100, bar: "█████·····" },
    { name: "used, then reserved beyond it", parts: [{ bytes: 30, char: "█" }, { bytes: 60, char: "▒" }], whole: 100, bar: "███▒▒▒····" },
    { name: "a later part smaller than an earlier one adds nothing", parts: [{ bytes: 70, char: "█" }, { bytes: 20, char: "▒" }], whole: 100, bar: "███████···" },
    { name: "over the whole: full, never longer", parts: [{ bytes: 250, char: "█" }], whole: 100, bar: "██████████" },
    { name: "no whole", parts: [{ bytes: 10, char: "█" }], whole: 0, bar: "··········" },
  ])("$name", ({ parts, whole, bar }) => {
    expect(meter(10, parts, whole)).toBe(bar);
  });
});

describe("sparkline", () => {
  test("no samples: blank", () => {
    expect(sparkline([], 6, NOW)).toBe("      ");
  });

  test("each cell shows its stretch's highest sample, scaled to the highest of all; gaps repeat the cell before; before the first sample, blank", () => {
    const samples = [
      { atMs: NOW - 50_000, bytes: 10 },
      { atMs: NOW - 30_000, bytes: 50 },
      { atMs: NOW - 29_000, bytes: 20 },
      { atMs: NOW, bytes: 100 },
    ];
    expect(sparkline(samples, 6, NOW)).toBe(" ▁▁▄▄█");
  });

  test("samples older than the minute are not shown", () => {
    expect(sparkline([{ atMs: NOW - 61_000, bytes: 900 }, { atMs: NOW, bytes: 100 }], 4, NOW)).toBe("   █");
  });

  test("a flat line of zeroes is the lowest bar, not blank", () => {
    expect(sparkline([{ atMs: NOW - 59_000, bytes: 0 }, { atMs: NOW, bytes: 0 }], 3, NOW)).toBe("▁▁▁");
  });
});

describe("etaText", () => {
  test.each([
    { etaMs: null, expectedDurationMs: null, text: "" },
    { etaMs: 42_000, expectedDurationMs: 60_000, text: "about 40 s left" },
    { etaMs: 300_000, expectedDurationMs: 600_000, text: "about 5 min left" },
    { etaMs: 7_200_000, expectedDurationMs: 9_000_000, text: "about 2 h left" },
    // past its usual time: the words of `sep status` and `queue status`
    { etaMs: 0, expectedDurationMs: 120_000, text: "longer than usual (about 2 min)" },
  ])("$etaMs ms left of $expectedDurationMs → '$text'", ({ etaMs, expectedDurationMs, text }) => {
    expect(etaText({ etaMs, expectedDurationMs })).toBe(text);
  });
});

// ---------------------------------------------------------------------------------------------
// Frames

function job(fields: Partial<ViewJob> & Pick<ViewJob, "key" | "state">): ViewJob {
  return {
    id: fields.key,
    pid: 100,
    projectRoot: "/home/me/project",
    name: "pytest -x tests",
    argv: ["pytest", "-x", "tests"],
    cwd: "/home/me/project",
    reservationBytes: 500 * MB,
    reservationSource: "learned",
    memoryBytes: 0,
    since: new Date(NOW - 10_000).toISOString(),
    startedAt: null,
    elapsedMs: 10_000,
    expectedDurationMs: null,
    etaMs: null,
    wait: null,
    ...fields,
  };
}

function machine(jobs: ViewJob[]): MachineView {
  return {
    at: new Date(NOW).toISOString(),
    governor: true,
    budgetBytes: 1000 * MB,
    reserveBytes: 100 * MB,
    availableBytes: 4000 * MB,
    totalBytes: 8000 * MB,
    why: "memoryBudgetMb 1000",
    reservedBytes: jobs.filter((j) => j.state !== "waiting").reduce((sum, j) => sum + (j.reservationBytes ?? 0), 0),
    jobsMemoryBytes: jobs.reduce((sum, j) => sum + j.memoryBytes, 0),
    jobs,
    lockDirs: ["/home/me/project/.sequential-locks"],
  };
}

const running = job({ key: "1:a", state: "running", memoryBytes: 250 * MB, startedAt: new Date(NOW - 30_000).toISOString(), elapsedMs: 30_000, expectedDurationMs: 72_000, etaMs: 42_000 });
const atGate = job({
  key: "2:b",
  pid: 200,
  state: "waiting",
  projectRoot: "/home/me/other",
  name: "make build",
  argv: ["make", "build"],
  reservationBytes: 700 * MB,
  reservationSource: "flag",
  wait: { for: "memory", startsNow: false, gate: { needBytes: 700 * MB, source: "flag", freeBytes: 3000 * MB, budgetBytes: 1000 * MB, admittedBytes: 500 * MB, admittedJobs: 1, ahead: 0, reason: "budget" } },
});
const forTurn = job({ key: "3:c", pid: 300, state: "waiting", name: "npm test", argv: ["npm", "test"], reservationBytes: null, reservationSource: null, wait: { for: "turn", holders: [{ name: "pytest -x tests", pid: 100 }], ahead: 0 } });
const paused = job({ key: "4:d", pid: 400, state: "paused", memoryBytes: 100 * MB, name: "cargo test", argv: ["cargo", "test"], startedAt: new Date(NOW - 5000).toISOString(), elapsedMs: 5000 });

function history(): MemoryHistory {
  const h = new MemoryHistory();
  for (const [ago, bytes] of [[40_000, 50 * MB], [20_000, 150 * MB], [0, 250 * MB]] as const) {
    h.record(machine([{ ...running, memoryBytes: bytes }, { ...paused }]), NOW - ago);
  }
  return h;
}

const live = (width: number, height = 50) => ({ width, height, nowMs: NOW, intervalMs: 1000, live: true });

describe("renderFrame", () => {
  test("wide: the budget bar spans the width; every column; a reason under each job that is not running", () => {
    const lines = renderFrame(machine([running, paused, atGate, forTurn]), history(), live(160));
    expect(lines[0]).toBe("sep top  " + new Date(NOW).toTimeString().slice(0, 8) + "  every 1 s  q quits");
    expect(lines[1]).toBe(`budget [${meter(151, [{ bytes: 350 * MB, char: "█" }, { bytes: 1000 * MB, char: "▒" }], 1000 * MB)}]`);
    expect(Bun.stringWidth(lines[1]!)).toBe(160);
    expect(lines[2]).toBe("  jobs use 350 MB, reserve 1000 MB of the 1000 MB budget (memoryBudgetMb 1000); free 3.9 GB, kept back 100 MB");
    expect(lines[3]).toBe("  1 running, 1 paused, 1 waiting for memory, 1 waiting for a turn");
    const header = lines[5]!;
    expect(header.split(/\s{2,}/)).toEqual(["STATE", "PROJECT", "COMMAND", "MEMORY", "LAST MINUTE", "RESERVED", "ELAPSED", "ETA"]);
    const row = lines[6]!;
    expect(row).toStartWith("running  project  pytest -x tests");
    expect(row).toContain("████····  250 MB"); // 250 of its 500 MB reservation
    expect(row).toContain("500 MB");
    expect(row).toEndWith("30s  about 40 s left"); // the wording of `sep status` (formatAbout)
    expect(row.slice(header.indexOf("LAST MINUTE"), header.indexOf("RESERVED")).trimEnd()).toMatch(/▂+▅+█$/);
    expect(lines[7]).toStartWith("paused   project  cargo test");
    expect(lines[8]).toBe("         ↳ paused by the governor while memory is short: it resumes when memory allows, or once it is the oldest job");
    expect(lines[9]).toMatch(/^waiting  other\s+make build\s+-\s+700 MB\s+10s$/);
    expect(lines[10]).toBe("         ↳ waiting for memory: needs 700 MB (--reserve); 500 MB of the 1000 MB budget is reserved by 1 running job");
    expect(lines[12]).toBe("         ↳ waiting for pytest -x tests (pid 100) to finish");
    for (const line of lines) expect(Bun.stringWidth(line)).toBeLessThanOrEqual(160);
  });

  test.each<{ width: number; gone: string[] }>([
    // The narrowest forms: STATE 7, PROJECT 7, COMMAND 12, MEMORY 16, LAST MINUTE 11, RESERVED 8,
    // ELAPSED 7, ETA 15, two columns between each: 97 in all.
    { width: 97, gone: [] },
    { width: 96, gone: ["LAST MINUTE"] },
    { width: 80, gone: ["LAST MINUTE", "RESERVED"] },
    { width: 60, gone: ["LAST MINUTE", "RESERVED", "ETA"] },
    { width: 50, gone: ["LAST MINUTE", "RESERVED", "ETA", "ELAPSED"] },
    { width: 40, gone: ["LAST MINUTE", "RESERVED", "ETA", "ELAPSED", "PROJECT"] },
  ])("at $width columns the least needed columns go first ($gone), and no line is wider", ({ width, gone }) => {
    const lines = renderFrame(machine([running, atGate, forTurn]), history(), live(width));
    expect(Bun.stringWidth(lines[1]!)).toBe(width);
    for (const line of lines) expect(Bun.stringWidth(line)).toBeLessThanOrEqual(width);
    const header = lines[5]!.split(/\s{2,}/);
    const all = ["STATE", "PROJECT", "COMMAND", "MEMORY", "LAST MINUTE", "RESERVED", "ELAPSED", "ETA"];
    expect(header).toEqual(all.filter((column) => !gone.includes(column)));
  });

  test("too many jobs for the height: whole jobs only, then how many did not fit", () => {
    const jobs = Array.from({ length: 6 }, (_, i) => job({ key: `${i}:x`, state: "waiting", wait: atGate.wait }));
    const lines = renderFrame(machine(jobs), new MemoryHistory(), live(120, 12));
    // 6 heading lines, 2 lines a job: a third job would leave no row to say what is left.
    expect(lines.filter((line) => line.startsWith("waiting")).length).toBe(2);
    expect(lines.length).toBe(11);
    expect(lines[10]).toBe("… 4 more jobs (a taller window shows them)");
  });

  test("a plain snapshot: nothing cut, a 40-cell bar, no key hint and no sparkline", () => {
    const long = { ...running, name: `pytest ${"tests/very/long/path/".repeat(10)}` };
    const lines = renderFrame(machine([long]), new MemoryHistory(), { width: Infinity, height: Infinity, nowMs: NOW, intervalMs: 1000, live: false });
    expect(lines[0]).toBe(`sep top  ${new Date(NOW).toISOString()}`);
    expect(lines[1]).toMatch(/^budget \[[█▒·]{40}\]$/);
    expect(lines[5]).not.toContain("LAST MINUTE");
    expect(lines[6]).toContain(long.name);
  });

  test("the governor off: the machine's memory instead of a budget", () => {
    const view = { ...machine([]), governor: false, budgetBytes: 0, why: "off (memoryBudgetMb 0)" };
    const lines = renderFrame(view, new MemoryHistory(), live(60));
    expect(lines[1]).toBe(`memory [${meter(51, [{ bytes: 4000 * MB, char: "█" }], 8000 * MB)}]`);
    expect(lines[2]).toBe("  governor off (memoryBudgetMb 0): in use 3.9 GB of 7.8 GB,…");
    expect(lines[5]).toBe("no sep jobs on this machine");
  });

  test("command names cannot carry escape codes onto the screen", () => {
    const sly = { ...running, name: "evil\x1b[2J\x1b]0;title\x07 name\nnext" };
    const lines = renderFrame(machine([sly]), new MemoryHistory(), live(200));
    for (const line of lines) expect(line).not.toMatch(/[\x00-\x1f]/);
  });

  test("a waiter the gate would admit now says it starts at its next look", () => {
    const ready = { ...atGate, wait: { ...(atGate.wait as Extract<ViewJob["wait"], { for: "memory" }>), startsNow: true } };
    expect(whyText(ready)).toBe("waiting for memory: needs 700 MB, which fits now: it starts at its next look");
  });
});

describe("frameText", () => {
  const width = (text: string) => Bun.stringWidth(text);

  test("home, each line cleared to its end, the rest of the screen cleared: nothing is blanked before it is drawn", () => {
    expect(frameText(["ab", "c"], 10, 5, width)).toBe("\x1b[Hab\x1b[K\r\nc\x1b[K\r\n\x1b[J");
  });

  test("a line as wide as the terminal is not followed by a clear (it would erase its last column)", () => {
    expect(frameText(["abcde", "x"], 5, 2, width)).toBe("\x1b[Habcde\r\nx\x1b[K");
  });

  test("never more lines than rows (a line more would scroll the screen)", () => {
    expect(frameText(["1", "2", "3"], 10, 2, width)).toBe("\x1b[H1\x1b[K\r\n2\x1b[K");
  });
});
