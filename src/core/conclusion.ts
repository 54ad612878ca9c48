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
  return (constants.signals as Record<string, number>)[signal] ?? 0;
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
