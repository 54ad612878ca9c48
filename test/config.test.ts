// resolveConfig on real temp projects: defaults, precedence, root discovery, scope, sep.config.*,
// and the errors a person gets for bad values and broken files.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { configReport, formatConfigTable } from "../src/commands/config.ts";
import { CONFIG_KEYS, type ConfigFlags, type ConfigKey, FLAG_TO_KEY, parseDotenv, resolveConfig } from "../src/config.ts";
import { ConfigError } from "../src/errors.ts";

const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A temp project: `.git` marks the root (so nothing above /tmp can leak in), plus the given files. */
function project(files: Record<string, string> = {}): string {
  const root = mkdtempSync(join(tmpdir(), "sep-config-"));
  made.push(root);
  mkdirSync(join(root, ".git"));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, name)), { recursive: true });
    writeFileSync(join(root, name), text);
  }
  return root;
}

function listTree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" }).sort();
}

describe("defaults", () => {
  test("an empty project gets every default, from source 'default'", async () => {
    const root = project();
    const config = await resolveConfig({ cwd: root, env: {} });
    expect(config).toMatchObject({
      root,
      memoryLimitMb: 2048,
      checkInterval: 0.25,
      timeout: 86400,
      pipelineTimeout: 86400,
      killGrace: 5,
      verbose: false,
      lockDir: join(root, ".sequential-locks"),
      logLockFile: join(root, ".sep.log.lock"),
      logDir: join(root, "logs"),
      pytestMaxWorkers: 1,
      slots: 1,
      scope: "project",
      keepRuns: 100,
      ci: false,
      githubActions: false,
    });
    expect(config.configFile).toBeUndefined();
    expect(config.dotenvFile).toBeUndefined();
    for (const info of CONFIG_KEYS) expect(config.sources[info.key]).toEqual({ kind: "default", origin: "default" });
  });
});

describe("precedence: flag > env > .env.development > sep.config.ts > default", () => {
  // Each row offers a different value at every layer; removing the top layer one by one must reveal
  // the next. `values` are the expected results at [flag, env, dotenv, config] level; a key with
  // no command-line flag (flag: undefined) skips the flag level.
  const rows: {
    key: ConfigKey;
    env: string;
    flag: string | undefined;
    texts: [flag: string, env: string, dotenv: string];
    config: string;
    values: [unknown, unknown, unknown, unknown];
  }[] = [
    { key: "timeout", env: "TIMEOUT", flag: "--timeout", texts: ["40", "30", "20"], config: "10", values: [40, 30, 20, 10] },
    { key: "memoryLimitMb", env: "MEMORY_LIMIT_MB", flag: "--memory-limit", texts: ["400", "300", "200"], config: "100", values: [400, 300, 200, 100] },
    { key: "checkInterval", env: "CHECK_INTERVAL", flag: "--check-interval", texts: ["0.4", ".3", "0.2"], config: "0.1", values: [0.4, 0.3, 0.2, 0.1] },
    { key: "killGrace", env: "KILL_TIMEOUT", flag: "--kill-grace", texts: ["4", "3", "2.5"], config: "1", values: [4, 3, 2.5, 1] },
    { key: "pipelineTimeout", env: "PIPELINE_TIMEOUT", flag: "--pipeline-timeout", texts: ["0", "3", "2"], config: "1", values: [0, 3, 2, 1] },
    { key: "verbose", env: "VERBOSE", flag: "--verbose", texts: ["false", "YES", "0"], config: "true", values: [false, true, false, true] },
    { key: "slots", env: "SEP_SLOTS", flag: undefined, texts: ["4", "3", "2"], config: "64", values: [4, 3, 2, 64] },
    { key: "pytestMaxWorkers", env: "PYTEST_MAX_WORKERS", flag: undefined, texts: ["4", "3", "2"], config: "1", values: [4, 3, 2, 1] },
    { key: "logDir", env: "SEP_LOG_DIR", flag: undefined, texts: ["f", "e", "d"], config: '"c"', values: ["f", "e", "d", "c"] },
    { key: "scope", env: "SEP_SCOPE", flag: undefined, texts: ["project", "Machine", "project"], config: '"machine"', values: ["project", "machine", "project", "machine"] },
    { key: "keepRuns", env: "SEP_KEEP_RUNS", flag: "--keep", texts: ["0", "30", "20"], config: "10", values: [0, 30, 20, 10] },
  ];

  for (const row of rows) {
    test(row.key, async () => {
      const root = project({
        "sep.config.ts": `export default { ${row.key}: ${row.config} };\n`,
        ".env.development": `${row.env}=${row.texts[2]}\n`,
      });
      const dotenv = join(root, ".env.development");
      const configFile = join(root, "sep.config.ts");
      const flags: ConfigFlags = { [row.key]: row.texts[0] };
      const env = { [row.env]: row.texts[1] };
      const resolvedValue = (c: Awaited<ReturnType<typeof resolveConfig>>): unknown =>
        row.key === "logDir" ? c.logDir.slice(root.length + 1) : c[row.key];

      const levels = [
        { options: { flags, env }, source: { kind: "flag", origin: row.flag } },
        { options: { env }, source: { kind: "env", origin: row.env } },
        { options: { env: {} }, source: { kind: "dotenv", origin: dotenv } },
      ];
      for (const [i, level] of levels.entries()) {
        if (i === 0 && row.flag === undefined) continue;
        const config = await resolveConfig({ cwd: root, ...level.options });
        expect(resolvedValue(config)).toEqual(row.values[i]);
        expect(config.sources[row.key]).toEqual(level.source as never);
      }
      rmSync(dotenv);
      const fromFile = await resolveConfig({ cwd: root, env: {} });
      expect(resolvedValue(fromFile)).toEqual(row.values[3]);
      expect(fromFile.sources[row.key]).toEqual({ kind: "config", origin: configFile });
    });
  }

  test(".env.development never overrides the environment, and process.env is not touched", async () => {
    const root = project({ ".env.development": "MEMORY_LIMIT_MB=222\nSEP_TEST_ONLY_KEY=1\nCI=true\nGITHUB_ACTIONS=true\n" });
    const config = await resolveConfig({ cwd: root, env: { MEMORY_LIMIT_MB: "111" } });
    expect(config.memoryLimitMb).toBe(111);
    expect(config.sources.memoryLimitMb).toEqual({ kind: "env", origin: "MEMORY_LIMIT_MB" });
    expect(process.env.SEP_TEST_ONLY_KEY).toBeUndefined();
    // CI detection reads the real environment only
    expect(config.ci).toBe(false);
    expect(config.githubActions).toBe(false);
  });

  test("flags left undefined fall through to the next layer", async () => {
    const root = project();
    const config = await resolveConfig({ cwd: root, env: { TIMEOUT: "7" }, flags: { timeout: undefined, verbose: true } });
    expect(config.timeout).toBe(7);
    expect(config.verbose).toBe(true);
    expect(config.sources.verbose).toEqual({ kind: "flag", origin: "--verbose" });
  });
});

describe("FLAG_TO_KEY: the flag → key mapping, derived once from CONFIG_KEYS", () => {
  test("every key with a flag, by the flag's name without --", () => {
    expect(FLAG_TO_KEY).toEqual({
      "memory-limit": "memoryLimitMb",
      "on-finish": "onFinish",
      "check-interval": "checkInterval",
      timeout: "timeout",
      "pipeline-timeout": "pipelineTimeout",
      "kill-grace": "killGrace",
      verbose: "verbose",
      keep: "keepRuns",
      atomify: "atomify",
      "enforce-runners": "enforceRunners",
      "detach-after": "detachAfter",
    });
  });

  const noFlag = CONFIG_KEYS.filter((info) => info.flag === undefined);
  test.each(noFlag.map((info) => [info.key] as const))("%s has no flag: a flag value for it is not read", async (key) => {
    const root = project();
    const config = await resolveConfig({ cwd: root, env: {}, flags: { [key]: "4" } });
    expect(config.sources[key]).toEqual({ kind: "default", origin: "default" });
  });
});

describe("project root", () => {
  test("found from a subdirectory; state paths resolve against the root, absolute paths kept", async () => {
    const root = project({
      ".env.development": "SEP_LOG_DIR=./out/logs\nWAIT_ALL_LOG_LOCK=/var/tmp/sep-test.lock\n",
      "a/b/c/.keep": "",
    });
    const config = await resolveConfig({ cwd: join(root, "a", "b", "c"), env: {} });
    expect(config.root).toBe(root);
    expect(config.logDir).toBe(join(root, "out", "logs"));
    expect(config.lockDir).toBe(join(root, ".sequential-locks"));
    expect(config.logLockFile).toBe("/var/tmp/sep-test.lock");
    expect(config.dotenvFile).toBe(join(root, ".env.development"));
  });

  test("relative env values resolve against the root, not the cwd", async () => {
    const root = project({ "sub/.keep": "" });
    const config = await resolveConfig({ cwd: join(root, "sub"), env: { SEQUENTIAL_LOCK_BASE_DIR: "locks" } });
    expect(config.lockDir).toBe(join(root, "locks"));
  });
});

describe("machine scope", () => {
  const cases: { name: string; env: Record<string, string>; files?: Record<string, string>; lockDir: (root: string) => string }[] = [
    { name: "XDG_RUNTIME_DIR", env: { SEP_SCOPE: "machine", XDG_RUNTIME_DIR: "/run/user/4242" }, lockDir: () => "/run/user/4242/sep" },
    { name: "HOME fallback", env: { SEP_SCOPE: "machine", HOME: "/home/someone" }, lockDir: () => "/home/someone/.local/state/sep" },
    {
      name: "an explicit lockDir wins",
      env: { SEP_SCOPE: "machine", XDG_RUNTIME_DIR: "/run/user/4242" },
      files: { "sep.config.ts": 'export default { lockDir: "./shared-locks" };\n' },
      lockDir: (root) => join(root, "shared-locks"),
    },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const root = project(c.files);
      const config = await resolveConfig({ cwd: root, env: c.env });
      expect(config.scope).toBe("machine");
      expect(config.lockDir).toBe(c.lockDir(root));
      expect(config.logDir).toBe(join(root, "logs"));
    });
  }
});

describe("sep.config.*", () => {
  test('`import { defineConfig } from "sep"` works in a real sep.config.ts', async () => {
    const root = project({
      "sep.config.ts": [
        'import { defineConfig } from "sep";',
        'import type { Unused } from "sep";',
        'export default defineConfig({ slots: 3, verbose: true, scope: "project", checkInterval: 0.05 });',
        "",
      ].join("\n"),
    });
    const config = await resolveConfig({ cwd: root, env: {} });
    expect(config).toMatchObject({ slots: 3, verbose: true, checkInterval: 0.05 });
    expect(config.configFile).toBe(join(root, "sep.config.ts"));
  });

  test("a function export and c12's $production block (NODE_ENV from the given env)", async () => {
    const root = project({
      "sep.config.ts": "export default () => ({ timeout: 60, $production: { timeout: 600 } });\n",
    });
    expect((await resolveConfig({ cwd: root, env: {} })).timeout).toBe(60);
    const other = project({ "sep.config.ts": "export default () => ({ timeout: 60, $production: { timeout: 600 } });\n" });
    expect((await resolveConfig({ cwd: other, env: { NODE_ENV: "production" } })).timeout).toBe(600);
  });

  test("sep.config.cjs", async () => {
    const root = project({ "sep.config.cjs": "module.exports = { killGrace: 0.5 };\n" });
    expect((await resolveConfig({ cwd: root, env: {} })).killGrace).toBe(0.5);
  });

  test("sep.config.json", async () => {
    const root = project({ "sep.config.json": '{ "memoryLimitMb": 512 }\n' });
    const config = await resolveConfig({ cwd: root, env: {} });
    expect(config.memoryLimitMb).toBe(512);
    expect(config.sources.memoryLimitMb.origin).toBe(join(root, "sep.config.json"));
  });

  test("resolving (as `sep config` does) creates no files or directories", async () => {
    const root = project({
      "sep.config.ts": 'import { defineConfig } from "sep";\nexport default defineConfig({ slots: 2 });\n',
      ".env.development": "VERBOSE=1\n",
    });
    const before = listTree(root);
    const report = configReport(await resolveConfig({ cwd: root, env: {} }));
    formatConfigTable(report);
    expect(listTree(root)).toEqual(before);
  });
});

describe("CI detection", () => {
  const cases: [Record<string, string>, boolean, boolean][] = [
    [{}, false, false],
    [{ CI: "true" }, true, false],
    [{ CI: "1" }, true, false],
    [{ CI: "false" }, false, false],
    [{ CI: "0" }, false, false],
    [{ CI: "true", GITHUB_ACTIONS: "true" }, true, true],
  ];
  for (const [env, ci, githubActions] of cases) {
    test(JSON.stringify(env), async () => {
      const config = await resolveConfig({ cwd: project(), env });
      expect([config.ci, config.githubActions]).toEqual([ci, githubActions]);
    });
  }
});

describe("parseDotenv", () => {
  test("the syntax it accepts", () => {
    const text = [
      "# a comment",
      "",
      "PLAIN=1",
      "export EXPORTED=2",
      "  SPACED = 3  ",
      'DOUBLE="a b # not a comment"',
      "SINGLE='x\\ny'",
      'ESCAPES="line1\\nline2 \\"q\\""',
      "TRAILING=value # a comment",
      "HASH=a#b",
      "EMPTY=",
      'QUOTED_COMMENT="v" # comment',
      'MULTI="first',
      'second"',
      "PLAIN=4",
      "WINDOWS=crlf\r",
      "",
    ].join("\n");
    const parsed = Object.fromEntries([...parseDotenv(text, "/p/.env.development")].map(([k, v]) => [k, v.value]));
    expect(parsed).toEqual({
      PLAIN: "4",
      EXPORTED: "2",
      SPACED: "3",
      DOUBLE: "a b # not a comment",
      SINGLE: "x\\ny",
      ESCAPES: 'line1\nline2 "q"',
      TRAILING: "value",
      HASH: "a#b",
      EMPTY: "",
      QUOTED_COMMENT: "v",
      MULTI: "first\nsecond",
      WINDOWS: "crlf",
    });
  });
});

describe("bad values and broken files: ConfigError, exit 2, naming key, value and file", () => {
  type BadCase = {
    name: string;
    files?: Record<string, string>;
    env?: Record<string, string>;
    flags?: ConfigFlags;
    /** substrings of the message; {dotenv} and {config} stand for the files' absolute paths */
    expect: string[];
  };
  const dotenv = (line: string) => ({ ".env.development": `# sep\n${line}\n` });
  const config = (text: string) => ({ "sep.config.ts": text });
  const cases: BadCase[] = [
    { name: "MEMORY_LIMIT_MB=abc", files: dotenv("MEMORY_LIMIT_MB=abc"), expect: ["MEMORY_LIMIT_MB", '"abc"', "{dotenv}:2", "whole number"] },
    { name: "MEMORY_LIMIT_MB=-5", files: dotenv("MEMORY_LIMIT_MB=-5"), expect: ["MEMORY_LIMIT_MB", '"-5"', "{dotenv}"] },
    { name: "MEMORY_LIMIT_MB=1.5", files: dotenv("MEMORY_LIMIT_MB=1.5"), expect: ["MEMORY_LIMIT_MB", '"1.5"', "{dotenv}"] },
    { name: "CHECK_INTERVAL=0", files: dotenv("CHECK_INTERVAL=0"), expect: ["CHECK_INTERVAL", '"0"', "{dotenv}", "> 0"] },
    { name: "CHECK_INTERVAL=3601", files: dotenv("CHECK_INTERVAL=3601"), expect: ["CHECK_INTERVAL", '"3601"', "{dotenv}"] },
    { name: "TIMEOUT=-1 in the environment", env: { TIMEOUT: "-1" }, expect: ["TIMEOUT", '"-1"', "in the environment"] },
    { name: "TIMEOUT=1e3", files: dotenv("TIMEOUT=1e3"), expect: ["TIMEOUT", '"1e3"', "{dotenv}"] },
    { name: "TIMEOUT=NaN", files: dotenv("TIMEOUT=NaN"), expect: ["TIMEOUT", '"NaN"', "{dotenv}"] },
    { name: "TIMEOUT=Infinity", files: dotenv("TIMEOUT=Infinity"), expect: ["TIMEOUT", '"Infinity"', "{dotenv}"] },
    { name: "TIMEOUT=12abc", files: dotenv("TIMEOUT=12abc"), expect: ["TIMEOUT", '"12abc"', "{dotenv}"] },
    { name: "TIMEOUT past setTimeout's range", files: dotenv("TIMEOUT=3000000"), expect: ["TIMEOUT", '"3000000"', "{dotenv}", "2147483"] },
    { name: "PIPELINE_TIMEOUT=' '", files: dotenv("PIPELINE_TIMEOUT=' '"), expect: ["PIPELINE_TIMEOUT", '" "', "{dotenv}"] },
    { name: "KILL_TIMEOUT=", files: dotenv("KILL_TIMEOUT="), expect: ["KILL_TIMEOUT", '""', "{dotenv}"] },
    { name: "SEP_SLOTS=0", files: dotenv("SEP_SLOTS=0"), expect: ["SEP_SLOTS", '"0"', "{dotenv}", "from 1 to 64"] },
    { name: "SEP_SLOTS=65", files: dotenv("SEP_SLOTS=65"), expect: ["SEP_SLOTS", '"65"', "{dotenv}"] },
    { name: "PYTEST_MAX_WORKERS=0", files: dotenv("PYTEST_MAX_WORKERS=0"), expect: ["PYTEST_MAX_WORKERS", '"0"', "{dotenv}"] },
    { name: "SEP_SCOPE=galaxy", files: dotenv("SEP_SCOPE=galaxy"), expect: ["SEP_SCOPE", '"galaxy"', "{dotenv}", '"project" or "machine"'] },
    { name: "SEP_KEEP_RUNS=-1", files: dotenv("SEP_KEEP_RUNS=-1"), expect: ["SEP_KEEP_RUNS", '"-1"', "{dotenv}", "≥ 0"] },
    { name: "SEP_KEEP_RUNS=2.5", files: dotenv("SEP_KEEP_RUNS=2.5"), expect: ["SEP_KEEP_RUNS", '"2.5"', "{dotenv}"] },
    { name: "flag --keep=many", flags: { keepRuns: "many" }, expect: ["--keep", '"many"', "command line"] },
    { name: "VERBOSE=maybe", files: dotenv("VERBOSE=maybe"), expect: ["VERBOSE", '"maybe"', "{dotenv}", "yes, no"] },
    { name: "empty SEP_LOG_DIR", files: dotenv('SEP_LOG_DIR=""'), expect: ["SEP_LOG_DIR", '""', "{dotenv}", "non-empty path"] },
    { name: "malformed .env.development line", files: dotenv("MEMORY_LIMIT_MB 300"), expect: ["{dotenv}", "line 2", '"MEMORY_LIMIT_MB 300"'] },
    { name: "unclosed quote", files: dotenv('SEP_LOG_DIR="./logs'), expect: ["{dotenv}", "SEP_LOG_DIR", 'unclosed "'] },
    { name: "text after a closing quote", files: dotenv('SEP_LOG_DIR="./logs" extra'), expect: ["{dotenv}", "SEP_LOG_DIR", "extra"] },
    {
      name: "a bad file value hidden by the environment still fails",
      files: dotenv("MEMORY_LIMIT_MB=abc"),
      env: { MEMORY_LIMIT_MB: "300" },
      expect: ["MEMORY_LIMIT_MB", '"abc"', "{dotenv}"],
    },
    { name: "flag --timeout=abc", flags: { timeout: "abc" }, expect: ["--timeout", '"abc"', "command line"] },
    { name: "flag --memory-limit=-5", flags: { memoryLimitMb: "-5" }, expect: ["--memory-limit", '"-5"', "command line"] },
    {
      name: "unknown key in sep.config.ts, with a suggestion",
      files: config("export default { memoryLimit: 300 };\n"),
      expect: ['"memoryLimit"', "{config}", 'did you mean "memoryLimitMb"'],
    },
    {
      name: "an env-style key in sep.config.ts",
      files: config("export default { MEMORY_LIMIT_MB: 300 };\n"),
      expect: ['"MEMORY_LIMIT_MB"', "{config}", 'did you mean "memoryLimitMb"'],
    },
    { name: "sep.config.ts that throws", files: config('throw new Error("boom in config");\n'), expect: ["{config}", "boom in config"] },
    { name: "sep.config.ts with a syntax error", files: config("export default { slots: 2,, };\n"), expect: ["{config}", "failed to load"] },
    { name: "sep.config.ts exporting a number", files: config("export default 42;\n"), expect: ["{config}", "must export an object", "42"] },
    { name: "sep.config.ts exporting null", files: config("export default null;\n"), expect: ["{config}", "null"] },
    { name: "sep.config.ts exporting an array", files: config("export default [1];\n"), expect: ["{config}", "must export an object", "array"] },
    { name: 'memoryLimitMb: "300" (a string)', files: config('export default { memoryLimitMb: "300" };\n'), expect: ["memoryLimitMb", 'the string "300"', "{config}"] },
    { name: "verbose: 1 in sep.config.ts", files: config("export default { verbose: 1 };\n"), expect: ["verbose", "got 1", "{config}", "true or false"] },
    { name: "slots: 2.5 in sep.config.ts", files: config("export default { slots: 2.5 };\n"), expect: ["slots", "2.5", "{config}"] },
    { name: 'scope: "galaxy" in sep.config.ts', files: config('export default { scope: "galaxy" };\n'), expect: ["scope", '"galaxy"', "{config}"] },
    { name: 'lockDir: "" in sep.config.ts', files: config('export default { lockDir: "" };\n'), expect: ["lockDir", '""', "{config}"] },
  ];

  for (const c of cases) {
    test(c.name, async () => {
      const root = project(c.files);
      let caught: unknown;
      try {
        await resolveConfig({ cwd: root, env: c.env ?? {}, flags: c.flags });
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(ConfigError);
      const error = caught as ConfigError;
      expect(error.exitCode).toBe(2);
      for (const part of c.expect) {
        const wanted = part.replace("{dotenv}", join(root, ".env.development")).replace("{config}", join(root, "sep.config.ts"));
        expect(error.message).toContain(wanted);
      }
    });
  }

  test("every bad value is reported at once", async () => {
    const root = project({ ".env.development": "MEMORY_LIMIT_MB=abc\nSEP_SLOTS=0\n" });
    const error = await resolveConfig({ cwd: root, env: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message.split("\n")).toHaveLength(2);
  });
});

describe("sep config output", () => {
  test("--json shape: root, files and every key with value, source and origin", async () => {
    const root = project({ ".env.development": "TIMEOUT=30\n" });
    const report = configReport(await resolveConfig({ cwd: root, env: { SEP_SLOTS: "2" }, flags: { killGrace: "1" } }));
    expect(report.root).toBe(root);
    expect(report.configFile).toBeNull();
    expect(report.dotenvFile).toBe(join(root, ".env.development"));
    expect(Object.keys(report.values)).toEqual(CONFIG_KEYS.map((info) => info.key));
    expect(report.values.timeout).toEqual({ value: 30, source: "dotenv", origin: join(root, ".env.development"), env: "TIMEOUT" });
    expect(report.values.slots).toEqual({ value: 2, source: "env", origin: "SEP_SLOTS", env: "SEP_SLOTS" });
    expect(report.values.killGrace).toEqual({ value: 1, source: "flag", origin: "--kill-grace", env: "KILL_TIMEOUT" });
    expect(report.values.logDir).toEqual({ value: join(root, "logs"), source: "default", origin: "default", env: "SEP_LOG_DIR" });

    const table = formatConfigTable(report);
    for (const info of CONFIG_KEYS) expect(table).toContain(info.key);
    expect(table).toMatch(/timeout\s+TIMEOUT\s+30\s+dotenv /);
  });
});

describe("auto values resolved from the machine and the environment", () => {
  test.each([
    ["no CLAUDECODE: off", {}, 0],
    ["CLAUDECODE=1: 100 s, inside Claude Code's ~2 min shell time-out", { CLAUDECODE: "1" }, 100],
    ["an explicit value wins", { CLAUDECODE: "1", SEP_DETACH_AFTER: "30" }, 30],
    ["0 turns it off under Claude Code too", { CLAUDECODE: "1", SEP_DETACH_AFTER: "0" }, 0],
  ] as const)("detachAfter: %s", async (_label, env, seconds) => {
    const config = await resolveConfig({ cwd: project(), env: { ...env } });
    expect(config.detachAfter).toBe(seconds);
  });

  test("slots: auto is one slot per CPU (the governor decides how many run), a number is kept", async () => {
    expect((await resolveConfig({ cwd: project(), env: { SEP_SLOTS: "auto" } })).slots).toBe(Math.min(64, navigator.hardwareConcurrency));
    expect((await resolveConfig({ cwd: project(), env: { SEP_SLOTS: "3" } })).slots).toBe(3);
    await expect(resolveConfig({ cwd: project(), env: { SEP_SLOTS: "many" } })).rejects.toThrow(/SEP_SLOTS must be "auto" or a whole number from 1 to 64/);
  });
});

describe("onFinish: a shell command line, taken as written", () => {
  test.each([
    ["none by default", {}, {}, ""],
    ["from the environment, newlines and $ kept", { SEP_ON_FINISH: 'notify-send "$SEP_RUN_TITLE"\necho done' }, {}, 'notify-send "$SEP_RUN_TITLE"\necho done'],
    ["blank means none", { SEP_ON_FINISH: "   " }, {}, ""],
    ["--on-finish '' switches a configured one off", { SEP_ON_FINISH: "echo hi" }, { onFinish: "" }, ""],
  ] as const)("%s", async (_label, env, flags, value) => {
    const config = await resolveConfig({ cwd: project(), env: { ...env }, flags: { ...flags } });
    expect(config.onFinish).toBe(value);
  });

  test("in sep.config.ts it must be a string", async () => {
    const root = project({ "sep.config.ts": "export default { onFinish: true };\n" });
    await expect(resolveConfig({ cwd: root, env: {} })).rejects.toThrow(/onFinish must be a shell command line \(a string, run by sh -c; empty = none\) \(got true in .*sep\.config\.ts\)/);
  });
});
