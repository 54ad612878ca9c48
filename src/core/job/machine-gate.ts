// The job lifecycle's step through the machine governor (DESIGN §9): after the project turn, the
// job reserves its expected peak and waits at the machine gate; when it ends, what it used teaches
// its command's profile. With `memoryBudgetMb` 0 (or inside an outer sep job) there is no gate.
import type { ResolvedConfig } from "../../config.ts";
import { errorMessage } from "../../errors.ts";
import type { JobResult } from "../executor.ts";
import {
  type Admission,
  admit,
  type Budget,
  type GateWaitingInfo,
  ledgerEtas,
  type MachineMemory,
  planReservation,
  readLedger,
  readMachineMemory,
  recordFinishedRun,
  type ReservationPlan,
  resolveBudget,
} from "../governor/index.ts";
import { notice } from "../notices.ts";
import type { Job } from "../records/recorder.ts";
import type { JobLimits } from "./limits.ts";

export interface GatePass {
  admission: Admission;
  plan: ReservationPlan;
}

export interface MachineGateOptions {
  config: ResolvedConfig;
  job: Job;
  limits: JobLimits;
  /** --reserve, in MB */
  reserveMb?: number;
}

/** What the gate needs, worked out before the project turn comes: its budget and the job's reservation. */
export interface PreparedGate {
  budget: Budget;
  plan: ReservationPlan;
  job: Job;
  projectRoot: string;
  /** the scope's lock dir, recorded in the ledger so `sep top` finds the turn's waiters */
  lockDir: string;
  /** the machine's memory as read for the budget: the gate's first decision when the turn came at once */
  memory: MachineMemory;
  /** the reservation read again (the profile may have learned from a run that ended meanwhile) */
  replan(): ReservationPlan;
}

/**
 * The budget and the job's reservation (its learned profile, or its flag or limit); undefined when
 * the governor is off. Done before waiting for the project turn, so that when the turn comes the job
 * pays only the admission itself: the hand-over to the next waiter stays short.
 */
export function prepareMachineGate(options: MachineGateOptions): PreparedGate | undefined {
  if (options.config.memoryBudgetMb === 0) return undefined; // the governor is off: nothing to read
  const memory = readMachineMemory();
  const budget = resolveBudget(options.config, memory);
  if (budget.budgetBytes <= 0) return undefined;
  const { job } = options;
  const replan = () =>
    planReservation({
      projectRoot: options.config.root,
      argv: job.argv,
      cwd: job.cwd,
      flagBytes: options.reserveMb === undefined ? undefined : options.reserveMb * 1024 * 1024,
      memoryLimitBytes: options.limits.memoryLimitBytes,
      budgetBytes: budget.budgetBytes,
      onWarning: notice.warn,
    });
  return { budget, plan: replan(), job, projectRoot: options.config.root, lockDir: options.config.lockDir, memory, replan };
}

export interface PassGateOptions {
  /** what is left of --wait-timeout after the project turn came */
  waitTimeoutMs?: number;
  signal: AbortSignal;
  /** told once when the job cannot be admitted at once */
  onQueued?(): void;
  /** told once when the job cannot be admitted at once, with when it is expected to be (null: not known) */
  onWaiting?(info: GateWaitingInfo & { startsInMs: number | null }): void;
  /**
   * The job waited for its turn: its reservation and the machine's memory are read again (a run of
   * the same command may have ended meanwhile). Otherwise the readings taken a moment ago serve.
   */
  waited?: boolean;
}

/**
 * Wait until the machine admits the prepared job (each decision reads the machine's memory afresh).
 * Throws the turn's WaitTimeoutError (75) and WaitAbortedError, like waiting for the turn does.
 */
export async function passMachineGate(prepared: PreparedGate, options: PassGateOptions): Promise<GatePass> {
  const { budget, job, projectRoot, lockDir } = prepared;
  const plan = options.waited ? prepared.replan() : prepared.plan;
  // One reading of the machine's memory serves the budget and the first decision of a job whose
  // turn came at once (the common case); every later decision, and the pressure loop, reads afresh.
  let snapshot: MachineMemory | undefined = options.waited ? undefined : prepared.memory;
  const readMemory = (): MachineMemory => {
    const memory = snapshot ?? readMachineMemory();
    snapshot = undefined;
    return memory;
  };
  const admission = await admit({
    budget,
    reservation: plan.reservation,
    job: { id: job.id, projectRoot, lockDir, argv: job.argv, cwd: job.cwd },
    waitTimeoutMs: options.waitTimeoutMs,
    signal: options.signal,
    readMemory,
    onWaiting: (info) => {
      options.onQueued?.();
      // The ETA (a ledger read) only when someone will be told.
      options.onWaiting?.({ ...info, startsInMs: gateEta(job) });
    },
    onWarning: notice.warn,
    onPressure: ({ action, why }) => notice.info(`${job.name}: ${action === "pause" ? "paused" : "resumed"} (${why})`),
  });
  return { admission, plan };
}

/** When this sep's job waiting at the gate is expected to be admitted (only a job that waits asks). */
function gateEta(job: Job): number | null {
  try {
    const entries = readLedger();
    const mine = entries.find((entry) => entry.pid === process.pid && entry.id === job.id && entry.state === "waiting");
    if (!mine) return null;
    return ledgerEtas(entries, mine.budgetBytes).get(mine.seq)?.startsInMs ?? null;
  } catch {
    // An ETA is a courtesy: whatever keeps it from being known never stops the wait.
    return null;
  }
}

/**
 * What the job used teaches its command's profile: runs that ran with a measured peak (a run killed
 * at its memory limit too: its peak is what the next one should expect). Never fails the job.
 */
export function learnFromRun(pass: GatePass, result: JobResult): void {
  if (result.peakMemoryBytes === null || result.startupMessage !== undefined || result.verdict.conclusion === "cancelled") return;
  const durationMs = result.completedAt.getTime() - result.startedAt.getTime() - result.pausedMs;
  try {
    recordFinishedRun(pass.plan, { peakBytes: result.peakMemoryBytes, durationMs, finishedAt: result.completedAt }, { onWarning: notice.warn });
  } catch (error) {
    notice.warn(`could not record what ${pass.plan.argv.join(" ")} used (${errorMessage(error)}); its next reservation will not learn from it`);
  }
}
