// A job's processes and their memory: the descendants walk, liveness and identity, group members, the marker, RSS and PSS sums.
import type { ChildLookup } from "./parse.ts";
import { commandOf, type KeptFiles, processStartTime, reader } from "./reader.ts";

export interface ProcessMemory {
  pid: number;
  command: string;
  rssBytes: number;
}

export interface TreeMemory {
  /** sum of RSS over the pids that still existed */
  rssBytes: number;
  /** biggest first; only the `top` biggest (all by default), each with its command line */
  processes: ProcessMemory[];
}

/**
 * True while the process exists and is not a zombie. process.kill(pid, 0) alone is not enough: it
 * succeeds on a zombie, and an orphaned zombie may wait a second or more for its reaper.
 */
export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  const stat = reader.stat(pid);
  return stat !== null && stat.state !== "Z" && stat.state !== "X";
}

/**
 * Is pid still the process that was recorded with this start time? A pid alone can be reused by an
 * unrelated process after the recorded one died; the start time (when recorded) tells them apart.
 */
export function isSameProcess(pid: number, startTime: number | null | undefined): boolean {
  return isAlive(pid) && (startTime === null || startTime === undefined || processStartTime(pid) === startTime);
}

let _ownStartTime: number | null | undefined;

/** sep's own start time, read once: it is written into every holder, run and drain record. */
export function ownStartTime(): number | null {
  if (_ownStartTime === undefined) _ownStartTime = processStartTime(process.pid);
  return _ownStartTime;
}

/** Walk a parent→children relation breadth-first; `skip` prunes whole subtrees. Root excluded. */
function _walk(rootPid: number, childrenOf: ChildLookup, skip?: ReadonlySet<number>): number[] {
  const seen = new Set<number>([rootPid]);
  const found: number[] = [];
  const queue = [rootPid];
  for (let i = 0; i < queue.length; i++) {
    for (const child of childrenOf(queue[i]!)) {
      if (seen.has(child) || skip?.has(child)) continue;
      seen.add(child);
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/**
 * Every descendant of rootPid (not rootPid itself), zombies included. With sep as a subreaper the
 * walk from sep's own pid also finds the job's double-forked daemons, re-parented to sep. Processes
 * that vanish mid-walk are skipped; this never throws.
 */
export function descendants(rootPid: number): number[] {
  return _walk(rootPid, reader.childLookup());
}

/**
 * descendants(rootPid) for a poller that asks many times a second, without walking the tree (two
 * /proc reads per process) each time. Nothing joins a tree but by being forked, and a fork takes
 * the next pid: the pids handed out since the last look are read (their parent, from stat), and
 * the tree is walked again only when one of them is a child of the tree (or the count is too large
 * to look at one by one). A process that leaves the tree by dying is seen gone by the reads that
 * follow; an orphan stays in it (sep is its subreaper, in the tree). So between walks the list is
 * the tree, give or take processes that have died.
 *
 * Nets, since the shortcut trusts a figure the kernel does not promise to every reader: a pid
 * that has no /proc entry yet (counted, but still being forked) is looked at again at the next
 * polls; a walk that finds a pid above the last one handed out (read after it) shows the figure is not the kernel's
 * (a sandbox or a virtualized /proc), and the shortcut is off for good; and the tree is walked
 * anyway every FULL_WALK_MS.
 */
export class DescendantsWatch {
  private lastPid: number | null = null;
  private pids: number[] = [];
  private members = new Set<number>();
  /** new pids not yet in /proc when looked at, with the looks left */
  private unseen = new Map<number, number>();
  private walkedAt = 0;
  private trusted = true;

  constructor(private readonly rootPid: number) {}

  /** The tree now; `fresh`: walk it in any case. */
  now(fresh = false): number[] {
    // Read before looking: a fork during the walk changes it, and the next call looks again.
    const last = this.trusted ? reader.lastPid() : null;
    const due = Date.now() - this.walkedAt >= FULL_WALK_MS;
    if (fresh || due || last === null || this.lastPid === null || !this.noneJoined(this.lastPid, last)) {
      this.pids = descendants(this.rootPid);
      this.members = new Set(this.pids);
      this.unseen.clear();
      this.walkedAt = Date.now();
      if (last !== null) {
        // No pid of the tree can be above the counter read after the walk, unless the counter lies.
        const after = reader.lastPid();
        if (after === null || (after >= last && this.pids.some((pid) => pid > after))) this.trusted = false;
      }
    }
    this.lastPid = last;
    return this.pids;
  }

  /** Did none of the pids handed out after `from`, up to `to` (and none still unseen), join the tree? */
  private noneJoined(from: number, to: number): boolean {
    if (to === from && this.unseen.size === 0) return true;
    if (to < from || to - from > MAX_NEW_PIDS_TO_LOOK_AT) return false; // wrapped round, or too many
    const parents = new Map<number, number>();
    const look = (pid: number): boolean => {
      const stat = reader.stat(pid);
      if (stat) parents.set(pid, stat.ppid);
      return stat !== null;
    };
    for (const [pid, left] of this.unseen) {
      if (look(pid) || left <= 1) this.unseen.delete(pid);
      else this.unseen.set(pid, left - 1);
    }
    for (let pid = from + 1; pid <= to; pid++) if (!look(pid)) this.unseen.set(pid, UNSEEN_LOOKS);
    // A new process is ours when its parent is the root, a member, or itself a new one of ours.
    const ours = (pid: number, depth = 0): boolean => {
      const parent = parents.get(pid);
      if (parent === undefined || depth > MAX_NEW_PIDS_TO_LOOK_AT) return false;
      return parent === this.rootPid || this.members.has(parent) || ours(parent, depth + 1);
    };
    for (const pid of parents.keys()) if (ours(pid)) return false;
    return true;
  }
}

/** Beyond this many new pids since the last look, walking the tree is as cheap as looking at each. */
const MAX_NEW_PIDS_TO_LOOK_AT = 64;
/** How many more polls a counted pid with no /proc entry yet is looked for (a fork takes microseconds). */
const UNSEEN_LOOKS = 3;
/** The tree is walked at least this often, whatever the pids say. */
const FULL_WALK_MS = 5000;

/** descendants(rootPid) without the `skip` pids and their subtrees. */
export function descendantsExcept(rootPid: number, skip: ReadonlySet<number>): number[] {
  return _walk(rootPid, reader.childLookup(), skip);
}

/** Members of a process group (a full scan; cleanup only, not every poll). */
export function processesInGroup(pgid: number): number[] {
  return reader.groupMembers(pgid);
}

/**
 * Processes whose environment holds NAME=value (the job marker every descendant inherits), sep
 * itself excluded. A full scan: only at cleanup. The subreaper walk is the first net, this is the
 * second.
 */
export function findByMarker(name: string, value: string): number[] {
  return reader.withEnvEntry(`${name}=${value}`);
}

/**
 * RSS of a set of pids (statm on Linux, one `ps` call elsewhere). Pids that are gone are skipped.
 * `top` limits the returned processes (and the command lines read) to the biggest few.
 */
export function treeMemory(pids: readonly number[], top = Infinity, kept?: KeptFiles): TreeMemory {
  const sizes = reader.rss(pids, kept);
  let rssBytes = 0;
  for (const [, bytes] of sizes) rssBytes += bytes;
  const processes =
    top <= 0
      ? []
      : sizes
          .sort((a, b) => b[1] - a[1])
          .slice(0, top)
          .map(([pid, bytes]) => ({
            pid,
            command: commandOf(pid),
            rssBytes: bytes,
          }));
  return { rssBytes, processes };
}

/**
 * Sum of PSS (shared pages divided among their sharers; RSS where there is no PSS). It is
 * expensive (smaps_rollup walks page tables), so read it only to confirm an RSS sum over the limit.
 */
export function treePss(pids: readonly number[]): number {
  return reader.pssSum(pids);
}
