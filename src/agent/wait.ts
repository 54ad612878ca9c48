// `sep wait RUN_ID`: pick a detached run up again — print its output from where the caller left
// off and exit with its code, or with 75 again when the caller's own patience runs out first.
import { SepError } from "../errors.ts";
import { isSameProcess } from "../core/proc/index.ts";
import { loadRun } from "../core/records/history.ts";
import { readSeen, saveSeen } from "../core/records/seen.ts";
import type { RunRecord } from "../core/records/types.ts";
import { logger } from "../logger.ts";
import { STILL_RUNNING } from "./detach.ts";
import { copyRunOutput, FOLLOW_POLL_MS, runState } from "./follow.ts";

export interface WaitOptions {
  logDir: string;
  /** an id, a unique prefix of one, or its last 6 characters */
  runId: string;
  /** give up (exit 75) after this many ms; undefined = as long as it takes */
  timeoutMs?: number;
}

/** Follow the run to its end; resolves to the exit code sep wait exits with. */
export async function waitForRun(options: WaitOptions): Promise<number> {
  const { logDir } = options;
  const started = Date.now();
  const { id } = loadRun(logDir, options.runId);
  const seen = readSeen(logDir, id);
  for (;;) {
    const run = await copyRunOutput(logDir, id, seen);
    if (!run) {
      throw new SepError("E_RUN_GONE", `run ${id} disappeared from ${logDir} while waiting for it`, {
        hint: "it was deleted, perhaps pruned (keepRuns); `sep run list` shows the runs that are left",
      });
    }
    if (run.status === "completed") {
      _note(logDir, id, seen);
      return typeof run.exitCode === "number" ? run.exitCode : 1;
    }
    if (options.timeoutMs !== undefined && Date.now() - started >= options.timeoutMs) {
      _note(logDir, id, seen);
      logger.warn(`run ${id} is still going (${runState(run)}); nothing is lost: \`sep wait ${id}\` again (exit 75 now)`);
      return STILL_RUNNING;
    }
    await Bun.sleep(FOLLOW_POLL_MS);
  }
}

function _note(logDir: string, runId: string, seen: Map<number, number>): void {
  try {
    saveSeen(logDir, runId, seen);
  } catch (error) {
    logger.warn(`could not note how much of run ${runId}'s output was shown (${(error as Error).message})`);
  }
}

/**
 * `sep run cancel RUN_ID`: stop a run that is still going — its sep (in the background, after a
 * detach) gets SIGTERM, kills the job's tree and records the run cancelled. Resolves to the run as
 * it ended. A sep that does not end within the grace and a margin is killed; the next sep that
 * takes that slot kills what it left, as after any crash.
 */
export async function cancelRun(logDir: string, runId: string, killGraceMs: number): Promise<RunRecord> {
  const run = loadRun(logDir, runId);
  if (run.status === "completed") return run;
  const { pid, startTime } = run.owner;
  if (isSameProcess(pid, startTime)) _signal(pid, "SIGTERM");
  const deadline = Date.now() + killGraceMs + CANCEL_MARGIN_MS;
  for (;;) {
    const now = loadRun(logDir, run.id);
    if (now.status === "completed") return now;
    if (Date.now() >= deadline) {
      if (isSameProcess(pid, startTime)) _signal(pid, "SIGKILL");
      await Bun.sleep(FOLLOW_POLL_MS);
      return loadRun(logDir, run.id); // a dead owner's run reads as cancelled
    }
    await Bun.sleep(FOLLOW_POLL_MS / 2);
  }
}

const CANCEL_MARGIN_MS = 5000;

function _signal(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // gone meanwhile, or not ours: its run reads as cancelled once its owner is dead
  }
}
