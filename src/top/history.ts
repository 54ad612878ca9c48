// What `sep top` remembers between refreshes: each job's memory over the last minute, kept in this
// process only (sep top never writes state), one sample per refresh.
import type { MachineView } from "../core/governor/view.ts";

export interface Sample {
  /** ms since the epoch */
  atMs: number;
  bytes: number;
}

export const HISTORY_WINDOW_MS = 60_000;

export class MemoryHistory {
  private readonly samples = new Map<string, Sample[]>();

  constructor(readonly windowMs = HISTORY_WINDOW_MS) {}

  /** Note each started job's memory at this refresh; forget samples older than the window and jobs that are gone. */
  record(view: Pick<MachineView, "jobs">, nowMs: number): void {
    const present = new Set<string>();
    for (const job of view.jobs) {
      if (job.state === "waiting") continue;
      present.add(job.key);
      let samples = this.samples.get(job.key);
      if (!samples) this.samples.set(job.key, (samples = []));
      samples.push({ atMs: nowMs, bytes: job.memoryBytes });
    }
    for (const [key, samples] of this.samples) {
      if (!present.has(key)) {
        this.samples.delete(key);
        continue;
      }
      const first = samples.findIndex((sample) => sample.atMs > nowMs - this.windowMs);
      if (first > 0) samples.splice(0, first);
    }
  }

  /** The job's samples in the window, oldest first. */
  of(key: string): readonly Sample[] {
    return this.samples.get(key) ?? [];
  }

  /** The highest sample of the job in the window; 0 with none. */
  peak(key: string): number {
    return this.of(key).reduce((max, sample) => Math.max(max, sample.bytes), 0);
  }
}
