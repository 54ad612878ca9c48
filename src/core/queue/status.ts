// A snapshot of a scope for `sep queue status`: what runs, who waits for a turn, what is stored.
// Read-only: it creates no files (a scope never used shows as empty).
import type { ResolvedConfig } from "../../config.ts";
import { currentDrain, type DrainInfo } from "./drain.ts";
import { type Holder, readHolders } from "../turn/slots.ts";
import { readWaiting } from "../turn/tickets.ts";
import { descendants, isSameProcess, treeMemory } from "../proc/index.ts";
import { etaReader } from "../governor/index.ts";
import { isPaused, listQueue, type QueueEntry } from "./entries.ts";

export interface RunningJob {
  pid: number;
  runId: string;
  jobId: string;
  name: string;
  argv: string[];
  cwd: string;
  startedAt: string | null;
  elapsedMs: number | null;
  /** RSS sum of the job's process tree now */
  memoryBytes: number;
  /** ms its command usually takes (core/governor/eta.ts); null when not known */
  expectedMs: number | null;
  /** ms it is expected to run on; null when not known, or it already runs longer than usual */
  leftMs: number | null;
}

export interface WaitingInvocation {
  pid: number;
  name: string;
  argv: string[];
  cwd: string;
  since: string;
  waitMs: number;
  expectedMs: number | null;
  /** ms until its turn is expected to come; null when not known */
  startsInMs: number | null;
}

export interface QueuedJob extends QueueEntry {
  waitMs: number;
  /** ms its command usually takes; null when not known */
  expectedMs: number | null;
}

export interface QueueStatus {
  running: RunningJob[];
  waiting: WaitingInvocation[];
  queued: QueuedJob[];
  /** stored files that are not valid jobs */
  corrupt: string[];
  drain: DrainInfo | null;
  paused: boolean;
}

function holderAlive(holder: Holder): boolean {
  return isSameProcess(holder.pid, holder.pidStartTime);
}

/**
 * ETAs: the scope's line is its slots, their holders and the invocations waiting for a turn; a
 * stored job's is how long its command usually takes (when it starts depends on `queue start`).
 */
export function queueStatus(config: ResolvedConfig, now = Date.now()): QueueStatus {
  const eta = etaReader({ now });
  const holders = readHolders(config.lockDir, config.slots).filter(holderAlive);
  const tickets = readWaiting(config.lockDir);
  const starts = eta.startsInMs({ capacity: config.slots, running: holders, waiting: tickets });
  const running = holders
    .map((holder) => ({
      pid: holder.pid,
      runId: holder.runId,
      jobId: holder.jobId,
      name: holder.name,
      argv: holder.argv,
      cwd: holder.cwd,
      startedAt: holder.startedAt ?? null,
      elapsedMs: holder.startedAt ? now - Date.parse(holder.startedAt) : null,
      memoryBytes: treeMemory(descendants(holder.pid), 0).rssBytes,
      expectedMs: eta.expectedDurationMs(holder),
      leftMs: eta.leftMs(holder),
    }));
  const waiting = tickets.map((holder, i) => ({
    pid: holder.pid,
    name: holder.name,
    argv: holder.argv,
    cwd: holder.cwd,
    since: holder.createdAt,
    waitMs: now - Date.parse(holder.createdAt),
    expectedMs: eta.expectedDurationMs(holder),
    startsInMs: starts[i] ?? null,
  }));
  const listing = listQueue(config.lockDir);
  return {
    running,
    waiting,
    queued: listing.entries.map((entry) => ({
      ...entry,
      waitMs: now - Date.parse(entry.addedAt),
      expectedMs: eta.expectedDurationMs({ argv: entry.argv, cwd: entry.cwd, projectRoot: config.root, logDir: config.logDir }),
    })),
    corrupt: listing.corrupt,
    drain: currentDrain(config.lockDir) ?? null,
    paused: isPaused(config.lockDir),
  };
}
