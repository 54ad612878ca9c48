// Slots: `slots` kernel-locked places per scope. A holder records who it is (and, once spawned, its
// job's process group) in its slot file, so after a crash the next holder finds what was left.
import { existsSync, readdirSync } from "node:fs";
import { lockLayout } from "../paths.ts";
import { readJson, unlinkSafe, writeJsonAtomic } from "../store.ts";
import { closeFd, releaseLockFile, tryLockFile } from "./flock.ts";

/** Who holds (or waits for) a turn; stored in ticket and slot files for status and cleanup. */
export interface Holder {
  pid: number;
  /** start time of `pid` in clock ticks since boot, so a reused pid is not mistaken for the holder */
  pidStartTime?: number;
  runId: string;
  jobId: string;
  name: string;
  argv: string[];
  cwd: string;
  /** the holder's project root (a machine scope spans projects); absent in files of older seps */
  projectRoot?: string;
  /** where the holder's run records live (scopes may span projects) */
  logDir: string;
  createdAt: string;
  startedAt?: string;
  /** process group of the running job (its leader's pid); set once the job is spawned */
  pgid?: number;
  leaderStartTime?: number;
}

export interface Turn {
  slot: number;
  /** the record a crashed previous holder of this slot left behind: its processes may still run */
  leftover?: Holder;
  /** note the running job in the slot file, so a later sep can clean up after a crash of ours */
  recordHolder(holder: Holder): void;
  release(): void;
}

/** Current slot holders of a scope, as recorded (for messages and status). */
export function readHolders(lockDir: string, slots: number): Holder[] {
  const layout = lockLayout(lockDir);
  const holders: Holder[] = [];
  for (let slot = 0; slot < slots; slot++) {
    const holder = readJson<Holder>(layout.slotHolder(slot));
    if (holder) holders.push(holder);
  }
  return holders;
}

/**
 * The holder records of every slot file in a lock dir, in slot order, for a viewer that does not
 * know the scope's slot count (another project's lock dir). Read-only; records of dead holders are
 * included (check liveness with the pid and its start time).
 */
export function listHolders(lockDir: string): Holder[] {
  const layout = lockLayout(lockDir);
  let names: string[];
  try {
    names = readdirSync(layout.slotsDir);
  } catch {
    return [];
  }
  const slots = names.flatMap((name) => (/^\d+\.json$/.test(name) ? [Number.parseInt(name, 10)] : [])).sort((a, b) => a - b);
  return slots.flatMap((slot) => readJson<Holder>(layout.slotHolder(slot)) ?? []);
}

/**
 * Free slots that hold the record of a holder that died (its flock is gone, its record is not):
 * hand each such record to cleanUp (kill its leftovers, close its run), then remove it. A slot
 * whose lock is held is left alone; the slot lock is held only for the moment of the check.
 */
export async function reclaimAbandonedSlots(lockDir: string, slots: number, cleanUp: (holder: Holder) => Promise<void>): Promise<void> {
  const layout = lockLayout(lockDir);
  for (let slot = 0; slot < slots; slot++) {
    if (!existsSync(layout.slotHolder(slot))) continue;
    const fd = tryLockFile(layout.slotLock(slot));
    if (fd === undefined) continue;
    try {
      const holder = readJson<Holder>(layout.slotHolder(slot));
      if (holder) await cleanUp(holder);
      unlinkSafe(layout.slotHolder(slot));
    } finally {
      closeFd(fd);
    }
  }
}

export function takeSlot(layout: ReturnType<typeof lockLayout>, slot: number, fd: number): Turn {
  // The previous holder deletes its slot file when it finishes; a file still here means it died
  // without cleaning up, and its job's processes may still be running.
  const holderPath = layout.slotHolder(slot);
  const leftover = readJson<Holder>(holderPath);
  let released = false;
  return {
    slot,
    leftover,
    recordHolder: (holder) => writeJsonAtomic(holderPath, holder),
    release: () => {
      if (released) return;
      released = true;
      unlinkSafe(holderPath);
      releaseLockFile(fd);
    },
  };
}
