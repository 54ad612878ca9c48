// A sep started inside a sep job (a git hook under `sep -- git commit`) runs inside that job's
// turn instead of waiting for it forever, and keeps the outer job's marker.
import { afterEach, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { cleanupAll, ensureBinary, readRun, runIds, runSep, SEP, sepEnv, startSep, tempProject, waitForFile } from "./helpers.ts";

beforeAll(() => ensureBinary(), 300_000);
afterEach(() => cleanupAll());

test("a nested sep runs at once, inside the outer job's turn, with the outer marker", async () => {
  const dir = tempProject();
  const inner = `'${SEP}' -- sh -c 'echo "inner $SEP_JOB_ID"; exit 3'`;
  const result = await runSep(["--wait-timeout", "20", "--", "sh", "-c", `${inner}; echo "inner exit $?"; echo "outer $SEP_JOB_ID"`], { cwd: dir });
  expect(result.exitCode).toBe(0);
  const lines = result.stdoutText.trim().split("\n");
  const outer = lines[2]!.replace("outer ", "");
  expect(lines).toEqual([`inner ${outer}`, "inner exit 3", `outer ${outer}`]);
  // Both runs are recorded; the inner one ran while the outer one held the only slot.
  const runs = runIds(join(dir, "logs")).map((id) => readRun(join(dir, "logs"), id).run);
  expect(runs.map((run) => run.exitCode).sort()).toEqual([0, 3]);
}, 30_000);

test("without the marker the same inner sep would have to wait: an outer holder blocks a plain sep", async () => {
  const dir = tempProject();
  // Control: a sep that is not inside the job gives up waiting (75), so the test above is not
  // passing just because the slot happened to be free.
  const inner = `env -u SEP_JOB_ID '${SEP}' --wait-timeout 0.5 -- true; echo "plain exit $?"`;
  const result = await runSep(["--", "sh", "-c", inner], { cwd: dir });
  expect(result.stdoutText.trim()).toBe("plain exit 75");
}, 30_000);

test("a SEP_JOB_ID that names no live holder (copied into a shell by hand) does not skip the line", async () => {
  const dir = tempProject();
  const holder = startSep(["--", "sh", "-c", "echo x > holding; sleep 3"], { cwd: dir });
  await waitForFile(join(dir, "holding"));
  const stale = await runSep(["--wait-timeout", "0.5", "--", "true"], { cwd: dir, env: sepEnv({ SEP_JOB_ID: "20200101-000000-000-abcdef.1" }) });
  expect(stale.exitCode).toBe(75);
  // The job that does run gets its own marker, not the stale one.
  await holder.done;
  const own = await runSep(["--", "sh", "-c", 'echo "$SEP_JOB_ID"'], { cwd: dir, env: sepEnv({ SEP_JOB_ID: "20200101-000000-000-abcdef.1" }) });
  expect(own.stdoutText.trim()).not.toBe("20200101-000000-000-abcdef.1");
  expect(own.stdoutText.trim()).toMatch(/^\d{8}-\d{6}-\d{3}-[0-9a-f]{6}\.1$/);
}, 30_000);
