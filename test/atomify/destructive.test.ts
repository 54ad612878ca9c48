// ORIGINAL §4.9: what the bash original did to commands it did not understand — `cp -r src/ dest/`
// lost its destination, `tar` its flags, `git add` its subcommand, `git commit -m "…"` its
// message, `make test` became one word, `echo '$(touch /tmp/x)'` ran `touch` at enqueue time.
// Here every such command must come back as exactly one atom with its argv untouched, with
// atomification and runner enforcement both on, in a project where splitting would be possible.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cleanupProjects, plan, project } from "./helpers.ts";

afterAll(cleanupProjects);

const CANARY = join(tmpdir(), `sep-atomify-canary-${process.pid}`);

const COMMANDS: string[][] = [
  ["cp", "-r", "src/", "dest/"],
  ["cp", "src/a.py", "src/b.py", "backup/"],
  ["tar", "czf", "out.tgz", "src/"],
  ["git", "add", "src/"],
  ["git", "add", "."],
  ["git", "commit", "-m", "feat: add feature"],
  ["git", "status"],
  ["make", "test"],
  ["make", "-j4", "test", "PYTEST_ARGS=-x tests/"],
  ["rm", "-rf", "build/", "src/a.py"],
  ["mv", "src/a.py", "src/c.py"],
  ["bash", "-c", "pytest tests/ && echo 'a b'"],
  ["sh", "-c", "ruff check src/"],
  ["python", "-c", "import sys; print(sys.argv)", "src/"],
  ["python3", "-m", "http.server", "8000"],
  ["echo", `$(touch ${CANARY})`],
  ["echo", "`touch " + CANARY + "`", "~", "$HOME", "*"],
  ["--bogus"],
  ["pipx", "run", "pre-commit", "run", "--all-files"],
  ["pip-audit", "-r", "requirements.txt"],
  ["pip", "install", "-e", "."],
  ["find", "src", "-name", "*.py", "-delete"],
  ["xargs", "-0", "pytest"],
  ["env", "FOO=1", "pytest", "tests/"],
  ["docker", "run", "--rm", "-v", ".:/src", "img", "pytest", "tests/"],
  ["coverage", "run", "-m", "pytest", "tests/"],
  ["pre-commit", "run", "--all-files"],
  ["uv", "run", "--directory", "sub", "pytest", "tests/"],
  ["uv", "pip", "install", "pytest"],
  ["npm", "run", "lint"],
  ["npm", "test", "--", "src/"],
  ["pnpm", "run", "test"],
  ["yarn", "lint", "src/"],
  ["npx", "-c", "eslint src/"],
  ["./scripts/check.sh", "src/"],
];

describe("commands sep does not split keep their argv exactly", () => {
  for (const argv of COMMANDS) {
    test(JSON.stringify(argv), async () => {
      const root = project({
        "src/a.py": "x = 1\n",
        "src/b.py": "y = 2\n",
        "tests/test_a.py": "def test_a():\n    pass\n",
        "uv.lock": "",
        "package-lock.json": "{}",
        "Makefile": "test:\n\ttrue\n",
      }, { git: true });
      rmSync(CANARY, { force: true });
      const result = await plan([...argv], { cwd: root, env: { SEP_ATOMIFY_BATCH_SIZE: "1" } });
      expect(result.atoms).toEqual([{ argv }]);
      expect(result.notes).toEqual([]);
      expect(result.tool).toBeUndefined();
      // nothing in the command was run or expanded while planning
      expect(existsSync(CANARY)).toBe(false);
    });
  }
});

describe("--no-atomify gives the argv as given, even for tools sep splits", () => {
  test("pytest, ruff, eslint", async () => {
    const root = project({ "tests/test_a.py": "def test_a():\n    pass\n", "src/a.py": "" }, { git: true });
    for (const argv of [["pytest", "-n", "auto", "tests/"], ["ruff", "check", "src/"], ["eslint", "src/"]]) {
      const result = await plan(argv, { cwd: root, atomify: false });
      expect(result.atoms.map((a) => a.argv)).toEqual([argv]);
      expect(result.notes).toEqual([]);
    }
  });
});
