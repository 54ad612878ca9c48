// package.json scripts: each script with its pre/post scripts around it, and the scripts it runs
// through npm/yarn/pnpm/bun.
import { isMap, isScalar, LineCounter, parseDocument } from "yaml";
import { findFiles, type ProjectReader } from "./reader.ts";
import type { ScanProblem, ScanSection } from "./types.ts";
import { addScript, byPlace, groupProblems, newGroup, type Unit } from "./units.ts";
import { firstLine, get, lineOfNode } from "./yaml.ts";

const _isPackageJson = (name: string) => name === "package.json";

export function scanPackageJson(reader: ProjectReader): ScanSection {
  const problems: ScanProblem[] = [];
  const read: string[] = [];
  let units = 0;
  for (const file of findFiles(reader, _isPackageJson)) {
    const text = reader.read(file);
    if (text === undefined) continue;
    read.push(file);
    let scripts: unknown;
    try {
      scripts = (JSON.parse(text) as { scripts?: unknown }).scripts;
    } catch (error) {
      problems.push({ status: "fail", kind: "parse-error", file, message: `is not valid JSON: ${firstLine((error as Error).message)}`, fix: "fix the JSON (npm refuses the file as it is)" });
      continue;
    }
    if (typeof scripts !== "object" || scripts === null) continue;
    // JSON is YAML too: its node ranges give each script's line.
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: false });
    const scriptsNode = doc.errors.length === 0 ? get(doc, doc.contents, "scripts") : undefined;
    const lineOfScript = (name: string) => {
      if (!isMap(scriptsNode)) return 1;
      const pair = scriptsNode.items.find((item) => isScalar(item.key) && item.key.value === name);
      return pair ? lineOfNode(lines, pair.key) : 1;
    };
    const group = newGroup("package-json", "any");
    const names = Object.keys(scripts);
    for (const [name, script] of Object.entries(scripts as Record<string, unknown>)) {
      if (typeof script !== "string") continue;
      const line = lineOfScript(name);
      // npm runs preX before X and postX after it; they are not run on their own.
      const hook = /^(pre|post)(.+)$/.exec(name);
      const unit: Unit = { key: `script:${name}`, label: `npm run ${name}`, file, line, entry: !(hook && names.includes(hook[2]!)), events: [] };
      if (names.includes(`pre${name}`)) unit.events.push({ type: "call", unit: `script:pre${name}`, line });
      addScript(group, unit, script, () => line, (call) => (call.kind === "npm" ? [`script:${call.script}`] : []));
      if (names.includes(`post${name}`)) unit.events.push({ type: "call", unit: `script:post${name}`, line });
      group.units.set(unit.key, unit);
    }
    units += group.units.size;
    problems.push(...groupProblems(group));
  }
  return { kind: "package-json", files: read, units, problems: byPlace(problems) };
}
