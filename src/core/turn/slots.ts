// Slots: `slots` kernel-locked places per scope. A holder records who it is (and, once spawned, its
// job's process group) in its slot files, so after a crash the next holder finds what was left.
//
// Two files, not one rewritten: `N.json` before the spawn (who holds the slot, and the job id whose
// SEP_JOB_ID marker finds its processes), `N.started.json` after it (the same, with the process
// group; with the governor on, whose ledger has the group at once, only once the job has run for a
// moment, so a job that ends sooner never writes it: job/in-turn.ts). A second write to a fresh
// name is a file created and, at release, deleted; rewriting one name would be a replace, which
// ext4 forces to the disk at once (and whose deletion a disk mounted with `discard` then waits
// for), once per job on the path of every hand-over. Readers take the started record when there is
// one.
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
  /** note the job in the slot's files (before its spawn, and with its pgid after), so a later sep can clean up after a crash of ours */
  recordHolder(holder: Holder): void;
  release(): void;
}

type LockLayout = ReturnType<typeof lockLayout>;

/** A slot's holder as last recorded: its started record (with the job's process group) if it has one. */
function readSlot(layout: LockLayout, slot: number): Holder | undefined {
  return readJson<Holder>(layout.slotStarted(slot)) ?? readJson<Holder>(layout.slotHolder(slot));
}

/** Forget a slot's holder: the started record first, so no moment shows a started job without its holder. */
function clearSlot(layout: LockLayout, slot: number): void {
  unlinkSafe(layout.slotStarted(slot));
  unlinkSafe(layout.slotHolder(slot));
}

/** Current slot holders of a scope, as recorded (for messages and status). */
export function readHolders(lockDir: string, slots: number): Holder[] {
  const layout = lockLayout(lockDir);
  const holders: Holder[] = [];
  for (let slot = 0; slot < slots; slot++) {
    const holder = readSlot(layout, slot);
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
  return slots.flatMap((slot) => readSlot(layout, slot) ?? []);
}

/**
 * Free slots that hold the record of a holder that died (its flock is gone, its record is not):
 * hand each such record to cleanUp (kill its leftovers, close its run), then remove it. A slot
 * whose lock is held is left alone; the slot lock is held only for the moment of the check.
 */
export async function reclaimAbandonedSlots(lockDir: string, slots: number, cleanUp: (holder: Holder) => Promise<void>): Promise<void> {
  const layout = lockLayout(lockDir);
  for (let slot = 0; slot < slots; slot++) {
    if (!existsSync(layout.slotHolder(slot)) && !existsSync(layout.slotStarted(slot))) continue;
    const fd = tryLockFile(layout.slotLock(slot));
    if (fd === undefined) continue;
    try {
      const holder = readSlot(layout, slot);
      if (holder) await cleanUp(holder);
      clearSlot(layout, slot);
    } finally {
      closeFd(fd);
    }
  }
}

export function takeSlot(layout: LockLayout, slot: number, fd: number): Turn {
  // The previous holder deletes its slot files when it finishes; a file still here means it died
  // without cleaning up, and its job's processes may still be running.
  const leftover = readSlot(layout, slot);
  let stale = leftover !== undefined;
  let released = false;
  return {
    slot,
    leftover,
    recordHolder: (holder) => {
      if (released) return; // a late write must never stand for the slot's next holder
      if (holder.pgid !== undefined) return writeJsonAtomic(layout.slotStarted(slot), holder);
      // A dead holder's started record must not stand for this holder's job.
      if (stale) unlinkSafe(layout.slotStarted(slot));
      stale = false;
      writeJsonAtomic(layout.slotHolder(slot), holder);
    },
    release: () => {
      if (released) return;
      released = true;
      clearSlot(layout, slot);
      releaseLockFile(fd);
    },
  };
}
