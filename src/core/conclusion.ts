// What happened to a job → its conclusion and sep's exit code: one ordered ladder (DESIGN §3).
import { constants } from "node:os";

export type Conclusion =
  | "success"
  | "failure"
  | "timed_out"
  | "memory_exceeded"
  | "cancelled"
  | "skipped"
  | "startup_failure";

/** Why sep itself ended a job; the first reason recorded wins. */
export type KillReason =
  | { kind: "timeout" }
  | { kind: "pipeline_timeout" }
  | { kind: "memory" }
  | { kind: "interrupted"; signal: "SIGINT" | "SIGTERM" | "SIGHUP" };

export interface JobEnding {
  /** the command could not be started at all */
  startupError?: "not_found" | "not_executable";
  reason?: KillReason;
  /** exit code when the command exited by itself */
  exitCode: number | null;
  /** signal name when the command died of a signal */
  signal: string | null;
}

export interface Verdict {
  conclusion: Conclusion;
  exitCode: number;
}

export function signalNumber(signal: string): number {
  // Real-time signals have no name in os.constants: signalName() gives them as "SIG34".
  return (constants.signals as Record<string, number>)[signal] ?? Number(/^SIG(\d+)$/.exec(signal)?.[1] ?? 0);
}

export function decide(ending: JobEnding): Verdict {
  const { startupError, reason } = ending;
  if (startupError === "not_found") return { conclusion: "startup_failure", exitCode: 127 };
  if (startupError === "not_executable") return { conclusion: "startup_failure", exitCode: 126 };
  if (reason?.kind === "interrupted") return { conclusion: "cancelled", exitCode: 128 + signalNumber(reason.signal) };
  if (reason?.kind === "timeout" || reason?.kind === "pipeline_timeout") return { conclusion: "timed_out", exitCode: 124 };
  if (reason?.kind === "memory") return { conclusion: "memory_exceeded", exitCode: 137 };
  if (ending.signal) return { conclusion: "failure", exitCode: 128 + signalNumber(ending.signal) };
  const code = ending.exitCode ?? 1;
  return { conclusion: code === 0 ? "success" : "failure", exitCode: code };
}

export function signalName(signal: number): string {
  const entry = Object.entries(constants.signals).find(([, number]) => number === signal);
  return entry ? entry[0] : `SIG${signal}`;
}

/** Did a job (or a run) end badly? Unfinished (null), success and skipped are not failures. */
export function isFailure(conclusion: Conclusion | null): boolean {
  return conclusion !== null && conclusion !== "success" && conclusion !== "skipped";
}

/** Why a run ended before its jobs did, when it did. */
export type RunStop =
  /** the queue's --pipeline-timeout passed */
  | { kind: "pipeline_timeout" }
  /** a signal to sep (or a later job giving up waiting, 75) stopped it: exitCode says which */
  | { kind: "cancelled"; exitCode: number }
  /** the sep that owned it died; a later sep closes it */
  | { kind: "abandoned" };

/**
 * The run's conclusion and exit code from its jobs, in order, and how it stopped: one ordered
 * ladder, the run-level twin of decide(). The first failed job decides a run that ran to its end.
 */
export function decideRun(jobs: readonly { conclusion: Conclusion | null; exitCode: number | null }[], stop?: RunStop): Verdict {
  if (stop?.kind === "pipeline_timeout") return { conclusion: "timed_out", exitCode: 124 };
  if (stop?.kind === "cancelled") return { conclusion: "cancelled", exitCode: stop.exitCode };
  const failed = jobs.find((job) => isFailure(job.conclusion));
  const failedCode = failed ? (failed.exitCode ?? 1) : 0;
  if (stop?.kind === "abandoned") return { conclusion: "cancelled", exitCode: failedCode };
  if (failed) return { conclusion: failed.conclusion!, exitCode: failedCode };
  if (jobs.length > 0 && jobs.every((job) => job.conclusion === "skipped")) return { conclusion: "skipped", exitCode: 0 };
  return { conclusion: "success", exitCode: 0 };
}
