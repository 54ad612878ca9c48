// stdout belongs to the command's result; every command and the CLI edge write it through here.
import { closeSync, existsSync, fstatSync, openSync, readSync } from "node:fs";
import { writeAll } from "./core/fd.ts";
import { logLayout } from "./core/paths.ts";
import type { JobRecord, RunRecord } from "./core/records/types.ts";

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

// ---------------------------------------------------------------------------------------------
// Job logs to stdout (`run view --log`, `run watch`, `sep wait`, a detaching `sep --`)

/**
 * Where the job's output is: the path its record names, or, when that is gone (the project was
 * moved, or the record predates logs), where the layout puts it.
 */
export function jobLogFile(logDir: string, run: RunRecord, job: JobRecord, n: number): string {
  if (typeof job.logPath === "string" && job.logPath !== "" && existsSync(job.logPath)) return job.logPath;
  return logLayout(logDir).jobLog(run.id, n);
}

const CHUNK = 64 * 1024;

/**
 * Copy the file from `offset` to its current end onto stdout; returns the new offset. A missing
 * file copies nothing (it may not exist yet). A file that shrank (replaced) is read from its start.
 */
export async function copyNewBytes(path: string, offset: number): Promise<{ offset: number; exists: boolean }> {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return { offset, exists: false };
  }
  try {
    const size = fstatSync(fd).size;
    let position = size < offset ? 0 : offset;
    const buffer = Buffer.allocUnsafe(CHUNK);
    while (position < size) {
      const read = readSync(fd, buffer, 0, Math.min(CHUNK, size - position), position);
      if (read <= 0) break;
      await writeStdout(buffer.subarray(0, read));
      position += read;
    }
    return { offset: position, exists: true };
  } finally {
    closeSync(fd);
  }
}
