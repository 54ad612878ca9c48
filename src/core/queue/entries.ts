// The durable queue: one JSON file per stored job under <lockDir>/queue, numbered in arrival order.
// Adding is a counter bump under a short flock plus an atomic write; a drain claims an entry by
// renaming it into queue/claimed (rename is atomic, so two drains can never both claim it). A rename
// that finds its file gone lost a race and is no failure; any other fs failure is a SepError
// naming the file and the errno.
import { existsSync, mkdirSync, readdirSync, renameSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { SepError } from "../../errors.ts";
import type { JobOverrides } from "../job/limits.ts";
import { highestNumber, withNextNumber } from "../turn/numbering.ts";
import { lockLayout } from "../paths.ts";
import { ensurePrivateDir, fsFailure, readJson, unlinkSafe, writeFileAtomic, writeJsonAtomic } from "../store.ts";

export interface QueueEntry {
  /** "q" + the sequence number: what `queue remove` takes */
  id: string;
  seq: number;
  argv: string[];
  cwd: string;
  name?: string;
  /** the limits given to `queue add`; they apply when the job runs */
  overrides: JobOverrides;
  waitTimeoutMs?: number;
  /** --reserve given to `queue add`: MB the job reserves at the machine gate */
  reserveMb?: number;
  reportPath?: string;
  /** variables the job gets on top of the drain's environment (e.g. the pytest-xdist cap) */
  env?: Record<string, string>;
  /** the command as given, when this job is one atom of it */
  group?: string;
  addedAt: string;
}

export type NewQueueEntry = Omit<QueueEntry, "id" | "seq" | "addedAt">;

/** Store a job; it runs at the next `sep queue start`. */
export function addToQueue(lockDir: string, fields: NewQueueEntry, now = new Date()): QueueEntry {
  return addAllToQueue(lockDir, [fields], now)[0]!;
}

/**
 * Store jobs under consecutive numbers, all under one hold of the queue lock: the atoms of one
 * command are never interleaved with another `queue add`'s, and become visible together.
 */
export function addAllToQueue(lockDir: string, jobs: NewQueueEntry[], now = new Date()): QueueEntry[] {
  const layout = lockLayout(lockDir);
  ensurePrivateDir(lockDir);
  ensurePrivateDir(layout.queueDir);
  const inUse = () => highestNumber([layout.queueDir, layout.claimedDir]);
  return withNextNumber(
    layout.queueLock,
    layout.queueCounter,
    inUse,
    (first) => {
      const entries = jobs.map((fields, index): QueueEntry => ({ id: `q${first + index}`, seq: first + index, ...fields, addedAt: now.toISOString() }));
      for (const entry of entries) writeJsonAtomic(layout.queueEntry(entry.seq), entry);
      return entries;
    },
    jobs.length,
  );
}

const isNumberOrAbsent = (value: unknown) => value === undefined || (typeof value === "number" && Number.isFinite(value) && value >= 0);
const isStringOrAbsent = (value: unknown) => value === undefined || typeof value === "string";

/** Everything the drain will use, checked: a file that fails any check is set aside, not run. */
function isEntry(value: unknown): value is QueueEntry {
  const entry = value as QueueEntry;
  if (typeof entry !== "object" || entry === null || Array.isArray(entry)) return false;
  const overrides = entry.overrides as Record<string, unknown> | null;
  return (
    Number.isSafeInteger(entry.seq) &&
    entry.seq > 0 &&
    typeof entry.id === "string" &&
    Array.isArray(entry.argv) &&
    entry.argv.length > 0 &&
    entry.argv.every((word) => typeof word === "string") &&
    typeof entry.cwd === "string" &&
    typeof entry.addedAt === "string" &&
    Number.isFinite(Date.parse(entry.addedAt)) &&
    typeof overrides === "object" &&
    overrides !== null &&
    ["timeout", "memoryLimitMb", "checkInterval", "killGrace"].every((key) => isNumberOrAbsent(overrides[key])) &&
    isNumberOrAbsent(entry.waitTimeoutMs) &&
    isNumberOrAbsent(entry.reserveMb) &&
    isStringOrAbsent(entry.name) &&
    isStringOrAbsent(entry.reportPath) &&
    isStringOrAbsent(entry.group) &&
    (entry.env === undefined || (typeof entry.env === "object" && entry.env !== null && Object.values(entry.env).every((v) => typeof v === "string")))
  );
}

export interface QueueListing {
  entries: QueueEntry[];
  /** file names that are not valid entries */
  corrupt: string[];
}

/** File names of the stored jobs, oldest first (names only: cheap, whatever the queue's length). */
export function queueNames(lockDir: string): string[] {
  try {
    return readdirSync(lockLayout(lockDir).queueDir)
      .filter((name) => /^\d+\.json$/.test(name))
      .sort();
  } catch {
    return [];
  }
}

/** One stored job by file name; undefined when it is not a valid job (or is gone). */
export function readEntry(lockDir: string, name: string): QueueEntry | undefined {
  const value = readJson<unknown>(join(lockLayout(lockDir).queueDir, name));
  return isEntry(value) ? value : undefined;
}

/**
 * A drain's view of the queue, oldest first. The directory is listed again only when the names
 * listed before are used up: a job added meanwhile always gets a higher number than any listed, so
 * the order stays FIFO, and a drain of N jobs lists the queue a few times instead of N times.
 * Invalid files met on the way are moved to queue/corrupt and reported through onSetAside; they
 * never block the queue.
 */
export class QueueCursor {
  private names: string[] = [];

  constructor(
    private readonly lockDir: string,
    private readonly onSetAside: (path: string) => void,
  ) {}

  /** The next valid stored job, and how many are stored counting it (as far as known). */
  next(): { entry?: QueueEntry; stored: number } {
    for (let listed = false; ; listed = true) {
      if (this.names.length === 0) {
        if (listed) return { stored: 0 };
        this.names = queueNames(this.lockDir);
      }
      while (this.names.length > 0) {
        const name = this.names.shift()!;
        const entry = readEntry(this.lockDir, name);
        if (entry) return { entry, stored: this.names.length + 1 };
        // Gone (removed, claimed by another drain) or not a job: only the latter is set aside.
        for (const moved of setAsideCorrupt(this.lockDir, [name])) this.onSetAside(moved);
      }
    }
  }
}

/** Stored jobs, oldest first. Entries that are not valid are listed apart, never thrown on. */
export function listQueue(lockDir: string): QueueListing {
  const listing: QueueListing = { entries: [], corrupt: [] };
  for (const name of queueNames(lockDir)) {
    const entry = readEntry(lockDir, name);
    if (entry) listing.entries.push(entry);
    else listing.corrupt.push(name);
  }
  return listing;
}

/**
 * Move invalid entries to queue/corrupt, where a person can look at them; they never block the
 * drain and never take the valid entries with them. Returns the paths they were moved to.
 */
export function setAsideCorrupt(lockDir: string, names: string[]): string[] {
  const layout = lockLayout(lockDir);
  if (names.length === 0) return [];
  _makeDir(layout.corruptDir);
  const moved: string[] = [];
  for (const name of names) {
    const target = join(layout.corruptDir, `${Date.now()}-${name}`);
    // false: already moved or removed by someone else
    if (_move(join(layout.queueDir, name), target)) moved.push(target);
  }
  return moved;
}

/** mkdir -p with mode 0700; a failure names the directory. */
function _makeDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw fsFailure("E_STATE_DIR", "create", dir, error);
  }
}

/**
 * rename(2) from → to: true when moved, false when from is gone (another drain or a remove got
 * there first: a lost race, not a failure). Anything else (EACCES, EROFS, ENOSPC, …) throws.
 */
function _move(from: string, to: string): boolean {
  try {
    renameSync(from, to);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw fsFailure("E_STATE_WRITE", `move ${from} to`, to, error);
  }
}

export function findEntry(lockDir: string, id: string): QueueEntry | undefined {
  return listQueue(lockDir).entries.find((entry) => entry.id === id || String(entry.seq) === id);
}

/** Remove one stored job by id; a SepError (exit 2) names an id that is not stored. */
export function removeFromQueue(lockDir: string, id: string): QueueEntry {
  const entry = findEntry(lockDir, id);
  if (!entry) {
    throw new SepError("E_NO_SUCH_JOB", `no stored job ${JSON.stringify(id)} in ${lockLayout(lockDir).queueDir}`, {
      hint: "`sep queue status` lists the stored jobs and their ids",
      exitCode: 2,
    });
  }
  if (!takeOut(lockDir, entry)) {
    throw new SepError("E_ALREADY_STARTED", `${entry.id} has just been taken by a running \`sep queue start\`; it was not removed`, {
      hint: "`sep queue stop` stops the drain and its current job",
      exitCode: 1,
    });
  }
  return entry;
}

/**
 * Take a stored job out by renaming it away first: rename is atomic, so exactly one of a remove
 * and a drain's claim wins, and a remove never reports a job removed that a drain is running.
 */
function takeOut(lockDir: string, entry: QueueEntry): boolean {
  const layout = lockLayout(lockDir);
  const trash = join(layout.queueDir, `.removed-${entry.seq}-${process.pid}`);
  if (!_move(layout.queueEntry(entry.seq), trash)) return false;
  unlinkSafe(trash);
  return true;
}

/** Remove every stored job that no drain has claimed yet; the running job is not touched. */
export function clearQueue(lockDir: string): QueueEntry[] {
  return listQueue(lockDir).entries.filter((entry) => takeOut(lockDir, entry));
}

/** Claim an entry for a drain; false when another drain or a `remove` got there first. */
export function claimEntry(lockDir: string, entry: QueueEntry): boolean {
  const layout = lockLayout(lockDir);
  _makeDir(layout.claimedDir);
  return _move(layout.queueEntry(entry.seq), join(layout.claimedDir, `${entry.seq}.json`));
}

/** The claimed entry's job has its record now; the claim file is no longer needed. */
export function dropClaim(lockDir: string, entry: QueueEntry): void {
  const { claimedDir } = lockLayout(lockDir);
  unlinkSafe(join(claimedDir, `${entry.seq}.json`));
  unlinkSafe(join(claimedDir, `${entry.seq}.started.json`));
}

/**
 * Mark a claimed job as started, just before its spawn: a drain that dies after this point ran it
 * (its run records it as cancelled), one that dies before did not. The mark lives with the claim,
 * so recovery never depends on a run record that may have been pruned or lives in another log dir.
 */
export function markClaimStarted(lockDir: string, entry: QueueEntry): void {
  const { claimedDir } = lockLayout(lockDir);
  try {
    renameSync(join(claimedDir, `${entry.seq}.json`), join(claimedDir, `${entry.seq}.started.json`));
  } catch {
    // no claim file (the job came from elsewhere): nothing to mark
  }
}

/** Put a claimed job that never started back in the queue, under its own number (its place). */
export function returnClaim(lockDir: string, entry: QueueEntry): boolean {
  const layout = lockLayout(lockDir);
  try {
    renameSync(join(layout.claimedDir, `${entry.seq}.json`), layout.queueEntry(entry.seq));
    return true;
  } catch {
    return false;
  }
}

/**
 * Claims left by a drain that died: one that never started goes back to the queue (under its own
 * number, so it keeps its place); one marked started is dropped — it ran, at most once, and the
 * dead drain's run records it. An unreadable claim is set aside like any corrupt entry.
 */
export function recoverClaims(lockDir: string): { returned: string[]; dropped: string[] } {
  const layout = lockLayout(lockDir);
  const result = { returned: [] as string[], dropped: [] as string[] };
  let names: string[] = [];
  try {
    names = readdirSync(layout.claimedDir);
  } catch {
    return result;
  }
  for (const name of names) {
    const path = join(layout.claimedDir, name);
    const entry = readJson<unknown>(path);
    if (!isEntry(entry)) {
      _makeDir(layout.corruptDir);
      _move(path, join(layout.corruptDir, `${Date.now()}-claimed-${name}`)); // false: gone already
      continue;
    }
    if (name.endsWith(".started.json")) {
      unlinkSafe(path);
      result.dropped.push(entry.id);
    } else if (returnClaim(lockDir, entry)) {
      result.returned.push(entry.id);
    }
  }
  return result;
}

export function isPaused(lockDir: string): boolean {
  return existsSync(lockLayout(lockDir).pausedFlag);
}

/**
 * Pause takes effect between jobs: the running job finishes, the next waits for `resume`. The flag
 * is written atomically like every state file; a flag that cannot be set or removed is a SepError,
 * never a "paused" or "resumed" that did not happen.
 */
export function setPaused(lockDir: string, paused: boolean): void {
  const layout = lockLayout(lockDir);
  if (paused) {
    ensurePrivateDir(lockDir);
    ensurePrivateDir(layout.queueDir);
    writeFileAtomic(layout.pausedFlag, `${new Date().toISOString()}\n`);
    return;
  }
  try {
    unlinkSync(layout.pausedFlag);
  } catch (error) {
    // not paused, or a lock dir never made: resumed either way
    if (!["ENOENT", "ENOTDIR"].includes((error as NodeJS.ErrnoException).code ?? "")) throw fsFailure("E_STATE_WRITE", "remove", layout.pausedFlag, error);
  }
}
