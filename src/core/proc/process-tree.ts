// A job's process tree: /proc parsing (pure), finding every process of a job, its memory, killing it.
//
// Linux reads /proc directly (BUN_NOTES §4: a walk of /proc/PID/task/*/children plus statm costs
// ~0.05 ms for a 3-process tree). Elsewhere (macOS) the same functions fall back to `ps`; what
// differs there:
//   - descendants, processesInGroup, findByMarker: one `ps -A` call each (no /proc, no subreaper,
//     so a double-forked daemon is found only by the marker, and only while its environment shows);
//   - memory: one `ps -o pid=,rss=` call (what pidusage runs there; called directly because
//     pidusage is async-only and this API is synchronous); there is no PSS, so treePss = RSS;
//   - processStartTime: `ps -o lstart=` in ms since the epoch (compare for equality only).
import { readdirSync, readFileSync } from "node:fs";
import { reap } from "../libc.ts";

// SEP_PROC_BACKEND=ps forces the fallback on Linux, so its tests can run here.
const IS_LINUX = process.platform === "linux" && process.env.SEP_PROC_BACKEND !== "ps";

export interface ProcStat {
  pid: number;
  comm: string;
  /** R, S, D, Z (zombie), T, t, X (dead), I, ... */
  state: string;
  ppid: number;
  pgrp: number;
  session: number;
  /** field 22: clock ticks after boot; with the pid it identifies a process across pid reuse */
  startTime: number;
}

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

export type Signal = NodeJS.Signals | number;

// ---------------------------------------------------------------------------------------------
// Pure parsers

/**
 * Parse /proc/PID/stat. comm (field 2) is in parentheses and may itself hold spaces and ')', so
 * the fields after it are found from the LAST ')'. Returns null for text that is not a stat line.
 */
export function parseStat(text: string): ProcStat | null {
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  if (open < 1 || close < open) return null;
  const pid = Number(text.slice(0, open).trim());
  // After ") ": field 3 (state) is rest[0], so field N is rest[N - 3].
  const rest = text.slice(close + 2).split(" ");
  if (!Number.isInteger(pid) || rest.length < 20) return null;
  const num = (field: number) => Number(rest[field - 3]);
  const stat: ProcStat = {
    pid,
    comm: text.slice(open + 1, close),
    state: rest[0] ?? "",
    ppid: num(4),
    pgrp: num(5),
    session: num(6),
    startTime: num(22),
  };
  if (!stat.state || [stat.ppid, stat.pgrp, stat.session, stat.startTime].some(Number.isNaN)) return null;
  return stat;
}

/** RSS in bytes from /proc/PID/statm (field 2, resident pages). Not from stat: that one runs ~9% low. */
export function parseStatm(text: string, pageSize: number): number {
  const resident = Number(text.split(" ", 2)[1]);
  return Number.isFinite(resident) ? resident * pageSize : 0;
}

/** PSS in bytes from /proc/PID/smaps_rollup (the `Pss:` line, in kB); 0 when absent. */
export function parsePss(smapsRollupText: string): number {
  const match = /^Pss:\s+(\d+)\s+kB/m.exec(smapsRollupText);
  return match ? Number(match[1]) * 1024 : 0;
}

// ---------------------------------------------------------------------------------------------
// Reading one process

/** Read a /proc file; null when the process is gone (ENOENT/ESRCH) or unreadable (EACCES). */
function _read(path: string): string | null {
  try {
    return readFileSync(path, "latin1");
  } catch {
    return null;
  }
}

let _pageSize: number | undefined;

/** The kernel page size, from AT_PAGESZ in /proc/self/auxv (4 KiB on x64, 4–64 KiB on arm64). */
export function pageSize(): number {
  if (_pageSize !== undefined) return _pageSize;
  _pageSize = 4096;
  try {
    const auxv = readFileSync("/proc/self/auxv");
    const word = process.arch === "x64" || process.arch === "arm64" ? 8 : 4;
    for (let at = 0; at + 2 * word <= auxv.length; at += 2 * word) {
      const type = word === 8 ? Number(auxv.readBigUInt64LE(at)) : auxv.readUInt32LE(at);
      const value = word === 8 ? Number(auxv.readBigUInt64LE(at + word)) : auxv.readUInt32LE(at + word);
      if (type === 6 /* AT_PAGESZ */ && value > 0) {
        _pageSize = value;
        break;
      }
      if (type === 0 /* AT_NULL */) break;
    }
  } catch {
    // keep 4096
  }
  return _pageSize;
}

export function readStat(pid: number): ProcStat | null {
  if (!IS_LINUX) return _psStat(pid);
  const text = _read(`/proc/${pid}/stat`);
  return text === null ? null : parseStat(text);
}

/**
 * True while the process exists and is not a zombie. process.kill(pid, 0) alone is not enough: it
 * succeeds on a zombie, and an orphaned zombie may wait a second or more for its reaper.
 */
export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  const stat = readStat(pid);
  return stat !== null && stat.state !== "Z" && stat.state !== "X";
}

/** Start time of the process (for pid-reuse checks: same pid + same start time = same process). */
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

export function processStartTime(pid: number): number | null {
  if (!IS_LINUX) return _psStartTime(pid);
  return readStat(pid)?.startTime ?? null;
}

/** The command line (NULs as spaces, at most ~200 chars), or comm for kernel threads and zombies. */
export function commandOf(pid: number): string {
  if (!IS_LINUX) return _ps(["-o", "command=", "-p", String(pid)]).trim() || String(pid);
  const cmdline = _read(`/proc/${pid}/cmdline`);
  const command = cmdline?.replace(/\0+$/, "").replaceAll("\0", " ").trim();
  if (command) return command.length > 200 ? `${command.slice(0, 199)}…` : command;
  return readStat(pid)?.comm ?? String(pid);
}

// ---------------------------------------------------------------------------------------------
// Finding the processes of a job

let _childrenFiles: boolean | undefined;

/** /proc/PID/task/TID/children exists only with CONFIG_PROC_CHILDREN; else scan all of /proc. */
function _hasChildrenFiles(): boolean {
  _childrenFiles ??= _read(`/proc/${process.pid}/task/${process.pid}/children`) !== null;
  return _childrenFiles;
}

/** Direct children of one process, from every thread's children file (a child belongs to the thread that forked it). */
function _childrenOf(pid: number): number[] {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return []; // gone mid-walk
  }
  const children: number[] = [];
  for (const tid of tids) {
    const text = _read(`/proc/${pid}/task/${tid}/children`);
    if (!text) continue;
    for (const word of text.split(" ")) if (word) children.push(Number(word));
  }
  return children;
}

/** Every process now in /proc, parsed; unreadable or vanished entries are skipped. */
function _allStats(): ProcStat[] {
  const stats: ProcStat[] = [];
  for (const name of _procPids()) {
    const stat = readStat(name);
    if (stat) stats.push(stat);
  }
  return stats;
}

function _procPids(): number[] {
  try {
    return readdirSync("/proc")
      .filter((name) => name.charCodeAt(0) >= 48 && name.charCodeAt(0) <= 57)
      .map(Number);
  } catch {
    return [];
  }
}

/** Walk a parent→children relation breadth-first; `skip` prunes whole subtrees. Root excluded. */
function _walk(rootPid: number, childrenOf: (pid: number) => number[], skip?: ReadonlySet<number>): number[] {
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

function _descendants(rootPid: number, skip?: ReadonlySet<number>): number[] {
  if (IS_LINUX && _hasChildrenFiles()) return _walk(rootPid, _childrenOf, skip);
  // One snapshot of every process's parent: /proc/*/stat on Linux, a single `ps` elsewhere.
  const byParent = new Map<number, number[]>();
  const rows = IS_LINUX ? _allStats().map((s) => [s.pid, s.ppid] as const) : _psTable(["pid", "ppid"]).map(([pid, ppid]) => [pid!, ppid!] as const);
  for (const [pid, ppid] of rows) {
    const list = byParent.get(ppid);
    if (list) list.push(pid);
    else byParent.set(ppid, [pid]);
  }
  return _walk(rootPid, (pid) => byParent.get(pid) ?? [], skip);
}

/**
 * Every descendant of rootPid (not rootPid itself), zombies included. With sep as a subreaper the
 * walk from sep's own pid also finds the job's double-forked daemons, re-parented to sep. Processes
 * that vanish mid-walk are skipped; this never throws.
 */
export function descendants(rootPid: number): number[] {
  return _descendants(rootPid);
}

/** Members of a process group (a full scan; cleanup only, not every poll). */
export function processesInGroup(pgid: number): number[] {
  if (!IS_LINUX) return _psTable(["pid", "pgid"]).filter(([, group]) => group === pgid).map(([pid]) => pid!);
  return _allStats()
    .filter((stat) => stat.pgrp === pgid)
    .map((stat) => stat.pid);
}

/**
 * Processes whose environment holds NAME=value (the job marker every descendant inherits), sep
 * itself excluded. A full scan of /proc/*\/environ: only at cleanup. environ is the environment as
 * of exec, readable only for our own uid, so a daemon started with `env -i` is missed — the
 * subreaper walk is the first net, this is the second.
 */
export function findByMarker(name: string, value: string): number[] {
  const entry = `${name}=${value}`;
  if (!IS_LINUX) return _psMarker(entry);
  const needle = Buffer.from(`${entry}\0`, "latin1");
  const found: number[] = [];
  for (const pid of _procPids()) {
    if (pid === process.pid) continue;
    let environ: Buffer;
    try {
      environ = readFileSync(`/proc/${pid}/environ`);
    } catch {
      continue; // another user's process, or gone
    }
    // Match whole entries only: at the start, or right after the NUL ending the previous entry.
    for (let at = environ.indexOf(needle); at !== -1; at = environ.indexOf(needle, at + 1)) {
      if (at === 0 || environ[at - 1] === 0) {
        found.push(pid);
        break;
      }
    }
  }
  return found;
}

// ---------------------------------------------------------------------------------------------
// Memory

/**
 * RSS of a set of pids (statm on Linux; one `ps` call elsewhere). Pids that are gone are skipped.
 * `top` limits the returned processes (and the command lines read) to the biggest few.
 */
export function treeMemory(pids: readonly number[], top = Infinity): TreeMemory {
  const sizes = IS_LINUX ? _statmRss(pids) : _psRss(pids);
  let rssBytes = 0;
  for (const [, bytes] of sizes) rssBytes += bytes;
  const processes =
    top <= 0
      ? []
      : sizes
          .sort((a, b) => b[1] - a[1])
          .slice(0, top)
          .map(([pid, bytes]) => ({ pid, command: commandOf(pid), rssBytes: bytes }));
  return { rssBytes, processes };
}

function _statmRss(pids: readonly number[]): Array<[pid: number, rssBytes: number]> {
  const page = pageSize();
  const sizes: Array<[number, number]> = [];
  for (const pid of pids) {
    const statm = _read(`/proc/${pid}/statm`);
    if (statm !== null) sizes.push([pid, parseStatm(statm, page)]);
  }
  return sizes;
}

/**
 * Sum of PSS (shared pages divided among their sharers) from smaps_rollup. It walks page tables,
 * ~17 ms for a 1.6 GiB process, so read it only to confirm an RSS sum over the limit. A process
 * whose smaps_rollup cannot be read (kernel < 4.14) counts with its RSS, which errs on the high
 * side. Not Linux: the RSS sum.
 */
export function treePss(pids: readonly number[]): number {
  if (!IS_LINUX) return treeMemory(pids, 0).rssBytes;
  let total = 0;
  for (const pid of pids) {
    const rollup = _read(`/proc/${pid}/smaps_rollup`);
    if (rollup !== null && rollup.includes("Pss:")) total += parsePss(rollup);
    else for (const [, bytes] of _statmRss([pid])) total += bytes;
  }
  return total;
}

// ---------------------------------------------------------------------------------------------
// Killing

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
  _ownGroup ??= readStat(process.pid)?.pgrp ?? 0;
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

  const walk = () => (options.rootPid ? _descendants(options.rootPid, exclude) : []);
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
  _reapOwnZombies([...killed, ...walk()], exclude, options.leaderPid);
  return { killed: [...killed].sort((a, b) => a - b), survivors };
}

/** Any live (non-zombie) member left in the group? kill(-pgid, 0) would count zombies too. */
function _groupAlive(pgid: number | undefined): boolean {
  if (!_safeGroup(pgid) || !_signal(-pgid, 0)) return false;
  return processesInGroup(pgid).some(isAlive);
}

/** waitpid each zombie among `pids` whose parent is sep; the leader and excluded pids are Bun's. */
/**
 * Reap the zombies among sep's own children, except leaderPid (Bun waits for that one). As a
 * subreaper sep inherits every orphan of the job, and one that exits stays a zombie until reaped:
 * a job that keeps spawning short-lived daemons would otherwise fill the pid table.
 */
export function reapOrphans(leaderPid: number): number {
  let reaped = 0;
  if (!IS_LINUX) return reaped;
  for (const pid of _childrenOf(process.pid)) {
    if (pid !== leaderPid && readStat(pid)?.state === "Z" && reap(pid)) reaped++;
  }
  return reaped;
}

function _reapOwnZombies(pids: readonly number[], exclude: ReadonlySet<number>, leaderPid?: number): void {
  if (!IS_LINUX) return;
  for (const pid of pids) {
    if (pid === leaderPid || exclude.has(pid)) continue;
    const stat = readStat(pid);
    if (stat?.state === "Z" && stat.ppid === process.pid) reap(pid);
  }
}

// ---------------------------------------------------------------------------------------------
// Not Linux: `ps` (see the top of the file for what differs)

function _ps(args: string[]): string {
  try {
    const result = Bun.spawnSync(["ps", ...args], { stdout: "pipe", stderr: "ignore" });
    return result.stdout.toString();
  } catch {
    return "";
  }
}

/** `ps -A -o a=,b=` as rows of numbers. */
function _psTable(columns: string[]): number[][] {
  return _ps(["-A", "-o", columns.map((c) => `${c}=`).join(",")])
    .split("\n")
    .map((line) => line.trim().split(/\s+/).map(Number))
    .filter((row) => row.length === columns.length && row.every(Number.isInteger));
}

function _psStat(pid: number): ProcStat | null {
  const line = _ps(["-o", "pid=,ppid=,pgid=,sess=,stat=,comm=", "-p", String(pid)]).trim();
  const match = /^(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\S+)\s+(.*)$/.exec(line);
  if (!match) return null;
  return {
    pid: Number(match[1]),
    ppid: Number(match[2]),
    pgrp: Number(match[3]),
    session: Number(match[4]),
    state: match[5]!.charAt(0),
    comm: match[6]!,
    startTime: _psStartTime(pid) ?? 0,
  };
}

function _psStartTime(pid: number): number | null {
  const started = Date.parse(_ps(["-o", "lstart=", "-p", String(pid)]).trim());
  return Number.isNaN(started) ? null : started;
}

/** BSD `ps -E` appends the environment to the command; match the marker as a whole word. */
function _psMarker(entry: string): number[] {
  const found: number[] = [];
  for (const line of _ps(["-A", "-E", "-ww", "-o", "pid=,command="]).split("\n")) {
    const match = /^\s*(\d+)\s(.*)$/.exec(line);
    if (match && ` ${match[2]} `.includes(` ${entry} `) && Number(match[1]) !== process.pid) found.push(Number(match[1]));
  }
  return found;
}

/**
 * RSS per pid from one `ps -o pid=,rss= -p …` call: the command pidusage runs on macOS, but
 * synchronous and once for all pids (pidusage is async-only and runs it per call anyway).
 */
function _psRss(pids: readonly number[]): Array<[pid: number, rssBytes: number]> {
  if (pids.length === 0) return [];
  return _ps(["-o", "pid=,rss=", "-p", pids.join(",")])
    .split("\n")
    .map((line) => line.trim().split(/\s+/).map(Number))
    .filter((row) => row.length === 2 && row.every(Number.isInteger))
    .map(([pid, kib]) => [pid!, kib! * 1024]);
}
