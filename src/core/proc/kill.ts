// Killing a job's processes: signalling the group and pids safely, TERM-grace-KILL of a whole tree, reaping orphaned zombies.
import { reap } from "../libc.ts";
import { reader } from "./reader.ts";
import { descendantsExcept, findByMarker, isAlive, processesInGroup } from "./tree.ts";

export type Signal = NodeJS.Signals | number;

let _ownGroup: number | undefined;

/** Signal one pid or group, ignoring ESRCH (already gone) and EPERM (no longer ours). */
function _signal(target: number, signal: Signal): boolean {
  try {
    process.kill(target, signal);
    return true;
  } catch {
    return false;
  }
}

/** True for a group sep may signal: never 0/1 (own group / everything) nor sep's own group. */
function _safeGroup(pgid: number | undefined): pgid is number {
  if (!pgid || !Number.isInteger(pgid) || pgid <= 1) return false;
  _ownGroup ??= reader.stat(process.pid)?.pgrp ?? 0;
  return pgid !== _ownGroup;
}

function _safePid(pid: number): boolean {
  return Number.isInteger(pid) && pid > 1 && pid !== process.pid;
}

/**
 * Send `signal` to the process group (kill(-pgid)) and to each pid; already-gone targets are
 * ignored. Never signals pid 0/1, sep itself or sep's own group.
 */
export function killTree(options: { pgid?: number; pids?: readonly number[]; signal: Signal }): void {
  if (_safeGroup(options.pgid)) _signal(-options.pgid, options.signal);
  for (const pid of options.pids ?? []) if (_safePid(pid)) _signal(pid, options.signal);
}

export interface TerminateOptions {
  /** the job's process group (with a detached spawn, the leader's pid) */
  pgid?: number;
  /** walk descendants from here: sep's own pid, so re-parented daemons (subreaper) are found too */
  rootPid?: number;
  /**
   * The job leader, which Bun.spawn waits for: signalled like the rest, but never reaped here —
   * reaping it would steal the exit status Bun's `exited` reports.
   */
  leaderPid?: number;
  /**
   * Pids neither signalled nor reaped, with their subtrees (when walking from rootPid): any other
   * child sep itself spawned and Bun waits for. Walking from sep's pid finds all of sep's children.
   */
  exclude?: readonly number[];
  /** also kill processes whose environment holds name=value (full /proc scan, twice) */
  marker?: { name: string; value: string };
  /** time between SIGTERM and SIGKILL */
  graceMs: number;
  /** liveness check interval during the grace; default 10 ms */
  pollMs?: number;
}

export interface TerminateResult {
  /** every pid that was alive when a signal was sent to it, ascending */
  killed: number[];
  /** pids still alive after SIGKILL and a short wait (uninterruptible sleep, or not ours) */
  survivors: number[];
}

/** How long to wait for SIGKILLed processes to die before reporting them as survivors. */
const KILL_WAIT_MS = 2000;

/**
 * TERM, grace, KILL for a whole job: the group, every descendant of rootPid, and every process with
 * the marker. SIGTERM first (a non-interactive sh runs `cmd &` with SIGINT ignored, and a process
 * may want to clean up); when all are dead or graceMs passed, SIGKILL to the group and to anything
 * still alive — found again, to catch children forked during the grace. Finally reap the zombies
 * that are sep's own children (re-parented orphans, via the subreaper), except leaderPid/exclude.
 */
export async function terminateTree(options: TerminateOptions): Promise<TerminateResult> {
  const exclude = new Set(options.exclude ?? []);
  const pollMs = options.pollMs ?? 10;
  const killed = new Set<number>();

  const walk = () => (options.rootPid ? descendantsExcept(options.rootPid, exclude) : []);
  const collect = (): number[] => {
    const pids = new Set(walk());
    if (options.pgid) for (const pid of processesInGroup(options.pgid)) pids.add(pid);
    if (options.marker) for (const pid of findByMarker(options.marker.name, options.marker.value)) pids.add(pid);
    if (options.leaderPid) pids.add(options.leaderPid);
    return [...pids].filter((pid) => !exclude.has(pid) && _safePid(pid) && isAlive(pid));
  };
  const send = (pids: readonly number[], signal: Signal) => {
    for (const pid of pids) killed.add(pid);
    killTree({ pgid: options.pgid, pids, signal });
  };

  let targets = collect();
  if (options.graceMs > 0) {
    send(targets, "SIGTERM");
    // A stopped process (paused by the governor, or by anyone) keeps a TERM pending until it is
    // continued: SIGCONT right after, so the grace period is a real chance to clean up.
    send(targets, "SIGCONT");
    const deadline = Date.now() + options.graceMs;
    while (Date.now() < deadline) {
      // Re-walking is cheap (children files); newly forked descendants join the wait.
      targets = [...new Set([...targets, ...walk()])].filter((pid) => !exclude.has(pid) && isAlive(pid));
      if (targets.length === 0 && !_groupAlive(options.pgid)) break;
      await Bun.sleep(Math.min(pollMs, Math.max(1, deadline - Date.now())));
    }
  }

  targets = collect();
  send(targets, "SIGKILL");
  const killDeadline = Date.now() + KILL_WAIT_MS;
  let survivors = targets.filter(isAlive);
  while (survivors.length > 0 && Date.now() < killDeadline) {
    await Bun.sleep(pollMs);
    survivors = survivors.filter(isAlive);
  }

  // Also the tree's zombies that died on their own before any signal (not in `killed`).
  for (const pid of reader.zombieChildren([...killed, ...walk()])) {
    if (pid !== options.leaderPid && !exclude.has(pid)) reap(pid);
  }
  return { killed: [...killed].sort((a, b) => a - b), survivors };
}

/** Any live (non-zombie) member left in the group? kill(-pgid, 0) would count zombies too. */
function _groupAlive(pgid: number | undefined): boolean {
  if (!_safeGroup(pgid) || !_signal(-pgid, 0)) return false;
  return processesInGroup(pgid).some(isAlive);
}

/**
 * Reap the zombies among sep's own children, except leaderPid (Bun waits for that one). As a
 * subreaper sep inherits every orphan of the job, and one that exits stays a zombie until reaped:
 * a job that keeps spawning short-lived daemons would otherwise fill the pid table.
 */
export function reapOrphans(leaderPid: number): number {
  let reaped = 0;
  for (const pid of reader.zombieChildren()) if (pid !== leaderPid && reap(pid)) reaped++;
  return reaped;
}
