// `sep plan` through the compiled binary: the atoms a command becomes (one per line, or JSON as
// DESIGN §6 shapes it: an array of { argv }), notes on stderr, nothing run and nothing written;
// unknown and destructive commands (ORIGINAL §4.9) come back byte for byte.
import { afterEach, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { missingTool } from "../atomify/helpers.ts";
import { cleanupAll, ensureBinary, runSep, sepEnv, tempProject } from "./helpers.ts";

beforeAll(() => ensureBinary(), 300_000);
afterEach(() => cleanupAll());

const ATOMIFY_VARS = { SEP_ATOMIFY: undefined, SEP_ATOMIFY_PYTEST: undefined, SEP_ATOMIFY_BATCH_SIZE: undefined, SEP_ENFORCE_RUNNERS: undefined, SEP_RUNNERS: undefined, PYTEST_ADDOPTS: undefined };
const env = (extra: Record<string, string | undefined> = {}) => sepEnv({ ...ATOMIFY_VARS, ...extra });

function suite(): string {
  const dir = tempProject();
  for (const [name, text] of Object.entries({
    "tests/test_a.py": "import pytest\n\n@pytest.mark.parametrize('x', [1, 'a b'])\ndef test_p(x):\n    assert x\n",
    "tests/test_b.py": "def test_b():\n    pass\n",
    "src/a.py": "x = 1\n",
  })) {
    const path = join(dir, name);
    Bun.spawnSync(["mkdir", "-p", join(path, "..")]);
    writeFileSync(path, text);
  }
  return dir;
}

interface JsonAtom {
  argv: string[];
  env?: Record<string, string>;
  name?: string;
}

async function planJson(args: string[], cwd: string, extra: Record<string, string | undefined> = {}): Promise<{ atoms: JsonAtom[]; stderr: string }> {
  const result = await runSep(["plan", "--json", ...args], { cwd, env: env(extra) });
  expect({ exitCode: result.exitCode, stderr: result.stderr }).toMatchObject({ exitCode: 0 });
  return { atoms: JSON.parse(result.stdoutText) as JsonAtom[], stderr: result.stderr };
}

describe("sep plan --json", () => {
  test("pytest tests/: one atom per test file, an array of { argv }; nothing run, nothing written", async () => {
    const dir = suite();
    const tree = () => (readdirSync(dir, { recursive: true }) as string[]).filter((p) => !p.startsWith(".git")).sort();
    const before = tree();
    const { atoms, stderr } = await planJson(["--", "pytest", "-q", "tests/"], dir);
    expect(atoms.map((a) => a.argv)).toEqual([["pytest", "-q", "tests/test_a.py"], ["pytest", "-q", "tests/test_b.py"]]);
    expect(atoms[0]!.env).toEqual({ PYTEST_XDIST_AUTO_NUM_WORKERS: "1" });
    expect(stderr).toContain("sep: pytest: split into 2 atoms (2 files, up to 1 per atom)");
    expect(tree()).toEqual(before);
  }, 60_000);

  test("per test, from the configuration; batches from the environment", async () => {
    const dir = suite();
    writeFileSync(join(dir, ".env.development"), "SEP_ATOMIFY_PYTEST=test\n");
    const { atoms } = await planJson(["--", "pytest", "tests"], dir);
    expect(atoms.map((a) => a.argv)).toEqual([["pytest", "tests/test_a.py::test_p[1]"], ["pytest", "tests/test_a.py::test_p[a b]"], ["pytest", "tests/test_b.py::test_b"]]);
    const batched = await planJson(["--", "pytest", "tests"], dir, { SEP_ATOMIFY_BATCH_SIZE: "2" });
    expect(batched.atoms.map((a) => a.argv)).toEqual([["pytest", "tests/test_a.py::test_p[1]", "tests/test_a.py::test_p[a b]"], ["pytest", "tests/test_b.py::test_b"]]);
  }, 60_000);

  test("--no-atomify: the argv as given", async () => {
    const dir = suite();
    const { atoms, stderr } = await planJson(["--no-atomify", "--", "pytest", "-n", "auto", "tests/"], dir);
    expect(atoms).toEqual([{ argv: ["pytest", "-n", "auto", "tests/"], env: { PYTEST_XDIST_AUTO_NUM_WORKERS: "1" } }]);
    expect(stderr).not.toContain("split");
  }, 30_000);

  test("SEP_ATOMIFY=0 turns splitting off; --atomify turns it back on", async () => {
    const dir = suite();
    expect((await planJson(["--", "pytest", "tests"], dir, { SEP_ATOMIFY: "0" })).atoms).toHaveLength(1);
    expect((await planJson(["--atomify", "--", "pytest", "tests"], dir, { SEP_ATOMIFY: "0" })).atoms).toHaveLength(2);
  }, 60_000);

  const EXACT: string[][] = [
    ["cp", "-r", "src/", "dest/"],
    ["tar", "czf", "out.tgz", "src/"],
    ["git", "add", "src/"],
    ["git", "add", "."],
    ["git", "commit", "-m", "feat: add feature"],
    ["make", "test"],
    ["make", "-j1", "test", "ARGS=a b"],
    ["rm", "-rf", "src/"],
    ["bash", "-c", "echo 'a b' && pytest tests/"],
    ["python3", "-c", "import sys; print(sys.argv[1:])", "src/"],
    ["echo", "$(touch /tmp/sep-plan-e2e-canary)"],
    ["--bogus"],
    ["pipx", "run", "pre-commit", "run", "--all-files"],
    ["pip-audit"],
  ];
  for (const argv of EXACT) {
    test(`${JSON.stringify(argv)} comes back exactly`, async () => {
      const dir = suite();
      writeFileSync(join(dir, "uv.lock"), "");
      const { atoms, stderr } = await planJson(["--", ...argv], dir);
      expect(atoms).toEqual([{ argv }]);
      expect(stderr).toContain("is not a tool sep splits or rewrites; it runs exactly as written");
    }, 30_000);
  }
});

describe("sep plan (text)", () => {
  test("one atom per line, quoted for a shell; notes on stderr only", async () => {
    const dir = suite();
    const result = await runSep(["plan", "--", "pytest", "tests/test_a.py"], { cwd: dir, env: env({ SEP_ATOMIFY_PYTEST: "test" }) });
    expect(result.exitCode).toBe(0);
    expect(result.stdoutText).toBe("pytest 'tests/test_a.py::test_p[1]'\npytest 'tests/test_a.py::test_p[a b]'\n");
    expect(result.stderr).toContain("sep: pytest: split into 2 atoms (2 tests, up to 1 per atom)");
    const quiet = await runSep(["plan", "-q", "--", "pytest", "tests/test_a.py"], { cwd: dir, env: env() });
    expect(quiet.stderr).toBe("");
  }, 60_000);

  test.skipIf(missingTool("mypy"))("runner enforcement shows the rewrite; --no-enforce-runners and --dont_enforce_runners leave it out", async () => {
    const dir = suite();
    writeFileSync(join(dir, "uv.lock"), "");
    const enforced = await runSep(["plan", "--", "mypy", "src"], { cwd: dir, env: env() });
    expect(enforced.stdoutText.split("\n")[0]).toStartWith("uv run mypy ");
    expect(enforced.stderr).toContain(`sep: runner: mypy src → uv run mypy src (uv.lock in ${dir})`);
    for (const flag of ["--no-enforce-runners", "--dont_enforce_runners"]) {
      const off = await runSep(["plan", flag, "--", "mypy", "src"], { cwd: dir, env: env() });
      expect(off.exitCode).toBe(0);
      expect(off.stdoutText).toBe("mypy src/a.py\n");
      expect(off.stderr).not.toContain("runner:");
    }
    const legacy = await runSep(["plan", "--only_verified", "--enable-second-tier", "--", "git", "status"], { cwd: dir, env: env() });
    expect(legacy.exitCode).toBe(0);
    expect(legacy.stdoutText).toBe("git status\n");
    expect(legacy.stderr).toContain("--only_verified: always on");
    expect(legacy.stderr).toContain("--enable-second-tier: no effect");
  }, 60_000);
});

describe("usage errors exit 2 and plan nothing", () => {
  const cases: { args: string[]; env?: Record<string, string>; stderr: string }[] = [
    { args: ["plan", "pytest"], stderr: 'missing "--" before the command' },
    { args: ["plan", "--"], stderr: 'no command after "--"' },
    { args: ["plan", "--bogus", "--", "pytest"], stderr: "unknown option --bogus for sep plan" },
    { args: ["plan", "--", "pytest"], env: { SEP_ATOMIFY_BATCH_SIZE: "0" }, stderr: "SEP_ATOMIFY_BATCH_SIZE must be a whole number from 1 to 100000" },
    { args: ["plan", "--", "pytest"], env: { SEP_RUNNERS: "uv,poetry" }, stderr: "SEP_RUNNERS must be" },
  ];
  for (const c of cases) {
    test(c.args.join(" "), async () => {
      const dir = suite();
      const result = await runSep(c.args, { cwd: dir, env: env(c.env) });
      expect(result.exitCode).toBe(2);
      expect(result.stdoutText).toBe("");
      expect(result.stderr).toContain(c.stderr);
    }, 30_000);
  }
});
