// `sep doctor`'s run of every check on real temp projects: what it finds, that a bad config is a
// finding (never a crash or exit 2), and that doctor creates nothing.
import { afterAll, describe, expect, test } from "bun:test";
import { lstatSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { initProject } from "../../src/commands/init.ts";
import { doctorExitCode, type Finding, runDoctor } from "../../src/doctor/index.ts";
import { cleanupTempDirs, scratch } from "./helpers.ts";

afterAll(cleanupTempDirs);

/** A git project holding the given files. */
function project(files: Record<string, string> = {}): string {
  const root = scratch();
  mkdirSync(join(root, ".git"));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, ".."), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

/** Every path under dir with its type, size and mtime: any change shows. */
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (path: string) => {
    for (const name of readdirSync(path).sort()) {
      const full = join(path, name);
      const stat = lstatSync(full);
      out.push(`${full} ${stat.mode} ${stat.size} ${stat.mtimeMs}`);
      if (stat.isDirectory()) walk(full);
    }
  };
  walk(dir);
  return out;
}

const byCheck = (findings: Finding[], check: string) => findings.filter((finding) => finding.check === check);

describe("runDoctor", () => {
  test("a project set up by sep init: nothing fails, exit 0", async () => {
    const root = project({ "package.json": JSON.stringify({ scripts: { test: "sep -- bun test" } }) });
    initProject({ root });
    const { findings, root: found } = await runDoctor({ cwd: root, env: {} });
    expect(found).toBe(root);
    expect(findings.filter((finding) => finding.status === "fail")).toEqual([]);
    expect(doctorExitCode(findings)).toBe(0);
    for (const check of ["config", "lock-dir", "log-dir", "flock", "version", "workflows", "makefiles", "package-json", "pre-commit"]) {
      expect(byCheck(findings, check).map((finding) => [check, finding.status])).toEqual([[check, "ok"]]);
    }
    expect(byCheck(findings, "package-json")[0]?.message).toContain("1 script");
    expect(byCheck(findings, "version")[0]?.message).toMatch(/^sep \S+ on \w+-\w+ \(Bun /);
  });

  test("a bad value in .env.development is a fail finding naming key, value, file and line; exit 1", async () => {
    const root = project({ ".env.development": "TIMEOUT=60\nMEMORY_LIMIT_MB=abc\n" });
    const { findings } = await runDoctor({ cwd: root, env: {} });
    const [config] = byCheck(findings, "config");
    expect(config).toMatchObject({ status: "fail", file: ".env.development", line: 2 });
    expect(config?.message).toContain('MEMORY_LIMIT_MB must be a whole number ≥ 0 (got "abc"');
    expect(config?.fix).toContain("MEMORY_LIMIT_MB");
    expect(doctorExitCode(findings)).toBe(1);
    // the other checks still ran, on the default locations
    expect(byCheck(findings, "lock-dir")[0]?.message).toContain("(the default; the configuration did not load)");
    expect(byCheck(findings, "workflows")).toHaveLength(1);
  });

  test("several bad values: one finding each; the environment counts too", async () => {
    const root = project({ ".env.development": "CHECK_INTERVAL=0\n" });
    const { findings } = await runDoctor({ cwd: root, env: { SEP_SLOTS: "-1" } });
    const config = byCheck(findings, "config");
    expect(config.map((finding) => finding.status)).toEqual(["fail", "fail"]);
    expect(config.map((finding) => finding.message.split(" ")[0])).toEqual(["CHECK_INTERVAL", "SEP_SLOTS"]);
    expect(config[0]).toMatchObject({ file: ".env.development", line: 1 });
    expect(config[1]?.file).toBeUndefined();
  });

  test("a sep.config.ts with an unknown key is a fail finding naming the file", async () => {
    const root = project({ "sep.config.ts": "export default { memoryLimitMB: 100 };\n" });
    const { findings } = await runDoctor({ cwd: root, env: {} });
    expect(byCheck(findings, "config")[0]).toMatchObject({ status: "fail", file: "sep.config.ts" });
    expect(byCheck(findings, "config")[0]?.message).toContain('unknown key "memoryLimitMB"');
  });

  test("an unparsable .env.development line is located too", async () => {
    const root = project({ ".env.development": "# ok\nMEMORY_LIMIT_MB 300\n" });
    const { findings } = await runDoctor({ cwd: root, env: {} });
    expect(byCheck(findings, "config")[0]).toMatchObject({ status: "fail", file: ".env.development", line: 2 });
  });

  test("doctor creates nothing: not in the project, not in the temp dir it probes flock in", async () => {
    const root = project({
      ".env.development": "SEP_LOG_DIR=./var/sep/logs\n",
      "sep.config.ts": "export default { memoryLimitMb: 100 };\n",
      ".github/workflows/ci.yml": "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: sep queue add -- x\n",
    });
    const probe = scratch("sep-doctor-tmp-");
    const before = snapshot(root);
    const { findings } = await runDoctor({ cwd: join(root), env: {}, tempDir: probe });
    expect(snapshot(root)).toEqual(before);
    expect(readdirSync(probe)).toEqual([]);
    expect(byCheck(findings, "log-dir")[0]?.message).toContain("does not exist yet; sep will create it");
    expect(byCheck(findings, "flock")[0]?.status).toBe("ok");
    expect(byCheck(findings, "config")[0]?.message).toContain(".env.development and sep.config.ts");
  });

  test("from a subdirectory, the project root's files are scanned and reported relative to it", async () => {
    const root = project({ ".github/workflows/ci.yml": "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: sep queue add -- x\n" });
    mkdirSync(join(root, "src/deep"), { recursive: true });
    const { findings } = await runDoctor({ cwd: join(root, "src/deep"), env: {} });
    expect(byCheck(findings, "workflows")[0]).toMatchObject({ status: "fail", file: ".github/workflows/ci.yml", line: 6 });
  });
});
