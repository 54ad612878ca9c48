// The machine's view for `sep status`: the budget, free memory, and every job at the gate or past
// it, on this machine, for this user. It creates no file and no directory; like every sep that
// looks at the ledger, it drops a dead sep's entry and kills what its job left (reapLedger).
import type { ResolvedConfig } from "../../config.ts";
import { type MachineMemory, readMachineMemory, resolveBudget } from "./budget.ts";
import { etaReader, type EtaReader } from "./eta.ts";
import { type LedgerEntry, type LedgerState, reapLedger } from "./ledger.ts";
import type { ReservationSource } from "./profiles.ts";
import { jobMemory } from "./usage.ts";

export interface MachineJob {
  pid: number;
  projectRoot: string;
  argv: string[];
  state: LedgerState;
  reservationBytes: number;
  /** what its tree uses now (RSS sum); 0 while waiting */
  memoryBytes: number;
  /** ISO 8601: when it entered its state */
  since: string;
  // Fields beyond DESIGN §9's (added, never renamed):
  id: string;
  cwd: string;
  seq: number;
  reservationSource: ReservationSource;
  waitingSince: string;
  admittedAt?: string;
  /** ms its command usually takes (core/governor/eta.ts); null when not known */
  expectedMs: number | null;
  /** running and paused jobs: ms expected to be left; null when not known or already longer than usual */
  leftMs?: number | null;
  /** waiting jobs: ms until it is expected to be admitted; null when not known */
  startsInMs?: number | null;
}

export interface EntryEta {
  expectedMs: number | null;
  leftMs?: number | null;
  startsInMs?: number | null;
}

/**
 * The ETA of each ledger entry, by seq. The machine's line: its budget, the admitted jobs (running
 * or paused, counted from their admission), and the waiting ones in arrival order, each taking its
 * reservation. Strictly first come, first served, so a job the gate lets go ahead may start sooner.
 */
export function ledgerEtas(entries: readonly LedgerEntry[], budgetBytes: number, eta: EtaReader = etaReader()): Map<number, EntryEta> {
  const admitted = entries.filter((entry) => entry.state !== "waiting");
  const waiting = entries.filter((entry) => entry.state === "waiting").sort((a, b) => a.seq - b.seq);
  const starts = eta.startsInMs({
    capacity: budgetBytes,
    running: admitted.map((entry) => ({ ...entry, startedAt: entry.admittedAt ?? entry.since, size: entry.reservationBytes })),
    waiting: waiting.map((entry) => ({ ...entry, size: entry.reservationBytes })),
  });
  const etas = new Map<number, EntryEta>();
  for (const entry of admitted) {
    etas.set(entry.seq, { expectedMs: eta.expectedDurationMs(entry), leftMs: eta.leftMs({ ...entry, startedAt: entry.admittedAt ?? entry.since }) });
  }
  for (const [i, entry] of waiting.entries()) etas.set(entry.seq, { expectedMs: eta.expectedDurationMs(entry), startsInMs: starts[i] ?? null });
  return etas;
}

/** `sep status --json`: DESIGN §9's shape, plus `why` and `governor` for people. */
export interface MachineStatus {
  budgetBytes: number;
  reserveBytes: number;
  availableBytes: number;
  /** where the budget comes from: `auto: MemTotal 23.5 GB − reserve 2.4 GB` */
  why: string;
  /** false when memoryBudgetMb is 0: the jobs listed then are other seps' */
  governor: boolean;
  /** admitted (running, paused) first, in order of admission, then the waiting, in arrival order */
  jobs: MachineJob[];
}

export interface MachineStatusOptions {
  /** the machine state dir; default machineStateDir() */
  stateDir?: string;
  readMemory?: () => MachineMemory;
  /** a dead sep's entry was dropped (and its leftovers killed); core never prints */
  onWarning?(message: string): void;
}

export function machineStatus(config: Pick<ResolvedConfig, "memoryBudgetMb" | "memoryReserveMb">, options: MachineStatusOptions = {}): MachineStatus {
  const budget = resolveBudget(config, (options.readMemory ?? readMachineMemory)());
  const entries = reapLedger({ stateDir: options.stateDir, onWarning: options.onWarning });
  const memory = jobMemory(entries);
  const etas = ledgerEtas(entries, budget.budgetBytes, etaReader({ stateDir: options.stateDir }));
  const rank = (state: LedgerState) => (state === "waiting" ? 1 : 0);
  const jobs = entries
    .map((entry) => ({
      pid: entry.pid,
      projectRoot: entry.projectRoot,
      argv: entry.argv,
      state: entry.state,
      reservationBytes: entry.reservationBytes,
      memoryBytes: memory.get(entry.seq) ?? 0,
      since: entry.since,
      id: entry.id,
      cwd: entry.cwd,
      seq: entry.seq,
      reservationSource: entry.reservationSource,
      waitingSince: entry.waitingSince,
      ...(entry.admittedAt === undefined ? {} : { admittedAt: entry.admittedAt }),
      ...(etas.get(entry.seq) ?? { expectedMs: null }),
    }))
    .sort((a, b) => rank(a.state) - rank(b.state) || (a.admittedAt ?? "").localeCompare(b.admittedAt ?? "") || a.seq - b.seq);
  return {
    budgetBytes: budget.budgetBytes,
    reserveBytes: budget.reserveBytes,
    availableBytes: budget.availableBytes,
    why: budget.why,
    governor: budget.budgetBytes > 0,
    jobs,
  };
}
