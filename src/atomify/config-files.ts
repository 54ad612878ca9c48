// Reading the tools' own settings files, cheaply and without running anything: INI (setup.cfg,
// tox.ini, .flake8, mypy.ini, .isort.cfg) and TOML (pyproject.toml, ruff.toml). A file that cannot
// be read or parsed counts as absent; the caller decides what that means.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

export type IniSections = Map<string, Map<string, string>>;

/**
 * INI as Python's configparser reads it (enough for tool settings): `[section]`, `key = value` or
 * `key: value`, `#`/`;` comment lines, indented continuation lines joined with "\n". Keys are
 * lower-cased with "-" and "_" kept as written.
 */
export function parseIni(text: string): IniSections {
  const sections: IniSections = new Map();
  let section: Map<string, string> | undefined;
  let lastKey: string | undefined;
  for (const raw of text.split(/\r?\n/)) {
    if (/^\s*[#;]/.test(raw) || raw.trim() === "") {
      if (raw.trim() === "") lastKey = undefined;
      continue;
    }
    const header = /^\[([^\]]+)\]\s*$/.exec(raw.trim());
    if (header && !/^\s/.test(raw)) {
      section = new Map();
      sections.set((header[1] as string).trim(), section);
      lastKey = undefined;
      continue;
    }
    if (!section) continue;
    if (/^\s/.test(raw) && lastKey !== undefined) {
      section.set(lastKey, `${section.get(lastKey) ?? ""}\n${raw.trim()}`.replace(/^\n/, ""));
      continue;
    }
    const match = /^([^=:]+?)\s*[=:]\s*(.*)$/.exec(raw);
    if (!match) continue;
    lastKey = (match[1] as string).trim().toLowerCase();
    section.set(lastKey, (match[2] as string).trim());
  }
  return sections;
}

export function readIni(path: string): IniSections | undefined {
  try {
    return parseIni(readFileSync(path, "utf8"));
  } catch {
    return undefined;
  }
}

export function readToml(path: string): Record<string, unknown> | undefined {
  try {
    const value = Bun.TOML.parse(readFileSync(path, "utf8"));
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The value at a dotted path of a parsed TOML document ("tool.ruff"), if it is a table. */
export function tomlTable(doc: Record<string, unknown> | undefined, path: string): Record<string, unknown> | undefined {
  let node: unknown = doc;
  for (const key of path.split(".")) {
    if (typeof node !== "object" || node === null || Array.isArray(node)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return typeof node === "object" && node !== null && !Array.isArray(node) ? (node as Record<string, unknown>) : undefined;
}

/** Directories from start up to the filesystem root, nearest first. */
export function ancestors(start: string): string[] {
  const out: string[] = [];
  for (let dir = resolve(start); ; dir = dirname(dir)) {
    out.push(dir);
    if (dirname(dir) === dir) return out;
  }
}

/** The first of names (relative to each directory) that exists, from start upwards. */
export function findUp(start: string, names: readonly string[], stop?: string): string | undefined {
  for (const dir of ancestors(start)) {
    for (const name of names) {
      const path = join(dir, name);
      if (existsSync(path)) return path;
    }
    if (stop && dir === resolve(stop)) return undefined;
  }
  return undefined;
}

/** A comma- or newline-separated setting ("a, b\nc") as a list. */
export function splitList(value: string | undefined): string[] {
  if (value === undefined) return [];
  return value.split(/[,\n]/).map((s) => s.trim()).filter(Boolean);
}

/** A TOML string-or-array setting as a list of strings. */
export function tomlList(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === "string");
  return [];
}

/**
 * A Python `re` pattern as a JS RegExp, or undefined when JS cannot read it. Multi-line patterns
 * (black's style) and a leading `(?x)` are verbose: whitespace and `#` comments are dropped.
 */
export function pythonRegex(pattern: string): RegExp | undefined {
  let source = pattern;
  const verbose = source.includes("\n") || source.startsWith("(?x)");
  if (source.startsWith("(?x)")) source = source.slice(4);
  if (verbose) source = source.split("\n").map((line) => line.replace(/(?<!\\)#.*$/, "")).join("").replace(/(?<!\\)\s+/g, "");
  try {
    return new RegExp(source);
  } catch {
    return undefined;
  }
}

/** fnmatch(3)-style (Python's fnmatch): `*` matches across "/" too. */
export function fnmatchRegex(pattern: string): RegExp {
  let out = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === "*") out += ".*";
    else if (c === "?") out += ".";
    else if (c === "[") {
      const end = pattern.indexOf("]", i + 2);
      if (end < 0) out += "\\[";
      else {
        let cls = pattern.slice(i + 1, end).replace(/\\/g, "\\\\");
        if (cls.startsWith("!")) cls = `^${cls.slice(1)}`;
        out += `[${cls}]`;
        i = end;
      }
    } else out += /[.+^${}()|\]\\]/.test(c) ? `\\${c}` : c;
  }
  return new RegExp(`^${out}$`);
}
