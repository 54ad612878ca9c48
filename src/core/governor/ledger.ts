// The machine ledger: one file per waiting or admitted job of this user, in the machine state dir,
// each kept locked (flock) by its owner for its whole life, the whole set guarded by ledger.lock.
//
// Liveness works like the turn's tickets (turn/tickets.ts): an entry's owner holds a flock on the open
// entry file, so an entry nobody holds a lock on belonged to a sep that died, even by SIGKILL; the
// next sep that looks drops it and kills what is left of its job. No daemon, no timeouts. Every
// write is a new file, locked before it is renamed into place (rename keeps the open file and its
// lock), and every write, removal and liveness probe happens under ledger.lock, so a probe never
// sees the moment between an owner's rename and the release of its previous file.
import { closeSync, constants, existsSync, fstatSync, lstatSync, openSync, readdirSync, readFileSync, renameSync, writeSync } from "node:fs";
import { join } from "node:path";
import { SepError } from "../../errors.ts";
import { JOB_MARKER } from "../executor.ts";
import { machineStateDir } from "../paths.ts";
import { findByMarker, isAlive, killTree, processesInGroup, processStartTime } from "../proc/index.ts";
import { ensurePrivateDir, unlinkSafe } from "../store.ts";
import { lockBlocking, openLockFile, openLockProbe, releaseLockFile, tryLock, tryLockShared } from "../turn/flock.ts";
import { highestNumber } from "../turn/numbering.ts";
import { governorDir, type ReservationSource } from "./profiles.ts";

export type LedgerState = "waiting" | "running" | "paused";

export interface LedgerEntry {
  /** the job's id; also its SEP_JOB_ID marker unless `marker` says otherwise */
  id: string;
  /** the SEP_JOB_ID its processes carry, when it is not id (a nested sep keeps the outer job's) */
  marker?: string;
  /** the sep that owns the entry */
  pid: number;
  pidStartTime?: number;
  projectRoot: string;
  /** the lock dir of the job's scope, so a viewer (`sep top`) can find who waits for a turn there */
  lockDir?: string;
  argv: string[];
  cwd: string;
  state: LedgerState;
  /** arrival order at the gate: above every entry live when it was added */
  seq: number;
  /** ISO 8601: when the entry entered its current state */
  since: string;
  waitingSince: string;
  admittedAt?: string;
  reservationBytes: number;
  reservationSource: ReservationSource;
  /** the budget the owner works with (each sep resolves its own from its configuration) */
  budgetBytes: number;
  /** the job's process group (its leader's pid), once spawned */
  pgid?: number;
  leaderStartTime?: number;
}

export function ledgerLayout(stateDir: string = machineStateDir()) {
  const governor = governorDir(stateDir);
  return {
    stateDir,
    governor,
    dir: join(governor, "ledger"),
    lock: join(governor, "ledger.lock"),
    /** written to wake the waiters when memory (not the ledger) changed: see gate.ts */
    nudge: join(governor, "ledger", ".nudge"),
    entry: (seq: number) => join(governor, "ledger", `${String(seq).padStart(12, "0")}.json`),
  };
}

const ENTRY_NAME = /^\d{12}\.json$/;
/** the temp name an entry is written under before its rename: `.<name>.<pid>.<n>.tmp` */
const ENTRY_TEMP = /^\.\d{12}\.json\.\d+\.\d+\.tmp$/;
const uid = typeof process.getuid === "function" ? process.getuid() : -1;

/** Lock depth per ledger.lock path in this process: flock is not reentrant across open files. */
const _held = new Map<string, number>();
let _tempCounter = 0;
const _checkedDirs = new Set<string>();

export interface LedgerOptions {
  /** the machine state dir; default machineStateDir() */
  stateDir?: string;
  /** something was ignored or cleaned up (a dead sep's entry, a file not ours); core never prints */
  onWarning?(message: string): void;
}

/** An entry this process published: it stays locked (so alive) until removed or the process dies. */
export interface OwnEntry {
  readonly entry: LedgerEntry;
  /** rewrite the entry with these fields changed (takes the ledger lock; reentrant) */
  update(patch: Partial<Omit<LedgerEntry, "seq" | "id" | "pid">>): void;
  /** remove the entry and let go of its lock (takes the ledger lock; idempotent) */
  remove(): void;
}

export class Ledger {
  readonly layout: ReturnType<typeof ledgerLayout>;
  private readonly warned = new Set<string>();

  constructor(private readonly options: LedgerOptions = {}) {
    this.layout = ledgerLayout(options.stateDir);
  }

  /**
   * Run fn under ledger.lock: a blocking flock held for the microseconds a decision takes.
   * Reentrant within this process; fn must be synchronous (the lock is released when it returns).
   * Creates the state dirs (0700) the first time; refuses (SepError) a symlinked or foreign one.
   */
  locked<T>(fn: () => T): T {
    const depth = _held.get(this.layout.lock) ?? 0;
    if (depth > 0) return this.run(fn, depth);
    // Checked (and created) once per process: the state dir sits in a private parent, so what was
    // ours and not a symlink a moment ago still is.
    if (!_checkedDirs.has(this.layout.dir)) {
      ensurePrivateDir(this.layout.stateDir);
      ensurePrivateDir(this.layout.governor);
      ensurePrivateDir(this.layout.dir);
      _checkedDirs.add(this.layout.dir);
    }
    let fd: number;
    try {
      fd = openLockFile(this.layout.lock);
    } catch (error) {
      // The state dir went away since it was checked (removed by hand, a tmpfs cleared): make it again, once.
      if (!_checkedDirs.has(this.layout.dir)) throw error;
      ensurePrivateDir(this.layout.stateDir);
      ensurePrivateDir(this.layout.governor);
      ensurePrivateDir(this.layout.dir);
      fd = openLockFile(this.layout.lock);
    }
    try {
      lockBlocking(fd, this.layout.lock);
      return this.run(fn, depth);
    } finally {
      releaseLockFile(fd);
    }
  }

  private run<T>(fn: () => T, depth: number): T {
    _held.set(this.layout.lock, depth + 1);
    try {
      const result = fn();
      if (result instanceof Promise) throw new Error("Ledger.locked() takes a synchronous function");
      return result;
    } finally {
      if (depth === 0) _held.delete(this.layout.lock);
      else _held.set(this.layout.lock, depth);
    }
  }

  private assertLocked(what: string): void {
    if (!_held.get(this.layout.lock)) throw new Error(`Ledger.${what}() must be called inside locked()`);
  }

  /**
   * The live entries, in arrival order (seq). An entry whose owner died is dropped here, and the
   * processes of its job (if it had started one) are killed: SIGKILL, then SIGCONT, to its group and
   * to everything carrying its marker, so a job its sep left SIGSTOPped never stays stopped.
   * Call inside locked().
   */
  entries(): LedgerEntry[] {
    this.assertLocked("entries");
    const live: LedgerEntry[] = [];
    for (const name of _names(this.layout.dir)) {
      const path = join(this.layout.dir, name);
      if (ENTRY_TEMP.test(name)) {
        // A writer holds its temp file locked until the rename, and writes only under the ledger
        // lock; an unlocked temp seen now is what a crashed writer left.
        const probe = _probe(path);
        if (probe?.dead) unlinkSafe(path);
        if (probe) closeSync(probe.fd);
        continue;
      }
      if (!ENTRY_NAME.test(name)) continue;
      const probe = _probe(path);
      if (!probe) continue;
      try {
        const entry = this.readEntry(probe.fd, path);
        if (!probe.dead) {
          if (entry) live.push(entry);
          continue;
        }
        unlinkSafe(path);
        if (entry) this.dropDead(entry);
      } finally {
        closeSync(probe.fd);
      }
    }
    return live.sort((a, b) => a.seq - b.seq);
  }

  private readEntry(fd: number, path: string): LedgerEntry | undefined {
    try {
      const stat = fstatSync(fd);
      if (!stat.isFile() || (uid >= 0 && stat.uid !== uid)) {
        this.warnOnce(`ignoring ${path}: ${stat.isFile() ? `it belongs to uid ${stat.uid}, not to you` : "not a regular file"}`);
        return undefined;
      }
      return parseEntry(JSON.parse(readFileSync(fd, "utf8")));
    } catch {
      return undefined; // malformed: absent
    }
  }

  private dropDead(entry: LedgerEntry): void {
    // A waiting entry never had a job. An admitted one may have, even with no pgid recorded yet
    // (its sep died between the spawn and the write): its marker finds it.
    const killed = entry.state === "waiting" ? [] : killDeadJob(entry);
    this.options.onWarning?.(
      `sep pid ${entry.pid} died while its job ${JSON.stringify(entry.argv.join(" "))} was ${entry.state}: dropped it from the machine ledger` +
        (killed.length > 0 ? ` and killed ${killed.length} process(es) it left: ${killed.join(", ")}` : ""),
    );
  }

  private warnOnce(message: string): void {
    if (this.warned.has(message)) return;
    this.warned.add(message);
    this.options.onWarning?.(message);
  }

  /**
   * The entries as they are on disk, without the lock and without probing who is alive: for a
   * cheap first look by a waiter an event woke (50 of them all taking the lock at each change
   * would queue behind one another). A dead owner's entry still counts here, which only errs
   * towards waiting; decisions are taken on entries(), under the lock.
   */
  peek(): LedgerEntry[] {
    const entries: LedgerEntry[] = [];
    for (const name of _names(this.layout.dir)) {
      if (!ENTRY_NAME.test(name)) continue;
      try {
        const entry = parseEntry(JSON.parse(readFileSync(join(this.layout.dir, name), "utf8")));
        if (entry) entries.push(entry);
      } catch {
        // gone or malformed: absent
      }
    }
    return entries.sort((a, b) => a.seq - b.seq);
  }

  /** How many entries (live or not) the ledger dir holds, from its names alone: a cheap first look. */
  entryCount(): number {
    return _names(this.layout.dir).filter((name) => ENTRY_NAME.test(name)).length;
  }

  /** Publish a new entry with the next seq; it is locked before anyone can see it. Call inside locked(). */
  add(fields: Omit<LedgerEntry, "seq">): OwnEntry {
    this.assertLocked("add");
    const seq = this.nextSeq();
    let entry: LedgerEntry = { ...fields, seq };
    const path = this.layout.entry(seq);
    let fd: number | undefined = _publish(path, entry);
    return {
      get entry() {
        return entry;
      },
      update: (patch) =>
        this.locked(() => {
          if (fd === undefined) return;
          const next = { ...entry, ...patch };
          const newFd = _publish(path, next);
          closeSync(fd); // the old file, already replaced: its lock no longer guards anything
          fd = newFd;
          entry = next;
        }),
      remove: () =>
        this.locked(() => {
          if (fd === undefined) return;
          unlinkSafe(path);
          closeSync(fd);
          fd = undefined;
        }),
    };
  }

  /**
   * The next arrival number: above every entry on disk. Numbers order only the entries that are
   * live together, and every entry is added under the ledger lock, so this needs no counter file
   * of its own (one file creation less per job).
   */
  private nextSeq(): number {
    return highestNumber([this.layout.dir]) + 1;
  }

  /** Wake every waiter at the gate (they watch the ledger dir). Call inside locked(). */
  nudge(): void {
    this.assertLocked("nudge");
    // Only the event matters, not the content: a plain write, no temp file to leave behind.
    try {
      const fd = openSync(this.layout.nudge, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o600);
      writeSync(fd, String(Date.now()));
      closeSync(fd);
    } catch {
      // the waiters' own polls are the net
    }
  }
}

function _names(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/**
 * Open a file and try its lock: `dead` when we got it (no owner holds it). Never O_CREAT (a probe
 * must not bring back a file its owner just removed), never through a symlink. undefined = gone.
 */
function _probe(path: string): { fd: number; dead: boolean } | undefined {
  let fd: number;
  try {
    fd = openLockProbe(path);
  } catch {
    return undefined;
  }
  try {
    return { fd, dead: tryLockShared(fd, path) };
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

/** Write entry to a fresh temp file, lock it, rename it over path: the returned fd holds the lock. */
function _publish(path: string, entry: LedgerEntry): number {
  const slash = path.lastIndexOf("/");
  const temp = `${path.slice(0, slash + 1)}.${path.slice(slash + 1)}.${process.pid}.${++_tempCounter}.tmp`;
  let fd: number | undefined;
  try {
    fd = openSync(temp, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    if (!tryLock(fd, temp)) throw new Error("a fresh file was locked by someone else");
    const bytes = Buffer.from(`${JSON.stringify(entry, null, 2)}\n`);
    for (let offset = 0; offset < bytes.length; ) offset += writeSync(fd, bytes, offset);
    renameSync(temp, path);
    return fd;
  } catch (error) {
    if (fd !== undefined) closeSync(fd);
    unlinkSafe(temp);
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new SepError("E_STATE_WRITE", `cannot write ${path}: ${code}`, { cause: error, hint: "check the disk space and permissions there" });
  }
}

/** An entry from parsed JSON, or undefined when a field the governor relies on is missing. Pure. */
export function parseEntry(value: unknown): LedgerEntry | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const e = value as Partial<LedgerEntry>;
  const states: readonly unknown[] = ["waiting", "running", "paused"];
  if (typeof e.id !== "string" || !Number.isInteger(e.pid) || !Number.isInteger(e.seq) || !states.includes(e.state)) return undefined;
  if (typeof e.reservationBytes !== "number" || !Number.isFinite(e.reservationBytes)) return undefined;
  if (!Array.isArray(e.argv) || typeof e.since !== "string") return undefined;
  return value as LedgerEntry;
}

/**
 * Kill what is left of a dead sep's job: its process group (unless the leader's pid now belongs to
 * another process: a group id is not reused while a member lives, so a live leader with another
 * start time means the group is gone) and every process carrying its marker. SIGKILL ends even a
 * stopped process; SIGCONT after it covers one we may not kill but must not leave stopped.
 */
export function killDeadJob(entry: Pick<LedgerEntry, "id" | "marker" | "pgid" | "leaderStartTime">): number[] {
  const pids = new Set(findByMarker(JOB_MARKER, entry.marker ?? entry.id));
  let pgid = entry.pgid;
  if (pgid) {
    const reused = isAlive(pgid) && entry.leaderStartTime !== undefined && processStartTime(pgid) !== entry.leaderStartTime;
    if (reused) pgid = undefined;
    else for (const pid of processesInGroup(pgid)) pids.add(pid);
  }
  const alive = [...pids].filter((pid) => pid !== process.pid && isAlive(pid));
  if (alive.length === 0 && !pgid) return [];
  killTree({ pgid, pids: alive, signal: "SIGKILL" });
  killTree({ pgid, pids: alive, signal: "SIGCONT" });
  return alive.sort((a, b) => a - b);
}

/**
 * The live entries, for `sep status`, which is a sep that looks too: an entry whose owner died is
 * dropped and what is left of its job killed (Ledger.entries), so a tree its sep left SIGSTOPped
 * does not stay stopped until some job happens to run. Nothing is created: with no ledger (or no
 * ledger.lock) yet there is nothing to drop, and the entries are read as readLedger reads them.
 */
export function reapLedger(options: LedgerOptions = {}): LedgerEntry[] {
  const layout = ledgerLayout(options.stateDir);
  if (!existsSync(layout.dir) || !existsSync(layout.lock)) return readLedger(options.stateDir);
  const ledger = new Ledger(options);
  return ledger.locked(() => ledger.entries());
}

/**
 * The live entries: strictly read-only. It creates no dir and no file, removes
 * nothing (a dead sep's entry is skipped, left for the next sep that decides), and takes the ledger
 * lock only if its file already exists, so what it shows is one consistent moment. [] when there
 * is no ledger.
 */
export function readLedger(stateDir?: string): LedgerEntry[] {
  const layout = ledgerLayout(stateDir);
  // What a symlinked or foreign dir holds is not ours to show (and sep would refuse to write there).
  for (const dir of [layout.stateDir, layout.governor, layout.dir]) {
    try {
      const stat = lstatSync(dir);
      if (stat.isSymbolicLink() || !stat.isDirectory() || (uid >= 0 && stat.uid !== uid)) return [];
    } catch {
      return [];
    }
  }
  let lockFd: number | undefined;
  try {
    lockFd = openLockFile(layout.lock, false);
    lockBlocking(lockFd, layout.lock);
  } catch {
    // no lock file yet (or not ours to open): read without it
  }
  try {
    const live: LedgerEntry[] = [];
    for (const name of _names(layout.dir)) {
      if (!ENTRY_NAME.test(name)) continue;
      const probe = _probe(join(layout.dir, name));
      if (!probe) continue;
      try {
        if (probe.dead) continue;
        const stat = fstatSync(probe.fd);
        if (!stat.isFile() || (uid >= 0 && stat.uid !== uid)) continue;
        const entry = parseEntry(JSON.parse(readFileSync(probe.fd, "utf8")));
        if (entry) live.push(entry);
      } catch {
        // malformed: absent
      } finally {
        closeSync(probe.fd);
      }
    }
    return live.sort((a, b) => a.seq - b.seq);
  } finally {
    if (lockFd !== undefined) releaseLockFile(lockFd);
  }
}
