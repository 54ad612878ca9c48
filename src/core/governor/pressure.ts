// Pressure: pause and resume, never kill. While its job runs, each sep looks at the machine about
// every half second; when memory runs short it is the most recently admitted job (never the oldest)
// that is paused, and paused jobs are resumed oldest first when memory allows (DESIGN §9).
//
// No sep decides for another: every sep computes the same victim from the same ledger, and only
// the victim's own sep acts, under the ledger lock. After any pause, no further pause for a settle
// time, so one round's pause shows in the figures before the next victim is chosen.
import { MB } from "./budget.ts";

/** Resume only with this much room beyond what the job may still grow into… */
const RESUME_MARGIN_MIN_BYTES = 32 * MB;
/** …or this share of it, whichever is more. */
const RESUME_MARGIN_SHARE = 0.1;

export interface PressureJob {
  id: string;
  state: "running" | "paused";
  /** when it was admitted (ms since the epoch); the order of admission, ties broken by seq */
  admittedAtMs: number;
  seq: number;
  reservationBytes: number;
  /** what its tree uses now */
  memoryBytes: number;
  /** when it entered its state (ms since the epoch) */
  sinceMs: number;
  /** false while admitted but not yet spawned: there is nothing to pause */
  started: boolean;
}

export interface PressureView {
  selfId: string;
  /** every admitted job (running and paused), this one included */
  jobs: readonly PressureJob[];
  /** free memory now (budget.ts availableBytes) */
  availableBytes: number;
  reserveBytes: number;
  budgetBytes: number;
  nowMs: number;
  settleMs: number;
}

export type PressureAction = "pause" | "resume" | "none";

export interface PressureDecision {
  action: PressureAction;
  underPressure: boolean;
  /** a few words for the verbose log and tests */
  why: string;
}

/** The order of admission: oldest first. */
export function admissionOrder<T extends Pick<PressureJob, "admittedAtMs" | "seq">>(jobs: readonly T[]): T[] {
  return [...jobs].sort((a, b) => a.admittedAtMs - b.admittedAtMs || a.seq - b.seq);
}

/**
 * What this sep should do with its own job now. Pure.
 *   under pressure = free memory < reserve, or the admitted jobs together use more than the budget
 *   running: paused if under pressure, no pause settled in the last settleMs, and it is the most
 *            recently admitted started running job that is not the oldest admitted;
 *   paused:  resumed at once when it has become the oldest admitted; else, oldest paused first,
 *            when there is no pressure, the free memory (less what the running jobs may still grow
 *            into) covers what it may still grow into plus a margin, and the jobs' memory plus that
 *            growth stays within the budget.
 */
export function decidePressure(view: PressureView): PressureDecision {
  const order = admissionOrder(view.jobs);
  const self = order.find((job) => job.id === view.selfId);
  const used = order.reduce((sum, job) => sum + job.memoryBytes, 0);
  const short = view.availableBytes < view.reserveBytes;
  const over = used > view.budgetBytes;
  const underPressure = short || over;
  const pressureWords = short ? "free memory below the reserve" : over ? "jobs use more than the budget" : "no pressure";
  if (!self) return { action: "none", underPressure, why: "not admitted" };
  const oldest = order[0] as PressureJob;

  if (self.state === "running") {
    if (!underPressure) return { action: "none", underPressure, why: pressureWords };
    const settling = order.some((job) => job.state === "paused" && view.nowMs - job.sinceMs < view.settleMs);
    if (settling) return { action: "none", underPressure, why: `${pressureWords}; a pause is settling` };
    const victim = [...order].reverse().find((job) => job.state === "running" && job.started && job.id !== oldest.id);
    if (victim?.id === self.id) return { action: "pause", underPressure, why: `${pressureWords}; the most recently admitted job` };
    return { action: "none", underPressure, why: `${pressureWords}; ${victim ? "another job is paused first" : "the oldest job is never paused"}` };
  }

  if (self.id === oldest.id) return { action: "resume", underPressure, why: "it is the oldest admitted job" };
  if (underPressure) return { action: "none", underPressure, why: pressureWords };
  const oldestPaused = order.find((job) => job.state === "paused");
  if (oldestPaused?.id !== self.id) return { action: "none", underPressure, why: "an older paused job resumes first" };
  const growth = (job: PressureJob) => Math.max(0, job.reservationBytes - job.memoryBytes);
  const need = growth(self);
  const othersGrowth = order.reduce((sum, job) => sum + (job.state === "running" ? growth(job) : 0), 0);
  const free = view.availableBytes - view.reserveBytes - othersGrowth;
  const margin = Math.max(RESUME_MARGIN_MIN_BYTES, need * RESUME_MARGIN_SHARE);
  if (free >= need + margin && used + need <= view.budgetBytes) return { action: "resume", underPressure, why: "memory allows" };
  return { action: "none", underPressure, why: "not enough free memory to resume" };
}
