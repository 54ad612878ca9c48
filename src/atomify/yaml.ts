// YAML: yamllint, per file. Directories give the files yamllint would lint there: its `yaml-files`
// patterns, minus its `ignore` / `ignore-from-file` settings (read from -c, -d or .yamllint*).
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { findOption, type OptionSpec, type Scanned, words } from "./argv.ts";
import { ancestors } from "./config-files.ts";
import { gitignoreMatcher } from "./files.ts";
import { splitPerFile, type WholeOption } from "./per-file.ts";
import type { SplitContext, ToolRule } from "./types.ts";

const YAMLLINT_OPTIONS: OptionSpec = {
  value: words("-c --config-file -d --config-data -f --format"),
  flag: words("-s --strict --no-warnings --list-files -v --version -h --help"),
};

const YAMLLINT_WHOLE: readonly WholeOption[] = [{ names: ["--list-files", "-v", "--version", "-h", "--help"], why: "lints nothing" }];

const DEFAULT_YAML_FILES = ["*.yaml", "*.yml", ".yamllint"];

/** yamllint's settings: -d data, -c file, else .yamllint / .yamllint.yaml / .yamllint.yml from cwd upwards. */
async function _settings(context: SplitContext, scanned: Scanned): Promise<{ config: Record<string, unknown>; dir: string } | string | undefined> {
  const { parse } = await import("yaml");
  const load = (text: string, where: string) => {
    try {
      const value = parse(text) as unknown;
      return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};
    } catch {
      return `cannot read the yamllint configuration ${where}`;
    }
  };
  const data = findOption(scanned, ["-d", "--config-data"])?.value;
  if (data !== undefined) {
    // a bare preset name ("relaxed") or inline YAML
    const config = /^[\w-]+$/.test(data.trim()) ? {} : load(data, "given with -d");
    return typeof config === "string" ? config : { config, dir: context.cwd };
  }
  const file = findOption(scanned, ["-c", "--config-file"])?.value;
  const candidates = file !== undefined ? [resolve(context.cwd, file)] : ancestors(context.cwd).flatMap((dir) => [".yamllint", ".yamllint.yaml", ".yamllint.yml"].map((n) => join(dir, n)));
  for (const path of candidates) {
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch {
      continue;
    }
    const config = load(text, `in ${path}`);
    return typeof config === "string" ? config : { config, dir: dirname(path) };
  }
  return undefined;
}

async function _select(found: string[], context: SplitContext, scanned: Scanned): Promise<string[] | string> {
  const settings = await _settings(context, scanned);
  if (typeof settings === "string") return settings;
  const config = settings?.config ?? {};
  const lines = (value: unknown): string[] => (typeof value === "string" ? value.split("\n") : Array.isArray(value) ? value.map(String) : []);
  const yamlFiles = gitignoreMatcher(lines(config["yaml-files"] ?? DEFAULT_YAML_FILES).join("\n"));
  let ignoreText = lines(config.ignore).join("\n");
  for (const name of lines(config["ignore-from-file"])) {
    try {
      ignoreText += `\n${readFileSync(resolve(context.cwd, name), "utf8")}`;
    } catch {
      return `cannot read ${name} (ignore-from-file)`;
    }
  }
  // yamllint matches its patterns against the paths as the command names them
  const ignored = gitignoreMatcher(ignoreText);
  return found.filter((file) => yamlFiles(file) && !ignored(file));
}

export const YAML_RULES: readonly ToolRule[] = [
  {
    name: "yamllint", pythonModule: true, rule: "per file (yamllint's yaml-files and ignore honoured)",
    split: (command, context) => splitPerFile(command, context, { options: YAMLLINT_OPTIONS, whole: YAMLLINT_WHOLE, directories: true, select: _select }),
  },
];
