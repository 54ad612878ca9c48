// The package.json scan: scripts that queue and never start, over real files in temp projects.
import { afterAll, describe, expect, test } from "bun:test";
import { fsReader } from "../../src/doctor/reader.ts";
import { scanPackageJson } from "../../src/doctor/scan-package-json.ts";
import { brief, cleanupTempDirs, project } from "./helpers.ts";

afterAll(cleanupTempDirs);

describe("package.json scripts", () => {
  const json = (scripts: Record<string, string>) => `${JSON.stringify({ name: "x", scripts }, null, 2)}\n`;
  const cases: { name: string; files: Record<string, string>; problems: string[][] }[] = [
    { name: "a script that only queues", files: { "package.json": json({ build: "tsc", lint: "sep queue add -- eslint ." }) }, problems: [["fail", "queue-not-started", "package.json:5"]] },
    { name: "queue then start in one script", files: { "package.json": json({ check: "sep queue add -- eslint . && sep queue add -- tsc && sep queue start" }) }, problems: [] },
    {
      name: "another script starts it after npm run",
      files: { "package.json": json({ lint: "sep queue add -- eslint .", ci: "npm run lint && sep queue start" }) },
      problems: [["warn", "queue-not-started", "package.json:4"]],
    },
    { name: "pre and post scripts run around their script", files: { "package.json": json({ pretest: "sep queue add -- tsc", test: "sep queue add -- jest", posttest: "sep queue start" }) }, problems: [] },
    { name: "a package.json in a subdirectory; node_modules is skipped", files: { "pkg/a/package.json": json({ t: "sep queue add -- x" }), "node_modules/x/package.json": json({ t: "sep queue add -- x" }) }, problems: [["fail", "queue-not-started", "pkg/a/package.json:4"]] },
    { name: "not JSON", files: { "package.json": "{ nope" }, problems: [["fail", "parse-error", "package.json"]] },
  ];
  for (const c of cases) {
    test(c.name, () => {
      expect(brief(scanPackageJson(fsReader(project(c.files))).problems)).toEqual(c.problems);
    });
  }
});
