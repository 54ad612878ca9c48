// The atomify and runner keys of the configuration: defaults, every layer, and the errors a bad
// value gives (exit 2, naming the key, the value and where it was set).
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { resolveConfig } from "../../src/config.ts";
import { ConfigError } from "../../src/errors.ts";
import { cleanupProjects, project } from "./helpers.ts";

afterAll(cleanupProjects);

describe("defaults", () => {
  test("atomify on, per file, batches of 1, runners enforced from lock files", async () => {
    const config = await resolveConfig({ cwd: project({}), env: {} });
    expect(config).toMatchObject({ atomify: true, atomifyPytest: "file", atomifyBatchSize: 1, enforceRunners: true, runners: "auto" });
    expect(config.sources.atomifyBatchSize).toEqual({ kind: "default", origin: "default" });
  });
});

describe("layers: flag > env > .env.development > sep.config.ts", () => {
  test("environment variables", async () => {
    const config = await resolveConfig({
      cwd: project({}),
      env: { SEP_ATOMIFY: "0", SEP_ATOMIFY_PYTEST: "Test", SEP_ATOMIFY_BATCH_SIZE: "10", SEP_ENFORCE_RUNNERS: "no", SEP_RUNNERS: "uv, pnpm" },
    });
    expect(config).toMatchObject({ atomify: false, atomifyPytest: "test", atomifyBatchSize: 10, enforceRunners: false, runners: ["uv", "pnpm"] });
    expect(config.sources.runners).toEqual({ kind: "env", origin: "SEP_RUNNERS" });
  });

  test(".env.development, under the environment", async () => {
    const root = project({ ".env.development": "SEP_ATOMIFY_BATCH_SIZE=5\nSEP_RUNNERS=npm\n" });
    const config = await resolveConfig({ cwd: root, env: { SEP_ATOMIFY_BATCH_SIZE: "7" } });
    expect(config.atomifyBatchSize).toBe(7);
    expect(config.runners).toEqual(["npm"]);
    expect(config.sources.runners).toEqual({ kind: "dotenv", origin: join(root, ".env.development") });
  });

  test("sep.config.ts, with a runner list as an array", async () => {
    const root = project({
      "sep.config.ts": 'export default { atomify: false, atomifyPytest: "test", atomifyBatchSize: 50, enforceRunners: false, runners: ["poetry", "yarn"] };\n',
    });
    const config = await resolveConfig({ cwd: root, env: {} });
    expect(config).toMatchObject({ atomify: false, atomifyPytest: "test", atomifyBatchSize: 50, enforceRunners: false, runners: ["poetry", "yarn"] });
  });

  test("flags win", async () => {
    const config = await resolveConfig({ cwd: project({}), env: { SEP_ATOMIFY: "0", SEP_ENFORCE_RUNNERS: "0" }, flags: { atomify: "true", enforceRunners: "true" } });
    expect(config.atomify).toBe(true);
    expect(config.sources.atomify).toEqual({ kind: "flag", origin: "--atomify" });
    expect(config.sources.enforceRunners).toEqual({ kind: "flag", origin: "--enforce-runners" });
  });
});

describe("bad values stop sep with the key, the value and where", () => {
  const cases: { env: Record<string, string>; expect: string[] }[] = [
    { env: { SEP_ATOMIFY: "maybe" }, expect: ["SEP_ATOMIFY", '"maybe"', "environment"] },
    { env: { SEP_ATOMIFY_PYTEST: "tests" }, expect: ["SEP_ATOMIFY_PYTEST", '"file" or "test"', '"tests"'] },
    { env: { SEP_ATOMIFY_BATCH_SIZE: "0" }, expect: ["SEP_ATOMIFY_BATCH_SIZE", "from 1", '"0"'] },
    { env: { SEP_ATOMIFY_BATCH_SIZE: "2.5" }, expect: ["SEP_ATOMIFY_BATCH_SIZE", '"2.5"'] },
    { env: { SEP_ENFORCE_RUNNERS: "sometimes" }, expect: ["SEP_ENFORCE_RUNNERS", '"sometimes"'] },
    { env: { SEP_RUNNERS: "uv,poetry" }, expect: ["SEP_RUNNERS", "at most one", '"uv,poetry"'] },
    { env: { SEP_RUNNERS: "bogus" }, expect: ["SEP_RUNNERS", '"bogus"'] },
    { env: { SEP_RUNNERS: "" }, expect: ["SEP_RUNNERS", '""'] },
  ];
  for (const c of cases) {
    test(JSON.stringify(c.env), async () => {
      const error = await resolveConfig({ cwd: project({}), env: c.env }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).exitCode).toBe(2);
      for (const part of c.expect) expect((error as ConfigError).message).toContain(part);
    });
  }

  test("in sep.config.ts: types are checked", async () => {
    const root = project({ "sep.config.ts": 'export default { atomifyBatchSize: "10", runners: ["uv", 3] };\n' });
    const error = (await resolveConfig({ cwd: root, env: {} }).catch((e: unknown) => e)) as ConfigError;
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain('atomifyBatchSize must be a whole number from 1 to 100000 (got the string "10"');
    expect(error.message).toContain("runners must be");
  });

  test("atomify is a boolean: a nested { pytest } object is refused (the flat keys are atomifyPytest, atomifyBatchSize)", async () => {
    const root = project({ "sep.config.ts": 'export default { atomify: { pytest: "test" } };\n' });
    const error = (await resolveConfig({ cwd: root, env: {} }).catch((e: unknown) => e)) as ConfigError;
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain("atomify must be true or false");
  });
});
