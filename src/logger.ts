// sep's own voice: tagged, and always on stderr, because stdout belongs to the command.
import { createConsola } from "consola";

export const logger = createConsola({
  stdout: process.stderr,
  stderr: process.stderr,
  level: process.env.SEP_QUIET === "1" ? 1 : 3,
}).withTag("sep");

/** -v / VERBOSE=1 raises the level to debug; -q lowers it to warnings and errors. */
export function setVerbosity(verbose: boolean, quiet: boolean): void {
  logger.level = quiet ? 1 : verbose ? 4 : 3;
}
