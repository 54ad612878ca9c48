// mypy, flake8, black, isort, yamllint and shellcheck on real projects, with the tools a user
// gets from PATH: directories become the files the tool itself would check there (its extensions
// and its own exclude settings), every flag stays in its place, and the atoms, when run, find
// exactly the problems the whole command finds.
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { argvs, cleanupProjects, missingTool, plan, project, run } from "./helpers.ts";

afterAll(cleanupProjects);
setDefaultTimeout(60_000);

/** The non-empty output lines of each atom, sorted: what the split command reports in all. */
function atomLines(atoms: { argv: string[]; env?: Record<string, string> }[], cwd: string, filter: (line: string) => boolean): { lines: string[]; codes: number[] } {
  const lines: string[] = [];
  const codes: number[] = [];
  for (const atom of atoms) {
    const result = run(atom.argv, cwd, atom.env);
    codes.push(result.exitCode);
    lines.push(...`${result.stdout}\n${result.stderr}`.split("\n").filter(filter));
  }
  return { lines: lines.sort(), codes };
}

describe.skipIf(missingTool("mypy"))("mypy", () => {
  const files = {
    "mypy.ini": "[mypy]\nexclude = (^|/)generated/\n",
    "pkg/__init__.py": "",
    "pkg/a.py": "def f(x: int) -> int:\n    return x\n",
    "pkg/b.py": "from pkg.a import f\n\nf('not an int')\n",
    "pkg/c.py": "def g(x):\n    return x\n",
    "pkg/c.pyi": "def g(x: int) -> int: ...\n",
    "pkg/generated/__init__.py": "",
    "pkg/generated/g.py": "x: int = 'oops'\n",
    "pkg/.hidden/h.py": "y: int = 'oops'\n",
    "pkg/notes.txt": "not python\n",
  };

  test("per file: .py/.pyi, a stub instead of its module, no excluded or hidden directories", async () => {
    const root = project(files, { git: true });
    const result = await plan(["mypy", "--strict", "pkg", "--no-error-summary"], { cwd: root });
    expect(argvs(result)).toEqual([
      ["mypy", "--strict", "pkg/__init__.py", "--no-error-summary"],
      ["mypy", "--strict", "pkg/a.py", "--no-error-summary"],
      ["mypy", "--strict", "pkg/b.py", "--no-error-summary"],
      ["mypy", "--strict", "pkg/c.pyi", "--no-error-summary"],
    ]);
    const split = atomLines(result.atoms, root, (l) => l.includes("error:"));
    const whole = run(["mypy", "--strict", "pkg", "--no-error-summary"], root);
    expect(split.codes).toEqual([0, 0, 1, 0]);
    expect(whole.exitCode).toBe(1);
    expect(split.lines).toEqual(whole.stdout.split("\n").filter((l) => l.includes("error:")).sort());
  });

  test("--exclude on the command line replaces the config's; -p / -m / -c are not files", async () => {
    const root = project(files);
    const result = await plan(["mypy", "--exclude", "b\\.py$", "pkg"], { cwd: root });
    expect(argvs(result).map((a) => a.at(-1))).toEqual(["pkg/__init__.py", "pkg/a.py", "pkg/c.pyi", "pkg/generated/__init__.py", "pkg/generated/g.py"]);
    for (const argv of [["mypy", "-p", "pkg"], ["mypy", "-m", "pkg.a"], ["mypy", "-c", "x = 1"]]) {
      const whole = await plan(argv, { cwd: root });
      expect(argvs(whole)).toEqual([argv]);
      expect(whole.notes[0]).toContain("checks code or modules, not files");
    }
  });

  test("pyproject [tool.mypy] exclude lists are read too", async () => {
    const root = project({ ...files, "mypy.ini": null, "pyproject.toml": '[tool.mypy]\nexclude = ["^pkg/b\\\\.py$", "generated"]\n' });
    const result = await plan(["mypy", "pkg"], { cwd: root });
    expect(argvs(result).map((a) => a.at(-1))).toEqual(["pkg/__init__.py", "pkg/a.py", "pkg/c.pyi"]);
  });
});

describe.skipIf(missingTool("flake8"))("flake8", () => {
  const files = {
    "setup.cfg": "[flake8]\nexclude = legacy,*.pyc\nmax-line-length = 100\n",
    "app/a.py": "x=1\n",
    "app/b.py": "y = 2\n",
    "app/legacy/old.py": "z=3\n",
    "app/data.json": "{}\n",
  };

  test("per file, flake8's own exclude honoured; the atoms report what the whole reports", async () => {
    const root = project(files, { git: true });
    const result = await plan(["flake8", "--select", "E", "app"], { cwd: root });
    expect(argvs(result)).toEqual([["flake8", "--select", "E", "app/a.py"], ["flake8", "--select", "E", "app/b.py"]]);
    const split = atomLines(result.atoms, root, (l) => l.trim() !== "");
    const whole = run(["flake8", "--select", "E", "app"], root);
    expect(split.codes).toEqual([1, 0]);
    expect(split.lines).toEqual(whole.stdout.split("\n").filter((l) => l.trim() !== "").sort());
  });

  test("--exclude / --extend-exclude on the command line; --output-file keeps it whole", async () => {
    const root = project(files);
    expect(argvs(await plan(["flake8", "--exclude=b.py", "app"], { cwd: root })).map((a) => a.at(-1))).toEqual(["app/a.py", "app/legacy/old.py"]);
    expect(argvs(await plan(["flake8", "--extend-exclude", "a.py", "app"], { cwd: root })).map((a) => a.at(-1))).toEqual(["app/b.py"]);
    const whole = await plan(["flake8", "--output-file", "report.txt", "app"], { cwd: root });
    expect(whole.atoms).toHaveLength(1);
    expect(whole.notes[0]).toBe("flake8 --output-file: writes one report, which each atom would overwrite");
  });

  test("a file named one by one is kept even where exclude would skip it in a directory (flake8 decides)", async () => {
    const root = project(files);
    expect(argvs(await plan(["flake8", "app/legacy/old.py", "app/b.py"], { cwd: root }))).toEqual([["flake8", "app/legacy/old.py"], ["flake8", "app/b.py"]]);
  });

  test("a path that names nothing keeps it whole, so flake8 reports it", async () => {
    const root = project(files);
    const result = await plan(["flake8", "app", "nope/"], { cwd: root });
    expect(argvs(result)).toEqual([["flake8", "app", "nope/"]]);
    expect(result.notes).toEqual(["flake8: nope/ names nothing on disk; kept whole so flake8 reports it"]);
  });
});

describe.skipIf(missingTool("black") || missingTool("isort"))("black and isort", () => {
  const files = {
    "pyproject.toml": '[tool.black]\nextend-exclude = "migrations"\n\n[tool.isort]\nprofile = "black"\nskip_glob = ["*/vendor/*"]\n',
    "src/a.py": "import sys\nimport os\nx = {  'a':1 }\n",
    "src/b.py": "import os\n\ny = 2\n",
    "src/c.pyi": "def f() -> int: ...\n",
    "src/migrations/m.py": "x = {  'a':1 }\n",
    "src/vendor/v.py": "import sys\nimport os\n",
    "src/build/gen.py": "x = {  'a':1 }\n",
  };

  test("black: per file, black's include and default / extend-exclude honoured", async () => {
    const root = project(files, { git: true });
    const result = await plan(["black", "--check", "-q", "src"], { cwd: root });
    expect(argvs(result)).toEqual([
      ["black", "--check", "-q", "src/a.py"],
      ["black", "--check", "-q", "src/b.py"],
      ["black", "--check", "-q", "src/c.pyi"],
      ["black", "--check", "-q", "src/vendor/v.py"],
    ]);
    expect(atomLines(result.atoms, root, () => false).codes).toEqual([1, 0, 0, 0]);
    expect(run(["black", "--check", "-q", "src"], root).exitCode).toBe(1);
  });

  test("isort: per file, isort's default skip and skip_glob honoured", async () => {
    const root = project(files, { git: true });
    const result = await plan(["isort", "--check-only", "src"], { cwd: root });
    expect(argvs(result).map((a) => a.at(-1))).toEqual(["src/a.py", "src/b.py", "src/c.pyi", "src/migrations/m.py"]);
    expect(atomLines(result.atoms, root, () => false).codes).toEqual([1, 0, 0, 0]);
    expect(run(["isort", "--check-only", "src"], root).exitCode).toBe(1);
  });
});

describe.skipIf(missingTool("yamllint"))("yamllint", () => {
  const files = {
    ".yamllint": "extends: default\nignore: |\n  vendor/\nrules:\n  document-start: disable\n",
    "conf/a.yaml": "key: value\n",
    "conf/b.yml": "key: value   \n",
    "conf/vendor/v.yaml": "bad:   indent\n  - x\n",
    "conf/readme.md": "# not yaml\n",
  };

  test("per file: yaml-files and ignore honoured; the atoms report what the whole reports", async () => {
    const root = project(files, { git: true });
    const result = await plan(["yamllint", "-f", "parsable", "conf"], { cwd: root });
    expect(argvs(result)).toEqual([["yamllint", "-f", "parsable", "conf/a.yaml"], ["yamllint", "-f", "parsable", "conf/b.yml"]]);
    const split = atomLines(result.atoms, root, (l) => l.trim() !== "");
    const whole = run(["yamllint", "-f", "parsable", "conf"], root);
    expect(split.codes).toEqual([0, 1]);
    expect(whole.exitCode).toBe(1);
    expect(split.lines).toEqual(whole.stdout.split("\n").filter((l) => l.trim() !== "").sort());
  });

  test("-d inline configuration; stdin keeps it whole", async () => {
    const root = project(files);
    const result = await plan(["yamllint", "-d", "{extends: relaxed, ignore: b.yml}", "conf"], { cwd: root });
    expect(argvs(result).map((a) => a.at(-1))).toEqual(["conf/a.yaml", "conf/vendor/v.yaml"]);
    expect((await plan(["yamllint", "-"], { cwd: root })).notes).toEqual(["yamllint: reads standard input"]);
  });
});

describe.skipIf(missingTool("shellcheck"))("shellcheck", () => {
  const files = {
    "scripts/a.sh": "#!/bin/sh\necho $1\n",
    "scripts/b.sh": '#!/bin/sh\necho "$1"\n',
  };

  test("per file for files named one by one; the atoms fail where the whole fails", async () => {
    const root = project(files, { git: true });
    const result = await plan(["shellcheck", "-S", "info", "scripts/a.sh", "scripts/b.sh"], { cwd: root });
    expect(argvs(result)).toEqual([["shellcheck", "-S", "info", "scripts/a.sh"], ["shellcheck", "-S", "info", "scripts/b.sh"]]);
    expect(atomLines(result.atoms, root, () => false).codes).toEqual([1, 0]);
  });

  test("a directory is not shellcheck's input: kept whole so it reports that itself", async () => {
    const root = project(files);
    const result = await plan(["shellcheck", "scripts"], { cwd: root });
    expect(argvs(result)).toEqual([["shellcheck", "scripts"]]);
    expect(result.notes[0]).toBe("shellcheck: scripts is a directory, which shellcheck does not take; kept whole so shellcheck reports it");
    expect(run(["shellcheck", "scripts"], root).exitCode).not.toBe(0);
  });

  test("-f json prints one document for all files: kept whole", async () => {
    const root = project(files);
    expect((await plan(["shellcheck", "-f", "json", "scripts/a.sh", "scripts/b.sh"], { cwd: root })).atoms).toHaveLength(1);
    expect((await plan(["shellcheck", "-f", "gcc", "scripts/a.sh", "scripts/b.sh"], { cwd: root })).atoms).toHaveLength(2);
  });
});

describe.skipIf(missingTool("flake8"))("batches apply to every tool", () => {
  test("atomifyBatchSize=2 over three files", async () => {
    const root = project({ "a/x.py": "", "a/y.py": "", "a/z.py": "" });
    const result = await plan(["flake8", "a"], { cwd: root, env: { SEP_ATOMIFY_BATCH_SIZE: "2" } });
    expect(argvs(result)).toEqual([["flake8", "a/x.py", "a/y.py"], ["flake8", "a/z.py"]]);
    expect(result.notes).toEqual(["flake8: split into 2 atoms (3 files, up to 2 per atom)"]);
  });
});
