// sep's error type: every failure a person can act on carries a stable code, a hint and the exit
// code; the CLI edge words it with formatError() (text, stderr) or errorJson() (--json, stdout).

export interface ErrorCodeInfo {
  /** what the code means, for docs/errors.md */
  meaning: string;
  /** the exit code it comes with (DESIGN §3: 2 = usage/config, 1 = sep's own failure) */
  exitCode: number;
  /** what to do next, when the place that throws has nothing more precise to say */
  hint: string;
}

/**
 * Every code sep reports. A code is stable: scripts match on it, so one is added, never renamed or
 * reused. docs/errors.md lists the same table (a test keeps the two in step).
 */
export const ERROR_CODES = {
  E_USAGE: {
    meaning: "the command line is wrong: unknown option, bad value, missing `--`; nothing ran",
    exitCode: 2,
    hint: "see `sep --help`",
  },
  E_CONFIG: {
    meaning: "a configuration value or file is invalid (the message names the key, the value and where it is set); nothing ran",
    exitCode: 2,
    hint: "fix the value named above; `sep config` shows every value and where it comes from",
  },
  E_NO_RUN: {
    meaning: "no recorded run matches the id given (or none is recorded)",
    exitCode: 2,
    hint: "`sep run list` shows the recorded runs and their ids",
  },
  E_AMBIGUOUS_RUN: {
    meaning: "the run id given is a prefix or suffix of several runs",
    exitCode: 2,
    hint: "give more of the id; `sep run list` shows the ids",
  },
  E_NO_SUCH_JOB: {
    meaning: "no stored job has the id given to `sep queue remove`",
    exitCode: 2,
    hint: "`sep queue status` lists the stored jobs and their ids",
  },
  E_WAIT_TIMEOUT: {
    meaning: "`--wait-timeout` passed before the turn came; nothing ran",
    exitCode: 75,
    hint: "`sep queue status` shows what holds the turn; give a longer --wait-timeout, or none to wait as long as it takes",
  },
  E_INTERRUPTED: {
    meaning: "sep got SIGINT, SIGTERM or SIGHUP while waiting; nothing ran",
    /** 143 or 129 after SIGTERM or SIGHUP: the thrower gives the one that came */
    exitCode: 130,
    hint: "run the command again when you are ready",
  },
  E_DRAIN_BUSY: {
    meaning: "another `sep queue start` is draining the queue",
    exitCode: 1,
    hint: "wait for it (`sep queue status`, `sep run watch`), or pass --wait to start after it",
  },
  E_ALREADY_STARTED: {
    meaning: "the stored job was taken by a running drain before it could be removed",
    exitCode: 1,
    hint: "`sep queue stop` stops the drain and its current job",
  },
  E_BAD_RECORD: {
    meaning: "a run record is missing or malformed",
    exitCode: 1,
    hint: "it may be half-written or edited by hand; `sep run prune` removes it once it is old enough",
  },
  E_RUN_GONE: {
    meaning: "the run being watched was deleted meanwhile",
    exitCode: 1,
    hint: "`sep run list` shows the runs that are left",
  },
  E_LOCK: {
    meaning: "a lock file could not be opened or locked",
    exitCode: 1,
    hint: "check the lock dir and its permissions (`sep config` shows lockDir); `sep doctor` checks it",
  },
  E_NO_FLOCK: {
    meaning: "the C library (for `flock(2)`) could not be loaded",
    exitCode: 1,
    hint: "run sep on Linux or macOS, where it finds the C library's flock(2)",
  },
  E_STATE_DIR: {
    meaning: "a state directory (lock dir, log dir, queue) cannot be created or used",
    exitCode: 1,
    hint: "fix the path named above, or point the setting elsewhere (`sep config` shows lockDir and logDir)",
  },
  E_UNSAFE_STATE_DIR: {
    meaning: "a state directory is a symlink or belongs to another user; sep refuses to write there",
    exitCode: 1,
    hint: "use a real directory of your own (`sep config` shows lockDir and logDir)",
  },
  E_STATE_WRITE: {
    meaning: "a state file (queue entry, flag, record, counter) cannot be written, moved or removed",
    exitCode: 1,
    hint: "check the disk space and permissions of the directory named above, then try again",
  },
  E_PROJECT_FILE: {
    meaning: "`sep init` cannot read or write a project file (`.env.development`, `.gitignore`, `.git/info/exclude`)",
    exitCode: 1,
    hint: "fix the file named above, then run `sep init` again",
  },
  E_INTERNAL: {
    meaning: "a bug in sep: an error it did not expect (the message holds the stack); please report it",
    exitCode: 1,
    hint: "please report it with the message above and the output of `sep --version`",
  },
} as const satisfies Record<string, ErrorCodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface SepErrorOptions {
  /** what to do next, shown under the message; default: the code's own hint */
  hint?: string;
  /** process exit code; default: the code's (ERROR_CODES) */
  exitCode?: number;
  cause?: unknown;
}

export class SepError extends Error {
  readonly hint: string;
  readonly exitCode: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options: SepErrorOptions = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "SepError";
    this.hint = options.hint ?? ERROR_CODES[code].hint;
    this.exitCode = options.exitCode ?? ERROR_CODES[code].exitCode;
  }
}

/** Bad command line: nothing ran, nothing changed. */
export class UsageError extends SepError {
  constructor(message: string, hint: string) {
    super("E_USAGE", message, { hint, exitCode: 2 });
  }
}

/** Bad configuration value or file: nothing ran, nothing changed. */
export class ConfigError extends SepError {
  constructor(message: string, hint: string) {
    super("E_CONFIG", message, { hint, exitCode: 2 });
  }
}

/** The message of anything thrown, for logs. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** What the CLI edge reports about a failure: the `--json` error shape, and the text's parts. */
export interface ErrorReport {
  code: ErrorCode;
  message: string;
  hint: string;
  exitCode: number;
}

/** A SepError as reported; anything else thrown is a bug in sep, reported with its stack. */
export function errorReport(error: unknown): ErrorReport {
  if (error instanceof SepError) return { code: error.code, message: error.message, hint: error.hint, exitCode: error.exitCode };
  const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return { code: "E_INTERNAL", message: `internal error: ${text}`, hint: ERROR_CODES.E_INTERNAL.hint, exitCode: ERROR_CODES.E_INTERNAL.exitCode };
}

/**
 * The lines sep prints on stderr for a failure, whatever -q says: `sep: error [E_CONFIG]: …` and,
 * under it, `sep: hint: …`. Colour only marks the label, and only when asked (a terminal).
 */
export function formatError(report: ErrorReport, options: { colour?: boolean } = {}): string {
  const label = `error [${report.code}]:`;
  const shown = options.colour ? `\x1b[31m${label}\x1b[0m` : label;
  return `sep: ${shown} ${report.message}\nsep: hint: ${report.hint}\n`;
}

/** The `--json` form, on stdout: `{"error":{"code","message","hint","exitCode"}}`. */
export function errorJson(report: ErrorReport): string {
  const { code, message, hint, exitCode } = report;
  return `${JSON.stringify({ error: { code, message, hint, exitCode } }, null, 2)}\n`;
}
