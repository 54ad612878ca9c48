// How far the caller of a detached run has read each job's log, so `sep wait` prints only what it
// has not seen yet. Kept beside the run's records; malformed or missing means from the start.
import { logLayout } from "../paths.ts";
import { readJson, writeJsonAtomic } from "../store.ts";

/** Bytes already read, by job number. */
export type SeenOffsets = Map<number, number>;

export function readSeen(logDir: string, runId: string): SeenOffsets {
  const stored = readJson<Record<string, unknown>>(logLayout(logDir).seen(runId)) ?? {};
  const seen: SeenOffsets = new Map();
  for (const [n, offset] of Object.entries(stored)) {
    if (/^\d+$/.test(n) && Number.isSafeInteger(offset) && (offset as number) >= 0) seen.set(Number(n), offset as number);
  }
  return seen;
}

export function saveSeen(logDir: string, runId: string, seen: SeenOffsets): void {
  writeJsonAtomic(logLayout(logDir).seen(runId), Object.fromEntries(seen));
}
