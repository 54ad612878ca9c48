// The machine as `sep top` shows it, read afresh at each refresh and strictly read-only: the
// budget, every job at the gate or past it (the ledger, read without dropping a dead sep's entry),
// the turns of every lock dir known (the viewer's own scope's, and the scope of each job in the
// ledger), each job's memory from /proc, why each waiter waits, and how long a running job has
// left. It creates, rewrites and removes nothing: a dead sep's entry or ticket is skipped, left for
// the next sep that decides.
import { lstatSync } from "node:fs";
import type { ResolvedConfig } from "../../config.ts";
import { findProjectRoot } from "../paths.ts";
import { descendants, isSameProcess, treeMemory } from "../proc/index.ts";
import { type Holder, listHolders } from "../turn/slots.ts";
import { readWaiting } from "../turn/tickets.ts";
import { type MachineMemory, readMachineMemory, resolveBudget } from "./budget.ts";
import { decideAdmission, DEFAULT_TIMING, type GateCandidate, type GateWaitingInfo } from "./gate.ts";
import { type LedgerEntry, readLedger } from "./ledger.ts";
import { etaReader } from "./eta.ts";
import type { ReservationSource } from "./profiles.ts";
import { jobMemory } from "./usage.ts";

export type ViewState = "running" | "paused" | "waiting";

/** Why a job waits: for memory at the machine gate, or for its scope's turn. */
export type WaitCause =
  | {
      for: "memory";
      /** the gate's own figures for it, as a waiting job words them (GateWaitingInfo) */
      gate: GateWaitingInfo;
      /** the gate would admit it now: it starts at its next look */
      startsNow: boolean;
    }
  | {
      for: "turn";
      /** who holds its scope's turn now */
      holders: Array<{ name: string; pid: number }>;
      /** live invocations ahead of it in its scope */
      ahead: number;
    };

export interface ViewJob {
  /** the same across refreshes for one job (its sep's pid and its id): what a memory history is kept by */
  key: string;
  /** the job id (its SEP_JOB_ID) */
  id: string;
  /** the sep that runs it */
  pid: number;
  projectRoot: string;
  name: string;
  argv: string[];
  cwd: string;
  state: ViewState;
  /** what it reserved at the gate; null when it has not reached the gate (or there is no governor) */
  reservationBytes: number | null;
  reservationSource: ReservationSource | null;
  /** RSS sum of its process tree now; 0 while waiting */
  memoryBytes: number;
  /** ISO 8601: when it entered its state */
  since: string;
  /** ISO 8601: when it started (or was admitted, until its sep notes the spawn); null while waiting */
  startedAt: string | null;
  /** running or paused: time since it started; waiting: time it has waited so far */
  elapsedMs: number;
  /** how long its command usually takes (its learned profile); null when unknown */
  expectedDurationMs: number | null;
  /** running or paused: about how much longer it should take (0 once past its usual time); else null */
  etaMs: number | null;
  wait: WaitCause | null;
}

export interface MachineView {
  /** ISO 8601: when it was read */
  at: string;
  /** false when this configuration's memoryBudgetMb is 0: the ledger then shows only other seps' jobs */
  governor: boolean;
  budgetBytes: number;
  reserveBytes: number;
  /** memory free now (MemAvailable, or less under a cgroup limit) */
  availableBytes: number;
  /** min(MemTotal, cgroup limit) */
  totalBytes: number;
  /** where the budget comes from: `auto: MemTotal 23.5 GB − reserve 2.4 GB` */
  why: string;
  /** Σ reservations of the admitted (running and paused) jobs */
  reservedBytes: number;
  /** Σ memory of the running and paused jobs */
  jobsMemoryBytes: number;
  /** running and paused first (in order of admission), then those waiting for memory, then for a turn */
  jobs: ViewJob[];
  /** the lock dirs whose turns were read */
  lockDirs: string[];
}

export interface MachineViewOptions {
  /** the machine state dir; default machineStateDir() */
  stateDir?: string;
  readMemory?: () => MachineMemory;
}

const uid = typeof process.getuid === "function" ? process.getuid() : -1;

/** One scope's turn as read: who holds it (live), who waits for it (live tickets, oldest first). */
interface Turn {
  lockDir: string;
  holders: Holder[];
  waiting: Holder[];
}

/** What one refresh read of the ledger and the machine, for the gate's decisions. */
interface LedgerLook {
  entries: LedgerEntry[];
  /** each entry's job's memory, by seq */
  memory: Map<number, number>;
  availableBytes: number;
  reserveBytes: number;
  /** the turns' live holders, by job key: their names and start times */
  holders: Map<string, Holder>;
}

/** Reads the machine view; keeps only what does not change while a job lives (its usual duration). */
export class MachineViewer {
  private readonly usual = new Map<string, number | null>();

  constructor(
    private readonly config: Pick<ResolvedConfig, "memoryBudgetMb" | "memoryReserveMb" | "lockDir">,
    private readonly options: MachineViewOptions = {},
  ) {}

  read(nowMs = Date.now()): MachineView {
    const memory = (this.options.readMemory ?? readMachineMemory)();
    const budget = resolveBudget(this.config, memory);
    // A hand-edited entry the gate can still read may lack what a view shows: skipped, never a crash.
    const entries = readLedger(this.options.stateDir).filter(_showableEntry);
    const lockDirs = _unique([this.config.lockDir, ...entries.flatMap((entry) => (typeof entry.lockDir === "string" ? [entry.lockDir] : []))]).filter(_ours);
    const turns: Turn[] = lockDirs.map((lockDir) => ({
      lockDir,
      holders: listHolders(lockDir).filter((holder) => _showableHolder(holder) && isSameProcess(holder.pid, holder.pidStartTime)),
      waiting: readWaiting(lockDir, { prune: false }).filter(_showableHolder),
    }));
    const ledger: LedgerLook = { entries, memory: jobMemory(entries), availableBytes: budget.availableBytes, reserveBytes: budget.reserveBytes, holders: new Map() };
    for (const turn of turns) for (const holder of turn.holders) ledger.holders.set(_key(holder.pid, holder.jobId), holder);

    const jobs = entries.map((entry) => this.ledgerJob(entry, ledger, nowMs));
    for (const turn of turns) jobs.push(...this.turnJobs(turn, jobs, entries, nowMs));
    const keys = new Set(jobs.map((job) => job.key));
    for (const key of this.usual.keys()) if (!keys.has(key)) this.usual.delete(key);

    const admitted = jobs.filter((job) => job.state !== "waiting");
    return {
      at: new Date(nowMs).toISOString(),
      governor: budget.budgetBytes > 0,
      budgetBytes: budget.budgetBytes,
      reserveBytes: budget.reserveBytes,
      availableBytes: ledger.availableBytes,
      totalBytes: budget.memoryBytes,
      why: budget.why,
      reservedBytes: admitted.reduce((sum, job) => sum + (job.reservationBytes ?? 0), 0),
      jobsMemoryBytes: admitted.reduce((sum, job) => sum + job.memoryBytes, 0),
      jobs: jobs.sort((a, b) => _rank(a) - _rank(b) || (a.startedAt ?? a.since).localeCompare(b.startedAt ?? b.since)),
      lockDirs,
    };
  }

  /** A job of the ledger: admitted (running or paused), or waiting at the gate with the gate's own reasons. */
  private ledgerJob(entry: LedgerEntry, ledger: LedgerLook, nowMs: number): ViewJob {
    const key = _key(entry.pid, entry.id);
    const holder = ledger.holders.get(key);
    const base = { key, id: entry.id, pid: entry.pid, projectRoot: entry.projectRoot, name: holder?.name ?? entry.argv.join(" "), argv: entry.argv, cwd: entry.cwd };
    const gate = { reservationBytes: entry.reservationBytes, reservationSource: entry.reservationSource, since: entry.since };
    if (entry.state !== "waiting") {
      const startedAt = _time(holder?.startedAt) ?? _time(entry.admittedAt) ?? entry.since;
      const pausedForMs = entry.state === "paused" ? _since(entry.since, nowMs) : 0;
      return { ...base, ...gate, state: entry.state, memoryBytes: ledger.memory.get(entry.seq) ?? 0, ...this.timing(base, startedAt, pausedForMs, nowMs), wait: null };
    }
    // The decision the gate itself would take now (its owner decides with its own budget).
    const decision = decideAdmission({
      self: _candidate(entry),
      waiting: ledger.entries.filter((other) => other.state === "waiting").map(_candidate),
      admitted: ledger.entries
        .filter((other) => other.state !== "waiting")
        .map((other) => ({ reservationBytes: other.reservationBytes, memoryBytes: ledger.memory.get(other.seq) ?? 0 })),
      availableBytes: ledger.availableBytes,
      reserveBytes: ledger.reserveBytes,
      budgetBytes: entry.budgetBytes,
      nowMs,
      headWaitMs: DEFAULT_TIMING.headWaitMs,
    });
    const info: GateWaitingInfo = {
      needBytes: entry.reservationBytes,
      source: entry.reservationSource,
      freeBytes: decision.freeBytes,
      budgetBytes: entry.budgetBytes,
      admittedBytes: decision.admittedBytes,
      admittedJobs: decision.admittedJobs,
      ahead: decision.ahead,
      reason: decision.admit ? "budget" : decision.reason,
    };
    return { ...base, ...gate, ...this.waiting(_since(entry.waitingSince, nowMs)), wait: { for: "memory", gate: info, startsNow: decision.admit } };
  }

  /** The jobs of one scope's turn the ledger does not know: holders without a governor, and the invocations waiting for the turn. */
  private turnJobs(turn: Turn, known: readonly ViewJob[], entries: readonly LedgerEntry[], nowMs: number): ViewJob[] {
    const seen = new Set(known.map((job) => job.key));
    const jobs: ViewJob[] = [];
    // A job holding the turn but not in the ledger: the governor is off for it (or it runs nested).
    for (const holder of turn.holders) {
      const key = _key(holder.pid, holder.jobId);
      if (seen.has(key)) continue;
      seen.add(key);
      const base = _holderBase(holder, key);
      // A turn holder says where its project's records are: the ETA's fallback when no profile knows the command.
      const eta = { ...base, logDir: holder.logDir };
      const startedAt = _time(holder.startedAt) ?? _time(holder.createdAt) ?? new Date(nowMs).toISOString();
      const memoryBytes = treeMemory(descendants(holder.pid), 0).rssBytes;
      jobs.push({ ...base, state: "running", reservationBytes: null, reservationSource: null, since: startedAt, memoryBytes, ...this.timing(eta, startedAt, 0, nowMs), wait: null });
    }
    // Who holds the turn: its holders, and the ledger's jobs of this scope (a job at the gate holds
    // its turn before its sep writes the slot's record).
    const holders = [...known, ...jobs].filter((job) => (job.state !== "waiting" || job.wait?.for === "memory") && _inScope(job, turn, entries));
    for (const [ahead, ticket] of turn.waiting.entries()) {
      const key = _key(ticket.pid, ticket.jobId);
      if (seen.has(key)) continue;
      seen.add(key);
      const wait: WaitCause = { for: "turn", holders: holders.map((job) => ({ name: job.name, pid: job.pid })), ahead };
      const since = _time(ticket.createdAt) ?? new Date(nowMs).toISOString();
      jobs.push({ ..._holderBase(ticket, key), reservationBytes: null, reservationSource: null, since, ...this.waiting(_since(since, nowMs)), wait });
    }
    return jobs;
  }

  private waiting(waitedMs: number) {
    return { state: "waiting" as const, memoryBytes: 0, startedAt: null, elapsedMs: waitedMs, expectedDurationMs: null, etaMs: null };
  }

  /** Elapsed time and ETA of a started job; paused time does not bring it closer to its end. */
  private timing(job: Pick<ViewJob, "key" | "projectRoot" | "argv" | "cwd"> & { logDir?: string }, startedAt: string, pausedForMs: number, nowMs: number) {
    const elapsedMs = _since(startedAt, nowMs);
    let usual = this.usual.get(job.key);
    if (usual === undefined) {
      usual = this.usualDurationMs(job) ?? null;
      this.usual.set(job.key, usual);
    }
    const etaMs = usual === null ? null : Math.max(0, usual - (elapsedMs - pausedForMs));
    return { startedAt, elapsedMs, expectedDurationMs: usual, etaMs };
  }

  /** How long the command usually takes: the one place an ETA's figure comes from. */
  private usualDurationMs(job: Pick<ViewJob, "projectRoot" | "argv" | "cwd"> & { logDir?: string }): number | undefined {
    return etaReader({ stateDir: this.options.stateDir }).expectedDurationMs(job) ?? undefined;
  }
}

function _key(pid: number, jobId: string): string {
  return `${pid}:${jobId}`;
}

function _holderBase(holder: Holder, key: string) {
  return { key, id: holder.jobId, pid: holder.pid, projectRoot: holder.projectRoot ?? findProjectRoot(holder.cwd), name: holder.name, argv: holder.argv, cwd: holder.cwd };
}

/** Is the job one of this turn's scope: a holder of it, or a ledger job that recorded it as its lock dir. */
function _inScope(job: ViewJob, turn: Turn, entries: readonly LedgerEntry[]): boolean {
  if (turn.holders.some((holder) => _key(holder.pid, holder.jobId) === job.key)) return true;
  return entries.some((entry) => entry.lockDir === turn.lockDir && _key(entry.pid, entry.id) === job.key);
}

/** A record's command and where it runs, as a view words them: a pid, argv of strings, a cwd. */
function _showableCommand(record: { pid: unknown; argv: unknown; cwd: unknown }): boolean {
  return Number.isInteger(record.pid) && Array.isArray(record.argv) && record.argv.every((word) => typeof word === "string") && typeof record.cwd === "string";
}

function _showableEntry(entry: LedgerEntry): boolean {
  return _showableCommand(entry) && typeof entry.projectRoot === "string" && typeof entry.id === "string";
}

function _showableHolder(holder: Holder): boolean {
  return _showableCommand(holder) && typeof holder.jobId === "string" && typeof holder.name === "string";
}

function _candidate(entry: LedgerEntry): GateCandidate {
  return { seq: entry.seq, reservationBytes: entry.reservationBytes, waitingSinceMs: Date.parse(entry.waitingSince) };
}

function _rank(job: ViewJob): number {
  if (job.state !== "waiting") return 0;
  return job.wait?.for === "memory" ? 1 : 2;
}

/** A recorded time, when it is one (records are read defensively). */
function _time(value: unknown): string | undefined {
  return typeof value === "string" && Number.isFinite(Date.parse(value)) ? value : undefined;
}

function _since(iso: unknown, nowMs: number): number {
  const then = typeof iso === "string" ? Date.parse(iso) : Number.NaN;
  return Number.isFinite(then) ? Math.max(0, nowMs - then) : 0;
}

function _unique(values: string[]): string[] {
  return [...new Set(values)];
}

/** A lock dir to read: a real directory of ours (what a symlinked or foreign one holds is not shown). */
function _ours(dir: string): boolean {
  try {
    const stat = lstatSync(dir);
    return stat.isDirectory() && (uid < 0 || stat.uid === uid);
  } catch {
    return false;
  }
}
