// Writing to file descriptors: whole buffers to a pipe that may be full, and where fd 2 stands.
import { writeSync } from "node:fs";

/** Write all of chunk to fd, waiting out EAGAIN (a non-blocking pipe that is full). */
export async function writeAll(fd: number, chunk: Uint8Array): Promise<void> {
  for (let offset = 0; offset < chunk.length; ) {
    try {
      offset += writeSync(fd, chunk, offset);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EAGAIN") throw error;
      await Bun.sleep(1);
    }
  }
}

let _stderrAtLineStart = true;

/**
 * Remember whether what went to fd 2 last — sep's words or the job's, which share it — ended a
 * line: a GitHub workflow command must start one to be read.
 */
export function noteStderr(bytes: Uint8Array): void {
  if (bytes.length > 0) _stderrAtLineStart = bytes[bytes.length - 1] === 0x0a;
}

/** Whether stderr is at the start of a line. */
export function atLineStart(): boolean {
  return _stderrAtLineStart;
}
