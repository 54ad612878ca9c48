// The options every way of running a command accepts (`sep -- CMD`, `sep queue add -- CMD`),
// including how it may be split into jobs (atomification) and given the project's runner.
import type { ArgsDef } from "citty";
import { atomifyOptions } from "./atomify-options.ts";

export const runOptions = {
  timeout: { type: "string", alias: "t", description: "Seconds the job may run (0 = no limit)", valueHint: "SECONDS" },
  "memory-limit": { type: "string", alias: "m", description: "MB the job's whole process tree may use (0 = no limit)", valueHint: "MB" },
  "check-interval": { type: "string", description: "Seconds between memory polls (fractions allowed)", valueHint: "SECONDS" },
  "kill-grace": { type: "string", description: "Seconds between SIGTERM and SIGKILL", valueHint: "SECONDS" },
  "wait-timeout": { type: "string", description: "Give up (exit 75) if the turn has not come after this many seconds", valueHint: "SECONDS" },
  "detach-after": { type: "string", description: "After this many seconds of waiting plus running, leave the job to a background sep and exit 75 with its run id (see `sep wait`); 0 = never", valueHint: "SECONDS" },
  reserve: { type: "string", description: "MB this job reserves at the machine's memory gate (default: learned from its past runs, else its memory limit)", valueHint: "MB" },
  name: { type: "string", description: "Label for the job in records" },
  report: { type: "string", description: "Also write the job record as JSON to this file", valueHint: "FILE" },
  verbose: { type: "boolean", alias: "v", description: "Say what sep does, step by step" },
  quiet: { type: "boolean", alias: "q", description: "Only warnings and errors from sep" },
  ...atomifyOptions,
} as const satisfies ArgsDef;

/**
 * Options of a whole run rather than of one job: `sep -- CMD` and `sep queue start` take them;
 * `sep queue add` does not (a stored job becomes part of whichever run drains it).
 */
export const runEndOptions = {
  "on-finish": { type: "string", description: "Shell command (sh -c) to run after the run, its record as JSON on stdin, SEP_RUN_ID, SEP_RUN_CONCLUSION, SEP_RUN_EXIT_CODE in its environment; never changes sep's exit code; '' = none", valueHint: "CMD" },
} as const satisfies ArgsDef;
