// The on-finish command (`onFinish`, `--on-finish`): after a run, the user's shell command runs
// with the run's record on stdin and its id, conclusion and exit code in the environment. It tells
// someone about the run and is never part of it: whatever becomes of it (a non-zero exit, not
// found, killed, too slow) is a warning, and sep's exit code stays the run's.
import { errorMessage } from "../errors.ts";
import { interrupted, onRepeatedInterrupt } from "./interrupts.ts";
import { notice } from "./notices.ts";
import { terminateTree } from "./proc/index.ts";
import type { RunRecord } from "./records/types.ts";

/** How long the on-finish command may take; then its process group is stopped (TERM, then KILL). */
const ON_FINISH_TIMEOUT_MS = 10_000;
/** Between the TERM and the KILL when it is stopped. */
const STOP_GRACE_MS = 1000;

/** The shell, by absolute path: the command is the user's text, and a PATH without sh must not lose it. */
const SHELL = "/bin/sh";

/**
 * SEP_RUN_TITLE is cut to this many characters: the kernel refuses to start a program with any one
 * variable over 128 KiB (E2BIG), and a command's argv may be longer. The record on stdin has it whole.
 */
const MAX_TITLE_CHARS = 4096;

/**
 * The variables the command gets on top of sep's environment. The run's own words (its title, from
 * the command's argv) reach the command only as data: in a variable, and in the record on stdin.
 */
function onFinishEnv(run: RunRecord): Record<string, string> {
  return {
    SEP_RUN_ID: run.id,
    SEP_RUN_STATUS: run.status,
    SEP_RUN_CONCLUSION: run.conclusion ?? "",
    SEP_RUN_EXIT_CODE: typeof run.exitCode === "number" ? String(run.exitCode) : "",
    SEP_RUN_DURATION_MS: typeof run.durationMs === "number" ? String(run.durationMs) : "",
    SEP_RUN_TITLE: run.title.length > MAX_TITLE_CHARS ? `${run.title.slice(0, MAX_TITLE_CHARS - 1)}…` : run.title,
    SEP_RUN_JOBS: String(run.jobs.length),
  };
}

/**
 * Run `sh -c COMMAND` for a finished run and wait for it, at most ON_FINISH_TIMEOUT_MS: stdin is the
 * run record as `sep run view --json` prints it; stdout and stderr go to sep's stderr (stdout
 * belongs to the user's command). It runs in its own process group, so a time-out or a signal to
 * sep stops all of it. Never throws; resolves once the command has ended or been stopped.
 */
export async function runOnFinish(command: string, run: RunRecord): Promise<void> {
  if (command.trim() === "") return;
  let child: Bun.Subprocess;
  try {
    child = Bun.spawn([SHELL, "-c", command], {
      env: { ...process.env, ...onFinishEnv(run) },
      stdin: new Blob([`${JSON.stringify(run, null, 2)}\n`]),
      stdout: 2,
      stderr: 2,
      detached: true,
    });
  } catch (error) {
    notice.warn(`the on-finish command ${JSON.stringify(command)} could not start: ${errorMessage(error)}`);
    return;
  }

  let stopped: string | undefined;
  let wake: () => void = () => {};
  const stopping = new Promise<void>((resolve) => (wake = resolve));
  const stop = (why: string) => {
    stopped ??= why;
    wake();
  };
  const timer = setTimeout(() => stop(`it took longer than ${ON_FINISH_TIMEOUT_MS / 1000}s`), ON_FINISH_TIMEOUT_MS);
  // A signal to sep while it runs stops it too: a Ctrl-C must not wait out someone's notification.
  // (A run cancelled by a first signal still gets its on-finish command; a further one stops that.)
  const onSignal = () => stop(`sep got ${String(interrupted.reason ?? "a signal")}`);
  if (!interrupted.aborted) interrupted.addEventListener("abort", onSignal, { once: true });
  const offRepeated = onRepeatedInterrupt(onSignal);
  try {
    await Promise.race([child.exited, stopping]);
    if (stopped !== undefined && child.exitCode === null && child.signalCode === null) {
      await terminateTree({ pgid: child.pid, leaderPid: child.pid, graceMs: STOP_GRACE_MS });
      await child.exited;
      notice.warn(`the on-finish command ${JSON.stringify(command)} was stopped: ${stopped}`);
      return;
    }
  } finally {
    clearTimeout(timer);
    interrupted.removeEventListener("abort", onSignal);
    offRepeated();
  }
  const what = `the on-finish command ${JSON.stringify(command)}`;
  if (child.signalCode) notice.warn(`${what} was killed by ${child.signalCode}`);
  else if (child.exitCode === 127) notice.warn(`${what} failed: exit 127 (not found)`);
  else if (child.exitCode !== 0) notice.warn(`${what} failed: exit ${child.exitCode}`);
}
