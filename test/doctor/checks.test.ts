// `sep doctor`'s checks on real temp projects: what each finds, that a bad config is a finding
// (never a crash or exit 2), and that doctor creates nothing.
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, lstatSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { githubAnnotations, renderFindings, summaryLine } from "../../src/commands/doctor.ts";
import { initProject } from "../../src/commands/init.ts";
import { checkFlock, checkStateDir, doctorExitCode, type Finding, runDoctor } from "../../src/doctor/checks.ts";
import { tempDir, type TempDir } from "../helpers.ts";

const dirs: TempDir[] = [];
afterAll(() => {
  for (const dir of dirs) dir.cleanup();
});

function scratch(prefix = "sep-doctor-"): string {
  const dir = tempDir(prefix);
  dirs.push(dir);
  return dir.path;
}

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

describe("checkStateDir", () => {
  test("a private directory of yours", () => {
    const dir = join(scratch(), "locks");
    mkdirSync(dir, { mode: 0o700 });
    expect(checkStateDir("lock-dir", dir, "SEQUENTIAL_LOCK_BASE_DIR")).toMatchObject({ status: "ok" });
  });

  test("open to other users: a warning with the chmod", () => {
    const dir = join(scratch(), "logs");
    mkdirSync(dir);
    chmodSync(dir, 0o755);
    const finding = checkStateDir("log-dir", dir, "SEP_LOG_DIR");
    expect(finding).toMatchObject({ status: "warn", fix: `chmod 700 ${dir} (sep creates its dirs with mode 0700)` });
    expect(finding.message).toContain("mode 0755");
  });

  test("a symlink is refused", () => {
    const base = scratch();
    mkdirSync(join(base, "real"), { mode: 0o700 });
    symlinkSync(join(base, "real"), join(base, "logs"));
    const finding = checkStateDir("log-dir", join(base, "logs"), "SEP_LOG_DIR");
    expect(finding.status).toBe("fail");
    expect(finding.message).toContain("is a symlink");
  });

  test("a file where the dir should be", () => {
    const base = scratch();
    writeFileSync(join(base, "logs"), "");
    expect(checkStateDir("log-dir", join(base, "logs"), "SEP_LOG_DIR")).toMatchObject({ status: "fail" });
    // and a dir that would have to be created below a file
    const below = checkStateDir("lock-dir", join(base, "logs", "locks"), "SEQUENTIAL_LOCK_BASE_DIR");
    expect(below.status).toBe("fail");
    expect(below.message).toContain("is not a directory");
  });

  test("missing, several levels deep: creatable from the nearest existing ancestor, and not created", () => {
    const base = scratch();
    const dir = join(base, "a", "b", "c");
    const finding = checkStateDir("lock-dir", dir, "SEQUENTIAL_LOCK_BASE_DIR");
    expect(finding.status).toBe("ok");
    expect(finding.message).toContain(`sep will create it (mode 0700) in ${base}`);
    expect(readdirSync(base)).toEqual([]);
  });
});

describe("checkFlock", () => {
  test("takes, excludes and releases a lock, and removes its file", () => {
    const dir = scratch();
    expect(checkFlock(dir)).toMatchObject({ check: "flock", status: "ok" });
    expect(readdirSync(dir)).toEqual([]);
  });

  test("a temp dir that does not exist is a fail finding, not a throw", () => {
    expect(checkFlock(join(scratch(), "missing"))).toMatchObject({ check: "flock", status: "fail" });
  });
});

describe("output", () => {
  const findings: Finding[] = [
    { check: "config", status: "ok", message: "configuration is valid" },
    { check: "log-dir", status: "warn", message: "open to others", fix: "chmod 700 logs" },
    { check: "workflows", status: "fail", message: 'job "a" queues `sep queue add -- x`', file: ".github/workflows/ci.yml", line: 6, fix: "add `sep queue start`" },
  ];

  test("words without a terminal: one line per finding, then the summary", () => {
    expect(renderFindings(findings, { symbols: false, colour: false })).toBe(
      [
        "ok    config     configuration is valid",
        "warn  log-dir    open to others — fix: chmod 700 logs",
        'fail  workflows  .github/workflows/ci.yml:6: job "a" queues `sep queue add -- x` — fix: add `sep queue start`',
        "sep doctor: 1 failed, 1 warning, 1 ok (exit 1)",
        "",
      ].join("\n"),
    );
  });

  test("symbols on a terminal", () => {
    const lines = renderFindings(findings, { symbols: true, colour: false }).split("\n");
    expect(lines.slice(0, 3).map((line) => line[0])).toEqual(["✓", "!", "✗"]);
  });

  test("the summary without failures has no exit note", () => {
    expect(summaryLine(findings.slice(0, 2))).toBe("sep doctor: 0 failed, 1 warning, 1 ok");
  });

  test("GitHub annotations for warn and fail, with file and line, escaped", () => {
    expect(githubAnnotations(findings)).toBe(
      [
        "::warning title=sep doctor%3A log-dir::open to others — fix: chmod 700 logs",
        '::error title=sep doctor%3A workflows,file=.github/workflows/ci.yml,line=6::job "a" queues `sep queue add -- x` — fix: add `sep queue start`',
        "",
      ].join("\n"),
    );
    expect(githubAnnotations([{ check: "config", status: "fail", message: "50%\nnext" }])).toBe("::error title=sep doctor%3A config::50%25%0Anext\n");
  });
});
