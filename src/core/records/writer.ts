// A run's files: run.json (holding every job) and one file per job, each written atomically, with
// run.json throttled so a 1000-job drain does not write O(jobs²) bytes.
import { mkdirSync } from "node:fs";
import { wakeAt } from "../deadlines.ts";
import { logLayout } from "../paths.ts";
import { ensurePrivateDir, writeJsonAtomic } from "../store.ts";
import type { JobRecord, RunRecord } from "./types.ts";

/** run.json trails the job files by at most this much. */
export const RUN_SAVE_INTERVAL_MS = 200;

export class RunWriter {
  readonly layout;
  private runSavedAt = Number.NEGATIVE_INFINITY;
  private trailing: ReturnType<typeof setTimeout> | undefined;
  private dropWake: (() => void) | undefined;

  constructor(
    logDir: string,
    private readonly runId: string,
    /** the run record as it is now; called at each write of run.json */
    private readonly snapshot: () => RunRecord,
    /** ms clock, injectable so the throttle is tested without wall-clock assumptions */
    private readonly now: () => number = Date.now,
  ) {
    this.layout = logLayout(logDir);
  }

  /** Create the run's directories. Throws when the log dir is unusable (a SepError naming it). */
  create(): void {
    // The log dir itself is checked, not only runs/ inside it: lstat of logs/runs would follow a
    // symlinked logs/ without noticing.
    ensurePrivateDir(this.layout.dir);
    ensurePrivateDir(this.layout.runsDir);
    mkdirSync(this.layout.jobsDir(this.runId), { recursive: true, mode: 0o700 });
  }

  jobLogPath(n: number): string {
    return this.layout.jobLog(this.runId, n);
  }

  /** Write run.json now: `record`, or the snapshot the writer was given. */
  saveRun(record: RunRecord = this.snapshot()): void {
    this.close();
    writeJsonAtomic(this.layout.runRecord(this.runId), record);
    this.runSavedAt = this.now();
  }

  /**
   * Write one job's record, and run.json with it at most every RUN_SAVE_INTERVAL_MS (force: now).
   * A skipped run.json write is made up by a trailing one, so run.json is never more than the
   * interval behind the job files; after a crash, reconcile merges the job files back, and readers
   * of a live run merge them too.
   */
  saveJob(job: JobRecord, force = false): void {
    writeJsonAtomic(this.layout.jobRecord(this.runId, job.n), job);
    const due = this.runSavedAt + RUN_SAVE_INTERVAL_MS - this.now();
    if (force || due <= 0) return this.saveRun();
    if (this.trailing) return;
    this.trailing = setTimeout(() => {
      try {
        this.saveRun();
      } catch {
        // the next save says what failed
      }
    }, due);
    this.trailing.unref?.();
    // The next job may be waiting for its turn by then, asleep in the kernel: it wakes for this.
    this.dropWake = wakeAt(performance.now() + due);
  }

  /** Stop a pending trailing write (the run was written whole, or is given up). */
  close(): void {
    clearTimeout(this.trailing);
    this.trailing = undefined;
    this.dropWake?.();
    this.dropWake = undefined;
  }
}
