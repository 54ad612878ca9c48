// Configuration through the binary: sep.config.ts with `import { defineConfig } from "sep"` and no
// node_modules, precedence flag > env > .env.development > sep.config.ts > default, `sep config`,
// and bad values stopping sep with exit 2 before anything runs.
import { afterEach, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, parse } from "node:path";
import { cleanupAll, ensureBinary, MB, onlyRun, runSep, sepEnv, tempDir, tempProject } from "./helpers.ts";

beforeAll(() => ensureBinary(), 300_000);
afterEach(() => cleanupAll());

/** No node_modules between the temp dir and /, so "sep" can only come from the binary itself. */
function assertNoNodeModulesAbove(dir: string): void {
  for (let d = dir; ; d = dirname(d)) {
    expect({ dir: d, nodeModules: existsSync(join(d, "node_modules")) }).toEqual({ dir: d, nodeModules: false });
    if (d === parse(d).root) break;
  }
}

async function configJson(cwd: string, env = sepEnv()) {
  const result = await runSep(["config", "--json"], { cwd, env });
  expect({ exitCode: result.exitCode, stderr: result.stderr }).toEqual({ exitCode: 0, stderr: "" });
  return JSON.parse(result.stdoutText) as {
    root: string;
    configFile: string | null;
    dotenvFile: string | null;
    values: Record<string, { value: unknown; source: string; origin: string; env: string }>;
  };
}

test('sep.config.ts with `import { defineConfig } from "sep"` works in the standalone binary', async () => {
  const dir = tempDir("sep-e2e-config-");
  assertNoNodeModulesAbove(dir);
  // No .git: the config file alone marks the project root.
  writeFileSync(
    join(dir, "sep.config.ts"),
    'import { defineConfig } from "sep";\n\nexport default defineConfig({ memoryLimitMb: 321, timeout: 77, slots: 2 });\n',
  );
  const config = await configJson(dir);
  expect(config.root).toBe(dir);
  expect(config.configFile).toBe(join(dir, "sep.config.ts"));
  expect(config.values.memoryLimitMb).toMatchObject({ value: 321, source: "config", origin: join(dir, "sep.config.ts") });
  expect(config.values.timeout).toMatchObject({ value: 77, source: "config" });
  expect(config.values.slots).toMatchObject({ value: 2, source: "config" });

  const run = await runSep(["--", "true"], { cwd: dir });
  expect(run.exitCode).toBe(0);
  expect(onlyRun(join(dir, "logs")).job.limits).toEqual({ timeoutMs: 77_000, memoryLimitBytes: 321 * MB });
  // Nothing was installed or cached into the project.
  expect(existsSync(join(dir, "node_modules"))).toBe(false);
}, 30_000);

test("sep.config.ts is found from a subdirectory of the project", async () => {
  const dir = tempDir("sep-e2e-config-");
  writeFileSync(join(dir, "sep.config.ts"), 'import { defineConfig } from "sep";\nexport default defineConfig({ timeout: 55 });\n');
  mkdirSync(join(dir, "src/deep"), { recursive: true });
  const config = await configJson(join(dir, "src/deep"));
  expect(config.root).toBe(dir);
  expect(config.values.timeout).toMatchObject({ value: 55, source: "config" });
  expect(config.values.logDir!.value).toBe(join(dir, "logs"));
}, 30_000);

test("sep.config.js and sep.config.json are loaded too", async () => {
  const js = tempProject();
  writeFileSync(join(js, "sep.config.mjs"), "export default { killGrace: 2 };\n");
  expect((await configJson(js)).values.killGrace).toMatchObject({ value: 2, source: "config" });
  const json = tempProject();
  writeFileSync(join(json, "sep.config.json"), '{ "killGrace": 3 }\n');
  expect((await configJson(json)).values.killGrace).toMatchObject({ value: 3, source: "config" });
}, 30_000);

describe("precedence: flag > environment > .env.development > sep.config.ts > default", () => {
  // Each layer sets TIMEOUT to its own value; removing layers from the top shows the next one.
  const cases: Array<{ name: string; flag: boolean; env: boolean; dotenv: boolean; config: boolean; timeoutMs: number; source: string }> = [
    { name: "flag wins over all", flag: true, env: true, dotenv: true, config: true, timeoutMs: 9_000, source: "flag" },
    { name: "env wins over .env.development and config", flag: false, env: true, dotenv: true, config: true, timeoutMs: 300_000, source: "env" },
    { name: ".env.development wins over config", flag: false, env: false, dotenv: true, config: true, timeoutMs: 200_000, source: "dotenv" },
    { name: "config wins over the default", flag: false, env: false, dotenv: false, config: true, timeoutMs: 100_000, source: "config" },
    { name: "default", flag: false, env: false, dotenv: false, config: false, timeoutMs: 86_400_000, source: "default" },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const dir = tempProject();
      if (c.config) writeFileSync(join(dir, "sep.config.ts"), 'import { defineConfig } from "sep";\nexport default defineConfig({ timeout: 100 });\n');
      if (c.dotenv) writeFileSync(join(dir, ".env.development"), "TIMEOUT=200\n");
      const env = sepEnv(c.env ? { TIMEOUT: "300" } : {});
      const run = await runSep([...(c.flag ? ["--timeout", "9"] : []), "--", "true"], { cwd: dir, env });
      expect(run.exitCode).toBe(0);
      expect(onlyRun(join(dir, "logs")).job.limits.timeoutMs).toBe(c.timeoutMs);
      if (!c.flag) expect((await configJson(dir, env)).values.timeout!.source).toBe(c.source);
    }, 30_000);
  }

  test("sep config --json shows every layer's value and source at once", async () => {
    const dir = tempProject();
    writeFileSync(
      join(dir, "sep.config.ts"),
      'import { defineConfig } from "sep";\nexport default defineConfig({ memoryLimitMb: 100, timeout: 100, killGrace: 3 });\n',
    );
    writeFileSync(join(dir, ".env.development"), "# comment\nTIMEOUT=200\nexport KILL_TIMEOUT=4\nSEP_SLOTS='3'\n");
    const config = await configJson(dir, sepEnv({ KILL_TIMEOUT: "6" }));
    expect(config.dotenvFile).toBe(join(dir, ".env.development"));
    expect(config.values.memoryLimitMb).toEqual({ value: 100, source: "config", origin: join(dir, "sep.config.ts"), env: "MEMORY_LIMIT_MB" });
    expect(config.values.timeout).toEqual({ value: 200, source: "dotenv", origin: join(dir, ".env.development"), env: "TIMEOUT" });
    expect(config.values.killGrace).toEqual({ value: 6, source: "env", origin: "KILL_TIMEOUT", env: "KILL_TIMEOUT" });
    expect(config.values.slots).toMatchObject({ value: 3, source: "dotenv" });
    expect(config.values.checkInterval).toEqual({ value: 0.25, source: "default", origin: "default", env: "CHECK_INTERVAL" });
    expect(config.values.lockDir!.value).toBe(join(dir, ".sequential-locks"));
    const keys = Object.keys(config.values);
    for (const key of ["memoryLimitMb", "checkInterval", "timeout", "pipelineTimeout", "killGrace", "verbose", "lockDir", "logLockFile", "logDir", "pytestMaxWorkers", "slots", "scope"]) {
      expect(keys).toContain(key);
    }
  }, 30_000);

  test("sep config (text) names each value's source", async () => {
    const dir = tempProject();
    writeFileSync(join(dir, ".env.development"), "TIMEOUT=200\n");
    const result = await runSep(["config"], { cwd: dir, env: sepEnv({ MEMORY_LIMIT_MB: "512" }) });
    expect(result.exitCode).toBe(0);
    const line = (key: string) => result.stdoutText.split("\n").find((l) => l.startsWith(`${key} `)) ?? "";
    expect(line("timeout")).toMatch(/200\s+dotenv/);
    expect(line("timeout")).toContain(join(dir, ".env.development"));
    expect(line("memoryLimitMb")).toMatch(/512\s+env MEMORY_LIMIT_MB/);
    expect(line("killGrace")).toMatch(/5\s+default/);
  }, 30_000);

  test(".env.development never overrides the environment, for a run's memory limit too", async () => {
    const dir = tempProject();
    writeFileSync(join(dir, ".env.development"), "MEMORY_LIMIT_MB=1000\n");
    const run = await runSep(["--", "true"], { cwd: dir, env: sepEnv({ MEMORY_LIMIT_MB: "64" }) });
    expect(run.exitCode).toBe(0);
    expect(onlyRun(join(dir, "logs")).job.limits.memoryLimitBytes).toBe(64 * MB);
  }, 30_000);
});

interface BadCase {
  name: string;
  env?: Record<string, string>;
  dotenv?: string;
  config?: string;
  flags?: string[];
  /** every one must appear in the message */
  mentions: (dir: string) => string[];
}

const DOTENV = (dir: string) => join(dir, ".env.development");
const CONFIG = (dir: string) => join(dir, "sep.config.ts");

const BAD: BadCase[] = [
  { name: "MEMORY_LIMIT_MB=abc in the environment", env: { MEMORY_LIMIT_MB: "abc" }, mentions: () => ["MEMORY_LIMIT_MB", "abc", "environment"] },
  { name: "MEMORY_LIMIT_MB=-5 in the environment", env: { MEMORY_LIMIT_MB: "-5" }, mentions: () => ["MEMORY_LIMIT_MB", "-5"] },
  { name: "CHECK_INTERVAL=0 in the environment", env: { CHECK_INTERVAL: "0" }, mentions: () => ["CHECK_INTERVAL", '"0"'] },
  { name: "SEP_SLOTS=0 in the environment", env: { SEP_SLOTS: "0" }, mentions: () => ["SEP_SLOTS", '"0"'] },
  { name: "SEP_SCOPE=galaxy in the environment", env: { SEP_SCOPE: "galaxy" }, mentions: () => ["SEP_SCOPE", "galaxy"] },
  { name: "VERBOSE=maybe in the environment", env: { VERBOSE: "maybe" }, mentions: () => ["VERBOSE", "maybe"] },
  { name: "MEMORY_LIMIT_MB=lots in .env.development", dotenv: "MEMORY_LIMIT_MB=lots\n", mentions: (d) => ["MEMORY_LIMIT_MB", "lots", DOTENV(d)] },
  { name: "KILL_TIMEOUT=-1 in .env.development", dotenv: "VERBOSE=0\nKILL_TIMEOUT=-1\n", mentions: (d) => ["KILL_TIMEOUT", "-1", `${DOTENV(d)}:2`] },
  { name: "a line that is not KEY=VALUE in .env.development", dotenv: "MEMORY_LIMIT_MB 300\n", mentions: (d) => ["MEMORY_LIMIT_MB 300", DOTENV(d)] },
  { name: "an unclosed quote in .env.development", dotenv: 'TIMEOUT="30\n', mentions: (d) => ["TIMEOUT", DOTENV(d)] },
  { name: "a bad .env.development value hidden by a good env value still fails", env: { TIMEOUT: "30" }, dotenv: "TIMEOUT=soon\n", mentions: (d) => ["TIMEOUT", "soon", DOTENV(d)] },
  { name: "an unknown key in sep.config.ts", config: "export default { memoryLimit: 5 };\n", mentions: (d) => ["memoryLimit", CONFIG(d)] },
  { name: "a string where sep.config.ts needs a number", config: 'export default { timeout: "30" };\n', mentions: (d) => ["timeout", '"30"', CONFIG(d)] },
  { name: "a negative memoryLimitMb in sep.config.ts", config: "export default { memoryLimitMb: -1 };\n", mentions: (d) => ["memoryLimitMb", "-1", CONFIG(d)] },
  { name: "scope: galaxy in sep.config.ts", config: 'export default { scope: "galaxy" };\n', mentions: (d) => ["scope", "galaxy", CONFIG(d)] },
  { name: "onFinish: 42 in sep.config.ts (a number where a shell command goes)", config: "export default { onFinish: 42 };\n", mentions: (d) => ["onFinish", "42", CONFIG(d)] },
  { name: "onFinish: an array in sep.config.ts", config: 'export default { onFinish: ["notify-send", "done"] };\n', mentions: (d) => ["onFinish", "notify-send", CONFIG(d)] },
  { name: "sep.config.ts that throws", config: 'throw new Error("config exploded");\n', mentions: (d) => ["config exploded", CONFIG(d)] },
  { name: "sep.config.ts with a syntax error", config: "export default { timeout: ;\n", mentions: (d) => [CONFIG(d)] },
  { name: "sep.config.ts that exports a number", config: "export default 5;\n", mentions: (d) => [CONFIG(d)] },
  { name: "--timeout abc", flags: ["--timeout", "abc"], mentions: () => ["--timeout", "abc"] },
  { name: "-m -5", flags: ["-m", "-5"], mentions: () => ["--memory-limit", "-5"] },
  { name: "--check-interval 0", flags: ["--check-interval", "0"], mentions: () => ["--check-interval", '"0"'] },
  { name: "--kill-grace x", flags: ["--kill-grace", "x"], mentions: () => ["--kill-grace", '"x"'] },
];

describe("bad configuration: exit 2, message names key, value and file; nothing runs, nothing is created", () => {
  for (const c of BAD) {
    test(c.name, async () => {
      const dir = tempProject();
      if (c.dotenv !== undefined) writeFileSync(DOTENV(dir), c.dotenv);
      if (c.config !== undefined) writeFileSync(CONFIG(dir), c.config);
      const env = sepEnv(c.env ?? {});
      const result = await runSep([...(c.flags ?? []), "--", "touch", "marker"], { cwd: dir, env });
      expect(result.exitCode).toBe(2);
      expect(result.stdoutText).toBe("");
      for (const text of c.mentions(dir)) expect(result.stderr).toContain(text);
      expect(existsSync(join(dir, "marker"))).toBe(false);
      expect(existsSync(join(dir, "logs"))).toBe(false);
      expect(existsSync(join(dir, ".sequential-locks"))).toBe(false);
      if (!c.flags) {
        // `sep config` reports the same problem the same way.
        const config = await runSep(["config", "--json"], { cwd: dir, env });
        expect(config.exitCode).toBe(2);
        for (const text of c.mentions(dir)) expect(config.stderr).toContain(text);
      }
    }, 30_000);
  }
});
