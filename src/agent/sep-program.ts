// How a command line names this sep: the hook command `sep agent install` writes, and the program
// the hook wraps heavy commands with. Always an absolute path, so the agent's PATH does not matter.

/**
 * The argv that runs this same sep again. In the compiled binary that is the binary itself
 * (process.execPath). Run from source (`bun src/cli.ts`), process.execPath is bun, so it is bun
 * followed by the entry script; that form is for developing sep (bun then reads the cwd's
 * bunfig.toml and .env files, which the compiled binary never does).
 */
export function sepArgv(): string[] {
  return _isCompiled(Bun.main) ? [process.execPath] : [process.execPath, Bun.main];
}

/** Bun's compiled executables run their entry point from the embedded /$bunfs file system. */
function _isCompiled(main: string): boolean {
  return main.startsWith("/$bunfs/") || /^[A-Za-z]:[\\/]~BUN[\\/]/.test(main);
}

/**
 * One word in single quotes, for sh and bash alike: every byte stands for itself inside '…', and a
 * quote is closed, escaped and reopened ('\''). Exact for any text without NUL, which no argv holds.
 */
export function singleQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}
