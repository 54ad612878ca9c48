// The machine governor (DESIGN §9, docs/governor.md): one memory budget shared by every sep job of
// this user on this machine. What the job lifecycle calls, in order:
//
//   const budget = resolveBudget(config);                 // budgetBytes 0 = off: skip the rest
//   const plan = planReservation({ projectRoot, argv, cwd, memoryLimitBytes, budgetBytes: budget.budgetBytes });
//   const admission = await admit({ budget, reservation: plan.reservation, job: { id, projectRoot, argv, cwd } });
//   runJob({ ..., onSpawn: (pid, startTime) => admission.jobStarted(pid, startTime), control: admission.control });
//   admission.release();                                  // in a finally
//   recordFinishedRun(plan, { peakBytes, durationMs });   // when a peak was measured
import { type MachineMemory } from "./budget.ts";
import {
  commandKey,
  type ProfileIo,
  readProfileRuns,
  recordProfileRun,
  relativeCwd,
  repositoryKey,
  type Reservation,
  reservationFor,
} from "./profiles.ts";

export { availableBytes, type Budget, type MachineMemory, readMachineMemory, resolveBudget } from "./budget.ts";
export { type Admission, type AdmissionRecord, admit, type AdmitOptions, DEFAULT_TIMING, type GateWaitingInfo, type GovernorTiming } from "./gate.ts";
export { type LedgerEntry, type LedgerState, readLedger } from "./ledger.ts";
export { type ProfileRun, type Reservation, type ReservationSource } from "./profiles.ts";
export { type MachineJob, type MachineStatus, machineStatus, type EntryEta, ledgerEtas } from "./status.ts";
export { type EtaJob, type EtaLine, type EtaReader, etaReader, expectedStarts, type StartedEtaJob } from "./eta.ts";

export interface ReservationPlan {
  reservation: Reservation;
  /** the profile this job's run is recorded into */
  profileKey: string;
  repositoryKey: string;
  argv: string[];
  /** the cwd relative to the project root */
  cwd: string;
  stateDir?: string;
}

export interface PlanReservationOptions extends ProfileIo {
  projectRoot: string;
  argv: string[];
  /** absolute */
  cwd: string;
  /** --reserve, in bytes */
  flagBytes?: number;
  /** the job's memory limit; 0 = none */
  memoryLimitBytes: number;
  budgetBytes: number;
}

/**
 * A project's repository key and a cwd's place in it, found once per process: they take a realpath
 * of each path and a look at `.git`, ~15 calls, and a drain asks for the same ones at every job.
 */
const _places = new Map<string, { repoKey: string; cwd: string }>();
const MAX_PLACES = 64;

function _place(projectRoot: string, cwd: string): { repoKey: string; cwd: string } {
  const key = `${projectRoot}\0${cwd}`;
  let place = _places.get(key);
  if (!place) {
    if (_places.size >= MAX_PLACES) _places.clear();
    place = { repoKey: repositoryKey(projectRoot), cwd: relativeCwd(projectRoot, cwd) };
    _places.set(key, place);
  }
  return place;
}

/** How much the job reserves and why (flag, learned from its profile, or its limit). Read-only. */
export function planReservation(options: PlanReservationOptions): ReservationPlan {
  const { repoKey, cwd } = _place(options.projectRoot, options.cwd);
  const profileKey = commandKey(repoKey, options.argv, cwd);
  const runs = options.flagBytes === undefined ? readProfileRuns(profileKey, options) : [];
  return {
    reservation: reservationFor({ flagBytes: options.flagBytes, runs, memoryLimitBytes: options.memoryLimitBytes, budgetBytes: options.budgetBytes }),
    profileKey,
    repositoryKey: repoKey,
    argv: options.argv,
    cwd,
    ...(options.stateDir === undefined ? {} : { stateDir: options.stateDir }),
  };
}

/**
 * Teach the command's profile what this run used. Record runs that ran to their end with a
 * measured peak (JobResult.peakMemoryBytes not null); a run killed at its memory limit is worth
 * recording too (its peak is the limit, which is what the next one should expect). Throws
 * SepError when the state dir is unsafe: callers warn and go on, the job has already run.
 */
export function recordFinishedRun(
  plan: ReservationPlan,
  run: { peakBytes: number; durationMs: number; finishedAt?: Date },
  io: Pick<ProfileIo, "onWarning"> = {},
): void {
  recordProfileRun({
    key: plan.profileKey,
    repositoryKey: plan.repositoryKey,
    argv: plan.argv,
    cwd: plan.cwd,
    run: { peakBytes: run.peakBytes, durationMs: run.durationMs, finishedAt: (run.finishedAt ?? new Date()).toISOString() },
    stateDir: plan.stateDir,
    onWarning: io.onWarning,
  });
}

/** For tests and tools that inject memory figures. */
export type MemoryReader = () => MachineMemory;
