// Which Bash command strings run a heavy command: the default agentCommands against shell text of
// every shape an agent writes (operators, runners, assignments, quotes, $(…), heredocs, comments).
import { describe, expect, test } from "bun:test";
import { findHeavyCommand, isSepCommand, parsePatterns } from "../../src/agent/heavy.ts";
import { DEFAULT_AGENT_COMMANDS } from "../../src/config.ts";

const defaults = parsePatterns(DEFAULT_AGENT_COMMANDS);

describe("findHeavyCommand with the default agentCommands", () => {
  const cases: { text: string; pattern?: string; words?: string[] }[] = [
    { text: "pytest -x", pattern: "pytest", words: ["pytest", "-x"] },
    { text: "cd sub && npm test", pattern: "npm test", words: ["npm", "test"] },
    { text: "FOO=1 uv run pytest", pattern: "pytest", words: ["uv", "run", "pytest"] },
    { text: "FOO=1 BAR=2 pytest -q", pattern: "pytest", words: ["pytest", "-q"] },
    { text: "uv run --with pytest-cov pytest tests/", pattern: "pytest", words: ["uv", "run", "--with", "pytest-cov", "pytest", "tests/"] },
    { text: "poetry run mypy src", pattern: "mypy" },
    { text: "npx --yes eslint .", pattern: "eslint" },
    { text: "pnpm exec tsc -p .", pattern: "tsc" },
    { text: "yarn jest --watchAll=false", pattern: "jest" },
    { text: "yarn test", pattern: "yarn test" },
    { text: "npm run build", pattern: "npm run build" },
    { text: "npm --silent test", pattern: "npm test" },
    { text: "pnpm run test", pattern: "pnpm run test" },
    { text: "python -m pytest -x", pattern: "pytest" },
    { text: "python3.12 -m mypy .", pattern: "mypy" },
    { text: "cargo test --workspace", pattern: "cargo test" },
    { text: "cargo +nightly clippy", pattern: "cargo clippy" },
    { text: "go test ./...", pattern: "go test" },
    { text: "make -j4 all", pattern: "make" },
    { text: "/usr/bin/make", pattern: "make" },
    { text: "cmake --build build", pattern: "cmake --build" },
    { text: "./gradlew build", pattern: "./gradlew" },
    { text: "mvn -q verify", pattern: "mvn" },
    { text: "ruff check . && mypy .", pattern: "ruff" },
    { text: "tox -e py312", pattern: "tox" },
    { text: "git status | head; pytest", pattern: "pytest" },
    { text: "false || pytest", pattern: "pytest" },
    { text: "pytest &", pattern: "pytest" },
    { text: "pytest -q 2>&1 | tail -n 3", pattern: "pytest" },
    { text: "echo start\npytest -x\necho done", pattern: "pytest" },
    { text: 'echo "$(pytest --version)"', pattern: "pytest" },
    { text: "x=`vitest run`; echo $x", pattern: "vitest" },
    { text: "bash -c 'cargo build --release'", pattern: "cargo build" },
    { text: "bash <<'EOF'\ncargo test\nEOF", pattern: "cargo test" },
    { text: "time nice -n 5 timeout 600 pytest", pattern: "pytest" },
    { text: "env -u X FOO=1 jest", pattern: "jest" },
    { text: "sudo -u ci make", pattern: "make" },
    { text: "find tests -name '*.py' | xargs pytest", pattern: "pytest" },
    { text: "for t in a b; do pytest $t; done", pattern: "pytest" },
    { text: "if pytest; then echo ok; fi", pattern: "pytest" },
    { text: "(cd sub && tsc --noEmit)", pattern: "tsc" },
    { text: "pytest -k 'héllo wörld ✓'", pattern: "pytest" },
    // light ones
    { text: "git status | head" },
    { text: "ls -la && cat README.md" },
    { text: "echo pytest" },
    { text: "echo 'npm test' && grep -r cargo ." },
    { text: "# pytest\nls" },
    { text: "cat <<EOF\npytest is great\nEOF" },
    { text: "npm install" },
    { text: "npm run lint" },
    { text: "cargo fmt" },
    { text: "go vet ./..." },
    { text: "pytestx" },
    { text: "gradle-wrapper" },
    { text: "cmake -S . -B build" },
    { text: "python script.py" },
    { text: "uv run python script.py" },
    // already under sep: its own turn, never queued twice
    { text: "sep -- pytest -x" },
    { text: "sep --name t -- npm test" },
    { text: "cd sub && /opt/bin/sep -- make" },
    { text: "" },
  ];
  test.each(cases)("$text", ({ text, pattern, words }) => {
    const found = findHeavyCommand(text, defaults);
    expect(found?.pattern).toBe(pattern);
    if (words) expect(found?.words).toEqual(words);
  });
});

describe("patterns", () => {
  test("a word ending in * matches any word with that start", () => {
    const patterns = parsePatterns(["npm run test*"]);
    expect(findHeavyCommand("npm run test:unit", patterns)?.pattern).toBe("npm run test*");
    expect(findHeavyCommand("npm run lint", patterns)).toBeUndefined();
  });

  test("the first word compares by its last path part, the others exactly", () => {
    const patterns = parsePatterns(["./gradlew", "cargo test"]);
    expect(findHeavyCommand("/abs/gradlew assemble", patterns)).toBeDefined();
    expect(findHeavyCommand("gradle assemble", patterns)).toBeUndefined();
    expect(findHeavyCommand("/home/me/.cargo/bin/cargo test", patterns)).toBeDefined();
    expect(findHeavyCommand("cargo tests", patterns)).toBeUndefined();
  });

  test("no patterns: nothing is heavy", () => {
    expect(findHeavyCommand("pytest", [])).toBeUndefined();
  });
});

describe("isSepCommand", () => {
  test.each([
    [["sep", "--", "pytest"], true],
    [["FOO=1", "/usr/local/bin/sep", "queue", "start"], true],
    [["/x/dist/sep", "--version"], true],
    [["/usr/bin/bun", "/repo/src/cli.ts", "--", "pytest"], true],
    [["/usr/bin/bun", "test"], false],
    [["pytest"], false],
  ] as const)("%p → %p", (words, expected) => {
    const program = words[0] === "/usr/bin/bun" ? ["/usr/bin/bun", "/repo/src/cli.ts"] : ["/x/dist/sep"];
    expect(isSepCommand(words, program)).toBe(expected);
  });
});
