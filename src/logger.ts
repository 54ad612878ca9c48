// sep's own voice: tagged, and always on stderr, because stdout belongs to the command.
// consola/core: the full entry loads fancy reporters and environment probes (~2.5 ms at start-up)
// that a one-line reporter does not need.
import { writeSync } from "node:fs";
import { type ConsolaReporter, createConsola } from "consola/core";
import { noteStderr } from "./core/fd.ts";
import { setNoticeSink } from "./core/notices.ts";

const LABELS: Record<string, string> = { fatal: "error", error: "error", warn: "warning" };
const COLOURS: Record<string, string> = { error: "\x1b[31m", warning: "\x1b[33m" };

/**
 * One plain line per message, `sep: warning: …`, the way compilers and git speak: easy to grep in
 * CI logs, no boxes or blank lines. Colour only when stderr is a terminal.
 */
const lineReporter: ConsolaReporter = {
  log(entry) {
    const label = LABELS[entry.type];
    const text = entry.args.map((arg) => (arg instanceof Error ? arg.message : String(arg))).join(" ");
    const colour = label && process.stderr.isTTY && !process.env.NO_COLOR ? COLOURS[label] : undefined;
    const prefix = label ? (colour ? `${colour}${label}:\x1b[0m ` : `${label}: `) : "";
    writeStderr(`sep: ${prefix}${text}\n`);
  },
};

/**
 * Write to fd 2 synchronously: the job's own stderr is copied with synchronous writes too, so sep's
 * lines (and GitHub's group markers) land exactly between the job's, in order.
 */
export function writeStderr(text: string): void {
  const bytes = Buffer.from(text);
  noteStderr(bytes);
  for (let offset = 0; offset < bytes.length; ) {
    try {
      offset += writeSync(2, bytes, offset);
    } catch (error) {
      // A full non-blocking pipe: retry; a closed stderr: nothing left to tell anyone.
      if ((error as NodeJS.ErrnoException).code !== "EAGAIN") return;
    }
  }
}

export { atLineStart } from "./core/fd.ts";

export const logger = createConsola({ level: 3, reporters: [lineReporter] });

// The core's notices are worded here, like sep's own lines.
setNoticeSink((level, message) => logger[level](message));

/** -v / VERBOSE=1 raises the level to debug; -q lowers it to warnings and errors. */
export function setVerbosity(verbose: boolean, quiet: boolean): void {
  logger.level = quiet ? 1 : verbose ? 4 : 3;
}
