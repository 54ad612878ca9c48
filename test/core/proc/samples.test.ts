// The memory series a job record keeps: bounded while the job runs, at most 120 points, every
// spike kept, spanning the first poll to the last, times increasing.
import { describe, expect, test } from "bun:test";
import { MAX_BUCKETS, MAX_POINTS, SampleSeries } from "../../../src/core/proc/samples.ts";

const T0 = 1_700_000_000_000;
const MB = 1024 * 1024;

/** A job polled every intervalMs for durationMs, flat at 100 MB, with optional spikes at given times. */
function polled(durationMs: number, intervalMs: number, spikes: Record<number, number> = {}) {
  const series = new SampleSeries();
  let largest = 0;
  for (let t = 0; t <= durationMs; t += intervalMs) {
    series.add(T0 + t, spikes[t] ?? 100 * MB);
    largest = Math.max(largest, series.size);
  }
  return { series, largest };
}

function increasing(points: [number, number][]): boolean {
  return points.every(([t], i) => i === 0 || t > points[i - 1]![0]);
}

describe("SampleSeries", () => {
  test("no samples, no points", () => {
    expect(new SampleSeries().points(T0)).toEqual([]);
  });

  test("a few samples come back as they were, in ms since the origin", () => {
    const series = new SampleSeries();
    series.add(T0 + 3, 5 * MB);
    series.add(T0 + 53, 9 * MB);
    series.add(T0 + 303, 7 * MB);
    expect(series.points(T0)).toEqual([
      [3, 5 * MB],
      [53, 9 * MB],
      [303, 7 * MB],
    ]);
  });

  test("two samples in one bucket still span the first poll to the last", () => {
    const series = new SampleSeries();
    series.add(T0, 1 * MB);
    series.add(T0 + 4, 2 * MB);
    expect(series.points(T0)).toEqual([
      [0, 2 * MB],
      [4, 2 * MB],
    ]);
  });

  test("a 4-hour job polled every 250 ms never holds more than MAX_BUCKETS and ends with ≤ 120 points", () => {
    const hours4 = 4 * 3600_000;
    const { series, largest } = polled(hours4, 250);
    expect(largest).toBeLessThanOrEqual(MAX_BUCKETS);
    const points = series.points(T0);
    expect(points.length).toBeLessThanOrEqual(MAX_POINTS);
    expect(points.length).toBeGreaterThanOrEqual(MAX_POINTS / 2);
    expect(points[0]![0]).toBe(0); // the first poll
    expect(points.at(-1)![0]).toBe(hours4); // the last sample
    expect(increasing(points)).toBe(true);
  });

  test("a single-poll spike in hours of polls is kept, at the time it was seen", () => {
    const spikeAt = 5_432_750;
    const { series } = polled(4 * 3600_000, 250, { [spikeAt]: 900 * MB, 1_000: 50 * MB });
    const points = series.points(T0);
    const top = points.reduce((a, b) => (b[1] > a[1] ? b : a));
    expect(top).toEqual([spikeAt, 900 * MB]);
    // A dip is hidden by its neighbours (each point is its stretch's maximum); no value is invented.
    expect(points.every(([, bytes]) => bytes === 100 * MB || bytes === 900 * MB)).toBe(true);
  });

  test("the fast polls of a job near its limit (every 5 ms) are bounded too", () => {
    const { series, largest } = polled(60_000, 5, { 30_005: 300 * MB });
    expect(largest).toBeLessThanOrEqual(MAX_BUCKETS);
    const points = series.points(T0);
    expect(points.length).toBeLessThanOrEqual(MAX_POINTS);
    expect(Math.max(...points.map(([, bytes]) => bytes))).toBe(300 * MB);
    expect(increasing(points)).toBe(true);
  });

  test("sparse samples (missed polls) still thin down to the bound", () => {
    const series = new SampleSeries();
    // one sample every 2nd bucket width, so pairwise merges of neighbours find nothing at first
    for (let i = 0; i < 1000; i++) series.add(T0 + i * 20 + (i % 7), (i % 13) * MB);
    const points = series.points(T0, 50);
    expect(points.length).toBeLessThanOrEqual(50);
    expect(points.length).toBeGreaterThan(1);
    expect(Math.max(...points.map(([, bytes]) => bytes))).toBe(12 * MB);
    expect(increasing(points)).toBe(true);
  });

  test("a clock that steps back never puts a point before the one before it", () => {
    const series = new SampleSeries();
    series.add(T0 + 1000, 1 * MB);
    series.add(T0 + 400, 3 * MB); // NTP stepped the clock back
    series.add(T0 + 1500, 2 * MB);
    const points = series.points(T0);
    expect(increasing(points)).toBe(true);
    expect(points[0]![0]).toBe(1000);
    expect(Math.max(...points.map(([, bytes]) => bytes))).toBe(3 * MB);
  });
});
