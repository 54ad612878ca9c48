// What happens to a run as it goes — a job waits, starts, ends; the run ends — as events for the
// edges to word: the terminal's lines, GitHub Actions groups, progress lines.
import type { GateWaitingInfo } from "../governor/index.ts";
import type { WaitingInfo } from "../turn/wait.ts";
import type { JobRecord, RunRecord } from "../records/types.ts";

/** What is known of when a wait ends (core/governor/eta.ts); null = not known, never guessed. */
export interface TurnEta {
  /** per holder, in the order of `holders`: ms its job is expected to run on */
  leftMs: (number | null)[];
  /** ms until this job is expected to start */
  startsInMs: number | null;
}

/** Who is told as jobs wait, start and end. */
export interface RunReporter {
  /** the turn did not come at the first try: who holds the slots, how many wait ahead, and when it may come */
  waiting?(info: WaitingInfo & TurnEta): void;
  /** the project turn came, but the machine's memory budget does not admit the job yet (once) */
  admissionWaiting?(info: GateWaitingInfo & { startsInMs: number | null }, name: string): void;
  /** the job's turn has come and it is about to start; total = jobs known so far in its run */
  jobStarting?(job: JobRecord, total?: number): void;
  jobEnded?(job: JobRecord, total?: number): void;
  runEnded?(run: RunRecord): void;
}

/** All of reporters: told of a start in order, of an end in reverse order (so they nest). */
export function reporters(...list: (RunReporter | undefined)[]): RunReporter {
  const present = list.filter((r): r is RunReporter => r !== undefined);
  const reversed = [...present].reverse();
  return {
    waiting: (info) => {
      for (const r of present) r.waiting?.(info);
    },
    admissionWaiting: (info, name) => {
      for (const r of present) r.admissionWaiting?.(info, name);
    },
    jobStarting: (job, total) => {
      for (const r of present) r.jobStarting?.(job, total);
    },
    jobEnded: (job, total) => {
      for (const r of reversed) r.jobEnded?.(job, total);
    },
    runEnded: (run) => {
      for (const r of reversed) r.runEnded?.(run);
    },
  };
}
