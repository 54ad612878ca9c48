// Writing whole buffers to a file descriptor that may be a full non-blocking pipe.
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
