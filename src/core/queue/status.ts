// A snapshot of a scope for `sep queue status`: what runs, who waits for a turn, what is stored.
// Read-only: it creates no files (a scope never used shows as empty).
import type { ResolvedConfig } from "../../config.ts";
import { currentDrain, type DrainInfo } from "./drain.ts";
import { type Holder, readHolders } from "../turn/slots.ts";
import { readWaiting } from "../turn/tickets.ts";
import { descendants, isSameProcess, treeMemory } from "../proc/index.ts";
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
}

export interface WaitingInvocation {
  pid: number;
  name: string;
  argv: string[];
  cwd: string;
  since: string;
  waitMs: number;
}

export interface QueuedJob extends QueueEntry {
  waitMs: number;
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

export function queueStatus(config: ResolvedConfig, now = Date.now()): QueueStatus {
  const running = readHolders(config.lockDir, config.slots)
    .filter(holderAlive)
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
    }));
  const waiting = readWaiting(config.lockDir).map((holder) => ({
    pid: holder.pid,
    name: holder.name,
    argv: holder.argv,
    cwd: holder.cwd,
    since: holder.createdAt,
    waitMs: now - Date.parse(holder.createdAt),
  }));
  const listing = listQueue(config.lockDir);
  return {
    running,
    waiting,
    queued: listing.entries.map((entry) => ({ ...entry, waitMs: now - Date.parse(entry.addedAt) })),
    corrupt: listing.corrupt,
    drain: currentDrain(config.lockDir) ?? null,
    paused: isPaused(config.lockDir),
  };
}
