// The few escape codes a full-screen view needs, and putting the terminal back as it was. A frame
// is drawn off-screen into one string and written at once: cursor home, each line overwritten and
// cleared to its end, the rest of the screen cleared, so nothing is blanked first (no flicker).
import { writeSync } from "node:fs";
import { writeAll } from "../core/fd.ts";

const ESC = "\x1b[";
/** the alternate screen buffer (the shell's screen comes back untouched on leaving), cursor hidden */
const ENTER_SCREEN = `${ESC}?1049h${ESC}?25l${ESC}H${ESC}2J`;
/** cursor shown, alternate screen left */
const LEAVE_SCREEN = `${ESC}?25h${ESC}?1049l`;

/**
 * One frame as the text to write: home, the lines (at most `rows`, each at most `columns` wide),
 * each cleared to the end of its line, and the rest of the screen cleared. A line that fills its
 * row is not followed by a clear: with the cursor parked in the last column, a clear would erase
 * that column's character.
 */
export function frameText(lines: readonly string[], columns: number, rows: number, width: (text: string) => number): string {
  const shown = lines.slice(0, Math.max(0, rows));
  let out = `${ESC}H`;
  for (const [i, line] of shown.entries()) {
    if (i > 0) out += "\r\n";
    out += line;
    if (width(line) < columns) out += `${ESC}K`;
  }
  if (shown.length < rows) out += shown.length > 0 ? `\r\n${ESC}J` : `${ESC}J`;
  return out;
}

/** Our own stdout and stdin, as a terminal: raw keys on, the alternate screen entered. */
export class Screen {
  private active = false;
  private readonly restoreOnExit = () => this.leave();

  constructor(
    private readonly input: NodeJS.ReadStream = process.stdin,
    private readonly output: NodeJS.WriteStream = process.stdout,
  ) {}

  columns(): number {
    return this.output.columns || 80;
  }

  rows(): number {
    return this.output.rows || 24;
  }

  /** Raw keys (when stdin is a terminal), the alternate screen, the cursor hidden. */
  enter(onKey: (key: string) => void): void {
    if (this.active) return;
    this.active = true;
    // The last net: whatever path leads out of the process, the terminal is put back.
    process.on("exit", this.restoreOnExit);
    if (this.input.isTTY) {
      this.input.setRawMode(true);
      this.input.setEncoding("utf8");
      this.input.on("data", onKey);
      this.input.resume();
    }
    this.writeNow(ENTER_SCREEN);
  }

  /** Raw mode off, cursor shown, alternate screen left. Idempotent, synchronous (safe in an exit handler). */
  leave(): void {
    if (!this.active) return;
    this.active = false;
    process.off("exit", this.restoreOnExit);
    if (this.input.isTTY) {
      try {
        this.input.setRawMode(false);
      } catch {
        // the terminal is gone: nothing to restore
      }
      this.input.removeAllListeners("data");
      this.input.pause();
    }
    this.writeNow(LEAVE_SCREEN);
  }

  /** Write a frame without blocking the loop (a slow terminal is waited out); false when the terminal is gone. */
  async write(text: string): Promise<boolean> {
    try {
      await writeAll(1, Buffer.from(text));
      return true;
    } catch {
      return false;
    }
  }

  /** Write now, synchronously: for entering and leaving, which must not wait for the event loop. */
  private writeNow(text: string): void {
    const bytes = Buffer.from(text);
    for (let offset = 0, tries = 0; offset < bytes.length && tries < 1000; tries++) {
      try {
        offset += writeSync(1, bytes, offset);
      } catch (error) {
        // EAGAIN: a non-blocking terminal that is full; anything else: the terminal is gone.
        if ((error as NodeJS.ErrnoException).code !== "EAGAIN") return;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
      }
    }
  }
}
