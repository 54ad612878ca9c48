// Learned profiles: the peaks and durations of the last runs of each command of each repository,
// kept in the machine state dir, and the reservation a job makes from them (DESIGN §9).
import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readFileSync, realpathSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { machineStateDir } from "../paths.ts";
import { ensurePrivateDir, unlinkSafe, writeJsonAtomic } from "../store.ts";
import { lockBlocking, openLockFile, releaseLockFile } from "../turn/flock.ts";
import { MB } from "./budget.ts";

/** Finished runs kept per command. */
export const MAX_RUNS = 10;
/** Profile files kept in all; the least recently written go first. */
export const MAX_PROFILES = 2000;
/** A learned reservation is the highest peak plus this share… */
const LEARNED_MARGIN = 1.2;
/** …and at least this much. */
export const MIN_LEARNED_BYTES = 64 * MB;

const uid = typeof process.getuid === "function" ? process.getuid() : -1;

export interface ProfileRun {
  peakBytes: number;
  durationMs: number;
  /** ISO 8601 */
  finishedAt: string;
}

/** One command's file: its runs, oldest first, plus what it is, for a person reading the file. */
export interface Profile {
  version: 1;
  repositoryKey: string;
  argv: string[];
  /** the cwd relative to the project root ("." for the root) */
  cwd: string;
  runs: ProfileRun[];
}

export type ReservationSource = "flag" | "learned" | "limit";

export interface Reservation {
  bytes: number;
  source: ReservationSource;
}

/** Where the governor keeps its files: `<machine state dir>/governor`. */
export function governorDir(stateDir: string = machineStateDir()): string {
  return join(stateDir, "governor");
}

export function profilesDir(stateDir?: string): string {
  return join(governorDir(stateDir), "profiles");
}

// ---------------------------------------------------------------------------------------------
// Keys

/**
 * One key for every git worktree and clone-free checkout of one repository, found without running
 * git: the nearest `.git` at or above the project root is either the repository's own directory
 * (its realpath) or, in a linked worktree or submodule, a file `gitdir: X`; X's `commondir` file
 * (worktrees have one) names the shared repository directory, else X itself is it. A project root
 * below the top of its worktree (a package in a monorepo) keeps that relative path in its key, so
 * two packages of one repository do not share profiles. No git anywhere above: the project root.
 */
export function repositoryKey(projectRoot: string): string {
  const root = _realpath(resolve(projectRoot));
  for (let dir = root; ; dir = dirname(dir)) {
    const common = _gitCommonDir(join(dir, ".git"));
    if (common) {
      const sub = relative(dir, root);
      return sub ? `git:${common}:${sub}` : `git:${common}`;
    }
    if (dirname(dir) === dir) return `dir:${root}`;
  }
}

function _gitCommonDir(dotGit: string): string | undefined {
  let stat;
  try {
    stat = statSync(dotGit);
  } catch {
    return undefined;
  }
  if (stat.isDirectory()) return _realpath(dotGit);
  if (!stat.isFile()) return undefined;
  let text: string;
  try {
    text = readFileSync(dotGit, "utf8");
  } catch {
    return undefined;
  }
  const match = /^gitdir:\s*(.+?)\s*$/m.exec(text);
  if (!match) return undefined;
  const gitDir = resolve(dirname(dotGit), match[1] as string);
  try {
    const common = readFileSync(join(gitDir, "commondir"), "utf8").trim();
    if (common) return _realpath(resolve(gitDir, common));
  } catch {
    // not a linked worktree (a submodule, or a plain gitdir pointer): X is the repository
  }
  return _realpath(gitDir);
}

function _realpath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/** The cwd as a profile names it: relative to the project root, "." for the root itself. */
export function relativeCwd(projectRoot: string, cwd: string): string {
  return relative(_realpath(resolve(projectRoot)), _realpath(resolve(cwd))) || ".";
}

/** sha256 of the repository key, the argv and the cwd relative to the project root: a profile's file name. */
export function commandKey(repoKey: string, argv: readonly string[], cwdRelativeToProjectRoot: string): string {
  // The runtime's own hasher: node:crypto would be loaded on every job's path for this one digest.
  return new Bun.CryptoHasher("sha256").update(JSON.stringify([repoKey, argv, cwdRelativeToProjectRoot || "."])).digest("hex");
}

// ---------------------------------------------------------------------------------------------
// Reading and writing

export interface ProfileIo {
  /** the machine state dir; default machineStateDir() */
  stateDir?: string;
  /** told about a profile that was ignored (corrupt, a symlink, not ours); core never prints */
  onWarning?(message: string): void;
}

/**
 * The runs recorded for a command, oldest first; [] when there are none. Read-only: creates
 * nothing. A profile that is malformed, a symlink, not a regular file or not ours is ignored with a
 * warning, never trusted (it would decide how much memory a job may take). So is a profiles dir
 * that is a symlink or not ours.
 */
export function readProfileRuns(key: string, io: ProfileIo = {}): ProfileRun[] {
  const dir = profilesDir(io.stateDir);
  for (const level of [governorDir(io.stateDir), dir]) {
    const problem = _unsafeDir(level);
    if (problem) {
      io.onWarning?.(`ignoring the learned profiles: ${problem}`);
      return [];
    }
  }
  return _readProfile(join(dir, `${key}.json`), io.onWarning)?.runs ?? [];
}

/** Why dir must not be read (a symlink, not a directory, not ours), or undefined when fine or absent. */
function _unsafeDir(dir: string): string | undefined {
  let stat;
  try {
    stat = lstatSync(dir);
  } catch {
    return undefined;
  }
  if (stat.isSymbolicLink()) return `${dir} is a symlink`;
  if (!stat.isDirectory()) return `${dir} is not a directory`;
  if (uid >= 0 && stat.uid !== uid) return `${dir} belongs to uid ${stat.uid}, not to you (uid ${uid})`;
  return undefined;
}

function _readProfile(path: string, warn?: (message: string) => void): Profile | undefined {
  let fd: number;
  try {
    // O_NOFOLLOW: a planted symlink fails here (ELOOP) instead of being read through.
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "ENOENT") warn?.(`ignoring the learned profile ${path}: ${code === "ELOOP" ? "it is a symlink" : code}`);
    return undefined;
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) return _ignored(path, "it is not a regular file", warn);
    if (uid >= 0 && stat.uid !== uid) return _ignored(path, `it belongs to uid ${stat.uid}, not to you`, warn);
    let value: unknown;
    try {
      value = JSON.parse(readFileSync(fd, "utf8"));
    } catch {
      return _ignored(path, "it is not valid JSON", warn);
    }
    const profile = parseProfile(value);
    return profile ?? _ignored(path, "it is not a profile", warn);
  } finally {
    closeSync(fd);
  }
}

function _ignored(path: string, why: string, warn?: (message: string) => void): undefined {
  warn?.(`ignoring the learned profile ${path}: ${why}`);
  return undefined;
}

/** A profile from parsed JSON, or undefined when its shape is wrong; runs with bad numbers are dropped. Pure. */
export function parseProfile(value: unknown): Profile | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const raw = value as Record<string, unknown>;
  if (!Array.isArray(raw.runs)) return undefined;
  const runs: ProfileRun[] = [];
  for (const run of raw.runs as unknown[]) {
    const r = run as Record<string, unknown> | null;
    if (!r || typeof r !== "object") continue;
    const { peakBytes, durationMs, finishedAt } = r;
    if (typeof peakBytes !== "number" || !Number.isFinite(peakBytes) || peakBytes < 0) continue;
    if (typeof durationMs !== "number" || !Number.isFinite(durationMs) || durationMs < 0) continue;
    runs.push({ peakBytes, durationMs, finishedAt: typeof finishedAt === "string" ? finishedAt : "" });
  }
  return {
    version: 1,
    repositoryKey: typeof raw.repositoryKey === "string" ? raw.repositoryKey : "",
    argv: Array.isArray(raw.argv) ? (raw.argv as unknown[]).filter((word): word is string => typeof word === "string") : [],
    cwd: typeof raw.cwd === "string" ? raw.cwd : ".",
    runs: runs.slice(-MAX_RUNS),
  };
}

export interface RecordRunOptions extends ProfileIo {
  key: string;
  repositoryKey: string;
  argv: string[];
  /** relative to the project root */
  cwd: string;
  run: ProfileRun;
  /** default MAX_PROFILES */
  maxProfiles?: number;
}

/**
 * Add a finished run to its command's profile (keeping the last MAX_RUNS), written atomically,
 * under a short lock so two seps finishing the same command at once both count; then, if there are
 * more than maxProfiles files, remove the least recently written. Creates the dirs 0700; a state
 * dir that is a symlink or not ours is refused (SepError, exit 1): callers should warn and go on,
 * since the job itself has already run.
 */
export function recordProfileRun(options: RecordRunOptions): void {
  const governor = governorDir(options.stateDir);
  const dir = profilesDir(options.stateDir);
  ensurePrivateDir(options.stateDir ?? machineStateDir());
  ensurePrivateDir(governor);
  ensurePrivateDir(dir);
  const lockPath = join(governor, "profiles.lock");
  const fd = openLockFile(lockPath);
  try {
    lockBlocking(fd, lockPath);
    const path = join(dir, `${options.key}.json`);
    const previous = _readProfile(path, options.onWarning);
    const profile: Profile = {
      version: 1,
      repositoryKey: options.repositoryKey,
      argv: options.argv,
      cwd: options.cwd,
      runs: [...(previous?.runs ?? []), options.run].slice(-MAX_RUNS),
    };
    // A corrupt, symlinked or foreign file in its place is replaced: rename never follows a symlink.
    writeJsonAtomic(path, profile);
    // Only a new profile can take the dir over its bound: a known command's run lists no dir.
    if (!previous) _evict(dir, options.maxProfiles ?? MAX_PROFILES);
  } finally {
    releaseLockFile(fd);
  }
}

/** Keep at most max profile files: the least recently written go. Cheap when under the bound (one readdir). */
function _evict(dir: string, max: number): void {
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => name.endsWith(".json"));
  } catch {
    return;
  }
  if (names.length <= max) return;
  const aged = names
    .map((name) => {
      try {
        return { name, mtime: lstatSync(join(dir, name)).mtimeMs };
      } catch {
        return { name, mtime: 0 };
      }
    })
    .sort((a, b) => a.mtime - b.mtime || (a.name < b.name ? -1 : 1));
  for (const { name } of aged.slice(0, names.length - max)) unlinkSafe(join(dir, name));
}

// ---------------------------------------------------------------------------------------------
// The reservation (pure)

export interface ReservationInput {
  /** --reserve, in bytes */
  flagBytes?: number;
  /** the command's finished runs (readProfileRuns) */
  runs: readonly ProfileRun[];
  /** the job's memory limit; 0 = none */
  memoryLimitBytes: number;
  budgetBytes: number;
}

/**
 * What a job reserves (DESIGN §9): --reserve if given; else learned, the highest recorded peak
 * plus 20 %, at least 64 MB; else, with no history, its memory limit. Never above the memory limit.
 */
export function reservationFor(input: ReservationInput): Reservation {
  const cap = (bytes: number) => (input.memoryLimitBytes > 0 ? Math.min(bytes, input.memoryLimitBytes) : bytes);
  if (input.flagBytes !== undefined) return { bytes: cap(Math.max(0, Math.round(input.flagBytes))), source: "flag" };
  const peaks = input.runs.map((run) => run.peakBytes).filter((bytes) => bytes > 0);
  if (peaks.length > 0) {
    return { bytes: cap(Math.max(MIN_LEARNED_BYTES, Math.ceil(Math.max(...peaks) * LEARNED_MARGIN))), source: "learned" };
  }
  if (input.memoryLimitBytes > 0) return { bytes: input.memoryLimitBytes, source: "limit" };
  // No memory limit and no history: nothing says how big the job may get, so it reserves the whole
  // budget and runs alone (the limit it does not have is, in effect, everything the jobs may use).
  // Its first run teaches the profile, and the next one reserves what it really needed.
  return { bytes: input.budgetBytes, source: "limit" };
}

/** The median duration of the recorded runs (for ETAs); undefined with none. Pure. */
export function expectedDurationMs(runs: readonly Pick<ProfileRun, "durationMs">[]): number | undefined {
  if (runs.length === 0) return undefined;
  const sorted = runs.map((run) => run.durationMs).sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}
