// .pre-commit-config.yaml: each hook's entry and args, read as the command pre-commit runs.
import { isScalar, isSeq } from "yaml";
import type { ProjectReader } from "./reader.ts";
import type { ScanSection } from "./types.ts";
import { addScript, groupProblems, newGroup, type Unit } from "./units.ts";
import { get, lineOfNode, parseYaml, resolve } from "./yaml.ts";

const _PRE_COMMIT = ".pre-commit-config.yaml";

export function scanPreCommit(reader: ProjectReader): ScanSection {
  const text = reader.read(_PRE_COMMIT);
  if (text === undefined) return { kind: "pre-commit", files: [], units: 0, problems: [] };
  const parsed = parseYaml(_PRE_COMMIT, text, "pre-commit refuses to run any hook");
  if ("kind" in parsed) return { kind: "pre-commit", files: [_PRE_COMMIT], units: 0, problems: [parsed] };
  const { doc, lines } = parsed;
  const group = newGroup("pre-commit", "all");
  const repos = get(doc, doc.contents, "repos");
  let n = 0;
  for (const repo of isSeq(repos) ? repos.items : []) {
    const hooks = get(doc, repo, "hooks");
    for (const item of isSeq(hooks) ? hooks.items : []) {
      const hook = resolve(doc, item);
      const entry = get(doc, hook, "entry");
      if (!isScalar(entry) || typeof entry.value !== "string") continue;
      const id = get(doc, hook, "id");
      const name = isScalar(id) ? String(id.value) : `#${++n}`;
      const line = lineOfNode(lines, entry);
      // pre-commit runs entry (split like a shell would), then args, then the file names.
      const argsNode = get(doc, hook, "args");
      const args = isSeq(argsNode) ? argsNode.items.map((arg) => (isScalar(arg) ? `'${String(arg.value).replace(/'/g, "'\\''")}'` : "")) : [];
      const unit: Unit = { key: `hook:${name}:${line}`, label: `hook "${name}"`, file: _PRE_COMMIT, line, entry: true, events: [] };
      addScript(group, unit, [entry.value.replace(/\n/g, " "), ...args].join(" "), () => line, () => []);
      group.units.set(unit.key, unit);
    }
  }
  return { kind: "pre-commit", files: [_PRE_COMMIT], units: group.units.size, problems: groupProblems(group) };
}
