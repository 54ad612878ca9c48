// Leftovers of a crashed holder: the job of a sep that died (even by SIGKILL) keeps running,
// detached. Before the next job of that slot starts, its processes are found and killed.
import { JOB_MARKER } from "../executor.ts";
import type { Holder } from "./slots.ts";
import { findByMarker, isAlive, killTree, processesInGroup, processStartTime } from "../proc/index.ts";

/** The processes of holder's job still alive: its process group, plus anything carrying its marker. */
export function leftoverProcesses(holder: Holder): number[] {
  const found = new Set(findByMarker(JOB_MARKER, holder.jobId));
  if (holder.pgid) {
    // A group id is not reused while any member lives. If a *different* process now has the
    // leader's pid (its start time differs), our group is gone and this group is someone else's.
    const leaderReused =
      isAlive(holder.pgid) && holder.leaderStartTime !== undefined && processStartTime(holder.pgid) !== holder.leaderStartTime;
    if (!leaderReused) for (const pid of processesInGroup(holder.pgid)) found.add(pid);
  }
  return [...found].filter((pid) => pid !== process.pid && isAlive(pid));
}

/** TERM, up to graceMs, then KILL. Returns the pids that were found. */
export async function killLeftovers(holder: Holder, graceMs: number): Promise<number[]> {
  const pids = leftoverProcesses(holder);
  if (pids.length === 0) return [];
  killTree({ pgid: holder.pgid, pids, signal: "SIGTERM" });
  // A job its crashed sep had paused is stopped: continue it so the TERM is delivered.
  killTree({ pgid: holder.pgid, pids, signal: "SIGCONT" });
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && pids.some(isAlive)) await Bun.sleep(10);
  const survivors = leftoverProcesses(holder);
  if (survivors.length > 0) killTree({ pgid: holder.pgid, pids: survivors, signal: "SIGKILL" });
  return pids;
}
