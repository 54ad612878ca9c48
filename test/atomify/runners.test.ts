// Runner enforcement: the project's runner goes in front of the tools of its ecosystem as separate
// argv words, only where a lock file (or `runners`) names it, never twice, never in front of a
// command that already has a runner, never in front of pipx / pip-audit (ORIGINAL §7.2 B20).
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { readCommand } from "../../src/atomify/runners.ts";
import { TOOL_RULES } from "../../src/atomify/index.ts";
import { cleanupProjects, plan, project } from "./helpers.ts";

afterAll(cleanupProjects);

describe("reading the runner and the tool", () => {
  const cases: [string[], { runner: string[]; tool: string[]; name: string; args: string[] } | undefined][] = [
    [["pytest", "-q"], { runner: [], tool: ["pytest"], name: "pytest", args: ["-q"] }],
    [["py.test"], { runner: [], tool: ["py.test"], name: "pytest", args: [] }],
    [[".venv/bin/mypy", "src"], { runner: [], tool: [".venv/bin/mypy"], name: "mypy", args: ["src"] }],
    [["uv", "run", "pytest", "tests/"], { runner: ["uv", "run"], tool: ["pytest"], name: "pytest", args: ["tests/"] }],
    [["uv", "run", "--frozen", "--with", "x", "--", "ruff", "check"], { runner: ["uv", "run", "--frozen", "--with", "x", "--"], tool: ["ruff"], name: "ruff", args: ["check"] }],
    [["uvx", "--from", "ruff==0.5", "ruff", "check"], { runner: ["uvx", "--from", "ruff==0.5"], tool: ["ruff"], name: "ruff", args: ["check"] }],
    [["npx", "--no-install", "eslint", "."], { runner: ["npx", "--no-install"], tool: ["eslint"], name: "eslint", args: ["."] }],
    [["pnpm", "exec", "prettier", "-c", "."], { runner: ["pnpm", "exec"], tool: ["prettier"], name: "prettier", args: ["-c", "."] }],
    [["yarn", "exec", "jest"], { runner: ["yarn", "exec"], tool: ["jest"], name: "jest", args: [] }],
    [["poetry", "run", "python", "-m", "pytest", "-x"], { runner: ["poetry", "run"], tool: ["python", "-m", "pytest"], name: "pytest", args: ["-x"] }],
    [["python3", "-u", "-m", "mypy", "src"], { runner: [], tool: ["python3", "-u", "-m", "mypy"], name: "mypy", args: ["src"] }],
    [["uv", "run", "--directory", "sub", "pytest"], undefined],
    [["uv", "run", "--mystery", "pytest"], undefined],
    [["pnpm", "-C", "web", "exec", "eslint"], undefined],
    [["pipx", "run", "black", "."], undefined],
    [["python", "-m", "http.server"], undefined],
    [["python", "script.py"], undefined],
    [["make", "lint"], undefined],
  ];
  for (const [argv, expected] of cases) {
    test(argv.join(" "), () => expect(readCommand(argv, TOOL_RULES)?.command).toEqual(expected));
  }
});

describe("enforcement", () => {
  test("uv.lock: python tools get `uv run` as two argv words, and a note", async () => {
    const root = project({ "uv.lock": "", "src/a.py": "" });
    const result = await plan(["ruff", "check", "src/"], { cwd: root, atomify: false });
    expect(result.atoms[0]!.argv).toEqual(["uv", "run", "ruff", "check", "src/"]);
    expect(result.notes).toEqual([`runner: ruff check src/ → uv run ruff check src/ (uv.lock in ${root})`]);
  });

  test("package-lock.json: js tools get `npx --no-install`; pnpm-lock.yaml: `pnpm exec`; yarn.lock: `yarn exec`", async () => {
    for (const [file, words] of [["package-lock.json", ["npx", "--no-install"]], ["pnpm-lock.yaml", ["pnpm", "exec"]], ["yarn.lock", ["yarn", "exec"]]] as const) {
      const root = project({ [file]: "" });
      const result = await plan(["eslint", "--max-warnings", "0", "src"], { cwd: root, atomify: false });
      expect(result.atoms[0]!.argv).toEqual([...words, "eslint", "--max-warnings", "0", "src"]);
    }
  });

  test("only tools of the lock file's ecosystem", async () => {
    const root = project({ "uv.lock": "" });
    expect((await plan(["eslint", "src"], { cwd: root, atomify: false })).atoms[0]!.argv).toEqual(["eslint", "src"]);
    expect((await plan(["shellcheck", "a.sh"], { cwd: root, atomify: false })).atoms[0]!.argv).toEqual(["shellcheck", "a.sh"]);
    expect((await plan(["tsc", "--noEmit"], { cwd: root, atomify: false })).atoms[0]!.argv).toEqual(["tsc", "--noEmit"]);
    const js = project({ "package-lock.json": "{}" });
    expect((await plan(["tsc", "--noEmit"], { cwd: js, atomify: false })).atoms[0]!.argv).toEqual(["npx", "--no-install", "tsc", "--noEmit"]);
    expect((await plan(["pytest"], { cwd: js, atomify: false })).atoms[0]!.argv).toEqual(["pytest"]);
  });

  test("python -m TOOL gets the runner in front of python", async () => {
    const root = project({ "poetry.lock": "" });
    expect((await plan(["python", "-m", "pytest", "-q"], { cwd: root, atomify: false })).atoms[0]!.argv).toEqual(["poetry", "run", "python", "-m", "pytest", "-q"]);
  });

  test("never a second runner; never a tool named by its path; never pipx or pip-audit", async () => {
    const root = project({ "uv.lock": "", "package-lock.json": "{}" });
    for (const argv of [
      ["uv", "run", "pytest"],
      ["uvx", "ruff", "check", "."],
      ["poetry", "run", "mypy", "src"],
      ["npx", "eslint", "."],
      ["pnpm", "exec", "prettier", "."],
      [".venv/bin/pytest", "-q"],
      ["pipx", "run", "pre-commit", "run", "--all-files"],
      ["pip-audit"],
      ["pipx", "install", "ruff"],
    ]) {
      const result = await plan(argv, { cwd: root, atomify: false });
      expect(result.atoms[0]!.argv).toEqual(argv);
      expect(result.notes).toEqual([]);
    }
  });

  test("no lock file: nothing is prefixed; lock files above the project root do not count", async () => {
    const outer = project({ "uv.lock": "" });
    const inner = join(outer, "inner");
    const { mkdirSync, writeFileSync } = await import("node:fs");
    mkdirSync(inner);
    writeFileSync(join(inner, "sep.config.json"), "{}\n");
    expect((await plan(["mypy", "x.py"], { cwd: inner, atomify: false })).atoms[0]!.argv).toEqual(["mypy", "x.py"]);
    // a lock file between the cwd and the root does count
    const sub = join(outer, "pkg");
    mkdirSync(sub);
    writeFileSync(join(sub, "pnpm-lock.yaml"), "");
    expect((await plan(["prettier", "-c", "."], { cwd: sub, atomify: false })).atoms[0]!.argv).toEqual(["pnpm", "exec", "prettier", "-c", "."]);
  });

  test("two lock files naming different runners in one directory: none is chosen, and the note says why", async () => {
    const root = project({ "package-lock.json": "{}", "pnpm-lock.yaml": "" });
    const result = await plan(["eslint", "."], { cwd: root, atomify: false });
    expect(result.atoms[0]!.argv).toEqual(["eslint", "."]);
    expect(result.notes[0]).toContain("pnpm-lock.yaml and package-lock.json");
    expect(result.notes[0]).toContain("set `runners`");
  });

  test("`runners` chooses explicitly and replaces detection for that ecosystem", async () => {
    const root = project({ "package-lock.json": "{}" });
    const result = await plan(["eslint", "."], { cwd: root, atomify: false, env: { SEP_RUNNERS: "uv,pnpm" } });
    expect(result.atoms[0]!.argv).toEqual(["pnpm", "exec", "eslint", "."]);
    expect(result.notes[0]).toContain("runners = uv,pnpm (SEP_RUNNERS)");
    expect((await plan(["black", "."], { cwd: root, atomify: false, env: { SEP_RUNNERS: "uv" } })).atoms[0]!.argv).toEqual(["uv", "run", "black", "."]);
    // runners names no JS runner: the lock file still decides for JS
    expect((await plan(["eslint", "."], { cwd: root, atomify: false, env: { SEP_RUNNERS: "uv" } })).atoms[0]!.argv).toEqual(["npx", "--no-install", "eslint", "."]);
  });

  test("enforcement off (SEP_ENFORCE_RUNNERS=0 or enforceRunners: false)", async () => {
    const root = project({ "uv.lock": "" });
    expect((await plan(["pytest"], { cwd: root, atomify: false, env: { SEP_ENFORCE_RUNNERS: "0" } })).atoms[0]!.argv).toEqual(["pytest"]);
    expect((await plan(["pytest"], { cwd: root, atomify: false, enforceRunners: false })).atoms[0]!.argv).toEqual(["pytest"]);
  });
});
