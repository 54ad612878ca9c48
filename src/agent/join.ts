// A second identical command (same argv, cwd and project) while the first still waits for its turn
// joins it instead of queueing a duplicate (DESIGN §10): an agent that re-runs a command its shell
// gave up on gets the one run's output and exit code, and the machine runs it once.
import { isSameProcess } from "../core/proc/index.ts";
import type { SeenOffsets } from "../core/records/seen.ts";
import type { Holder } from "../core/turn/slots.ts";
import { readWaiting } from "../core/turn/tickets.ts";
import { logger } from "../logger.ts";
import { singleLine } from "../format.ts";
import { followRun, leaveRunning } from "./follow.ts";

/** The invocation waiting for its turn in this lock dir with exactly this argv and cwd, if any. */
export function waitingTwin(lockDir: string, argv: readonly string[], cwd: string): Holder | undefined {
  return readWaiting(lockDir).find(
    (holder) => holder.cwd === cwd && holder.argv.length === argv.length && holder.argv.every((word, i) => word === argv[i]) && holder.pid !== process.pid,
  );
}

/**
 * Follow the twin's run as our own: its output, then its exit code. Undefined when the twin went
 * away before its run was recorded (it gave up or was stopped while waiting): the caller then runs
 * the command itself. With a deadline (--detach-after), exit 75 there, as a detaching sep does.
 */
export async function joinTwin(twin: Holder, options: { detachAfterMs?: number }): Promise<number | undefined> {
  logger.info(`the same command is already waiting for its turn (run ${twin.runId}, sep pid ${twin.pid}): joining it instead of running it twice`);
  const seen: SeenOffsets = new Map();
  const end = await followRun(twin.logDir, twin.runId, seen, {
    deadlineMs: options.detachAfterMs ? Date.now() + options.detachAfterMs : undefined,
    // Its record comes when its turn does, unless it gives up or is stopped first.
    present: () => isSameProcess(twin.pid, twin.pidStartTime),
  });
  if (end.kind === "completed") return end.exitCode;
  if (end.kind === "deadline") return leaveRunning(twin.logDir, end.run, twin.runId, seen);
  logger.info(`the run it waited for (${twin.runId}) ended before it started; running ${singleLine(twin.name)} itself`);
  return undefined;
}
