// What each job in the ledger uses right now, read from /proc: no entry is rewritten for it.
import { descendants, isSameProcess, treeMemory } from "../proc/index.ts";
import type { LedgerEntry } from "./ledger.ts";

/**
 * Current memory of each entry's job, by entry seq: the RSS sum of the descendants of its sep's pid
 * (the job, and with the subreaper its escaped daemons). RSS, not PSS: PSS walks page tables
 * (BUN_NOTES §4) and this runs every round for every job; RSS counts shared pages once per
 * sharer, so it errs high, which here means a pause a little early rather than an OOM. When one
 * sep pid holds several admitted entries (a test, or a future sep running jobs side by side), its
 * descendants cannot be split by pid: each entry counts its own leader's subtree instead.
 * A waiting entry, or one whose job has not started, uses 0. `known`: figures already measured
 * (a sep's own job, from its memory poller), by seq; those trees are not walked again.
 */
export function jobMemory(entries: readonly LedgerEntry[], known?: ReadonlyMap<number, number>): Map<number, number> {
  const memory = new Map<number, number>(known);
  const perPid = new Map<number, number>();
  for (const entry of entries) if (entry.state !== "waiting") perPid.set(entry.pid, (perPid.get(entry.pid) ?? 0) + 1);
  for (const entry of entries) {
    if (entry.state === "waiting") {
      memory.set(entry.seq, 0);
      continue;
    }
    if (known?.has(entry.seq)) continue;
    let pids: number[] = [];
    if (perPid.get(entry.pid) === 1) pids = descendants(entry.pid);
    else if (entry.pgid && isSameProcess(entry.pgid, entry.leaderStartTime)) pids = [entry.pgid, ...descendants(entry.pgid)];
    memory.set(entry.seq, pids.length > 0 ? treeMemory(pids, 0).rssBytes : 0);
  }
  return memory;
}
