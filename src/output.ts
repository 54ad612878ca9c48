// stdout belongs to the command's result; every command and the CLI edge write it through here.
import { writeAll } from "./core/fd.ts";

/**
 * Write all of text to stdout, synchronously (so process.exit() never cuts it short), waiting out
 * EAGAIN on a non-blocking pipe. False when the reader went away (EPIPE): nothing more can be said.
 */
export async function tryWriteStdout(text: Uint8Array | string): Promise<boolean> {
  try {
    await writeAll(1, typeof text === "string" ? Buffer.from(text) : text);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EPIPE") return false;
    throw error;
  }
}

/**
 * Write all of text to stdout. When the reader went away (`sep run list | head -1`), sep stops at
 * once with exit 0, as a pager or `head` expects: no stack, no message, nobody left to tell.
 */
export async function writeStdout(text: Uint8Array | string): Promise<void> {
  if (!(await tryWriteStdout(text))) process.exit(0);
}
