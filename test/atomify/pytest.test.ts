// pytest on real projects, with the pytest a user gets from PATH: split per test file (default)
// or per test (node ids, parametrised ids included) from pytest's own collection, whatever the
// project's addopts; every flag kept in its place; kept whole, with the reason, where a split
// would change what runs. The atoms are then run, to show they pass and fail as the whole would.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { argvs, cleanupProjects, missing, onPath, plan, project, run, write } from "./helpers.ts";

afterAll(cleanupProjects);
// Each pytest start costs up to a second under a pyenv shim.
setDefaultTimeout(120_000);

const SUITE = {
  "tests/conftest.py": "import pytest\n\n@pytest.fixture\ndef answer():\n    return 42\n",
  "tests/test_a.py": [
    "import pytest",
    "def test_one(answer):",
    "    assert answer == 42",
    "@pytest.mark.parametrize('x', [1, 2, 'a b'])",
    "def test_p(x):",
    "    assert x",
    "class TestK:",
    "    def test_c(self):",
    "        assert True",
    "",
  ].join("\n"),
  "tests/test_b.py": "def test_b():\n    assert 1 + 1 == 2\n",
  "tests/sub/c_test.py": "def test_c():\n    assert 'c'\n",
  "tests/test_helpers_only.py": "def helper():\n    return 1\n",
  "src/app.py": "def f():\n    return 1\n",
};

let pytestVersion = "";
beforeAll(() => {
  pytestVersion = run(["pytest", "--version"], "/").stdout.trim() || run(["pytest", "--version"], "/").stderr.trim();
  console.error(`pytest on PATH: ${pytestVersion}`);
});

describe("per test file (the default)", () => {
  test("a directory becomes its test files, sorted; a file without tests is no atom; flags stay in place", async () => {
    const root = project(SUITE, { git: true });
    const result = await plan(["pytest", "-q", "tests/", "--tb=short"], { cwd: root });
    expect(argvs(result)).toEqual([
      ["pytest", "-q", "tests/sub/c_test.py", "--tb=short"],
      ["pytest", "-q", "tests/test_a.py", "--tb=short"],
      ["pytest", "-q", "tests/test_b.py", "--tb=short"],
    ]);
    expect(result.tool).toBe("pytest");
    expect(result.notes).toEqual(["pytest: split into 3 atoms (3 files, up to 1 per atom)"]);
    expect(result.atoms.map((a) => a.name)).toEqual(["pytest tests/sub/c_test.py", "pytest tests/test_a.py", "pytest tests/test_b.py"]);
    for (const atom of result.atoms) {
      expect(atom.env).toEqual({ PYTEST_XDIST_AUTO_NUM_WORKERS: "1" });
      expect(run(atom.argv, root, atom.env).exitCode).toBe(0);
    }
  });

  test("no path: what pytest itself would collect (testpaths, python_files), whatever addopts says", async () => {
    const root = project({
      "pytest.ini": "[pytest]\naddopts = -v -x --tb=line\ntestpaths = checks\npython_files = check_*.py\n",
      "checks/check_one.py": "def test_one():\n    pass\n",
      "checks/check_two.py": "def test_two():\n    pass\n",
      "checks/test_ignored_name.py": "def test_never():\n    pass\n",
      "elsewhere/check_out.py": "def test_out():\n    pass\n",
    });
    const result = await plan(["pytest", "--no-header"], { cwd: root, env: { SEP_ATOMIFY_BATCH_SIZE: "1" } });
    // addopts has -x, which stops a whole session at the first failure: not split
    expect(argvs(result)).toEqual([["pytest", "--no-header"]]);
    expect(result.notes).toEqual(["pytest (addopts in pytest.ini) -x: stops the whole session at the first failures; each atom would stop only itself"]);

    write(root, { "pytest.ini": "[pytest]\naddopts = -v --tb=line\ntestpaths = checks\npython_files = check_*.py\n" });
    const split = await plan(["pytest", "--no-header"], { cwd: root });
    expect(argvs(split)).toEqual([
      ["pytest", "checks/check_one.py", "--no-header"],
      ["pytest", "checks/check_two.py", "--no-header"],
    ]);
  });

  test("addopts in pyproject.toml are read as well", async () => {
    const root = project({
      "pyproject.toml": '[tool.pytest.ini_options]\naddopts = "--maxfail=2"\n',
      "tests/test_x.py": "def test_x():\n    pass\n",
    });
    const result = await plan(["pytest", "tests"], { cwd: root });
    expect(result.atoms).toHaveLength(1);
    expect(result.notes[0]).toStartWith("pytest (addopts in pyproject.toml) --maxfail");
  });

  test("batches: atomifyBatchSize files per atom", async () => {
    const root = project(SUITE);
    const result = await plan(["pytest", "tests"], { cwd: root, env: { SEP_ATOMIFY_BATCH_SIZE: "2" } });
    expect(argvs(result)).toEqual([
      ["pytest", "tests/sub/c_test.py", "tests/test_a.py"],
      ["pytest", "tests/test_b.py"],
    ]);
    expect(result.atoms[0]!.name).toBe("pytest tests/sub/c_test.py (+1)");
  });

  test("several paths: the atoms take the place of the first, the others go", async () => {
    const root = project(SUITE);
    const result = await plan(["pytest", "tests/test_b.py", "-s", "tests/sub"], { cwd: root });
    expect(argvs(result)).toEqual([
      ["pytest", "tests/sub/c_test.py", "-s"],
      ["pytest", "tests/test_b.py", "-s"],
    ]);
  });

  test("from a subdirectory, atoms name paths relative to the cwd (pytest's node ids are relative to its rootdir)", async () => {
    const root = project({ ...SUITE, "pytest.ini": "[pytest]\n" });
    const cwd = join(root, "tests");
    const result = await plan(["pytest", "."], { cwd, env: { SEP_ATOMIFY_PYTEST: "test" } });
    expect(argvs(result)[0]).toEqual(["pytest", "sub/c_test.py::test_c"]);
    for (const atom of result.atoms) expect(run(atom.argv, cwd, atom.env).exitCode).toBe(0);
  });

  test("python -m pytest is pytest too", async () => {
    const root = project(SUITE);
    const result = await plan(["python3", "-m", "pytest", "tests/test_b.py", "tests/test_a.py"], { cwd: root });
    expect(argvs(result)).toEqual([
      ["python3", "-m", "pytest", "tests/test_a.py"],
      ["python3", "-m", "pytest", "tests/test_b.py"],
    ]);
  });

  test("a failing test fails its own atom, and only that one", async () => {
    const root = project({ ...SUITE, "tests/test_b.py": "def test_b():\n    assert 1 + 1 == 3\n" });
    const result = await plan(["pytest", "tests"], { cwd: root });
    const codes = result.atoms.map((atom) => [atom.argv.at(-1), run(atom.argv, root, atom.env).exitCode]);
    expect(codes).toEqual([["tests/sub/c_test.py", 0], ["tests/test_a.py", 0], ["tests/test_b.py", 1]]);
    expect(run(["pytest", "tests"], root).exitCode).toBe(1);
  });

  test("collection writes nothing into the project (no .pytest_cache, __pycache__, .benchmarks)", async () => {
    const root = project(SUITE, { git: true });
    const tree = () => (readdirSync(root, { recursive: true }) as string[]).filter((p) => !p.startsWith(".git")).sort();
    const before = tree();
    await plan(["pytest", "tests"], { cwd: root, env: { SEP_ATOMIFY_PYTEST: "test" } });
    expect(tree()).toEqual(before);
  });
});

describe("per test (atomifyPytest = test)", () => {
  test("node ids from pytest's collection, parametrised ids and classes included, each one argv word", async () => {
    const root = project(SUITE);
    const result = await plan(["pytest", "-q", "tests/test_a.py", "tests/test_b.py"], { cwd: root, env: { SEP_ATOMIFY_PYTEST: "test" } });
    expect(argvs(result)).toEqual([
      ["pytest", "-q", "tests/test_a.py::test_one"],
      ["pytest", "-q", "tests/test_a.py::test_p[1]"],
      ["pytest", "-q", "tests/test_a.py::test_p[2]"],
      ["pytest", "-q", "tests/test_a.py::test_p[a b]"],
      ["pytest", "-q", "tests/test_a.py::TestK::test_c"],
      ["pytest", "-q", "tests/test_b.py::test_b"],
    ]);
    expect(result.notes).toEqual(["pytest: split into 6 atoms (6 tests, up to 1 per atom)"]);
    const spaced = run(result.atoms[3]!.argv, root, result.atoms[3]!.env);
    expect(spaced.exitCode).toBe(0);
    expect(spaced.stdout).toContain("1 passed");
  });

  test("independent of the project's addopts (-v used to be needed, ORIGINAL §4.3)", async () => {
    for (const addopts of ["", "-v", "-q", "-vv --tb=long -ra", "-p no:warnings"]) {
      const root = project({ ...SUITE, "pytest.ini": `[pytest]\naddopts = ${addopts}\n` });
      const result = await plan(["pytest", "tests/test_b.py", "tests/sub"], { cwd: root, env: { SEP_ATOMIFY_PYTEST: "test" } });
      expect(argvs(result)).toEqual([["pytest", "tests/sub/c_test.py::test_c"], ["pytest", "tests/test_b.py::test_b"]]);
    }
  });

  test("PYTEST_ADDOPTS does not change the listing either, but is judged like addopts", async () => {
    const root = project(SUITE);
    const saved = process.env.PYTEST_ADDOPTS;
    try {
      process.env.PYTEST_ADDOPTS = "-vv";
      expect(argvs(await plan(["pytest", "tests/test_b.py"], { cwd: root, env: { SEP_ATOMIFY_PYTEST: "test" } }))).toEqual([["pytest", "tests/test_b.py::test_b"]]);
      process.env.PYTEST_ADDOPTS = "--lf";
      const whole = await plan(["pytest", "tests/test_b.py"], { cwd: root });
      expect(whole.notes[0]).toStartWith("pytest (PYTEST_ADDOPTS) --lf");
    } finally {
      if (saved === undefined) delete process.env.PYTEST_ADDOPTS;
      else process.env.PYTEST_ADDOPTS = saved;
    }
  });
});

describe("kept whole, with one note saying why", () => {
  const cases: { argv: string[]; note: string }[] = [
    { argv: ["pytest", "-k", "one", "tests"], note: "pytest -k: selects tests across the session" },
    { argv: ["pytest", "-m", "slow", "tests"], note: "pytest -m: selects tests across the session" },
    { argv: ["pytest", "--lf", "tests"], note: "pytest --lf: orders or selects tests from the last whole run's cache" },
    { argv: ["pytest", "--ff"], note: "pytest --ff:" },
    { argv: ["pytest", "-x", "tests"], note: "pytest -x: stops the whole session" },
    { argv: ["pytest", "-vx", "tests"], note: "pytest -x: stops the whole session" },
    { argv: ["pytest", "--maxfail=3", "tests"], note: "pytest --maxfail:" },
    { argv: ["pytest", "--cov=src", "tests"], note: "pytest --cov: coverage would be measured and checked per atom" },
    { argv: ["pytest", "--junitxml", "out.xml", "tests"], note: "pytest --junitxml: writes one report file" },
    { argv: ["pytest", "tests/test_a.py::test_one"], note: "pytest: tests/test_a.py::test_one already names tests" },
    { argv: ["pytest", "tests/nope.py"], note: "pytest: tests/nope.py names nothing on disk; kept whole so pytest reports it" },
    { argv: ["pytest", "tests/*.py"], note: "pytest: tests/*.py names nothing on disk" },
    { argv: ["pytest", "--runslow", "tests"], note: "pytest: cannot tell whether --runslow takes a value (write --runslow=VALUE, or put it after the paths)" },
    { argv: ["pytest", "--collect-only", "tests"], note: "pytest --collect-only: runs no tests" },
    { argv: ["pytest", "--pyargs", "mypkg"], note: "pytest --pyargs: names Python packages" },
    { argv: ["pytest", "src"], note: "pytest: collected no tests; kept whole so pytest reports it" },
  ];
  for (const c of cases) {
    test(c.argv.join(" "), async () => {
      const root = project(SUITE);
      const result = await plan(c.argv, { cwd: root });
      expect(argvs(result)).toEqual([c.argv]);
      expect(result.notes).toHaveLength(1);
      expect(result.notes[0]).toStartWith(c.note);
    });
  }

  test("an unknown option after the paths is fine; --no-cov lifts the coverage rule", async () => {
    const root = project(SUITE);
    expect((await plan(["pytest", "tests", "--runslow"], { cwd: root })).atoms).toHaveLength(3);
    expect((await plan(["pytest", "--no-cov", "--cov=src", "tests"], { cwd: root })).atoms).toHaveLength(3);
  });

  test("a collection error: pytest reports it itself", async () => {
    const root = project({ ...SUITE, "tests/test_broken.py": "def test_(:\n" });
    const result = await plan(["pytest", "tests"], { cwd: root });
    expect(argvs(result)).toEqual([["pytest", "tests"]]);
    expect(result.notes[0]).toMatch(/^pytest: could not collect the tests \(exit 2: .*test_broken.*\); kept whole so pytest reports it itself$/);
  });

  test("pytest not installed", async () => {
    const root = project(SUITE);
    const saved = process.env.PATH;
    try {
      process.env.PATH = "/nonexistent";
      const result = await plan(["pytest", "tests"], { cwd: root });
      expect(argvs(result)).toEqual([["pytest", "tests"]]);
      expect(result.notes).toEqual(["pytest: pytest is not installed (not on PATH); kept whole so the run reports it"]);
    } finally {
      process.env.PATH = saved;
    }
  });
});

/** Workers xdist reports: "gw0 [5] / gw1 [5]" (xdist 3.1) or "2 workers [5 items]" (newer). */
function workersStarted(stdout: string): number {
  const named = new Set(stdout.match(/\bgw\d+\b/g) ?? []);
  if (named.size > 0) return named.size;
  return Number(/(\d+) workers? \[/.exec(stdout)?.[1] ?? 0);
}

// The Debian python3-pytest-xdist package serves the pytest from python3-pytest; find the pytest
// on PATH that can load xdist (a pyenv pytest earlier on PATH may lack it).
const xdistDir = onPath("pytest", (path) => run([path, "--help"], "/").stdout.includes("--numprocesses"));

describe.skipIf(missing("pytest-xdist", xdistDir !== undefined, "apt-get install python3-pytest python3-pytest-xdist"))("PYTEST_MAX_WORKERS caps pytest-xdist", () => {

  test("a pytest with xdist is on PATH", () => {
    expect(xdistDir).toBeDefined();
  });

  test("-n 4 becomes -n 2 in every atom, with the note, and xdist starts 2 workers", async () => {
    const root = project(SUITE);
    const saved = process.env.PATH;
    try {
      process.env.PATH = `${xdistDir}:${saved}`;
      const result = await plan(["pytest", "-n", "4", "tests/test_a.py", "tests/test_b.py"], { cwd: root, env: { PYTEST_MAX_WORKERS: "2" } });
      expect(argvs(result)).toEqual([["pytest", "-n", "2", "tests/test_a.py"], ["pytest", "-n", "2", "tests/test_b.py"]]);
      expect(result.notes[0]).toBe("pytest: -n 4 → -n 2 (PYTEST_MAX_WORKERS=2)");
      expect(result.atoms[0]!.env).toEqual({ PYTEST_XDIST_AUTO_NUM_WORKERS: "2" });
      const ran = run(result.atoms[0]!.argv, root, result.atoms[0]!.env);
      expect(`${ran.exitCode} ${ran.stdout} ${ran.stderr}`).toStartWith("0 ");
      expect(workersStarted(ran.stdout)).toBe(2);
    } finally {
      process.env.PATH = saved;
    }
  });

  test("-n auto from the project's addopts is capped through PYTEST_XDIST_AUTO_NUM_WORKERS", async () => {
    const root = project({ ...SUITE, "pytest.ini": "[pytest]\naddopts = -n auto\n" });
    const saved = process.env.PATH;
    try {
      process.env.PATH = `${xdistDir}:${saved}`;
      const result = await plan(["pytest", "tests/test_b.py"], { cwd: root });
      expect(argvs(result)).toEqual([["pytest", "tests/test_b.py"]]);
      const ran = run(result.atoms[0]!.argv, root, result.atoms[0]!.env);
      expect(ran.exitCode).toBe(0);
      expect(workersStarted(ran.stdout)).toBe(1);
    } finally {
      process.env.PATH = saved;
    }
  });
});
