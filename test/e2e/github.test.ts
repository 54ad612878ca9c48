// Under GITHUB_ACTIONS=true: output grouped, workflow commands from the job fenced off by a
// stop-commands token, failures annotated, a step summary appended — driven through dist/sep.
import { afterEach, beforeAll, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { cleanupAll, ensureBinary, FIXTURES, runSep, SEP, sepEnv, tempProject } from "./helpers.ts";

beforeAll(() => ensureBinary(), 300_000);
afterEach(() => cleanupAll());

/** Run sep with stdout and stderr on one pipe, as the Actions runner reads a step. */
async function merged(args: string[], cwd: string, env: Record<string, string | undefined>) {
  const quoted = [SEP, ...args].map((word) => `'${word.replace(/'/g, `'\\''`)}'`).join(" ");
  const proc = Bun.spawn(["sh", "-c", `${quoted} 2>&1`], { cwd, env, stdout: "pipe", stderr: "inherit" });
  const text = await new Response(proc.stdout).text();
  return { code: await proc.exited, lines: text.split("\n") };
}

function actionsEnv(dir: string) {
  return sepEnv({ GITHUB_ACTIONS: "true", CI: "true", GITHUB_STEP_SUMMARY: join(dir, "summary.md") });
}

test("a job's output sits inside its group, fenced by a fresh stop-commands token; a failure is annotated", async () => {
  const dir = tempProject();
  const env = actionsEnv(dir);
  const { code, lines } = await merged(["--", "sh", "-c", 'echo "::endgroup::"; echo "::error::forged"; exit 3'], dir, env);
  expect(code).toBe(3);
  const group = lines.findIndex((line) => line.startsWith("::group::"));
  expect(lines[group]).toBe(`::group::sh -c echo "::endgroup::"; echo "::error::forged"; exit 3`);
  const stop = /^::stop-commands::([0-9a-f]{32})$/.exec(lines[group + 1] ?? "");
  expect(stop).not.toBeNull();
  const token = stop![1]!;
  const resume = lines.indexOf(`::${token}::`);
  // The job's own workflow commands come between stop and resume, where the runner ignores them.
  expect(lines.slice(group + 2, resume)).toEqual(["::endgroup::", "::error::forged"]);
  expect(lines[resume + 1]).toBe("::endgroup::");
  expect(lines[resume + 2]).toBe(`::error title=sep%3A failure::sh -c echo "::endgroup::"; echo "::error::forged"; exit 3: failed, conclusion failure, exit code 3`);

  // Another run gets another token.
  const again = await merged(["--", "true"], dir, env);
  const other = again.lines.find((line) => line.startsWith("::stop-commands::"));
  expect(other).toBeDefined();
  expect(other).not.toBe(`::stop-commands::${token}`);
  expect(again.lines.some((line) => line.startsWith("::error"))).toBe(false);
});

test("group markers never reach stdout: the command's stdout stays its own", async () => {
  const dir = tempProject();
  const result = await runSep(["--", "printf", "data"], { cwd: dir, env: actionsEnv(dir) });
  expect(result.stdoutText).toBe("data");
  expect(result.stderr).toContain("::group::printf data");
});

test("memory and time kills say so in the annotation", async () => {
  const dir = tempProject();
  const env = actionsEnv(dir);
  const slow = await merged(["-t", "1", "--", "sleep", "30"], dir, env);
  expect(slow.code).toBe(124);
  expect(slow.lines).toContain("::error title=sep%3A timed_out::sleep 30: killed by sep at the time limit (limit 1.0s), conclusion timed_out, exit code 124");
  const hog = await merged(["-m", "50", "--", "python3", "-c", "import time; x = [b'1' * (1 << 20) for _ in range(400)]; time.sleep(5)"], dir, env);
  expect(hog.code).toBe(137);
  const annotation = hog.lines.find((line) => line.startsWith("::error title=sep%3A memory_exceeded::"));
  expect(annotation).toContain("killed by sep at the memory limit (used ");
  expect(annotation).toContain("limit 50 MB), conclusion memory_exceeded, exit code 137");
});

test("each run appends a table of its jobs to GITHUB_STEP_SUMMARY; a queue drain is one table", async () => {
  const dir = tempProject();
  const env = actionsEnv(dir);
  await runSep(["--", "true"], { cwd: dir, env });
  for (const argv of [["echo", "one"], ["sh", "-c", "exit 4"], ["echo", "three"]]) {
    expect((await runSep(["queue", "add", "--", ...argv], { cwd: dir, env })).exitCode).toBe(0);
  }
  const drain = await merged(["queue", "start"], dir, env);
  expect(drain.code).toBe(4);
  // Each job has its own group, labelled with its place in the run.
  expect(drain.lines.filter((line) => line.startsWith("::group::"))).toEqual(["::group::job 1/3: echo one", "::group::job 2/3: sh -c exit 4", "::group::job 3/3: echo three"]);
  const summary = readFileSync(join(dir, "summary.md"), "utf8");
  const headings = summary.split("\n").filter((line) => line.startsWith("### sep run"));
  expect(headings).toHaveLength(2);
  expect(headings[1]).toEndWith(": failure (exit 4)");
  const rows = summary.split("\n").filter((line) => /^\| \d+ \|/.test(line));
  expect(rows.map((row) => row.split("|")[3]!.trim())).toEqual(["success", "success", "failure", "success"]);
});

test("the step summary charts the jobs' memory over time in a mermaid xychart, with the memory limit", async () => {
  const dir = tempProject();
  const env = actionsEnv(dir);
  const alloc = join(FIXTURES, "alloc.py");
  for (const argv of [["python3", alloc, "120", "300", "0.5"], ["python3", alloc, "40", "300", "0.3"]]) {
    expect((await runSep(["queue", "add", "-m", "300", "--", ...argv], { cwd: dir, env })).exitCode).toBe(0);
  }
  expect((await runSep(["queue", "start"], { cwd: dir, env })).exitCode).toBe(0);
  const lines = readFileSync(join(dir, "summary.md"), "utf8").split("\n");
  const open = lines.indexOf("```mermaid");
  expect(open).toBeGreaterThan(0);
  const close = lines.indexOf("```", open);
  const chart = lines.slice(open + 1, close);
  expect(chart).toContain("xychart-beta");
  expect(chart.find((line) => line.includes("x-axis"))).toMatch(/^ {4}x-axis "seconds since the run started" 0 --> \d+(\.\d)?$/);
  expect(chart).toContain('    y-axis "MB" 0 --> 300');
  const series = (label: string) => {
    const line = chart.find((l) => l.startsWith(`    line "${label}" [`));
    return line ? (JSON.parse(line.slice(line.indexOf("["))) as number[]) : undefined;
  };
  const first = series("job 1")!;
  const second = series("job 2")!;
  expect(first).toHaveLength(60);
  expect(second).toHaveLength(60);
  // One time axis: the first job runs, then the second, each 0 while the other runs.
  expect(Math.max(...first)).toBeGreaterThan(120);
  expect(Math.max(...first)).toBeLessThan(300);
  expect(Math.max(...second)).toBeGreaterThan(40);
  expect(first.lastIndexOf(Math.max(...first))).toBeLessThan(second.indexOf(Math.max(...second)));
  expect(first.at(-1)).toBe(0);
  expect(second[0]).toBe(0);
  expect(series("limit")).toEqual(new Array(60).fill(300));
  expect(lines.slice(close + 1)).toContain("- red, flat: memory limit 300 MB");
}, 60_000);

test("outside GitHub Actions there are no workflow commands and no summary", async () => {
  const dir = tempProject();
  const result = await runSep(["--", "sh", "-c", "exit 2"], { cwd: dir, env: sepEnv({ GITHUB_STEP_SUMMARY: join(dir, "summary.md") }) });
  expect(result.exitCode).toBe(2);
  expect(result.stderr).not.toContain("::");
  expect(existsSync(join(dir, "summary.md"))).toBe(false);
});
