// A sep started inside a sep job of the same scope (a git hook under `sep -- git commit`) already
// runs in that job's turn: it must not wait for a turn of its own, which would wait for itself.
import type { ResolvedConfig } from "../../config.ts";
import { JOB_MARKER } from "../executor.ts";
import { isSameProcess } from "../proc/index.ts";
import { readHolders, type Turn } from "./slots.ts";

/**
 * Does this sep run inside a sep job that holds a slot of this scope right now? SEP_JOB_ID is
 * inherited by every descendant of a job; a sep started inside one — a git hook under
 * `sep -- git commit`, a script under `sep -- ./ci.sh` — already runs in that job's turn, and
 * taking a turn of its own would wait for itself forever. It runs at once, still inside its own
 * limits and the outer job's. The marker alone is not trusted: the outer job must be a live holder
 * of this scope's slots (a variable copied into a shell by hand, or a job of another project's
 * queue, takes its turn as usual).
 */
export function insideHoldingJob(config: ResolvedConfig, env: NodeJS.ProcessEnv = process.env): boolean {
  const outer = env[JOB_MARKER];
  if (!outer) return false;
  return readHolders(config.lockDir, config.slots).some(
    (holder) => holder.jobId === outer && isSameProcess(holder.pid, holder.pidStartTime),
  );
}

/** The turn a nested sep runs in: the outer job's, so there is nothing to take or release. */
export const NESTED_TURN: Turn = { slot: -1, recordHolder: () => {}, release: () => {} };
