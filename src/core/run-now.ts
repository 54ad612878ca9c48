// `sep -- COMMAND`: a run of one job (or of the command's atoms, with --atomify), a loop over
// runJobInTurn. Its records are created only when the first turn has come, so an invocation that
// gives up waiting (--wait-timeout) or is interrupted while waiting leaves none.
import type { ResolvedConfig } from "../config.ts";
import type { RunStop } from "./conclusion.ts";
import type { RunReporter } from "./job/events.ts";
import { runJobInTurn } from "./job/in-turn.ts";
import { type JobOverrides, jobLimits, recordedLimits } from "./job/limits.ts";
import { notice } from "./notices.ts";
import { runOnFinish } from "./on-finish.ts";
import { RunRecorder } from "./records/recorder.ts";
import { WaitTimeoutError } from "./turn/wait.ts";

/** One job to run: an argv, and variables it gets on top of sep's environment. */
export interface JobToRun {
  argv: string[];
  env?: Record<string, string>;
  /** its label; default: the argv */
  name?: string;
}

export interface RunNowOptions {
  /** the jobs of the run, in order: one for a plain `sep -- CMD`, the atoms of CMD with --atomify */
  jobs: JobToRun[];
  /** the command as given (the run's title, and each job's group when there are several) */
  command: string[];
  cwd: string;
  name?: string;
  overrides?: JobOverrides;
  /** --reserve: MB each job reserves at the machine gate */
  reserveMb?: number;
  /** give up waiting for a turn after this many ms (exit 75) */
  waitTimeoutMs?: number;
  /** also write the record here: the job's, or the run's when there are several jobs */
  reportPath?: string;
  reporter?: RunReporter;
  /**
   * The run's id, and its records written from the start, while it still waits for its turn: a
   * background sep left by a detaching `sep --` must be visible (`sep wait`, `sep run cancel`)
   * even before its job starts, and one that gives up waiting leaves a record saying so.
   */
  supervisedRunId?: string;
}

/**
 * Runs the jobs, each when its turn comes, as one run; resolves to sep's exit code: 0 when all
 * succeeded, else the first failed job's. Every job runs even after a failure, as in a queue drain;
 * an interrupt stops the run (the rest are recorded as skipped).
 */
export async function runNow(config: ResolvedConfig, options: RunNowOptions): Promise<number> {
  const createdAt = new Date();
  const several = options.jobs.length > 1;
  const group = several ? (options.name ?? options.command.join(" ")) : undefined;
  const limits = jobLimits(config, options.overrides);
  const recorder = new RunRecorder({ logDir: config.logDir, keepRuns: config.keepRuns, title: options.name ?? options.command.join(" "), createdAt, id: options.supervisedRunId });
  const jobs = options.jobs.map((spec) =>
    recorder.addJob(
      {
        name: several ? (spec.name ?? spec.argv.join(" ")) : (options.name ?? spec.argv.join(" ")),
        argv: spec.argv,
        cwd: options.cwd,
        limits: recordedLimits(limits),
        ...(group === undefined ? {} : { group }),
      },
      createdAt,
    ),
  );

  if (options.supervisedRunId) recorder.openQueued();
  let stop: RunStop | undefined;
  for (const [index, job] of jobs.entries()) {
    const outcome = await runJobInTurn({
      config,
      recorder,
      job,
      limits,
      waitTimeoutMs: options.waitTimeoutMs,
      reserveMb: options.reserveMb,
      forwardOutput: options.supervisedRunId === undefined,
      reporter: options.reporter,
      total: several ? jobs.length : undefined,
      env: options.jobs[index]?.env,
      // Queued from the moment its ticket is taken: the ticket order is the arrival order.
      onTicket: () => {
        if (index === 0) recorder.arrived(job);
      },
    }).catch((error: unknown) => {
      // The first job giving up waiting means nothing ran (exit 75, no record); a later one ends
      // the run like an interrupt would, with the code.
      if ((index === 0 && !options.supervisedRunId) || !(error instanceof WaitTimeoutError)) throw error;
      notice.warn(`${job.name}: ${error.message}`);
      return { ran: false as const, exitCode: error.exitCode, why: "aborted" as const };
    });
    if (!outcome.ran) {
      if (index === 0 && !options.supervisedRunId) return outcome.exitCode; // nothing ran, nothing recorded
      // A later job stopped before it started: the run ends here, the rest are skipped.
      for (const rest of jobs.slice(index)) recorder.notRun(rest, rest === job ? "cancelled" : "skipped");
      stop = { kind: "cancelled", exitCode: outcome.exitCode };
      break;
    }
  }

  const run = recorder.finish(stop);
  if (options.reportPath) recorder.writeReport(options.reportPath, several ? "run" : jobs[0]!);
  options.reporter?.runEnded?.(run);
  await runOnFinish(config.onFinish, run);
  return run.exitCode ?? 1;
}
