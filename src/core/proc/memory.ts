// The memory poller: every interval, the RSS sum of a process tree; PSS to confirm a breach; the peak.
import { closeKept, type KeptFiles } from "./reader.ts";
import { SampleSeries } from "./samples.ts";
import { DescendantsWatch, treeMemory, treePss, type ProcessMemory } from "./tree.ts";

export interface MemoryExceeded {
  /** the PSS sum that confirmed the breach */
  measuredBytes: number;
  limitBytes: number;
  /** the 5 biggest processes by RSS at that moment */
  processes: ProcessMemory[];
}

export interface MemoryWatchOptions {
  /** walk this pid's descendants (not the pid itself): sep's own pid, so the job and, with the subreaper, its escaped daemons */
  rootPid: number;
  /** 0 = no limit (the peak is still tracked) */
  limitBytes: number;
  intervalMs: number;
  /** called at most once per start(), from the poll that confirmed the breach */
  onExceeded?: (info: MemoryExceeded) => void;
}

export interface MemorySample {
  /** Date.now() when taken */
  at: number;
  pids: number[];
  rssBytes: number;
  /** present only when the RSS sum passed the limit and PSS was read to confirm */
  pssBytes?: number;
  /** what this sample counts towards the peak: pssBytes when read, else rssBytes */
  treeBytes: number;
}

/** The adaptive schedule's floor: a poll of a small tree costs ~0.05 ms, of 200 processes ~1.6 ms. */
const MIN_DELAY_MS = 5;
/** The second sample, while the growth rate is still unknown. */
const FIRST_DELAY_MS = 50;

/**
 * Polls a process tree's memory on a setTimeout chain (a slow poll never stacks up behind itself).
 *
 * Per poll: descendants of rootPid, the sum of their RSS (statm). Only when that sum passes the limit
 * is PSS (smaps_rollup) read, because it is expensive and PSS ≤ RSS: RSS counts copy-on-write pages
 * once per sharer, so a forked worker pool would otherwise be killed far too early. The limit is
 * exceeded only when the PSS sum also passes it.
 */
export class MemoryWatch {
  /**
   * The most the tree used, over all samples: each sample counts its RSS sum, or its PSS sum on
   * samples where PSS was read (RSS over the limit). So a tree of many processes sharing pages
   * never records a peak above the limit that it did not really use. With no limit PSS is never
   * read, and the peak is the RSS sum.
   */
  peakBytes = 0;
  /** the breach reported to onExceeded, once */
  exceeded: MemoryExceeded | undefined;
  lastSample: MemorySample | undefined;
  samples = 0;
  /** every sample's treeBytes over time, downsampled as it goes (the job record's memorySamples); new at each start() */
  series = new SampleSeries();
  /** the last error a poll swallowed (polls never throw), for diagnostics */
  lastError: unknown;

  private options: MemoryWatchOptions | undefined;
  private tree: DescendantsWatch | undefined;
  /** each process's statm, kept open from poll to poll */
  private readonly kept: KeptFiles = new Map();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running = false;

  /** Take one sample now, then one every intervalMs until stop(). */
  start(options: MemoryWatchOptions): void {
    this.stop();
    this.options = options;
    this.tree = new DescendantsWatch(options.rootPid);
    this.exceeded = undefined;
    this.series = new SampleSeries();
    this.running = true;
    this.tick();
  }

  stop(): void {
    closeKept(this.kept);
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /**
   * One sample now, outside the schedule — the final sample after the job's leader exits. It
   * updates the peak but never calls onExceeded (the job is ending anyway). Never throws.
   */
  sampleNow(): MemorySample | undefined {
    return this.sample(false);
  }

  private tick(): void {
    this.timer = undefined;
    if (!this.running || !this.options) return;
    const previous = this.lastSample;
    const current = this.sample(true);
    if (!this.running) return; // onExceeded may have stopped us
    this.timer = setTimeout(() => this.tick(), this.nextDelay(previous, current));
    // A forgotten watch must not keep sep alive; the job's own exit promise does that.
    this.timer.unref?.();
  }

  /**
   * Poll sooner as the tree closes in on its limit. A fixed interval lets a fast allocator overshoot
   * by a whole interval's worth (500 MB/s × 250 ms = 125 MB); instead, at the growth rate seen since
   * the last sample, the next poll comes after half the time left before the limit would be
   * crossed, never sooner than MIN_DELAY_MS. A flat or shrinking tree is polled every intervalMs.
   */
  private nextDelay(previous: MemorySample | undefined, current: MemorySample | undefined): number {
    const { intervalMs, limitBytes } = this.options!;
    if (!current) return intervalMs;
    // Right after the start the growth rate is unknown: look again soon.
    if (!previous) return Math.min(intervalMs, FIRST_DELAY_MS);
    if (limitBytes <= 0) return intervalMs;
    // The growth rate from RSS (every sample has it); the headroom from what counts against the
    // limit (PSS once RSS has passed it), so a tree of shared pages is not polled in a frenzy.
    const bytesPerMs = (current.rssBytes - previous.rssBytes) / Math.max(1, current.at - previous.at);
    if (bytesPerMs <= 0) return intervalMs;
    const msToLimit = (limitBytes - current.treeBytes) / bytesPerMs;
    return Math.min(intervalMs, Math.max(MIN_DELAY_MS, msToLimit / 2));
  }

  private sample(checkLimit: boolean): MemorySample | undefined {
    const options = this.options;
    if (!options) return undefined;
    try {
      // The final sample walks the tree afresh: what it finds is what is killed as left behind.
      const pids = this.tree!.now(!checkLimit);
      const { rssBytes } = treeMemory(pids, 0, this.kept);
      const sample: MemorySample = { at: Date.now(), pids, rssBytes, treeBytes: rssBytes };
      const limit = options.limitBytes;
      if (limit > 0 && rssBytes > limit) {
        sample.pssBytes = treePss(pids);
        sample.treeBytes = sample.pssBytes;
      }
      this.samples++;
      this.lastSample = sample;
      this.peakBytes = Math.max(this.peakBytes, sample.treeBytes);
      this.series.add(sample.at, sample.treeBytes);
      if (checkLimit && sample.pssBytes !== undefined && sample.pssBytes > limit && !this.exceeded) {
        this.exceeded = { measuredBytes: sample.pssBytes, limitBytes: limit, processes: treeMemory(pids, 5).processes };
        options.onExceeded?.(this.exceeded);
      }
      return sample;
    } catch (error) {
      this.lastError = error;
      return undefined;
    }
  }
}
