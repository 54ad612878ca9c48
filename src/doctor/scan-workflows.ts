// GitHub workflows (.github/workflows/*.yml): each job's `run:` steps in order, with the steps of
// the local composite actions it uses (`uses: ./path`) read in place.
import { isMap, isScalar, isSeq, type LineCounter, type Document, type YAMLMap } from "yaml";
import { joinRelative, type ProjectReader } from "./reader.ts";
import type { ScanProblem, ScanSection } from "./types.ts";
import { addScript, byPlace, type Group, groupProblems, newGroup, type Unit } from "./units.ts";
import { get, lineOfNode, parseYaml, resolve, scriptOf } from "./yaml.ts";

const _WORKFLOW_DIR = ".github/workflows";

export function scanWorkflows(reader: ProjectReader): ScanSection {
  const group = newGroup("workflows", "all");
  const problems: ScanProblem[] = [];
  const files = reader
    .list(_WORKFLOW_DIR)
    .filter((entry) => !entry.isDir && /\.ya?ml$/.test(entry.name))
    .map((entry) => joinRelative(_WORKFLOW_DIR, entry.name))
    .sort();
  const read: string[] = [];
  for (const file of files) {
    const text = reader.read(file);
    if (text === undefined) continue;
    read.push(file);
    const parsed = parseYaml(file, text, "GitHub will not run this workflow");
    if ("kind" in parsed) {
      problems.push(parsed);
      continue;
    }
    const { doc, lines } = parsed;
    const jobs = get(doc, doc.contents, "jobs");
    if (!isMap(jobs)) continue;
    const workflowShell = get(doc, get(doc, get(doc, doc.contents, "defaults"), "run"), "shell");
    for (const pair of (jobs as YAMLMap).items) {
      const id = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      const job = resolve(doc, pair.value);
      const unit: Unit = { key: `job:${file}:${id}`, label: `job "${id}"`, file, line: lineOfNode(lines, pair.key), entry: true, events: [] };
      const jobShell = get(doc, get(doc, get(doc, job, "defaults"), "run"), "shell") ?? workflowShell;
      _addSteps(group, unit, reader, doc, lines, get(doc, job, "steps"), jobShell, [file]);
      group.units.set(unit.key, unit);
    }
  }
  problems.push(...groupProblems(group));
  return { kind: "workflows", files: read, units: [...group.units.values()].filter((u) => u.entry).length, problems: byPlace(problems) };
}

/** Each step's `run:` in order; a step that uses a local composite action inlines that action's steps. */
function _addSteps(group: Group, unit: Unit, reader: ProjectReader, doc: Document.Parsed, lines: LineCounter, steps: unknown, inheritedShell: unknown, seen: string[]): void {
  if (!isSeq(steps)) return;
  for (const item of steps.items) {
    const step = resolve(doc, item);
    const shell = get(doc, step, "shell") ?? inheritedShell;
    // Only shell text is read: a `shell: python` step's script is Python.
    const shellName = isScalar(shell) ? String(shell.value) : "bash";
    const script = scriptOf(lines, get(doc, step, "run"));
    if (script && !/^(python|pwsh|powershell|cmd)\b/.test(shellName)) {
      addScript(group, unit, script.text, script.lineOf, () => []);
    }
    const uses = get(doc, step, "uses");
    if (isScalar(uses) && typeof uses.value === "string" && uses.value.startsWith("./")) {
      const key = _addLocalAction(group, reader, uses.value.slice(2).replace(/\/+$/, ""), seen);
      if (key) unit.events.push({ type: "call", unit: key, line: lineOfNode(lines, uses) });
    }
  }
}

/** Read `./path/action.yml` as a unit (not an entry: it runs only inside the jobs that use it). */
function _addLocalAction(group: Group, reader: ProjectReader, dir: string, seen: string[]): string | undefined {
  const key = `action:${dir}`;
  if (group.units.has(key)) return key;
  if (seen.includes(key)) return undefined;
  for (const name of ["action.yml", "action.yaml"]) {
    const file = joinRelative(dir, name);
    const text = reader.read(file);
    if (text === undefined) continue;
    const parsed = parseYaml(file, text, "GitHub cannot use this action");
    if ("kind" in parsed) return undefined;
    const { doc, lines } = parsed;
    const unit: Unit = { key, label: `action ./${dir}`, file, line: 1, entry: false, events: [] };
    const runs = get(doc, doc.contents, "runs");
    _addSteps(group, unit, reader, doc, lines, get(doc, runs, "steps"), undefined, [...seen, key]);
    group.units.set(key, unit);
    return key;
  }
  return undefined;
}
