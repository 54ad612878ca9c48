// `sep init`: state dirs, .env.development (once), .gitignore entries (once each), idempotent.
import { afterEach, beforeAll, expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cleanupAll, ensureBinary, runSep, sepEnv, tempProject } from "./helpers.ts";

beforeAll(() => ensureBinary(), 300_000);
afterEach(() => cleanupAll());

const ENTRIES = ["logs/", ".sequential-locks/", ".sep.log.lock"];

function count(lines: string[], entry: string): number {
  const bare = (s: string) => s.trim().replace(/^\//, "").replace(/\/$/, "");
  return lines.filter((line) => bare(line) === bare(entry)).length;
}

test("sep init twice: one of each .gitignore entry, .env.development created once and then left alone", async () => {
  const dir = tempProject();
  const first = await runSep(["init"], { cwd: dir });
  expect(first.exitCode).toBe(0);
  expect(first.stdoutText).toBe("");
  const dotenv = join(dir, ".env.development");
  const original = readFileSync(dotenv, "utf8");
  for (const key of ["MEMORY_LIMIT_MB", "CHECK_INTERVAL", "TIMEOUT", "PIPELINE_TIMEOUT", "KILL_TIMEOUT", "VERBOSE", "SEQUENTIAL_LOCK_BASE_DIR", "WAIT_ALL_LOG_LOCK", "SEP_LOG_DIR", "PYTEST_MAX_WORKERS"]) {
    expect(original).toMatch(new RegExp(`^${key}=`, "m"));
  }
  for (const name of ["logs", ".sequential-locks"]) {
    expect(statSync(join(dir, name)).isDirectory()).toBe(true);
    expect(statSync(join(dir, name)).mode & 0o777).toBe(0o700);
  }
  // The user edits the file; a second init must keep the edit.
  writeFileSync(dotenv, `${original}# my own line\nTIMEOUT=60\n`);
  const second = await runSep(["init"], { cwd: dir });
  expect(second.exitCode).toBe(0);
  expect(readFileSync(dotenv, "utf8")).toBe(`${original}# my own line\nTIMEOUT=60\n`);

  const lines = readFileSync(join(dir, ".gitignore"), "utf8").split("\n");
  for (const entry of ENTRIES) expect({ entry, n: count(lines, entry) }).toEqual({ entry, n: 1 });

  // The written file is valid configuration for sep itself.
  const config = await runSep(["config", "--json"], { cwd: dir });
  expect(config.exitCode).toBe(0);
  expect(JSON.parse(config.stdoutText).values.timeout).toMatchObject({ value: 60, source: "dotenv" });
}, 30_000);

test("sep init keeps an existing .gitignore and does not repeat entries it already has", async () => {
  const dir = tempProject();
  writeFileSync(join(dir, ".gitignore"), "node_modules\n/logs\n");
  expect((await runSep(["init"], { cwd: dir })).exitCode).toBe(0);
  expect((await runSep(["init"], { cwd: dir })).exitCode).toBe(0);
  const text = readFileSync(join(dir, ".gitignore"), "utf8");
  expect(text.startsWith("node_modules\n/logs\n")).toBe(true);
  const lines = text.split("\n");
  for (const entry of ENTRIES) expect({ entry, n: count(lines, entry) }).toEqual({ entry, n: 1 });
}, 30_000);

test("sep init from a subdirectory sets up the project root", async () => {
  const dir = tempProject();
  const sub = join(dir, "pkg");
  mkdirSync(sub);
  expect((await runSep(["init"], { cwd: sub })).exitCode).toBe(0);
  expect(statSync(join(dir, ".env.development")).isFile()).toBe(true);
  expect(statSync(join(dir, ".gitignore")).isFile()).toBe(true);
  expect(readdirSync(sub)).toEqual([]);
}, 30_000);

test("sep init --ci writes CI values and prints a workflow on stdout; --force overwrites", async () => {
  const dir = tempProject();
  const ci = await runSep(["init", "--ci"], { cwd: dir, env: sepEnv() });
  expect(ci.exitCode).toBe(0);
  expect(ci.stdoutText).toContain("sep");
  expect(readFileSync(join(dir, ".env.development"), "utf8")).toMatch(/^VERBOSE=1$/m);
  writeFileSync(join(dir, ".env.development"), "TIMEOUT=5\n");
  expect((await runSep(["init", "--force"], { cwd: dir })).exitCode).toBe(0);
  expect(readFileSync(join(dir, ".env.development"), "utf8")).toMatch(/^TIMEOUT=86400$/m);
}, 30_000);
