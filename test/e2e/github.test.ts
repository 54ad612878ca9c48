// Under GITHUB_ACTIONS=true: output grouped, workflow commands from the job fenced off by a
// stop-commands token, failures annotated, a step summary appended — driven through dist/sep.
import { afterEach, beforeAll, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { cleanupAll, ensureBinary, runSep, SEP, sepEnv, tempProject } from "./helpers.ts";

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

test("outside GitHub Actions there are no workflow commands and no summary", async () => {
  const dir = tempProject();
  const result = await runSep(["--", "sh", "-c", "exit 2"], { cwd: dir, env: sepEnv({ GITHUB_STEP_SUMMARY: join(dir, "summary.md") }) });
  expect(result.exitCode).toBe(2);
  expect(result.stderr).not.toContain("::");
  expect(existsSync(join(dir, "summary.md"))).toBe(false);
});
