// Which files a directory argument stands for: inside git, `git ls-files -co --exclude-standard`
// (tracked plus untracked-not-ignored); outside git, a walk that honours .gitignore files. Paths
// are relative to the cwd, with "/" separators, sorted, so the same tree always gives the same plan.
// Nothing here is ever `eval`ed or passed through a shell (ORIGINAL §4.2's `eval echo` hole).
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";

/** Directories a walk outside git never enters (inside git, .gitignore decides). */
const WALK_PRUNE = new Set([".git", ".hg", ".svn", "node_modules", ".venv", "venv", "__pycache__", ".tox", ".nox", ".mypy_cache", ".pytest_cache", ".ruff_cache"]);

/** A path relative to cwd, with "/" separators; "." for cwd itself. */
export function relPath(cwd: string, path: string): string {
  const rel = relative(cwd, resolve(cwd, path));
  return rel === "" ? "." : rel.split(sep).join("/");
}

export type PathKind = "file" | "dir" | "missing";

export function pathKind(cwd: string, path: string): PathKind {
  try {
    const stat = statSync(resolve(cwd, path));
    return stat.isDirectory() ? "dir" : stat.isFile() ? "file" : "missing";
  } catch {
    return "missing";
  }
}

/**
 * The files under dir (relative to cwd or absolute), as paths relative to cwd, sorted. Only
 * regular files that exist now: git's index may list deleted files and submodules.
 */
export function filesUnder(cwd: string, dir: string): string[] {
  const absolute = resolve(cwd, dir);
  const files = _gitFiles(cwd, absolute) ?? _walk(cwd, absolute);
  return [...new Set(files)].sort(comparePaths);
}

/** Byte order of the "/"-joined paths: stable across machines and locales. */
export function comparePaths(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** undefined outside a git work tree (or without git): the caller walks instead. */
function _gitFiles(cwd: string, absolute: string): string[] | undefined {
  if (pathKind(cwd, absolute) !== "dir") return [];
  let result;
  try {
    // Run inside the directory itself, so a directory of another repository is listed by its own.
    result = Bun.spawnSync(["git", "ls-files", "-co", "--exclude-standard", "-z"], { cwd: absolute, stdout: "pipe", stderr: "ignore", stdin: "ignore" });
  } catch {
    return undefined;
  }
  if (result.exitCode !== 0) return undefined;
  const out: string[] = [];
  for (const name of result.stdout.toString().split("\0")) {
    if (name === "") continue;
    // git prints paths relative to the directory it ran in
    const full = resolve(absolute, name);
    if (pathKind(cwd, full) === "file") out.push(relPath(cwd, full));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Outside git: a walk honouring .gitignore

interface _IgnoreRule {
  regex: RegExp;
  negate: boolean;
  dirOnly: boolean;
}

interface _IgnoreFile {
  /** absolute directory the patterns are relative to */
  base: string;
  rules: _IgnoreRule[];
}

function _walk(cwd: string, start: string): string[] {
  if (pathKind(cwd, start) !== "dir") return [];
  // .gitignore files from the filesystem root down to start apply, as git would read them
  const chain: string[] = [];
  for (let dir = dirname(start); ; dir = dirname(dir)) {
    chain.unshift(dir);
    if (dirname(dir) === dir) break;
  }
  const inherited = chain.map(_readIgnoreFile).filter((f): f is _IgnoreFile => f !== undefined);
  const out: string[] = [];
  const visit = (dir: string, ignores: _IgnoreFile[]) => {
    const own = _readIgnoreFile(dir);
    const active = own ? [...ignores, own] : ignores;
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const full = join(dir, entry.name);
      const isDir = entry.isDirectory();
      if (isDir && WALK_PRUNE.has(entry.name)) continue;
      if (isIgnored(active, full, isDir)) continue;
      if (isDir) visit(full, active);
      else if (entry.isFile() || (entry.isSymbolicLink() && pathKind(cwd, full) === "file")) out.push(relPath(cwd, full));
    }
  };
  visit(start, inherited);
  return out;
}

function _readIgnoreFile(dir: string): _IgnoreFile | undefined {
  const path = join(dir, ".gitignore");
  if (!existsSync(path)) return undefined;
  try {
    return { base: dir, rules: parseGitignore(readFileSync(path, "utf8")) };
  } catch {
    return undefined;
  }
}

/** True when the last matching rule (of the nearest files last) ignores path. */
function isIgnored(files: _IgnoreFile[], full: string, isDir: boolean): boolean {
  let ignored = false;
  for (const file of files) {
    const rel = relative(file.base, full).split(sep).join("/");
    if (rel.startsWith("..") || isAbsolute(rel)) continue;
    for (const rule of file.rules) {
      if (rule.dirOnly && !isDir) continue;
      if (rule.regex.test(rel)) ignored = !rule.negate;
    }
  }
  return ignored;
}

/** .gitignore text to rules (gitignore(5): `!`, leading and trailing `/`, `*`, `?`, `[…]`, `**`). */
export function parseGitignore(text: string): _IgnoreRule[] {
  const rules: _IgnoreRule[] = [];
  for (let line of text.split(/\r?\n/)) {
    if (line === "" || line.startsWith("#")) continue;
    line = line.replace(/(?<!\\)\s+$/, "");
    if (line === "") continue;
    let negate = false;
    if (line.startsWith("!")) {
      negate = true;
      line = line.slice(1);
    } else if (line.startsWith("\\!") || line.startsWith("\\#")) line = line.slice(1);
    let dirOnly = false;
    if (line.endsWith("/")) {
      dirOnly = true;
      line = line.slice(0, -1);
    }
    if (line === "") continue;
    const anchored = line.includes("/");
    if (line.startsWith("/")) line = line.slice(1);
    const body = globToRegexSource(line);
    rules.push({ regex: new RegExp(anchored ? `^${body}$` : `^(?:.*/)?${body}$`), negate, dirOnly });
  }
  return rules;
}

/** A gitignore-style glob as a regex source: `*` and `?` stay within one path segment; `**` spans. */
export function globToRegexSource(glob: string): string {
  let out = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === "*") {
      if (glob[i + 1] === "*") {
        const before = i === 0 || glob[i - 1] === "/";
        const after = glob[i + 2] === "/" || i + 2 === glob.length;
        if (before && after) {
          if (glob[i + 2] === "/") {
            out += "(?:.*/)?";
            i += 2;
          } else {
            out += ".*";
            i += 1;
          }
          continue;
        }
      }
      out += "[^/]*";
    } else if (c === "?") out += "[^/]";
    else if (c === "\\" && i + 1 < glob.length) out += `\\${glob[++i]}`;
    else if (c === "[") {
      const end = glob.indexOf("]", i + 2);
      if (end < 0) out += "\\[";
      else {
        let cls = glob.slice(i + 1, end).replace(/\\/g, "\\\\");
        if (cls.startsWith("!")) cls = `^${cls.slice(1)}`;
        out += `[${cls}]`;
        i = end;
      }
    } else out += /[.+^${}()|\]]/.test(c) ? `\\${c}` : c;
  }
  return out;
}

/** A word that is meant as a glob (for tools that expand globs themselves: eslint, prettier). */
export function isGlob(word: string): boolean {
  return /[*?[{]/.test(word);
}

/**
 * Files matching a glob (relative to cwd or absolute), from the files under its fixed leading
 * directories, as paths relative to cwd, sorted.
 */
export function filesMatchingGlob(cwd: string, pattern: string): string[] {
  const normal = relPath(cwd, pattern.replace(/^\.\//, ""));
  const segments = normal.split("/");
  const fixed: string[] = [];
  for (const segment of segments.slice(0, -1)) {
    if (isGlob(segment)) break;
    fixed.push(segment);
  }
  const base = fixed.length === 0 ? "." : fixed.join("/");
  if (pathKind(cwd, base) !== "dir") return [];
  const glob = new Bun.Glob(normal);
  return filesUnder(cwd, base).filter((file) => glob.match(file));
}

/**
 * A matcher for gitignore-style patterns (as yamllint's `ignore` uses them) over paths relative
 * to the patterns' base: a path matches when it, or one of its parent directories, is ignored.
 */
export function gitignoreMatcher(text: string): (path: string) => boolean {
  const rules = parseGitignore(text);
  if (rules.length === 0) return () => false;
  return (path) => {
    const parts = path.replace(/^\.\//, "").split("/");
    for (let i = 1; i <= parts.length; i++) {
      const sub = parts.slice(0, i).join("/");
      const isDir = i < parts.length;
      let ignored = false;
      for (const rule of rules) {
        if (rule.dirOnly && !isDir) continue;
        if (rule.regex.test(sub)) ignored = !rule.negate;
      }
      if (ignored) return true;
    }
    return false;
  };
}
