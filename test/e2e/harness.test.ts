// The e2e harness itself: a test that ends (or fails) with its sep still running leaves no job on
// the machine. A SIGKILLed sep leaves its detached job running by design, so the cleanup stops sep
// with SIGTERM first, and sep stops its tree; a leaked job (a shell loop forking fifty times a
// second, once) skews every benchmark run on the machine after it.
import { afterEach, beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { cleanupAll, ensureBinary, isAlive, startSep, tempProject, waitForFile } from "./helpers.ts";

beforeAll(() => ensureBinary(), 300_000);
afterEach(() => cleanupAll());

let jobPid = 0;

test("a test that ends with its sep still running…", async () => {
  const dir = tempProject();
  startSep(["--", "sh", "-c", "echo $$ > pid; exec sleep 300"], { cwd: dir });
  await waitForFile(join(dir, "pid"));
  jobPid = Number(readFileSync(join(dir, "pid"), "utf8"));
  expect(isAlive(jobPid)).toBe(true);
});

test("…leaves no job behind once the cleanup ran", () => {
  expect(jobPid).toBeGreaterThan(0);
  expect(isAlive(jobPid)).toBe(false);
});
