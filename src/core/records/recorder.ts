// THE owner of run and job records: every record sep creates or changes goes through a
// RunRecorder's transitions (queued → started → completed, skipped, cancelled, finished), which
// write atomically as they go. A record that cannot be written is said and survived: the user's
// command matters more than its record (an unsafe state dir is refused).
import { decideRun, type RunStop } from "../conclusion.ts";
import { errorMessage, SepError } from "../../errors.ts";
import { notice } from "../notices.ts";
import { ownStartTime } from "../proc/index.ts";
import { writeJsonAtomic } from "../store.ts";
import { pruneRuns } from "./history.ts";
import { completeJob, endUnrun, flattenJob, type Job, type JobFacts, type JobOutcome, newJob, startJob } from "./job.ts";
import { closeRun } from "./reconcile.ts";
import { type AdmissionRecord, newRunId, type JobRecord, type RunRecord } from "./types.ts";
import { RunWriter } from "./writer.ts";

export type { Job, JobFacts, JobOutcome } from "./job.ts";

export interface RecorderOptions {
  logDir: string;
  /** runs kept in the history after this one finishes; 0 = all */
  keepRuns: number;
  title: string;
  createdAt?: Date;
  /** the run's id, chosen beforehand (a detaching `sep --` names it to its background sep) */
  id?: string;
  /** ms clock for the run.json throttle (tests) */
  clock?: () => number;
}

export class RunRecorder {
  readonly id: string;
  private readonly run: Omit<RunRecord, "jobs">;
  private readonly jobs: Job[] = [];
  /** jobs whose file has been written */
  private readonly written = new WeakSet<Job>();
  private readonly writer: RunWriter;
  /** undefined until open(); false when the records could not be created (the run goes unrecorded) */
  private recorded: boolean | undefined;

  constructor(private readonly options: RecorderOptions) {
    const createdAt = options.createdAt ?? new Date();
    this.id = options.id ?? newRunId(createdAt);
    this.run = {
      id: this.id,
      title: options.title,
      status: "queued",
      conclusion: null,
      exitCode: null,
      createdAt: createdAt.toISOString(),
      startedAt: null,
      completedAt: null,
      durationMs: null,
      peakMemoryBytes: null,
      owner: { pid: process.pid, startTime: ownStartTime() },
    };
    // run.json while the run goes on leaves out each job's memorySamples (up to 120 points, ~5 KB):
    // it is rewritten every 200 ms at most as jobs end, and with every job's samples in it a long
    // drain would rewrite megabytes each time. The job files have them, readers of a live run merge
    // those, and the run's last save (finish) writes them whole.
    this.writer = new RunWriter(options.logDir, this.id, () => this.snapshot({ samples: false }), options.clock);
  }

  /** The run as DESIGN §6's JSON, now (`samples: false`: without the jobs' memorySamples). */
  snapshot(options: { samples?: boolean } = {}): RunRecord {
    const jobs = this.jobs.map(flattenJob);
    if (options.samples === false) for (const job of jobs) delete job.memorySamples;
    return { ...this.run, jobs };
  }

  jobRecord(job: Job): JobRecord {
    return flattenJob(job);
  }

  get jobCount(): number {
    return this.jobs.length;
  }

  get isRecorded(): boolean {
    return this.recorded === true;
  }

  /**
   * Create the run's records, once. A log dir that cannot be written (read-only, full, not a
   * directory) does not stop the user's command: the run goes unrecorded and sep says what is
   * lost. A state dir that is a symlink or someone else's is refused (exit 1).
   */
  open(): void {
    if (this.recorded !== undefined) return;
    try {
      this.writer.create();
      this.recorded = true;
    } catch (error) {
      if (error instanceof SepError && error.code === "E_UNSAFE_STATE_DIR") throw error;
      this.recorded = false;
      notice.warn(`cannot write run records under ${this.options.logDir} (${errorMessage(error)}); this run will not be recorded and its output not logged`);
    }
  }

  /**
   * Create the run's records now, before its turn, with its jobs queued (open() alone only makes
   * the directories; each record is first written when its job starts): the run of a detaching sep's
   * background sep must be readable while it waits — by `sep wait`, `sep run cancel` and a joining twin.
   */
  openQueued(): void {
    this.open();
    if (!this.recorded) return;
    for (const job of this.jobs) this.save(job);
    try {
      this.writer.saveRun(); // not throttled: the run is readable as soon as this returns
    } catch (error) {
      notice.warn(`could not write the record of run ${this.id} (${errorMessage(error)})`);
    }
  }

  retitle(title: string): void {
    this.run.title = title;
  }

  /**
   * A new job at the end of the run, queued. Its file is first written when it waits (waiting()) or
   * starts (spawned()): a job whose turn comes at once, the common case in a drain, is written
   * twice (started, completed), the second write its file's first replace.
   */
  addJob(facts: Omit<JobFacts, "n">, queuedAt = new Date()): Job {
    const job = newJob(this.id, { ...facts, n: this.jobs.length + 1 }, queuedAt);
    this.jobs.push(job);
    return job;
  }

  /**
   * The job waits for its turn, or at the machine gate: its queued record is written now (once), so
   * a sep killed while it waits leaves a record saying so. No-op before open(): a `sep --` run has
   * no records until its first turn comes.
   */
  waiting(job: Job): void {
    if (job.state.status !== "queued" || this.written.has(job)) return;
    this.save(job);
  }

  /** The invocation took its place in line: that is when the job (and, for its first job, the run) was queued. */
  arrived(job: Job, at = new Date()): void {
    job.queuedAt = at.toISOString();
    if (job === this.jobs[0]) this.run.createdAt = job.queuedAt;
  }

  /** The job's turn came and it is about to be spawned: recorded at once. Returns its log file, when recorded. */
  started(job: Job, at = new Date(), admission?: AdmissionRecord): string | undefined {
    const logPath = this.starting(job, at, admission);
    this.save(job);
    return logPath;
  }

  /**
   * The job's turn came and it is about to be spawned; its record is written by spawned(), right
   * after the spawn, so that the next job's start is not delayed by it (the slot record written
   * before the spawn is what a crash leaves for the next holder). Returns its log file, when recorded.
   */
  starting(job: Job, at = new Date(), admission?: AdmissionRecord): string | undefined {
    startJob(job, at, admission);
    if (this.recorded) job.logPath = this.writer.jobLogPath(job.n);
    this.run.startedAt ??= at.toISOString();
    this.run.status = "in_progress";
    return this.recorded ? job.logPath : undefined;
  }

  /** The job started by starting() has been spawned: write its record. */
  spawned(job: Job): void {
    this.save(job);
  }

  completed(job: Job, outcome: JobOutcome): void {
    completeJob(job, outcome);
    this.save(job);
  }

  /** A job that did not run: skipped, or cancelled (with --wait-timeout's 75, say). */
  notRun(job: Job, conclusion: "skipped" | "cancelled", details: { exitCode?: number; warning?: string } = {}): void {
    endUnrun(job, conclusion, new Date(), details.exitCode ?? null);
    if (details.warning) job.warnings.push(details.warning);
    this.save(job);
  }

  /** Something about the job was lost or went wrong; kept in its record. */
  warn(job: Job, message: string): void {
    job.warnings.push(message);
  }

  /**
   * Close the run: its conclusion and exit code from the run ladder, written at once, then the
   * history pruned to keepRuns. Returns the final record.
   */
  finish(stop?: RunStop, at = new Date()): RunRecord {
    const record = this.snapshot();
    closeRun(record, at, decideRun(record.jobs, stop));
    const { jobs: _jobs, ...run } = record;
    Object.assign(this.run, run);
    if (this.recorded) {
      try {
        this.writer.saveRun(this.snapshot());
      } catch (error) {
        notice.warn(`could not write the record of run ${this.id} (${errorMessage(error)})`);
      }
      this.writer.close();
      this.prune();
    }
    return record;
  }

  /** Also write the record to a file of the user's (--report): the job's, or the whole run's. */
  writeReport(path: string, what: Job | "run"): void {
    try {
      writeJsonAtomic(path, what === "run" ? this.snapshot() : flattenJob(what));
    } catch (error) {
      notice.warn(`could not write the report ${path} (${errorMessage(error)})`);
    }
  }

  private save(job: Job): void {
    if (!this.recorded) return;
    try {
      this.writer.saveJob(flattenJob(job));
      this.written.add(job);
    } catch (error) {
      notice.warn(`could not write the record of job ${job.id} (${errorMessage(error)}); its last state is lost`);
    }
  }

  /** Keep the newest `keepRuns` runs; older completed ones are deleted after each run. */
  private prune(): void {
    try {
      const { errors } = pruneRuns(this.options.logDir, this.options.keepRuns);
      for (const { id, message } of errors) notice.warn(`could not delete old run ${id}: ${message}`);
    } catch (error) {
      notice.warn(`could not prune old runs in ${this.options.logDir}: ${errorMessage(error)}`);
    }
  }
}
