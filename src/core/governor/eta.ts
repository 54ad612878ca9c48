// ETAs: how long a job usually takes, what is left of a running one, and when a waiting one is
// expected to start. Learned from the machine governor's profiles (the same command in any git
// worktree of the repository, see profiles.ts), else from the project's own run records; null
// wherever nothing is known: never a made-up figure.
//
//   const eta = etaReader();                         // one per look: one clock, every read memoized
//   eta.expectedDurationMs(job)                      // median of the command's last ≤ 10 runs, or null
//   eta.leftMs({ ...job, startedAt })                // expected − elapsed; null when unknown or overdue
//   eta.startsInMs({ capacity, running, waiting })   // per waiting job, in line order: ms from now, or null
//
// `job` is { argv, cwd, projectRoot?, logDir? }: a turn's Holder and a ledger entry both are one.
// A line is what may run at once (`capacity`: the scope's slots, each job taking 1; or the memory
// budget, each job taking its reservation as `size`), what runs in it now, and who waits, in order.
//
// It reads files (profiles, run records), so only the status commands and a job that really waits
// call it: a job that gets its turn at once never does.
import { findProjectRoot } from "../paths.ts";
import { commandOfJob, recentJobDurations } from "../records/history.ts";
import { commandKey, expectedDurationMs, MAX_RUNS, readProfileRuns, relativeCwd, repositoryKey } from "./profiles.ts";

/** A job as far as its ETA goes: its command and where it runs. */
export interface EtaJob {
  argv: readonly string[];
  /** absolute */
  cwd: string;
  /** the project root its profile is keyed by; default: the one sep finds from cwd */
  projectRoot?: string;
  /** its project's run records, the fallback when no profile has runs; without it, profiles only */
  logDir?: string;
}

export interface StartedEtaJob extends EtaJob {
  /** ISO 8601; absent or null: about to start, so all of it is left */
  startedAt?: string | null;
}

/** How much of a line's capacity a job takes; default 1 (a slot). */
export interface Sized {
  size?: number;
}

export interface EtaLine {
  /** how much may run at once: slots (each job 1), or a memory budget in bytes (each job its reservation) */
  capacity: number;
  running: readonly (StartedEtaJob & Sized)[];
  /** in the order they start: strictly first come, first served */
  waiting: readonly (EtaJob & Sized)[];
}

export interface EtaReader {
  /** the median of the command's last runs, in ms; null when none is recorded */
  expectedDurationMs(job: EtaJob): number | null;
  /** what is left of a running job; null when its duration is unknown or it already runs longer than that */
  leftMs(job: StartedEtaJob): number | null;
  /** for each waiting job of the line, in order: ms until it is expected to start; null when unknown */
  startsInMs(line: EtaLine): (number | null)[];
}

export interface EtaOptions {
  /** the machine state dir (profiles); default machineStateDir() */
  stateDir?: string;
  /** ms since the epoch every figure is counted from; default Date.now() */
  now?: number;
}

export function etaReader(options: EtaOptions = {}): EtaReader {
  const now = options.now ?? Date.now();
  const expected = new Map<string, number | null>();
  const repositories = new Map<string, string>();
  const records = new Map<string, Map<string, number[]>>();

  const expectedDuration = (job: EtaJob): number | null => {
    const root = job.projectRoot ?? findProjectRoot(job.cwd);
    const memo = JSON.stringify([root, job.argv, job.cwd, job.logDir ?? null]);
    const known = expected.get(memo);
    if (known !== undefined) return known;
    let repository = repositories.get(root);
    if (repository === undefined) repositories.set(root, (repository = repositoryKey(root)));
    // Warnings about a corrupt profile are the gate's to give; an ETA just does without it.
    const runs = readProfileRuns(commandKey(repository, job.argv, relativeCwd(root, job.cwd)), { stateDir: options.stateDir });
    let ms = expectedDurationMs(runs);
    if (ms === undefined && job.logDir !== undefined) {
      // One scan of a project's records answers for every command in it.
      let durations = records.get(job.logDir);
      if (!durations) records.set(job.logDir, (durations = recentJobDurations(job.logDir, MAX_RUNS)));
      ms = expectedDurationMs((durations.get(commandOfJob(job.argv, job.cwd)) ?? []).map((durationMs) => ({ durationMs })));
    }
    expected.set(memo, ms ?? null);
    return ms ?? null;
  };

  const left = (job: StartedEtaJob): number | null => {
    const ms = expectedDuration(job);
    if (ms === null) return null;
    const started = Date.parse(job.startedAt ?? "");
    const remaining = Number.isFinite(started) ? ms - Math.max(0, now - started) : ms;
    return remaining > 0 ? remaining : null;
  };

  return {
    expectedDurationMs: expectedDuration,
    leftMs: left,
    startsInMs: (line) =>
      expectedStarts(
        line.capacity,
        line.running.map((job) => ({ leftMs: left(job), size: job.size ?? 1 })),
        line.waiting.map((job) => ({ expectedMs: expectedDuration(job), size: job.size ?? 1 })),
      ),
  };
}

/**
 * When each waiting job starts, in ms from now, if every job takes what is expected (pure). Jobs
 * start in line order, each at the first moment it fits: what runs (and has started before it)
 * plus its own size ≤ capacity; a job as large as the capacity, or larger, runs alone. A running
 * job frees its share when its leftMs has passed; one of unknown length (null) never frees it, so
 * a job that must wait for it gets null, and so does every job behind it.
 */
export function expectedStarts(
  capacity: number,
  running: readonly { leftMs: number | null; size: number }[],
  waiting: readonly { expectedMs: number | null; size: number }[],
): (number | null)[] {
  const busy = running.map((job) => ({ start: 0, end: job.leftMs ?? Number.POSITIVE_INFINITY, size: job.size }));
  const starts: (number | null)[] = [];
  let earliest = 0;
  for (const job of waiting) {
    const start = _firstFit(capacity, busy, earliest, job.size);
    if (start === undefined) break;
    starts.push(start);
    earliest = start;
    busy.push({ start, end: job.expectedMs === null ? Number.POSITIVE_INFINITY : start + job.expectedMs, size: job.size });
  }
  while (starts.length < waiting.length) starts.push(null);
  return starts;
}

/** The first moment from `from` on at which `size` fits beside what is busy then; undefined if never known. */
function _firstFit(capacity: number, busy: readonly { start: number; end: number; size: number }[], from: number, size: number): number | undefined {
  // Room only ever appears when something ends, so those are the moments to try.
  const moments = [from, ...busy.map((job) => job.end).filter((end) => end > from && Number.isFinite(end))].sort((a, b) => a - b);
  for (const moment of moments) {
    const used = busy.filter((job) => job.start <= moment && job.end > moment).reduce((sum, job) => sum + job.size, 0);
    if (size >= capacity ? used === 0 : used + size <= capacity) return moment;
  }
  return undefined;
}
