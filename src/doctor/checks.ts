// `sep doctor`'s setup checks: configuration, state dirs, /proc, flock, version. Read-only: they
// create nothing (the flock probe uses a temp file in the OS temp dir and removes it).
import { readLedger, resolveBudget } from "../core/governor/index.ts";
import { machineStateDir } from "../core/paths.ts";
import { formatBytes } from "../format.ts";
import { accessSync, constants, lstatSync, readFileSync, statSync, unlinkSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import type { ResolvedConfig } from "../config.ts";
import { errorMessage, SepError } from "../errors.ts";
import { VERSION } from "../version.ts";
import { libc } from "../core/libc.ts";
import { releaseLockFile, tryLockFile } from "../core/turn/flock.ts";
import { readStat } from "../core/proc/index.ts";
import type { Finding } from "./types.ts";

// ---------------------------------------------------------------------------------------------
// Configuration

export function configOk(config: ResolvedConfig): Finding {
  const files = [config.dotenvFile, config.configFile].filter((file): file is string => file !== undefined);
  const from = files.length > 0 ? files.map((file) => relative(config.root, file)).join(" and ") : "defaults and the environment only";
  return { check: "config", status: "ok", message: `configuration is valid (${from}; root ${config.root})` };
}

/** A config error as findings, one per problem line, each with the file (and line) it names. */
export function configFailure(error: unknown): Finding[] {
  if (!(error instanceof SepError)) {
    return [{ check: "config", status: "fail", message: `the configuration could not be read: ${errorMessage(error)}` }];
  }
  return error.message.split("\n").map((message) => ({
    check: "config" as const,
    status: "fail" as const,
    message,
    ..._locate(message),
    fix: error.hint ?? "fix the value named above",
  }));
}

/**
 * The file (and line) a config message names, so the finding can point at it:
 * "(got "abc" in /p/.env.development:3)", "line 3 of /p/.env.development", "in /p/sep.config.ts",
 * "/p/sep.config.ts failed to load", "cannot read /p/.env.development".
 */
function _locate(message: string): { file?: string; line?: number } {
  let match = / in (\/[^\s():]+):(\d+)\)/.exec(message);
  if (match) return { file: match[1], line: Number(match[2]) };
  match = /line (\d+) of (\/[^\s:]+)/.exec(message);
  if (match) return { file: match[2], line: Number(match[1]) };
  match = / in (\/[^\s()]+?)(?:[)\s]|$)/.exec(message) ?? /^(\/\S+?) (?:failed|must)/.exec(message) ?? /cannot read (\/[^\s:]+)/.exec(message);
  return match ? { file: match[1] } : {};
}

// ---------------------------------------------------------------------------------------------
// State directories

const _uid = typeof process.getuid === "function" ? process.getuid() : -1;

/**
 * A state dir sep will write into: a real directory of this user's, writable, not open to others;
 * or, when it does not exist yet, creatable (its nearest existing ancestor is a writable
 * directory). Creates nothing.
 */
export function checkStateDir(check: "lock-dir" | "log-dir", path: string, variable: string, note = ""): Finding {
  const what = check === "lock-dir" ? "lock dir" : "log dir";
  const elsewhere = `or set ${variable} to a directory of your own`;
  let stat;
  try {
    stat = lstatSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return _checkCreatable(check, what, path, variable, note);
    return { check, status: "fail", message: `cannot inspect the ${what} ${path}${note}: ${code ?? errorMessage(error)}`, fix: `check the path's permissions, ${elsewhere}` };
  }
  if (stat.isSymbolicLink()) {
    return { check, status: "fail", message: `the ${what} ${path}${note} is a symlink: sep refuses to write through it`, fix: `remove the symlink (sep creates a real directory), ${elsewhere}` };
  }
  if (!stat.isDirectory()) {
    const consequence = check === "log-dir" ? "runs would not be recorded" : "sep cannot run anything";
    return { check, status: "fail", message: `the ${what} ${path}${note} is not a directory: ${consequence}`, fix: `remove it, ${elsewhere}` };
  }
  if (_uid >= 0 && stat.uid !== _uid) {
    return { check, status: "fail", message: `the ${what} ${path}${note} belongs to uid ${stat.uid}, not to you (uid ${_uid}): sep refuses it`, fix: `use a directory of your own: remove it, ${elsewhere}` };
  }
  if (!_writable(path)) {
    return { check, status: "fail", message: `the ${what} ${path}${note} is not writable`, fix: `chmod u+rwx ${_quote(path)}, ${elsewhere}` };
  }
  const mode = stat.mode & 0o777;
  if ((mode & 0o077) !== 0) {
    return {
      check,
      status: "warn",
      message: `the ${what} ${path}${note} is open to other users (mode ${mode.toString(8).padStart(4, "0")}); ${check === "log-dir" ? "job logs may hold secrets a command printed" : "others could read the queue"}`,
      fix: `chmod 700 ${_quote(path)} (sep creates its dirs with mode 0700)`,
    };
  }
  return { check, status: "ok", message: `the ${what} ${path}${note} is a private, writable directory of yours` };
}

function _checkCreatable(check: "lock-dir" | "log-dir", what: string, path: string, variable: string, note: string): Finding {
  let ancestor = dirname(path);
  for (;;) {
    try {
      const stat = statSync(ancestor);
      if (!stat.isDirectory()) {
        return { check, status: "fail", message: `the ${what} ${path}${note} cannot be created: ${ancestor} is not a directory`, fix: `set ${variable} to a directory of your own` };
      }
      break;
    } catch {
      if (dirname(ancestor) === ancestor) break;
      ancestor = dirname(ancestor);
    }
  }
  if (!_writable(ancestor)) {
    return { check, status: "fail", message: `the ${what} ${path}${note} does not exist and cannot be created: ${ancestor} is not writable`, fix: `create it yourself (mkdir -m 700 -p ${_quote(path)}), or set ${variable} to a directory of your own` };
  }
  return { check, status: "ok", message: `the ${what} ${path}${note} does not exist yet; sep will create it (mode 0700) in ${ancestor}` };
}

function _writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK | constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function _quote(path: string): string {
  return /^[\w./-]+$/.test(path) ? path : `'${path.replace(/'/g, "'\\''")}'`;
}

// ---------------------------------------------------------------------------------------------
// /proc, flock, version

/** What the memory watcher and the tree walk read from /proc (Linux); elsewhere sep uses ps. */
export function checkProc(): Finding {
  if (process.platform !== "linux") {
    return { check: "proc", status: "ok", message: `no /proc on ${process.platform}: sep reads process trees and memory with ps (RSS only, no PSS)` };
  }
  if (readStat(process.pid) === null) {
    return { check: "proc", status: "fail", message: "/proc/self/stat cannot be read: sep cannot see process trees or measure memory", fix: "run sep where /proc is mounted and readable" };
  }
  const missing: string[] = [];
  if (!_readable(`/proc/self/task/${process.pid}/children`)) missing.push("/proc/self/task/*/children (sep scans all of /proc instead, which is slower)");
  if (!_readable("/proc/self/smaps_rollup")) missing.push("/proc/self/smaps_rollup (the memory limit is confirmed with RSS, not PSS)");
  if (missing.length > 0) {
    return { check: "proc", status: "warn", message: `/proc is readable, but missing ${missing.join(" and ")}`, fix: "a kernel ≥ 4.14 with CONFIG_PROC_CHILDREN has both" };
  }
  return { check: "proc", status: "ok", message: "/proc/self/stat, /proc/self/task/*/children and smaps_rollup are readable" };
}

function _readable(path: string): boolean {
  try {
    readFileSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Take an flock on a temp file, check that a second open of it is refused while the first holds
 * it, release, and remove the file: the kernel lock sep's turns and queue rely on.
 */
export function checkFlock(dir: string): Finding {
  if (!libc()) {
    return { check: "flock", status: "fail", message: "the C library cannot be loaded, so sep cannot take kernel file locks (flock)", fix: "run sep on Linux (glibc or musl) or macOS" };
  }
  const path = join(dir, `sep-doctor-${process.pid}-${Date.now().toString(36)}.lock`);
  try {
    const first = tryLockFile(path);
    if (first === undefined) return { check: "flock", status: "fail", message: `flock(2) on a new file in ${dir} was refused`, fix: "check the temp dir's file system (TMPDIR)" };
    let second: number | undefined;
    try {
      second = tryLockFile(path);
    } finally {
      releaseLockFile(first);
    }
    if (second !== undefined) {
      releaseLockFile(second);
      return { check: "flock", status: "fail", message: `flock(2) in ${dir} does not exclude: a second lock on a held file was granted`, fix: "use a local file system for TMPDIR and the lock dir (some network file systems ignore flock)" };
    }
    const again = tryLockFile(path);
    if (again === undefined) return { check: "flock", status: "fail", message: `flock(2) in ${dir} was not released when its file was closed`, fix: "use a local file system for TMPDIR and the lock dir" };
    releaseLockFile(again);
    return { check: "flock", status: "ok", message: `flock(2) takes, excludes and releases a lock (tested in ${dir})` };
  } catch (error) {
    return { check: "flock", status: "fail", message: `flock(2) failed in ${dir}: ${errorMessage(error)}`, fix: "check that TMPDIR is a writable local directory" };
  } finally {
    try {
      unlinkSync(path);
    } catch {
      // never created
    }
  }
}

/**
 * The machine governor's budget as sep would use it now, and why; a warning when it is off, since
 * then nothing stops sep jobs of several projects from together running the machine out of memory.
 */
export function checkGovernor(config: ResolvedConfig, env: NodeJS.ProcessEnv): Finding {
  const budget = resolveBudget(config);
  const jobs = readLedger(machineStateDir(env)).length;
  const now = `${jobs} sep ${jobs === 1 ? "job" : "jobs"} on this machine now, ${formatBytes(budget.availableBytes)} free`;
  if (budget.budgetBytes <= 0) {
    return {
      check: "governor",
      status: "warn",
      message: `the machine governor is off (${budget.why}): sep jobs of different projects may together use more memory than the machine has; ${now}`,
      fix: "unset SEP_MEMORY_BUDGET_MB (default auto), or set it to the MB all sep jobs may use together",
    };
  }
  return {
    check: "governor",
    status: "ok",
    message: `memory budget ${formatBytes(budget.budgetBytes)} for every sep job on this machine, reserve ${formatBytes(budget.reserveBytes)} (${budget.why}); ${now}`,
  };
}

export function checkVersion(): Finding {
  return { check: "version", status: "ok", message: `sep ${VERSION} on ${process.platform}-${process.arch} (Bun ${Bun.version})` };
}
