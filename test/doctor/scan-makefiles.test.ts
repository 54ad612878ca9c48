// The Makefile scan: targets that queue and never start, over real files in temp projects.
import { afterAll, describe, expect, test } from "bun:test";
import { fsReader } from "../../src/doctor/reader.ts";
import { scanMakefiles } from "../../src/doctor/scan-makefiles.ts";
import { brief, cleanupTempDirs, project } from "./helpers.ts";

afterAll(cleanupTempDirs);

describe("Makefiles", () => {
  const cases: { name: string; files: Record<string, string>; problems: string[][] }[] = [
    { name: "a target that queues and never starts", files: { Makefile: "lint:\n\tsep queue add -- ruff check\n\tsep queue add -- mypy\n" }, problems: [["fail", "queue-not-started", "Makefile:2"]] },
    { name: "queue and start in one recipe", files: { Makefile: "check:\n\t@sep queue add -- ruff check\n\t-sep queue add -- mypy\n\tsep queue start\n" }, problems: [] },
    {
      name: "a prerequisite queues, the target starts: the prerequisite alone warns",
      files: { Makefile: ".PHONY: lint ci\nlint:\n\tsep queue add -- ruff\n\nci: lint\n\tsep queue start\n" },
      problems: [["warn", "queue-not-started", "Makefile:3"]],
    },
    { name: "$(MAKE) target inside a recipe, then start", files: { Makefile: "lint:\n\tsep queue add -- ruff\nci:\n\t$(MAKE) lint\n\tsep queue start\n" }, problems: [["warn", "queue-not-started", "Makefile:2"]] },
    {
      name: "the old script through a variable",
      files: { Makefile: "SEP_QUEUE := ./scripts/sep_queue.sh\n\ntest:\n\t$(SEP_QUEUE) -- pytest\n" },
      problems: [["fail", "queue-not-started", "Makefile:4"], ["warn", "old-script", "Makefile:4"]],
    },
    { name: "a continued recipe line", files: { Makefile: "test:\n\tsep queue add \\\n\t  -- pytest && \\\n\tsep queue start\n" }, problems: [] },
    { name: "targets in an included .mk share the Makefile's names", files: { Makefile: "include ci.mk\nlint:\n\tsep queue add -- ruff\n", "ci.mk": "ci: lint\n\tsep queue start\n" }, problems: [["warn", "queue-not-started", "Makefile:3"]] },
    { name: "a define block is text", files: { Makefile: "define HELP\nlint:\n\tsep queue add -- x\nendef\nall:\n\tsep -- true\n" }, problems: [] },
    { name: "$$ in a recipe is the shell's $", files: { Makefile: "ids:\n\tid=$$(sep queue add -- x); sep queue start\n" }, problems: [] },
  ];
  for (const c of cases) {
    test(c.name, () => {
      expect(brief(scanMakefiles(fsReader(project(c.files))).problems)).toEqual(c.problems);
    });
  }

  test("the message names the make command, and who starts it when someone does", () => {
    const root = project({ Makefile: "lint:\n\tsep queue add -- ruff\nci: lint\n\tsep queue start\n" });
    const [problem] = scanMakefiles(fsReader(root)).problems;
    expect(problem?.message).toBe("make lint queues `sep queue add -- ruff` but never runs `sep queue start` after it when run on its own (make ci starts them)");
  });
});
