// File discovery: git ls-files inside git (tracked and untracked, never ignored or deleted files),
// a .gitignore-honouring walk outside git; sorted; globs matched against what was found.
import { afterAll, describe, expect, test } from "bun:test";
import { rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { filesMatchingGlob, filesUnder, gitignoreMatcher, parseGitignore } from "../../src/atomify/files.ts";
import { cleanupProjects, project, write } from "./helpers.ts";

afterAll(cleanupProjects);

const TREE = {
  ".gitignore": "build/\n*.log\n/top-only.py\n!keep.log\n",
  "src/b.py": "",
  "src/a.py": "",
  "src/sub/c.py": "",
  "src/build/gen.py": "",
  "src/x.log": "",
  "src/keep.log": "",
  "src/sub/top-only.py": "",
  "top-only.py": "",
};

describe("inside git", () => {
  test("tracked and untracked files, not ignored ones, sorted, relative to the cwd", () => {
    const root = project(TREE, { git: true });
    write(root, { "src/untracked.py": "", "src/build/new.py": "", "src/new.log": "" });
    rmSync(join(root, "src/b.py")); // deleted in the work tree, still in the index
    expect(filesUnder(root, "src")).toEqual(["src/a.py", "src/keep.log", "src/sub/c.py", "src/sub/top-only.py", "src/untracked.py"]);
    expect(filesUnder(join(root, "src"), "sub")).toEqual(["sub/c.py", "sub/top-only.py"]);
    expect(filesUnder(join(root, "src/sub"), "..")).toEqual(["../a.py", "../keep.log", "../untracked.py", "c.py", "top-only.py"]);
  });

  test("a tracked file that matches .gitignore is still listed (git tracks it)", () => {
    const root = project({ "src/a.py": "", "src/build/tracked.py": "" }, { git: true });
    write(root, { ".gitignore": "build/\n", "src/build/untracked.py": "" });
    expect(filesUnder(root, "src")).toEqual(["src/a.py", "src/build/tracked.py"]);
  });
});

describe("outside git: a walk honouring .gitignore", () => {
  test("the same answer as git for the same tree", () => {
    const root = project(TREE);
    expect(filesUnder(root, "src")).toEqual(["src/a.py", "src/b.py", "src/keep.log", "src/sub/c.py", "src/sub/top-only.py"]);
    expect(filesUnder(root, ".")).toContain(".gitignore");
    expect(filesUnder(root, ".")).not.toContain("top-only.py");
  });

  test("nested .gitignore files apply below their own directory; node_modules and .venv are never walked", () => {
    const root = project({ "a/.gitignore": "secret.py\n", "a/secret.py": "", "a/ok.py": "", "b/secret.py": "", "node_modules/x/i.js": "", ".venv/lib/y.py": "" });
    expect(filesUnder(root, ".")).toEqual(["a/.gitignore", "a/ok.py", "b/secret.py", "sep.config.json"]);
  });

  test("a symlink to a file is a file; a directory that does not exist has none", () => {
    const root = project({ "src/a.py": "" });
    symlinkSync(join(root, "src/a.py"), join(root, "src/link.py"));
    expect(filesUnder(root, "src")).toEqual(["src/a.py", "src/link.py"]);
    expect(filesUnder(root, "nope")).toEqual([]);
  });
});

describe("globs", () => {
  test("matched against the files found under the glob's fixed directories", () => {
    const root = project({ "src/a.ts": "", "src/deep/b.ts": "", "src/c.js": "", "other/d.ts": "" }, { git: true });
    expect(filesMatchingGlob(root, "src/**/*.ts")).toEqual(["src/a.ts", "src/deep/b.ts"]);
    expect(filesMatchingGlob(root, "./src/*.js")).toEqual(["src/c.js"]);
    expect(filesMatchingGlob(root, "src/*.py")).toEqual([]);
    expect(filesMatchingGlob(root, "missing/*.ts")).toEqual([]);
  });
});

describe("gitignore patterns", () => {
  const cases: [string, string, boolean][] = [
    ["*.log", "a/b/x.log", true],
    ["/top.py", "top.py", true],
    ["/top.py", "a/top.py", false],
    ["a/*.py", "a/x.py", true],
    ["a/*.py", "a/b/x.py", false],
    ["a/**/x.py", "a/b/c/x.py", true],
    ["**/gen", "deep/gen/f.py", true],
    ["build/", "src/build/f.py", true],
    ["build/", "src/build", false],
    ["*.py\n!keep.py", "keep.py", false],
    ["[ab].py", "b.py", true],
    ["# comment\n\n", "x", false],
  ];
  for (const [patterns, path, ignored] of cases) {
    test(`${JSON.stringify(patterns)} ${path} → ${ignored}`, () => expect(gitignoreMatcher(patterns)(path)).toBe(ignored));
  }
  test("parseGitignore skips comments and blank lines", () => expect(parseGitignore("# x\n\n*.py\n")).toHaveLength(1));
});
