// Waiting that survives an agent's shell time-out (DESIGN §10). With --detach-after, `sep -- CMD`
// hands the job to a background sep from the start — same arguments, same limits, turn, governor
// admission and records — and follows it: it relays what that sep says, copies the job's output as
// it is logged, and exits with the job's code. When waiting plus running reaches the deadline, it
// leaves the job running, says how to pick it up (`sep wait RUN_ID`) and exits 75.
import type { ResolvedConfig } from "../config.ts";
import { signalNumber } from "../core/conclusion.ts";
import { noteStderr, writeAll } from "../core/fd.ts";
import type { SeenOffsets } from "../core/records/seen.ts";
import { newRunId } from "../core/records/types.ts";
import { readWaiting } from "../core/turn/tickets.ts";
import { sepArgv } from "./sep-program.ts";
import { copyRunOutput, FOLLOW_POLL_MS, leaveRunning, runState } from "./follow.ts";

/** Set in the background sep's environment: the run it owns (and records from the start). */
export const SUPERVISED_RUN_VARIABLE = "SEP_SUPERVISED_RUN";

/** The setting's variable: 0 in the background sep's environment, so neither it nor its job detaches again. */
const DETACH_AFTER_VARIABLE = "SEP_DETACH_AFTER";


export async function runDetachable(config: ResolvedConfig, detachAfterMs: number): Promise<number> {
  const startedAt = Date.now();
  const runId = newRunId(new Date(startedAt));
  // detached: its own session, so the agent's shell killing our process group does not reach it;
  // stdin is not ours to lend once we are gone. Its stderr (sep's own words) comes to us while we
  // follow; after we leave, its writes there fail quietly (EPIPE) and its records say the rest.
  const supervisor = Bun.spawn([...sepArgv(), ...process.argv.slice(2)], {
    env: { ...process.env, [SUPERVISED_RUN_VARIABLE]: runId, [DETACH_AFTER_VARIABLE]: "0" },
    detached: true,
    stdin: "ignore",
    stdout: "ignore",
    stderr: "pipe",
  });
  let exitCode: number | undefined;
  void supervisor.exited.then(() => {
    exitCode = supervisor.exitCode ?? 128 + signalNumber(String(supervisor.signalCode ?? "SIGKILL"));
  });
  const relay = _relayStderr(supervisor.stderr);
  // Before we detach, a signal to us is a signal to the job: the background sep cancels it as a
  // foreground sep would, and we report its ending.
  const signals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
  const forward = (signal: NodeJS.Signals) => supervisor.kill(signal);
  for (const signal of signals) process.on(signal, forward);

  const seen: SeenOffsets = new Map();
  try {
    for (;;) {
      const run = await copyRunOutput(config.logDir, runId, seen);
      if (exitCode !== undefined) {
        await Promise.race([relay.done, Bun.sleep(1000)]);
        await copyRunOutput(config.logDir, runId, seen);
        return exitCode;
      }
      // Not before the background sep has recorded the run: until then `sep wait RUN_ID` and
      // `sep run cancel RUN_ID` would not find it (it is still starting: loading its config). Nor
      // after the run has ended: the background sep is then only running the on-finish command
      // (bounded), and its words are still ours to relay.
      if (run && run.status !== "completed" && Date.now() - startedAt >= detachAfterMs) {
        for (const signal of signals) process.off(signal, forward);
        relay.stop();
        supervisor.unref();
        const ahead = readWaiting(config.lockDir).findIndex((holder) => holder.runId === runId);
        const where = ahead > 0 ? `waiting for its turn, ${ahead} ahead of it` : runState(run);
        return leaveRunning(config.logDir, run, runId, seen, `${where}, after ${Math.round(detachAfterMs / 1000)}s: --detach-after`);
      }
      // The background sep's end (or the next poll, or the deadline) wakes us, whichever is first.
      await Promise.race([supervisor.exited, Bun.sleep(Math.min(FOLLOW_POLL_MS, Math.max(1, detachAfterMs - (Date.now() - startedAt))))]);
    }
  } finally {
    for (const signal of signals) process.off(signal, forward);
  }
}

/** Copy the background sep's stderr to ours, chunk by chunk, until it ends or we stop listening. */
function _relayStderr(stream: ReadableStream<Uint8Array>): { done: Promise<void>; stop(): void } {
  const reader = stream.getReader();
  const done = (async () => {
    try {
      for (;;) {
        const { done: ended, value } = await reader.read();
        if (ended) return;
        noteStderr(value);
        await writeAll(2, value);
      }
    } catch {
      // cancelled, or our stderr is gone
    }
  })();
  return { done, stop: () => void reader.cancel().catch(() => {}) };
}
