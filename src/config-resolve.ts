// In the built binary this stands in for exsolve, whose resolveModulePath c12 calls to find the
// config file it is about to load. exsolve imports node:util (and with it util.inspect),
// node:assert, node:url and node:process, and a bundle loads every builtin it imports at every
// start of sep, used or not: ~0.7 ms of `sep --version`'s ~7.5. c12 only ever hands it an absolute
// path here (sep turns `extends` off), so what is needed is exsolve's rule for one: the file
// itself, else the path with each suffix and extension, a real file found through its realpath.
import { realpathSync, statSync } from "node:fs";
import { isAbsolute } from "node:path";

export interface ResolveModulePathOptions {
  /** undefined instead of a throw when nothing is found */
  try?: boolean;
  /** tried after the path itself, e.g. ["", "/index"] */
  suffixes?: readonly string[];
  /** tried after each suffix, e.g. [".ts", ".js"] */
  extensions?: readonly string[];
  preserveSymlinks?: boolean;
}

export function resolveModulePath(id: string, options: ResolveModulePathOptions = {}): string | undefined {
  if (isAbsolute(id)) {
    for (const suffix of options.suffixes ?? [""]) {
      for (const extension of ["", ...(options.extensions ?? [])]) {
        const path = `${id}${suffix}${extension}`;
        if (!_isFile(path)) continue;
        return options.preserveSymlinks ? path : realpathSync(path);
      }
    }
  }
  if (options.try) return undefined;
  const error = new Error(isAbsolute(id) ? `Cannot resolve module "${id}"` : `Cannot resolve module "${id}": sep resolves only file paths (its config has no "extends")`);
  (error as NodeJS.ErrnoException).code = "ERR_MODULE_NOT_FOUND";
  throw error;
}

function _isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
