// eslint and prettier (this repository's devDependencies, linked into real projects made in temp
// dirs) run through `npx --no-install` because the project has a package-lock.json: directories
// and globs become the files eslint / prettier themselves would check, asked of their own Node
// APIs. jest and vitest are split from their own listings (stand-ins here that list the way
// they do); tsc is never split.
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { argvs, cleanupProjects, linkNodeModules, plan, project, run } from "./helpers.ts";

afterAll(cleanupProjects);
setDefaultTimeout(60_000);

const NPX = ["npx", "--no-install"];

function jsProject(files: Record<string, string | null>): string {
  const root = project({ ".gitignore": "node_modules\n", "package.json": '{ "name": "p", "private": true }\n', "package-lock.json": "{}\n", ...files }, { git: true });
  linkNodeModules(root);
  return root;
}

describe("eslint", () => {
  const files = {
    "eslint.config.mjs": 'export default [\n  { ignores: ["src/gen/**"] },\n  { files: ["**/*.js", "**/*.mjs"], rules: { "no-var": "error" } },\n];\n',
    "src/a.js": "export const a = 1;\n",
    "src/c.js": "var c = 1;\nexport { c };\n",
    "src/deep/d.mjs": "export const d = 1;\n",
    "src/gen/g.js": "var g = 1;\n",
    "src/types.ts": "export const t: number = 1;\n",
    "src/data.json": "{}\n",
  };

  test("per file: the files eslint's own config lints; runner npx --no-install; atoms fail where the whole fails", async () => {
    const root = jsProject(files);
    const result = await plan(["eslint", "--max-warnings", "0", "src"], { cwd: root });
    expect(argvs(result)).toEqual([
      [...NPX, "eslint", "--max-warnings", "0", "src/a.js"],
      [...NPX, "eslint", "--max-warnings", "0", "src/c.js"],
      [...NPX, "eslint", "--max-warnings", "0", "src/deep/d.mjs"],
    ]);
    expect(result.notes[0]).toBe(`runner: eslint --max-warnings 0 src → npx --no-install eslint --max-warnings 0 src (package-lock.json in ${root})`);
    expect(result.atoms.map((atom) => run(atom.argv, root).exitCode)).toEqual([0, 1, 0]);
    expect(run([...NPX, "eslint", "--max-warnings", "0", "src"], root).exitCode).toBe(1);
  });

  test("a glob is matched against the project's files, then asked of eslint", async () => {
    const root = jsProject(files);
    expect(argvs(await plan(["eslint", "src/**/*.js"], { cwd: root })).map((a) => a.at(-1))).toEqual(["src/a.js", "src/c.js"]);
    const none = await plan(["eslint", "lib/**/*.js"], { cwd: root });
    expect(none.atoms).toHaveLength(1);
    expect(none.notes.at(-1)).toBe("eslint: the glob lib/**/*.js matches nothing; kept whole so eslint reports it");
  });

  test("--ignore-pattern and --no-ignore reach eslint's answer", async () => {
    const root = jsProject(files);
    expect(argvs(await plan(["eslint", "--ignore-pattern", "src/deep/**", "src"], { cwd: root })).map((a) => a.at(-1))).toEqual(["src/a.js", "src/c.js"]);
    expect(argvs(await plan(["eslint", "--no-ignore", "src"], { cwd: root })).map((a) => a.at(-1))).toEqual(["src/a.js", "src/c.js", "src/deep/d.mjs", "src/gen/g.js"]);
  });

  test("kept whole: --max-warnings above 0, an output file, stdin", async () => {
    const root = jsProject(files);
    for (const [argv, note] of [
      [["eslint", "--max-warnings", "5", "src"], "eslint --max-warnings: counts warnings across all files; each atom would count its own"],
      [["eslint", "-o", "report.txt", "src"], "eslint -o: writes one report, which each atom would overwrite"],
      [["eslint", "--stdin"], "eslint --stdin: reads standard input"],
    ] as const) {
      const result = await plan([...argv], { cwd: root });
      expect(argvs(result)).toEqual([[...NPX, ...argv]]);
      expect(result.notes.at(-1)).toBe(note);
    }
  });
});

describe("prettier", () => {
  const files = {
    ".prettierignore": "src/legacy\n",
    "src/a.ts": "const  a = {b:1}\n",
    "src/b.md": "# Title\n",
    "src/c.json": '{ "a": 1 }\n',
    "src/legacy/x.js": "var  x\n",
    "src/notes.unknownext": "???\n",
  };

  test("per file: known languages, .prettierignore honoured; atoms fail where the whole fails", async () => {
    const root = jsProject(files);
    const result = await plan(["prettier", "--check", "src"], { cwd: root });
    expect(argvs(result)).toEqual([
      [...NPX, "prettier", "--check", "src/a.ts"],
      [...NPX, "prettier", "--check", "src/b.md"],
      [...NPX, "prettier", "--check", "src/c.json"],
    ]);
    expect(result.atoms.map((atom) => run(atom.argv, root).exitCode)).toEqual([1, 0, 0]);
    expect(run([...NPX, "prettier", "--check", "src"], root).exitCode).toBe(1);
  });

  test("--ignore-path replaces the default ignore files", async () => {
    const root = jsProject({ ...files, "my.ignore": "src/b.md\n" });
    expect(argvs(await plan(["prettier", "-c", "--ignore-path", "my.ignore", "src"], { cwd: root })).map((a) => a.at(-1))).toEqual(["src/a.ts", "src/c.json", "src/legacy/x.js"]);
  });

  test("prettier not installed in node_modules: kept whole", async () => {
    const root = project({ "package-lock.json": "{}\n", "src/a.ts": "" });
    // `npm test` puts this repository's node_modules/.bin (which has prettier) on PATH.
    const path = process.env.PATH;
    process.env.PATH = (path ?? "").split(":").filter((dir) => !dir.includes("node_modules")).join(":");
    const result = await plan(["prettier", "--check", "src"], { cwd: root }).finally(() => {
      process.env.PATH = path;
    });
    expect(argvs(result)).toEqual([[...NPX, "prettier", "--check", "src"]]);
    expect(result.notes.at(-1)).toBe("prettier: prettier is not installed (no node_modules/.bin/prettier); kept whole so the run reports it");
  });
});

describe("tsc", () => {
  test("never split (one program), but given the runner", async () => {
    const root = jsProject({ "src/a.ts": "export const a = 1;\n" });
    const result = await plan(["tsc", "--noEmit", "-p", "."], { cwd: root });
    expect(argvs(result)).toEqual([[...NPX, "tsc", "--noEmit", "-p", "."]]);
    expect(result.notes.at(-1)).toBe("tsc: tsc type-checks one whole program at once; it is never split");
  });
});

// Stand-ins for jest and vitest that list test files as they do (jest: absolute paths matching
// its path patterns as regular expressions; vitest list --json: [{ name, file }] by substring),
// and otherwise print the arguments they ran with.
const FAKE_JEST = `#!/usr/bin/env node
const { readdirSync } = require("node:fs");
const { join } = require("node:path");
const args = process.argv.slice(2);
const walk = (d) => readdirSync(d, { withFileTypes: true }).flatMap((e) => e.name === "node_modules" || e.name.startsWith(".") ? [] : e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)]);
if (args.includes("--listTests")) {
  const patterns = args.filter((a) => !a.startsWith("-"));
  const tests = walk(process.cwd()).filter((f) => /\\.(test|spec)\\.[jt]sx?$/.test(f)).filter((f) => patterns.length === 0 || patterns.some((p) => new RegExp(p, "i").test(f)));
  console.log(tests.join("\\n"));
} else console.log(JSON.stringify(args));
`;
const FAKE_VITEST = `#!/usr/bin/env node
const { readdirSync } = require("node:fs");
const { join } = require("node:path");
const args = process.argv.slice(2);
const walk = (d) => readdirSync(d, { withFileTypes: true }).flatMap((e) => e.name === "node_modules" || e.name.startsWith(".") ? [] : e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)]);
if (args[0] === "list" && args.includes("--json")) {
  const filters = args.slice(1).filter((a) => !a.startsWith("-"));
  const tests = walk(process.cwd()).filter((f) => /\\.(test|spec)\\.[jt]sx?$/.test(f)).filter((f) => filters.length === 0 || filters.some((p) => f.includes(p)));
  console.log(JSON.stringify(tests.flatMap((file) => [{ name: "a", file }, { name: "b", file }])));
} else console.log(JSON.stringify(args));
`;

describe("jest and vitest: per test file, from their own listing", () => {
  function withFakes(files: Record<string, string | null>): { root: string; env: Record<string, string> } {
    const root = project({ "bin/jest": FAKE_JEST, "bin/vitest": FAKE_VITEST, ...files });
    return { root, env: { PATH: `${join(root, "bin")}:${process.env.PATH}` } };
  }

  async function withPath<T>(path: string, fn: () => Promise<T>): Promise<T> {
    const saved = process.env.PATH;
    process.env.PATH = path;
    try {
      return await fn();
    } finally {
      process.env.PATH = saved;
    }
  }

  test("jest: every listed test file, sorted, the other flags in place", async () => {
    const { root, env } = withFakes({ "src/a.test.js": "", "src/b.spec.js": "", "src/deep/c.test.ts": "", "src/util.js": "" });
    const result = await withPath(env.PATH!, () => plan(["jest", "--ci", "src"], { cwd: root }));
    expect(argvs(result)).toEqual([
      ["jest", "--ci", "src/a.test.js"],
      ["jest", "--ci", "src/b.spec.js"],
      ["jest", "--ci", "src/deep/c.test.ts"],
    ]);
  });

  test("jest: a path pattern that would also select another test file keeps it whole", async () => {
    const { root, env } = withFakes({ "src/a.test.js": "", "src/a.test.jsx": "" });
    const result = await withPath(env.PATH!, () => plan(["jest"], { cwd: root }));
    expect(argvs(result)).toEqual([["jest"]]);
    expect(result.notes[0]).toBe("jest: src/a.test.js as a jest pattern would also select src/a.test.jsx; kept whole");
  });

  test("jest: a pattern that is not a path, --coverage, --bail, -t: kept whole", async () => {
    const { root, env } = withFakes({ "src/a.test.js": "" });
    for (const [argv, note] of [
      [["jest", "auth"], "jest: auth names no file or directory (a pattern)"],
      [["jest", "--coverage"], "jest --coverage:"],
      [["jest", "--bail"], "jest --bail:"],
      [["jest", "-t", "adds"], "jest -t:"],
    ] as const) {
      const result = await withPath(env.PATH!, () => plan([...argv], { cwd: root }));
      expect(argvs(result)).toEqual([[...argv]]);
      expect(result.notes[0]).toStartWith(note);
    }
  });

  test("vitest run: per listed file; plain vitest (which may watch) is kept whole", async () => {
    const { root, env } = withFakes({ "test/x.test.ts": "", "test/y.test.ts": "" });
    const result = await withPath(env.PATH!, () => plan(["vitest", "run", "--reporter", "dot", "test"], { cwd: root }));
    expect(argvs(result)).toEqual([
      ["vitest", "run", "--reporter", "dot", "test/x.test.ts"],
      ["vitest", "run", "--reporter", "dot", "test/y.test.ts"],
    ]);
    const plain = await withPath(env.PATH!, () => plan(["vitest"], { cwd: root }));
    expect(argvs(plain)).toEqual([["vitest"]]);
    expect(plain.notes[0]).toBe("vitest: only `vitest run` (or --run) is split; plain vitest may watch");
  });

  test("vitest: a filter that is a substring of another test file's path keeps it whole", async () => {
    const { root, env } = withFakes({ "test/x.test.ts": "", "other/test/x.test.ts": "" });
    const result = await withPath(env.PATH!, () => plan(["vitest", "run", "test"], { cwd: root }));
    expect(argvs(result)).toEqual([["vitest", "run", "test"]]);
    expect(result.notes[0]).toBe("vitest: test/x.test.ts as a vitest pattern would also select other/test/x.test.ts; kept whole");
  });
});
