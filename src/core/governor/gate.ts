// The machine gate: a job whose project turn has come waits here until its reservation fits the
// machine's budget and free memory (DESIGN §9), then holds an admission until it ends; while it
// runs, the admission's pressure loop may pause and resume it.
//
// Waiting is cheap: a waiter sleeps until the ledger dir changes (inotify, turn/waker.ts), and only
// the head of the line polls memory often (the one behind it less often, in case the head died);
// the others poll rarely, as a net. When the head sees memory free up enough for someone behind
// it, it nudges them all awake. A dead sep's entry is dropped by whoever looks first (the head, the
// second, or any running job's pressure loop), and the removal wakes everyone.
import { WaitAbortedError, WaitTimeoutError } from "../turn/wait.ts";
import { Waker } from "../turn/waker.ts";
import type { JobControl } from "../executor.ts";
import { isSameProcess, ownStartTime } from "../proc/index.ts";
import { availableBytes, type Budget, type MachineMemory, readMachineMemory } from "./budget.ts";
import { Ledger, type LedgerEntry, type OwnEntry } from "./ledger.ts";
import { decidePressure, type PressureDecision } from "./pressure.ts";
import type { Reservation, ReservationSource } from "./profiles.ts";
import { jobMemory } from "./usage.ts";

/** The gate's and the pressure loop's clocks; every one can be set for tests. */
export interface GovernorTiming {
  /** how often the head of the line re-checks memory (and drops dead entries) */
  headPollMs: number;
  /** how often the waiter right behind the head re-checks (the net for a head that died) */
  waiterPollMs: number;
  /**
   * the n-th waiter behind the head re-checks every n × waiterPollMs, at most this rarely: a net
   * only, since ledger events wake them all and the head nudges them when memory frees
   */
  maxWaiterPollMs: number;
  /**
   * A wait that only a change to the ledger can end (the budget is full, the job must run alone, or
   * the line ahead goes first) sleeps on the ledger's events, which come for every admission, every
   * release and every death (the kernel closes a dead owner's entry file): its timed looks are a
   * net only, the head's every ledgerNetMs, the n-th waiter's every n × ledgerNetMs (at most
   * maxWaiterPollMs). Only a wait for free memory, which changes outside the ledger, keeps the
   * headPollMs / waiterPollMs cadence.
   */
  ledgerNetMs: number;
  /** once the head has waited this long, no later job may start ahead of it */
  headWaitMs: number;
  /** how often a running job's sep looks for memory pressure */
  pressurePollMs: number;
  /** after any pause, no further pause for this long */
  settleMs: number;
}

export const DEFAULT_TIMING: GovernorTiming = {
  headPollMs: 1000,
  waiterPollMs: 2000,
  maxWaiterPollMs: 60_000,
  ledgerNetMs: 5000,
  headWaitMs: 60_000,
  pressurePollMs: 500,
  settleMs: 2000,
};

/** What a job waiting at the gate says, once: how much it needs, from where, and what is free. */
export interface GateWaitingInfo {
  needBytes: number;
  source: ReservationSource;
  /** free memory for jobs: MemAvailable − reserve − what admitted jobs may still grow into */
  freeBytes: number;
  budgetBytes: number;
  /** Σ reservations of the admitted jobs */
  admittedBytes: number;
  /** jobs admitted now (running or paused) */
  admittedJobs: number;
  /** live waiters ahead of this one */
  ahead: number;
  /** what holds it back first */
  reason: WaitReason;
}

export type WaitReason = "budget" | "memory" | "alone" | "head";

/** Goes into the job record as `admission` (DESIGN §9). */
export interface AdmissionRecord {
  reservationBytes: number;
  reservationSource: ReservationSource;
  budgetBytes: number;
  waitedMs: number;
}

export interface Admission {
  readonly record: AdmissionRecord;
  /** the ledger entry's arrival number */
  readonly seq: number;
  /** note the job's process group in the ledger (from runJob's onSpawn), so a sep crash can be cleaned up */
  jobStarted(pgid: number, leaderStartTime?: number): void;
  /**
   * Pass as runJob's `control`: starts this job's pressure loop (pause/resume under memory
   * pressure), and returns the function that stops it.
   */
  control(job: JobControl): () => void;
  /** time the pressure loop kept the job paused so far */
  pausedMs(): number;
  /** leave the ledger; idempotent. Call when the job has ended (or did not start). */
  release(): void;
}

export interface AdmitOptions {
  /** budgetBytes must be > 0: with 0 (no governor) callers skip the gate entirely */
  budget: Pick<Budget, "budgetBytes" | "reserveBytes">;
  reservation: Reservation;
  job: {
    /** the job id; its processes' SEP_JOB_ID marker unless `marker` is given */
    id: string;
    marker?: string;
    projectRoot: string;
    /** the lock dir of its scope (recorded for viewers) */
    lockDir?: string;
    argv: string[];
    cwd: string;
  };
  /** the machine state dir; default machineStateDir() */
  stateDir?: string;
  /** what is left of --wait-timeout after the project turn: WaitTimeoutError (75) when it passes here */
  waitTimeoutMs?: number;
  /** aborting ends the wait with WaitAbortedError */
  signal?: AbortSignal;
  /** called once, when the job cannot be admitted at once */
  onWaiting?(info: GateWaitingInfo): void;
  /** ledger clean-ups and ignored files, for the log */
  onWarning?(message: string): void;
  /** the pressure loop's decisions that changed something, for the verbose log */
  onPressure?(event: { action: "pause" | "resume"; why: string }): void;
  timing?: Partial<GovernorTiming>;
  /** where memory figures come from; default /proc/meminfo and the cgroup (tests may narrow it) */
  readMemory?: () => MachineMemory;
}

// ---------------------------------------------------------------------------------------------
// The decision (pure)

export interface GateCandidate {
  seq: number;
  reservationBytes: number;
  /** ms since the epoch */
  waitingSinceMs: number;
}

export interface AdmissionView {
  self: GateCandidate;
  /** every waiting entry; self may or may not be among them */
  waiting: readonly GateCandidate[];
  /** admitted (running and paused) jobs */
  admitted: ReadonlyArray<{ reservationBytes: number; memoryBytes: number }>;
  availableBytes: number;
  reserveBytes: number;
  budgetBytes: number;
  nowMs: number;
  headWaitMs: number;
}

interface DecisionNumbers {
  freeBytes: number;
  admittedBytes: number;
  admittedJobs: number;
  ahead: number;
}

export type AdmissionDecision = ({ admit: true; alone: boolean } | { admit: false; reason: WaitReason }) & DecisionNumbers;

/**
 * May self be admitted now? Pure.
 *   fits  = Σ admitted reservations + its own ≤ budget
 *           and MemAvailable − reserve − Σ admitted max(0, reservation − current memory) ≥ its own
 *   as large as the whole budget or larger: admitted alone, as the head, when nothing else is admitted
 *   FIFO: the head (lowest seq waiting) is admitted when it fits; a later job that fits may go
 *         ahead only when no one before it fits (they go first) and the head has waited less than
 *         headWaitMs.
 */
export function decideAdmission(view: AdmissionView): AdmissionDecision {
  const admittedBytes = view.admitted.reduce((sum, job) => sum + job.reservationBytes, 0);
  const growth = view.admitted.reduce((sum, job) => sum + Math.max(0, job.reservationBytes - job.memoryBytes), 0);
  const freeBytes = view.availableBytes - view.reserveBytes - growth;
  const before = view.waiting.filter((other) => other.seq < view.self.seq).sort((a, b) => a.seq - b.seq);
  const ahead = before.length;
  const numbers: DecisionNumbers = { freeBytes, admittedBytes, admittedJobs: view.admitted.length, ahead };
  const fits = (job: GateCandidate, first: boolean): WaitReason | undefined => {
    if (job.reservationBytes >= view.budgetBytes) return first && view.admitted.length === 0 ? undefined : "alone";
    if (admittedBytes + job.reservationBytes > view.budgetBytes) return "budget";
    if (freeBytes < job.reservationBytes) return "memory";
    return undefined;
  };
  const own = fits(view.self, ahead === 0);
  if (own) return { admit: false, reason: own, ...numbers };
  if (ahead === 0) return { admit: true, alone: view.self.reservationBytes >= view.budgetBytes, ...numbers };
  const head = before[0] as GateCandidate;
  if (view.nowMs - head.waitingSinceMs >= view.headWaitMs) return { admit: false, reason: "head", ...numbers };
  if (before.some((other, i) => fits(other, i === 0) === undefined)) return { admit: false, reason: "head", ...numbers };
  return { admit: true, alone: false, ...numbers };
}

// ---------------------------------------------------------------------------------------------
// admit()

/**
 * Wait at the machine gate until this job may start; resolves with its admission (hold it until
 * the job ends, then release()). Throws WaitTimeoutError (exit 75) when waitTimeoutMs passes and
 * WaitAbortedError when signal aborts; the job's ledger entry is gone either way.
 */
export async function admit(options: AdmitOptions): Promise<Admission> {
  if (!(options.budget.budgetBytes > 0)) throw new Error("admit() needs a budget: with budgetBytes 0 the governor is off and callers skip the gate");
  const timing = { ...DEFAULT_TIMING, ...options.timing };
  const readMemory = options.readMemory ?? readMachineMemory;
  const ledger = new Ledger({ stateDir: options.stateDir, onWarning: options.onWarning });
  const started = Date.now();
  const deadline = options.waitTimeoutMs === undefined ? undefined : started + options.waitTimeoutMs;
  const { budgetBytes, reserveBytes } = options.budget;
  const reservationBytes = options.reservation.bytes;
  if (options.signal?.aborted) throw new WaitAbortedError("wait aborted");

  /** The figures a decision is made from: the ledger's entries, their jobs' memory, free memory now. */
  const viewOf = (entries: LedgerEntry[], own: OwnEntry | undefined, nowMs: number) => {
    const memory = jobMemory(entries);
    const self: GateCandidate = {
      seq: own?.entry.seq ?? Number.MAX_SAFE_INTEGER,
      reservationBytes,
      waitingSinceMs: own ? Date.parse(own.entry.waitingSince) : nowMs,
    };
    const others: Omit<AdmissionView, "self"> = {
      waiting: entries.filter((entry) => entry.state === "waiting").map(_candidate),
      admitted: entries
        .filter((entry) => entry.state !== "waiting")
        .map((entry) => ({ reservationBytes: entry.reservationBytes, memoryBytes: memory.get(entry.seq) ?? 0 })),
      availableBytes: availableBytes(readMemory()),
      reserveBytes,
      budgetBytes,
      nowMs,
      headWaitMs: timing.headWaitMs,
    };
    return { self, others };
  };
  /**
   * One decision under the ledger lock; admits (rewrites the entry) when it says so. `polled`: the
   * head's own timed look, the only one that notices memory freed outside the ledger; if that lets
   * a job behind it start, it wakes them all (the event is what they sleep on).
   */
  const decide = (own: OwnEntry | undefined, nowMs: number, polled = false): { decision: AdmissionDecision; own: OwnEntry } =>
    ledger.locked(() => {
      const { self, others: view } = viewOf(ledger.entries(), own, nowMs);
      const waiting = view.waiting;
      const decision = decideAdmission({ ...view, self });
      if (polled && !decision.admit && decision.ahead === 0) {
        const someoneFits = waiting.some((other) => other.seq > self.seq && decideAdmission({ ...view, self: other }).admit);
        if (someoneFits) ledger.nudge();
      }
      const now = new Date(nowMs).toISOString();
      const admittedFields = decision.admit ? { state: "running" as const, since: now, admittedAt: now } : undefined;
      if (!own) {
        own = ledger.add({
          id: options.job.id,
          ...(options.job.marker === undefined ? {} : { marker: options.job.marker }),
          pid: process.pid,
          pidStartTime: ownStartTime() ?? undefined,
          projectRoot: options.job.projectRoot,
          ...(options.job.lockDir === undefined ? {} : { lockDir: options.job.lockDir }),
          argv: options.job.argv,
          cwd: options.job.cwd,
          state: "waiting",
          since: now,
          waitingSince: now,
          reservationBytes,
          reservationSource: options.reservation.source,
          budgetBytes,
          ...admittedFields,
        });
      } else if (admittedFields) {
        own.update(admittedFields);
      }
      return { decision, own };
    });

  let { decision, own } = decide(undefined, started);
  if (decision.admit) return _admission(ledger, own, options, timing, readMemory, 0);

  const waker = new Waker({ changesIn: [ledger.layout.dir], signal: options.signal });
  // A change between the first look and the watch left no event: the first round looks again at
  // once instead of sleeping (only a job that waits pays for the watch and this look).
  let lookNow = true;
  let announced = false;
  try {
    for (;;) {
      if (!announced) {
        announced = true;
        options.onWaiting?.({
          needBytes: reservationBytes,
          source: options.reservation.source,
          freeBytes: decision.freeBytes,
          budgetBytes,
          admittedBytes: decision.admittedBytes,
          admittedJobs: decision.admittedJobs,
          ahead: decision.ahead,
          reason: decision.admit ? "budget" : decision.reason,
        });
      }
      if (options.signal?.aborted) throw new WaitAbortedError("wait aborted");
      if (deadline !== undefined && Date.now() >= deadline) throw new WaitTimeoutError(Math.round((options.waitTimeoutMs ?? 0) / 100) / 10);
      const isHead = decision.ahead === 0;
      // Each look costs a wake-up of this process (~1 ms of reading the ledger, plus the runtime's
      // own), so the further back, the rarer. A wait for free memory looks often (memory frees
      // outside the ledger); any other wait sleeps on the ledger's events, with a net: 50 waiters
      // behind a full budget take about one look a second together. `ahead` is from the last look
      // under the lock, which counts only live entries.
      const memoryBound = !decision.admit && decision.reason === "memory";
      const [headMs, stepMs] = memoryBound ? [timing.headPollMs, timing.waiterPollMs] : [timing.ledgerNetMs, timing.ledgerNetMs];
      let delay = isHead ? headMs : Math.min(timing.maxWaiterPollMs, stepMs * decision.ahead);
      if (deadline !== undefined) delay = Math.max(0, Math.min(delay, deadline - Date.now()));
      const woken = lookNow || (await waker.sleep(delay));
      lookNow = false;
      if (options.signal?.aborted) throw new WaitAbortedError("wait aborted");
      if (woken && !isHead) {
        // Woken by a change: look first without the lock, and queue for it only when that look
        // says this job could start (or moved to the front).
        // A head whose owner has died is the one change a peek cannot see (its entry stays until a
        // look under the lock drops it): the event of its death sends this waiter there.
        const peeked = ledger.peek();
        const { self, others } = viewOf(peeked, own, Date.now());
        const first = decideAdmission({ ...others, self });
        if (!first.admit && first.ahead > 0 && !_headDied(peeked, self.seq)) continue;
      }
      const round = decide(own, Date.now(), !woken && isHead);
      decision = round.decision;
      own = round.own;
      if (decision.admit) return _admission(ledger, own, options, timing, readMemory, Date.now() - started);
    }
  } catch (error) {
    own.remove();
    throw error;
  } finally {
    waker.close();
  }
}

function _candidate(entry: LedgerEntry): GateCandidate {
  return { seq: entry.seq, reservationBytes: entry.reservationBytes, waitingSinceMs: Date.parse(entry.waitingSince) };
}

/** The admission a job holds from the gate to its end, and its pressure loop. */
function _admission(
  ledger: Ledger,
  own: OwnEntry,
  options: AdmitOptions,
  timing: GovernorTiming,
  readMemory: () => MachineMemory,
  waitedMs: number,
): Admission {
  let released = false;
  let loop: ReturnType<typeof setTimeout> | undefined;
  let job: JobControl | undefined;
  let pausedAt: number | undefined;
  let pausedTotal = 0;

  const round = () => {
    loop = undefined;
    if (released || !job) return;
    // Alone on the machine, a running job is the oldest, which is never paused: nothing to decide,
    // and one look at the ledger's names says so (no lock, no reads of memory).
    if (!job.paused && ledger.entryCount() <= 1) return schedule();
    let decision: PressureDecision | undefined;
    try {
      decision = ledger.locked(() => {
        const entries = ledger.entries();
        // This job's own tree was just measured by its memory poller: only the others are walked.
        const ownBytes = job?.treeBytes() ?? 0;
        const memory = jobMemory(entries, ownBytes > 0 ? new Map([[own.entry.seq, ownBytes]]) : undefined);
        const admitted = entries.filter((entry) => entry.state !== "waiting");
        const nowMs = Date.now();
        const result = decidePressure({
          selfId: _key(own.entry),
          jobs: admitted.map((entry) => ({
            id: _key(entry),
            state: entry.state as "running" | "paused",
            admittedAtMs: Date.parse(entry.admittedAt ?? entry.since),
            seq: entry.seq,
            reservationBytes: entry.reservationBytes,
            memoryBytes: memory.get(entry.seq) ?? 0,
            sinceMs: Date.parse(entry.since),
            started: entry.pgid !== undefined,
          })),
          availableBytes: availableBytes(readMemory()),
          reserveBytes: options.budget.reserveBytes,
          budgetBytes: options.budget.budgetBytes,
          nowMs,
          settleMs: timing.settleMs,
        });
        // The signal and the ledger change together, under the lock: what the others read next
        // round is what the job really is.
        if (result.action === "pause" && job?.pause()) {
          pausedAt = nowMs;
          own.update({ state: "paused", since: new Date(nowMs).toISOString() });
        } else if (result.action === "resume" && job?.resume()) {
          if (pausedAt !== undefined) pausedTotal += nowMs - pausedAt;
          pausedAt = undefined;
          own.update({ state: "running", since: new Date(nowMs).toISOString() });
        } else {
          return undefined;
        }
        return result;
      });
    } catch (error) {
      options.onWarning?.(`the memory pressure check failed: ${(error as Error).message}`);
    }
    if (decision && decision.action !== "none") options.onPressure?.({ action: decision.action, why: decision.why });
    schedule();
  };
  const schedule = () => {
    if (released || !job) return;
    loop = setTimeout(round, timing.pressurePollMs);
    // The job's own exit keeps sep alive; a forgotten loop must not.
    loop.unref?.();
  };

  return {
    record: {
      reservationBytes: own.entry.reservationBytes,
      reservationSource: own.entry.reservationSource,
      budgetBytes: options.budget.budgetBytes,
      waitedMs,
    },
    get seq() {
      return own.entry.seq;
    },
    jobStarted: (pgid, leaderStartTime) => {
      if (released) return;
      own.update({ pgid, ...(leaderStartTime === undefined ? {} : { leaderStartTime }) });
    },
    control: (handle) => {
      job = handle;
      // Only a started job can be chosen for a pause: make sure the ledger knows it is one.
      if (own.entry.pgid === undefined && !released) own.update({ pgid: handle.pgid, ...(handle.leaderStartTime === undefined ? {} : { leaderStartTime: handle.leaderStartTime }) });
      schedule();
      return () => {
        if (loop) clearTimeout(loop);
        loop = undefined;
        job = undefined;
        if (pausedAt !== undefined) pausedTotal += Date.now() - pausedAt;
        pausedAt = undefined;
      };
    },
    pausedMs: () => pausedTotal + (pausedAt === undefined ? 0 : Date.now() - pausedAt),
    release: () => {
      if (released) return;
      released = true;
      if (loop) clearTimeout(loop);
      loop = undefined;
      if (pausedAt !== undefined) pausedTotal += Date.now() - pausedAt;
      pausedAt = undefined;
      own.remove();
    },
  };
}

/** Is the first waiting entry before seq one whose sep is gone? */
function _headDied(entries: readonly LedgerEntry[], seq: number): boolean {
  const head = entries.filter((entry) => entry.state === "waiting" && entry.seq < seq).sort((a, b) => a.seq - b.seq)[0];
  return head !== undefined && !isSameProcess(head.pid, head.pidStartTime);
}

/** Entries are told apart by seq: two jobs of one sep may share an id only in tests, never a seq. */
function _key(entry: Pick<LedgerEntry, "seq">): string {
  return String(entry.seq);
}
