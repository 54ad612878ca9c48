// A job's memory over time in bounded space: the poller's samples fall into time buckets that keep
// their highest value; when one more bucket would pass MAX_BUCKETS, neighbours merge pairwise and the
// width doubles. A job polled every 250 ms for hours holds MAX_BUCKETS buckets, and no spike is lost.

/** One point of a job record's `memorySamples`: ms since the job started, and the tree's bytes. */
export type SamplePoint = [msSinceStart: number, bytes: number];

/** Buckets kept while the job runs. */
export const MAX_BUCKETS = 240;
/** Points a job record keeps (DESIGN §6 `memorySamples`). */
export const MAX_POINTS = 120;
/**
 * The starting width. Merging doubles it: 240 buckets of 10 ms cover 2.4 s, and a 4 h job ends up
 * with buckets of about 82 s (2^13 × 10 ms). Below the poll interval the buckets hold one sample each.
 */
const FIRST_WIDTH_MS = 10;

interface Bucket {
  /** floor((time - origin) / width): neighbours at the same width share index / 2 after a merge */
  index: number;
  firstAt: number;
  lastAt: number;
  maxAt: number;
  max: number;
}

export class SampleSeries {
  private buckets: Bucket[] = [];
  private widthMs = FIRST_WIDTH_MS;
  private origin: number | undefined;
  private lastAt = Number.NEGATIVE_INFINITY;

  /** Buckets held now (never more than MAX_BUCKETS). */
  get size(): number {
    return this.buckets.length;
  }

  /** One sample: `at` a Date.now() time, `bytes` what it counts towards the peak. */
  add(at: number, bytes: number): void {
    // The wall clock can step back (NTP); a sample is never placed before the one before it.
    at = Math.max(at, this.lastAt);
    this.lastAt = at;
    this.origin ??= at;
    let index = Math.floor((at - this.origin) / this.widthMs);
    while (index >= MAX_BUCKETS) {
      this.buckets = _halve(this.buckets);
      this.widthMs *= 2;
      index = Math.floor(index / 2);
    }
    const last = this.buckets.at(-1);
    if (last?.index !== index) {
      this.buckets.push({ index, firstAt: at, lastAt: at, maxAt: at, max: bytes });
      return;
    }
    last.lastAt = at;
    if (bytes > last.max) {
      last.max = bytes;
      last.maxAt = at;
    }
  }

  /**
   * At most maxPoints points, times in ms since originMs, strictly increasing. Each is a bucket's
   * highest value at the time it was seen, except that the first point is placed at the first
   * sample and the last at the last one, so the series spans the whole watch.
   */
  points(originMs: number, maxPoints = MAX_POINTS): SamplePoint[] {
    let buckets = this.buckets;
    // Each halving merges index pairs; sparse buckets may need more than one round.
    while (buckets.length > Math.max(2, maxPoints)) buckets = _halve(buckets);
    const only = buckets.length === 1 ? buckets[0]! : undefined;
    if (only && only.lastAt > only.firstAt) {
      return [_point(only.firstAt, only.max, originMs), _point(only.lastAt, only.max, originMs)];
    }
    const lastIndex = buckets.length - 1;
    return buckets.map((bucket, i) => _point(i === 0 ? bucket.firstAt : i === lastIndex ? bucket.lastAt : bucket.maxAt, bucket.max, originMs));
  }
}

function _point(at: number, bytes: number, originMs: number): SamplePoint {
  return [Math.round(at - originMs), Math.round(bytes)];
}

/** The same samples at twice the width: buckets whose index / 2 is equal become one, keeping the max. */
function _halve(buckets: Bucket[]): Bucket[] {
  const merged: Bucket[] = [];
  for (const bucket of buckets) {
    const index = Math.floor(bucket.index / 2);
    const last = merged.at(-1);
    if (last?.index !== index) {
      merged.push({ ...bucket, index });
      continue;
    }
    last.lastAt = bucket.lastAt;
    if (bucket.max > last.max) {
      last.max = bucket.max;
      last.maxAt = bucket.maxAt;
    }
  }
  return merged;
}
