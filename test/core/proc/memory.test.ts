import { afterEach, describe, expect, test } from "bun:test";
import { MemoryWatch, type MemoryExceeded } from "../../../src/core/proc/memory.ts";
import { fixture, killSpawned, MiB, spawnTracked, waitFor, waitForOutput } from "../../helpers.ts";

const watches: MemoryWatch[] = [];
function watch(): MemoryWatch {
  const w = new MemoryWatch();
  watches.push(w);
  return w;
}

afterEach(async () => {
  for (const w of watches.splice(0)) w.stop();
  await killSpawned();
});

// The watch walks this test process's descendants, as sep walks its own.
describe.if(process.platform === "linux")("MemoryWatch", () => {
  test("fires once for an allocator passing the limit, with the biggest processes", async () => {
    const calls: MemoryExceeded[] = [];
    const w = watch();
    const child = spawnTracked([fixture("alloc.py"), "400", "400", "30"]);
    w.start({ rootPid: process.pid, limitBytes: 100 * MiB, intervalMs: 25, onExceeded: (info) => calls.push(info) });

    const info = await waitFor(() => calls[0], 10_000, "onExceeded");
    expect(info.limitBytes).toBe(100 * MiB);
    expect(info.measuredBytes).toBeGreaterThan(100 * MiB);
    expect(info.processes.length).toBeGreaterThanOrEqual(1);
    expect(info.processes.length).toBeLessThanOrEqual(5);
    expect(info.processes[0]).toMatchObject({ pid: child.pid });
    expect(info.processes[0]!.command).toContain("alloc.py 400");
    expect(info.processes[0]!.rssBytes).toBeGreaterThan(100 * MiB);
    expect(w.exceeded).toEqual(info);
    expect(w.peakBytes).toBeGreaterThanOrEqual(info.measuredBytes);

    // Still polling (the peak keeps counting), but never a second call.
    const seen = w.samples;
    await waitFor(() => w.samples >= seen + 4, 5000, "more polls");
    expect(calls).toHaveLength(1);
  });

  test("does not fire for a fork tree whose RSS sum passes the limit but PSS does not", async () => {
    // 150 MB shared copy-on-write by a parent and 6 children: RSS sum ≈ 1.1 GB, PSS sum ≈ 170 MB.
    const calls: MemoryExceeded[] = [];
    const limitBytes = 400 * MiB;
    const w = watch();
    const child = spawnTracked([fixture("shared-pages.py"), "6", "150", "30"]);
    await waitForOutput(child.stdout, "ready", 10_000);
    w.start({ rootPid: process.pid, limitBytes, intervalMs: 25, onExceeded: (info) => calls.push(info) });

    // Several polls that read PSS because the RSS sum was over the limit.
    const confirmed = new Set<number>();
    await waitFor(() => {
      if (w.lastSample?.pssBytes !== undefined) confirmed.add(w.samples);
      return confirmed.size >= 5;
    }, 10_000, "5 polls with the RSS sum over the limit", 5);

    const sample = w.lastSample!;
    expect(sample.pids.length).toBe(7);
    expect(sample.rssBytes).toBeGreaterThan(900 * MiB);
    expect(sample.pssBytes!).toBeGreaterThan(140 * MiB);
    expect(sample.pssBytes!).toBeLessThan(limitBytes);
    expect(calls).toEqual([]);
    expect(w.exceeded).toBeUndefined();
    // The peak counts PSS on those polls, so it stays below the limit the tree never really passed.
    expect(w.peakBytes).toBeGreaterThan(140 * MiB);
    expect(w.peakBytes).toBeLessThan(limitBytes);
  });

  test("with no limit: the peak is the RSS sum and PSS is never read", async () => {
    const w = watch();
    const child = spawnTracked([fixture("alloc.py"), "80", "0", "30"]);
    w.start({ rootPid: process.pid, limitBytes: 0, intervalMs: 25 });
    await waitForOutput(child.stderr, "holding", 10_000);
    await waitFor(() => w.peakBytes > 80 * MiB, 5000, "the peak over 80 MB");
    expect(w.lastSample?.pssBytes).toBeUndefined();
    expect(w.exceeded).toBeUndefined();
  });

  test("samples at once on start; stop() ends polling; sampleNow() still records the peak", async () => {
    const w = watch();
    w.start({ rootPid: process.pid, limitBytes: 0, intervalMs: 20 });
    expect(w.samples).toBe(1); // the immediate sample
    await waitFor(() => w.samples >= 3, 5000, "polls on schedule");
    w.stop();
    const stopped = w.samples;
    await Bun.sleep(100);
    expect(w.samples).toBe(stopped);

    const child = spawnTracked([fixture("alloc.py"), "50", "0", "30"]);
    await waitForOutput(child.stderr, "holding", 10_000);
    const sample = w.sampleNow();
    expect(sample?.pids).toContain(child.pid);
    expect(w.peakBytes).toBeGreaterThan(50 * MiB);
    expect(w.samples).toBe(stopped + 1);
  });

  test("every sample, the final one too, goes into the series: its highest point is the peak", async () => {
    const w = watch();
    const origin = Date.now();
    const child = spawnTracked([fixture("alloc.py"), "60", "300", "30"]);
    w.start({ rootPid: process.pid, limitBytes: 0, intervalMs: 20 });
    await waitForOutput(child.stderr, "holding", 10_000);
    await waitFor(() => w.peakBytes > 60 * MiB, 5000, "the peak over 60 MB");
    w.stop();
    const final = w.sampleNow()!;
    const points = w.series.points(origin);
    expect(points.length).toBeGreaterThanOrEqual(3);
    expect(Math.max(...points.map(([, bytes]) => bytes))).toBe(w.peakBytes);
    expect(points[0]![1]).toBeLessThan(60 * MiB); // the first poll, before the allocation
    expect(points.at(-1)![0]).toBe(final.at - origin);

    // A new start() is a new job: a new series.
    w.start({ rootPid: process.pid, limitBytes: 0, intervalMs: 20 });
    expect(w.series.points(origin)).toHaveLength(1);
  });

  test("a root that does not exist gives empty samples, never an error", async () => {
    const w = watch();
    w.start({ rootPid: 999_999_999, limitBytes: 1, intervalMs: 10 });
    await waitFor(() => w.samples >= 3, 5000, "polls");
    expect(w.lastSample).toMatchObject({ pids: [], rssBytes: 0, treeBytes: 0 });
    expect(w.peakBytes).toBe(0);
    expect(w.lastError).toBeUndefined();
  });

  test("an onExceeded that throws does not break the poller", async () => {
    const w = watch();
    spawnTracked([fixture("alloc.py"), "100", "0", "30"]);
    w.start({
      rootPid: process.pid,
      limitBytes: 50 * MiB,
      intervalMs: 20,
      onExceeded: () => {
        throw new Error("boom");
      },
    });
    await waitFor(() => w.exceeded, 10_000, "the breach");
    const seen = w.samples;
    await waitFor(() => w.samples >= seen + 3, 5000, "polls after the throw");
    expect((w.lastError as Error).message).toBe("boom");
  });
});
