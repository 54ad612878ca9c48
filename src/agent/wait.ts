// `sep wait RUN_ID`: pick a detached run up again — print its output from where the caller left
// off and exit with its code, or with 75 again when the caller's own patience runs out first.
import { SepError } from "../errors.ts";
import { isSameProcess } from "../core/proc/index.ts";
import { loadRun } from "../core/records/history.ts";
import { readSeen, saveSeen } from "../core/records/seen.ts";
import type { RunRecord } from "../core/records/types.ts";
import { FOLLOW_POLL_MS, followRun, leaveRunning } from "./follow.ts";

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
  const deadlineMs = options.timeoutMs === undefined ? undefined : Date.now() + options.timeoutMs;
  const { id } = loadRun(logDir, options.runId);
  const seen = readSeen(logDir, id);
  const end = await followRun(logDir, id, seen, { deadlineMs });
  if (end.kind === "gone") {
    throw new SepError("E_RUN_GONE", `run ${id} disappeared from ${logDir} while waiting for it`, {
      hint: "it was deleted, perhaps pruned (keepRuns); `sep run list` shows the runs that are left",
    });
  }
  if (end.kind === "deadline") return leaveRunning(logDir, end.run, id, seen);
  try {
    saveSeen(logDir, id, seen);
  } catch {
    // the run is over: nobody reads on after this
  }
  return end.exitCode;
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
