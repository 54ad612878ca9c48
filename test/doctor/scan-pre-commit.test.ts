// The pre-commit scan: hooks that queue and never start, or call the old scripts; and docs/ci.md's hook.
import { afterAll, describe, expect, test } from "bun:test";
import { fsReader } from "../../src/doctor/reader.ts";
import { scanPreCommit } from "../../src/doctor/scan-pre-commit.ts";
import { brief, cleanupTempDirs, docsYamlBlocks, project } from "./helpers.ts";

afterAll(cleanupTempDirs);

describe("pre-commit hooks", () => {
  const config = (hooks: string) => `repos:\n  - repo: local\n    hooks:\n${hooks}`;
  const cases: { name: string; text: string; problems: string[][] }[] = [
    { name: "a hook that only queues passes without checking anything", text: config("      - id: ruff\n        name: ruff\n        entry: sep queue add -- ruff check\n        language: system\n"), problems: [["fail", "queue-not-started", ".pre-commit-config.yaml:6"]] },
    { name: "a hook that runs through sep", text: config("      - id: ruff\n        entry: sep -- ruff check\n        language: system\n"), problems: [] },
    { name: "the old executor with args", text: config("      - id: mypy\n        entry: ./scripts/sep.sh\n        args: [--, mypy]\n        language: script\n"), problems: [["warn", "old-script", ".pre-commit-config.yaml:5"]] },
    { name: "the old queue: queued, never run", text: config("      - id: t\n        entry: scripts/sep_queue.sh -- pytest\n        language: system\n"), problems: [["fail", "queue-not-started", ".pre-commit-config.yaml:5"], ["warn", "old-script", ".pre-commit-config.yaml:5"]] },
    { name: "a bash -c entry that queues and starts", text: config("      - id: all\n        entry: bash -c 'sep queue add -- a && sep queue start'\n        language: system\n"), problems: [] },
    { name: "not YAML", text: "repos: [\n", problems: [["fail", "parse-error", ".pre-commit-config.yaml:2"]] },
  ];
  for (const c of cases) {
    test(c.name, () => {
      expect(brief(scanPreCommit(fsReader(project({ ".pre-commit-config.yaml": c.text }))).problems)).toEqual(c.problems);
    });
  }
});

describe("docs/ci.md", () => {
  const blocks = docsYamlBlocks();

  test("its pre-commit hook passes the scan", () => {
    const hook = blocks.find((block) => block.startsWith("# .pre-commit-config.yaml"));
    expect(scanPreCommit(fsReader(project({ ".pre-commit-config.yaml": hook ?? "" })))).toMatchObject({ units: 1, problems: [] });
  });
});
