// Makefiles (a directory's Makefile and its *.mk share one set of targets): each target's
// prerequisites, then its recipe with the file's own variables expanded and `$(MAKE) target` followed.
import { findFiles, type ProjectReader } from "./reader.ts";
import type { ScanProblem, ScanSection } from "./types.ts";
import { addScript, byPlace, groupProblems, newGroup } from "./units.ts";

const _isMakefile = (name: string) => name === "Makefile" || name === "makefile" || name === "GNUmakefile" || name.endsWith(".mk");

export function scanMakefiles(reader: ProjectReader): ScanSection {
  const files = findFiles(reader, _isMakefile);
  // A directory's Makefile and its *.mk includes share one set of targets.
  const byDir = new Map<string, string[]>();
  for (const file of files) {
    const dir = file.includes("/") ? file.slice(0, file.lastIndexOf("/")) : "";
    byDir.set(dir, [...(byDir.get(dir) ?? []), file]);
  }
  const problems: ScanProblem[] = [];
  const read: string[] = [];
  let units = 0;
  for (const dirFiles of byDir.values()) {
    const group = newGroup("makefiles", "any");
    const parsed = dirFiles.flatMap((file) => {
      const text = reader.read(file);
      if (text === undefined) return [];
      read.push(file);
      return [{ file, make: parseMakefile(text) }];
    });
    const variables = new Map<string, string>();
    for (const { make } of parsed) for (const [name, value] of make.variables) variables.set(name, value);
    for (const { file, make } of parsed) {
      for (const target of make.targets) {
        const key = `target:${target.name}`;
        const unit = group.units.get(key) ?? { key, label: `make ${target.name}`, file, line: target.line, entry: true, events: [] };
        for (const prerequisite of target.prerequisites) unit.events.push({ type: "call", unit: `target:${prerequisite}`, line: target.line });
        const script = target.recipe.map((line) => _expandMake(line.text, variables)).join("\n");
        addScript(group, unit, script, (index) => target.recipe[index]?.line ?? target.line, (call) =>
          call.kind === "make" ? call.targets.map((name) => `target:${name}`) : [],
        );
        group.units.set(key, unit);
      }
    }
    units += group.units.size;
    problems.push(...groupProblems(group));
  }
  return { kind: "makefiles", files: read, units, problems: byPlace(problems) };
}

export interface MakeTarget {
  name: string;
  line: number;
  prerequisites: string[];
  /** one entry per physical recipe line (recipe prefix and leading @, -, + removed) */
  recipe: { text: string; line: number }[];
}

/** Targets, their prerequisites and recipes, and simple variable assignments, from Makefile text. */
export function parseMakefile(text: string): { targets: MakeTarget[]; variables: Map<string, string> } {
  const lines = text.split(/\r?\n/);
  const targets: MakeTarget[] = [];
  const variables = new Map<string, string>();
  let current: MakeTarget[] = [];
  let continuing = false;
  let inDefine = false;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    // A multi-line variable (define … endef) holds text, not rules.
    if (inDefine) {
      if (/^\s*endef\b/.test(raw)) inDefine = false;
      continue;
    }
    if (/^\s*(?:export\s+|override\s+)?define\s/.test(raw)) {
      inDefine = true;
      continue;
    }
    // Conditionals may sit between recipe lines without ending the recipe.
    if (/^\s*(ifeq|ifneq|ifdef|ifndef|else|endif)\b/.test(raw)) continue;
    if (raw.startsWith("\t") && (current.length > 0 || continuing)) {
      // A recipe line (or the continuation of one): make strips the tab, and @ - + at its start.
      const body = continuing ? raw.slice(1) : raw.slice(1).replace(/^[@+\- \t]+/, "");
      for (const target of current) target.recipe.push({ text: body, line: i + 1 });
      continuing = /(^|[^\\])(\\\\)*\\$/.test(raw);
      continue;
    }
    continuing = false;
    // Non-recipe lines may continue with a backslash too.
    let logical = raw;
    const start = i;
    while (/\\$/.test(logical) && i + 1 < lines.length) logical = `${logical.slice(0, -1)} ${lines[++i]!}`;
    const stripped = logical.replace(/(^|[^\\])#.*$/, "$1");
    if (stripped.trim() === "") continue;
    const assignment = /^\s*(?:export\s+|override\s+)?([A-Za-z_][\w.-]*)\s*(:{1,3}=|\?=|\+=|!=|=)\s*(.*)$/.exec(stripped);
    if (assignment) {
      const [, name, op, value] = assignment as unknown as [string, string, string, string];
      variables.set(name, op === "+=" ? `${variables.get(name) ?? ""} ${value}`.trim() : value.trim());
      current = [];
      continue;
    }
    const rule = /^([^:=#\t][^:=#]*?)\s*(::?)(?!=)\s*(.*)$/.exec(stripped);
    if (!rule || stripped.startsWith("\t")) {
      current = [];
      continue;
    }
    const [, names, , rest] = rule as unknown as [string, string, string, string];
    const semicolon = rest.indexOf(";");
    const prerequisites = (semicolon < 0 ? rest : rest.slice(0, semicolon))
      .split(/\s+/)
      .filter((word) => word !== "" && word !== "|" && !word.includes("="));
    current = names
      .split(/\s+/)
      .filter((name) => name !== "" && !name.startsWith("."))
      .map((name) => ({ name, line: start + 1, prerequisites, recipe: [] }));
    if (semicolon >= 0) for (const target of current) target.recipe.push({ text: rest.slice(semicolon + 1), line: start + 1 });
    targets.push(...current);
  }
  return { targets, variables };
}

/** Expand $(VAR) and ${VAR} from the file's own assignments; $$ is a shell $; the rest becomes a word. */
function _expandMake(text: string, variables: Map<string, string>, depth = 0): string {
  return text.replace(/\$\$|\$\(([^()]*)\)|\$\{([^{}]*)\}|\$[@<^?*%+|]/g, (match, paren?: string, brace?: string) => {
    if (match === "$$") return "$";
    const name = (paren ?? brace ?? "").trim();
    if (name === "MAKE") return "make";
    const value = variables.get(name);
    if (value !== undefined && depth < 5) return _expandMake(value, variables, depth + 1);
    return "MAKEVAR";
  });
}
