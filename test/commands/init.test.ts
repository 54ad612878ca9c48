// `sep init` on real temp projects: what it creates, what it leaves alone, and .gitignore merging.
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GITIGNORE_HEADER, initProject, mergeGitignore, renderDotenv } from "../../src/commands/init.ts";
import { parseDotenv, resolveConfig } from "../../src/config.ts";
import { SepError } from "../../src/errors.ts";

const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

function project(files: Record<string, string> = {}): string {
  const root = mkdtempSync(join(tmpdir(), "sep-init-"));
  made.push(root);
  mkdirSync(join(root, ".git"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(root, name), text);
  return root;
}

const read = (root: string, name: string) => readFileSync(join(root, name), "utf8");
const count = (text: string, line: string) => text.split(/\r?\n/).filter((l) => l === line).length;

describe("initProject", () => {
  test("a fresh project: private dirs, .env.development with the seed's values, .gitignore", async () => {
    const root = project();
    const result = initProject({ root });
    expect(result.steps.map((s) => s.action)).toEqual(["created", "created", "created", "created"]);
    for (const dir of ["logs", ".sequential-locks"]) {
      const stat = statSync(join(root, dir));
      expect(stat.isDirectory()).toBe(true);
      expect(stat.mode & 0o777).toBe(0o700);
    }

    const dotenv = parseDotenv(read(root, ".env.development"), ".env.development");
    expect(Object.fromEntries([...dotenv].map(([k, v]) => [k, v.value]))).toEqual({
      MEMORY_LIMIT_MB: "2048",
      CHECK_INTERVAL: "0.25",
      TIMEOUT: "86400",
      PIPELINE_TIMEOUT: "86400",
      KILL_TIMEOUT: "5",
      VERBOSE: "0",
      SEQUENTIAL_LOCK_BASE_DIR: "./.sequential-locks",
      WAIT_ALL_LOG_LOCK: "./.sep.log.lock",
      SEP_LOG_DIR: "./logs",
      PYTEST_MAX_WORKERS: "1",
    });
    // the file sep writes is one sep reads back, with the same meaning as the defaults
    const config = await resolveConfig({ cwd: root, env: {} });
    expect(config.sources.memoryLimitMb.kind).toBe("dotenv");
    expect(config.lockDir).toBe(join(root, ".sequential-locks"));

    const gitignore = read(root, ".gitignore");
    expect(gitignore).toBe(`${GITIGNORE_HEADER}\nlogs/\n.sequential-locks/\n.sep.log.lock\n`);
    // project files, not private state: readable like the rest of the checkout
    expect(statSync(join(root, ".gitignore")).mode & 0o777).toBe(0o644);
    expect(statSync(join(root, ".env.development")).mode & 0o777).toBe(0o644);
  });

  test("an existing .gitignore keeps its mode when entries are added", () => {
    const root = project({ ".gitignore": "dist/\n" });
    chmodSync(join(root, ".gitignore"), 0o664);
    initProject({ root });
    expect(statSync(join(root, ".gitignore")).mode & 0o777).toBe(0o664);
    expect(read(root, ".gitignore")).toContain("dist/\n");
  });

  test("every key in the written file has a comment line right above it", () => {
    const lines = renderDotenv(false).trimEnd().split("\n");
    for (const [i, line] of lines.entries()) {
      if (!line.startsWith("#")) expect(lines[i - 1]?.startsWith("#")).toBe(true);
    }
  });

  test("running twice changes nothing the second time", () => {
    const root = project({ ".gitignore": "node_modules/\n" });
    initProject({ root });
    const first = { dotenv: read(root, ".env.development"), gitignore: read(root, ".gitignore") };
    const second = initProject({ root });
    expect(second.steps.map((s) => s.action)).toEqual(["exists", "exists", "exists", "unchanged"]);
    expect(read(root, ".env.development")).toBe(first.dotenv);
    expect(read(root, ".gitignore")).toBe(first.gitignore);
    expect(count(first.gitignore, GITIGNORE_HEADER)).toBe(1);
    for (const entry of ["logs/", ".sequential-locks/", ".sep.log.lock"]) expect(count(first.gitignore, entry)).toBe(1);
  });

  test("an existing .env.development is left alone; --force overwrites it", () => {
    const root = project({ ".env.development": "MEMORY_LIMIT_MB=512\n" });
    const kept = initProject({ root, ci: true });
    expect(kept.steps[2]).toMatchObject({ action: "exists" });
    expect(kept.ciValuesSkipped).toBe(true);
    expect(read(root, ".env.development")).toBe("MEMORY_LIMIT_MB=512\n");

    const forced = initProject({ root, force: true });
    expect(forced.steps[2]).toMatchObject({ action: "overwritten" });
    expect(forced.ciValuesSkipped).toBe(false);
    expect(read(root, ".env.development")).toBe(renderDotenv(false));
  });

  test("--ci writes the CI values", async () => {
    const root = project();
    initProject({ root, ci: true });
    const config = await resolveConfig({ cwd: root, env: {} });
    expect([config.verbose, config.timeout, config.pipelineTimeout, config.memoryLimitMb]).toEqual([true, 1800, 7200, 2048]);
  });

  test("--ci leaves tracked files alone: sep's files are ignored in .git/info/exclude, not .gitignore", () => {
    const root = project({ ".gitignore": "node_modules/\n" });
    const first = initProject({ root, ci: true });
    expect(read(root, ".gitignore")).toBe("node_modules/\n");
    expect(first.steps[3]).toMatchObject({ path: join(root, ".git/info/exclude"), action: "created" });
    const exclude = read(root, ".git/info/exclude");
    for (const entry of ["logs/", ".sequential-locks/", ".sep.log.lock", ".env.development"]) expect(count(exclude, entry)).toBe(1);

    // a second run changes nothing, and does not claim the CI values were skipped
    const second = initProject({ root, ci: true });
    expect(second.steps.map((s) => s.action)).toEqual(["exists", "exists", "exists", "unchanged"]);
    expect(second.ciValuesSkipped).toBe(false);
    expect(read(root, ".git/info/exclude")).toBe(exclude);
    expect(read(root, ".env.development")).toBe(renderDotenv(true));
  });

  test("--ci outside a git checkout writes no ignore file", () => {
    const root = mkdtempSync(join(tmpdir(), "sep-init-nogit-"));
    made.push(root);
    const result = initProject({ root, ci: true });
    expect(result.steps[3]).toMatchObject({ action: "unchanged" });
    expect(readdirSync(root).sort()).toEqual([".env.development", ".sequential-locks", "logs"]);
  });

  test("a state dir that is a symlink is refused (exit 1)", () => {
    const root = project();
    const elsewhere = mkdtempSync(join(tmpdir(), "sep-init-target-"));
    made.push(elsewhere);
    symlinkSync(elsewhere, join(root, "logs"));
    let caught: unknown;
    try {
      initProject({ root });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(SepError);
    expect((caught as SepError).exitCode).toBe(1);
    expect((caught as SepError).message).toContain(join(root, "logs"));
  });

  // Unreadable project files, made so for root too (a directory where the file must be): sep
  // reads everything before it writes anything, so init stops with nothing changed.
  const unreadable: { name: string; ci: boolean; block: (root: string) => string }[] = [
    { name: ".gitignore is a directory", ci: false, block: (root) => join(root, ".gitignore") },
    { name: "--ci: .git/info/exclude is a directory", ci: true, block: (root) => join(root, ".git", "info", "exclude") },
  ];
  for (const c of unreadable) {
    test(`${c.name}: E_PROJECT_FILE naming it and EISDIR, exit 1, nothing created`, () => {
      const root = project();
      const path = c.block(root);
      mkdirSync(path, { recursive: true });
      const before = readdirSync(root, { recursive: true, encoding: "utf8" }).sort();
      let caught: unknown;
      try {
        initProject({ root, ci: c.ci });
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(SepError);
      const error = caught as SepError;
      expect([error.code, error.exitCode, error.message]).toEqual(["E_PROJECT_FILE", 1, `cannot read ${path}: EISDIR`]);
      expect(error.hint).toContain("move it away");
      expect(readdirSync(root, { recursive: true, encoding: "utf8" }).sort()).toEqual(before);
    });
  }
});

describe("mergeGitignore", () => {
  const block = `${GITIGNORE_HEADER}\nlogs/\n.sequential-locks/\n.sep.log.lock\n`;
  const cases: { name: string; input: string | undefined; output: string; added: string[] }[] = [
    { name: "no .gitignore", input: undefined, output: block, added: ["logs/", ".sequential-locks/", ".sep.log.lock"] },
    { name: "empty file", input: "", output: block, added: ["logs/", ".sequential-locks/", ".sep.log.lock"] },
    { name: "other entries", input: "node_modules/\n", output: `node_modules/\n\n${block}`, added: ["logs/", ".sequential-locks/", ".sep.log.lock"] },
    { name: "no final newline", input: "dist", output: `dist\n\n${block}`, added: ["logs/", ".sequential-locks/", ".sep.log.lock"] },
    {
      name: "entries already present elsewhere, in other spellings",
      input: "/logs\n.sequential-locks\n",
      output: `/logs\n.sequential-locks\n\n${GITIGNORE_HEADER}\n.sep.log.lock\n`,
      added: [".sep.log.lock"],
    },
    { name: "everything present", input: "logs/\n/.sequential-locks/\n.sep.log.lock\n", output: "logs/\n/.sequential-locks/\n.sep.log.lock\n", added: [] },
    {
      name: "header present, an entry removed since: re-added under the header",
      input: `${GITIGNORE_HEADER}\nlogs/\n.sep.log.lock\n\ndist/\n`,
      output: `${GITIGNORE_HEADER}\n.sequential-locks/\nlogs/\n.sep.log.lock\n\ndist/\n`,
      added: [".sequential-locks/"],
    },
    {
      name: "a negation or a comment does not count as present",
      input: "!logs/\n# .sep.log.lock\n.sequential-locks/\n",
      output: `!logs/\n# .sep.log.lock\n.sequential-locks/\n\n${GITIGNORE_HEADER}\nlogs/\n.sep.log.lock\n`,
      added: ["logs/", ".sep.log.lock"],
    },
    {
      name: "CRLF line endings are kept",
      input: "node_modules/\r\n",
      output: `node_modules/\r\n\r\n${GITIGNORE_HEADER}\r\nlogs/\r\n.sequential-locks/\r\n.sep.log.lock\r\n`,
      added: ["logs/", ".sequential-locks/", ".sep.log.lock"],
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const merged = mergeGitignore(c.input);
      expect(merged).toEqual({ text: c.output, added: c.added });
      // idempotent: merging the result again adds nothing
      expect(mergeGitignore(merged.text)).toEqual({ text: merged.text, added: [] });
    });
  }
});
