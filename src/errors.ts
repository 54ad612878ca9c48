// sep's error type: every failure a person can act on carries a code, a hint and the exit code.

export interface SepErrorOptions {
  /** what to do next, shown under the message */
  hint?: string;
  /** process exit code; DESIGN §3 (2 = usage/config, 1 = sep's own failure) */
  exitCode?: number;
  cause?: unknown;
}

export class SepError extends Error {
  readonly hint?: string;
  readonly exitCode: number;

  constructor(
    readonly code: string,
    message: string,
    options: SepErrorOptions = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "SepError";
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? 1;
  }
}

/** Bad command line: nothing ran, nothing changed. */
export class UsageError extends SepError {
  constructor(message: string, hint?: string) {
    super("E_USAGE", message, { hint, exitCode: 2 });
  }
}

/** Bad configuration value or file: nothing ran, nothing changed. */
export class ConfigError extends SepError {
  constructor(message: string, hint?: string) {
    super("E_CONFIG", message, { hint, exitCode: 2 });
  }
}

/** The message of anything thrown, for logs. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
