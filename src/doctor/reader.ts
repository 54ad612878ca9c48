// Read access to a project by paths relative to its root: the interface the scanners read through,
// the reader on disk, and the bounded walk that finds Makefiles and package.json files.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

/** Read access to a project, by paths relative to its root ("" is the root). */
export interface ProjectReader {
  /** the entries of a directory, or [] when it is missing or unreadable */
  list(dir: string): { name: string; isDir: boolean }[];
  /** a file's text, or undefined when it is missing, unreadable or not a regular file */
  read(path: string): string | undefined;
}

/** Read the project from disk, never following a symlinked directory out of it. */
export function fsReader(root: string): ProjectReader {
  return {
    list(dir) {
      try {
        return readdirSync(join(root, dir), { withFileTypes: true }).map((entry) => ({ name: entry.name, isDir: entry.isDirectory() }));
      } catch {
        return [];
      }
    },
    read(path) {
      const full = join(root, path);
      try {
        // Only regular files, and not huge ones (a generated 50 MB "Makefile" is not worth reading).
        const stat = statSync(full);
        if (!stat.isFile() || stat.size > 4 * 1024 * 1024) return undefined;
        return readFileSync(full, "utf8");
      } catch {
        return undefined;
      }
    },
  };
}

export function joinRelative(dir: string, name: string): string {
  return dir === "" ? name : `${dir}/${name}`;
}

const _SKIP_DIRS = new Set(["node_modules", ".git", "dist", "build", "target", "vendor", "venv", ".venv", "logs", ".sequential-locks", "__pycache__", "coverage"]);
const _MAX_DEPTH = 3;
/** Directories listed at most: doctor run in a home directory must not walk all of it. */
const _MAX_DIRS = 2000;

/** Files whose name passes the test, from the root down a few levels, skipping dependencies and builds. */
export function findFiles(reader: ProjectReader, test: (name: string) => boolean): string[] {
  const found: string[] = [];
  let listed = 0;
  const walk = (dir: string, depth: number) => {
    if (++listed > _MAX_DIRS) return;
    for (const entry of reader.list(dir).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const path = joinRelative(dir, entry.name);
      if (entry.isDir) {
        if (depth < _MAX_DEPTH && !_SKIP_DIRS.has(entry.name) && !entry.name.startsWith(".")) walk(path, depth + 1);
      } else if (test(entry.name)) {
        found.push(path);
      }
    }
  };
  walk("", 0);
  return found;
}
