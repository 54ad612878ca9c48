// What sep top remembers between refreshes: each started job's memory over the last minute.
import { expect, test } from "bun:test";
import type { ViewJob } from "../../src/core/governor/view.ts";
import { MemoryHistory } from "../../src/top/history.ts";

const job = (key: string, state: ViewJob["state"], memoryBytes: number) => ({ key, state, memoryBytes }) as ViewJob;

test("one sample per refresh for each started job; waiting jobs have none", () => {
  const history = new MemoryHistory();
  history.record({ jobs: [job("a", "running", 10), job("b", "waiting", 0), job("c", "paused", 5)] }, 1000);
  history.record({ jobs: [job("a", "running", 30), job("b", "waiting", 0), job("c", "paused", 5)] }, 2000);
  expect(history.of("a")).toEqual([{ atMs: 1000, bytes: 10 }, { atMs: 2000, bytes: 30 }]);
  expect(history.of("b")).toEqual([]);
  expect(history.of("c").length).toBe(2);
  expect(history.peak("a")).toBe(30);
});

test("samples older than the window are forgotten; so is a job that is gone", () => {
  const history = new MemoryHistory(60_000);
  history.record({ jobs: [job("a", "running", 900), job("gone", "running", 1)] }, 0);
  history.record({ jobs: [job("a", "running", 100)] }, 30_000);
  history.record({ jobs: [job("a", "running", 200)] }, 61_000);
  expect(history.of("a")).toEqual([{ atMs: 30_000, bytes: 100 }, { atMs: 61_000, bytes: 200 }]);
  expect(history.peak("a")).toBe(200);
  expect(history.of("gone")).toEqual([]);
});
