// flock(2) through bun:ffi: opening lock files safely, taking locks with or without waiting.
//
// Why flock and not O_EXCL lock files: the kernel drops a flock when its holder dies, even by
// SIGKILL, so there is never a stale lock to guess about.
import { closeSync, constants, openSync } from "node:fs";
import { SepError } from "../../errors.ts";
import { EINTR, errno, EWOULDBLOCK, libc, LOCK_EX, LOCK_NB, LOCK_SH, LOCK_UN } from "../libc.ts";
import { fsFailure } from "../store.ts";

function lockSymbols() {
  const lib = libc();
  if (!lib) {
    throw new SepError("E_NO_FLOCK", "cannot load the C library to take kernel file locks", {
      hint: "sep needs flock(2) from the C library: run it on Linux or macOS",
    });
  }
  return lib;
}

/**
 * Open (creating) a lock file. O_NOFOLLOW: never through a planted symlink. The runtime opens every
 * file close-on-exec, and Bun closes fds ≥ 3 in children anyway, so a lock never leaks into a job.
 */
export function openLockFile(path: string, create = true): number {
  try {
    return openSync(path, constants.O_RDWR | (create ? constants.O_CREAT : 0) | constants.O_NOFOLLOW, 0o600);
  } catch (error) {
    throw fsFailure("E_LOCK", "open lock file", path, error);
  }
}

/**
 * Open an existing lock file to probe it (tryLockShared, then close): read-only, never created, never
 * through a symlink. A read-only close wakes no one watching for owners letting go (turn/waker.ts).
 */
export function openLockProbe(path: string): number {
  // O_NONBLOCK: a FIFO planted under a ticket's name must not hang the open.
  return openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
}

/** An exclusive flock on an open fd without waiting: true when taken, false when someone holds it. */
export function tryLock(fd: number, path: string): boolean {
  return _tryFlock(fd, path, LOCK_EX);
}

/**
 * A shared flock on an open fd without waiting: true when taken, false when someone holds an
 * exclusive one. The probe of a file whose owner holds LOCK_EX: a shared lock means the same
 * (held = alive) and, unlike an exclusive one, works on a read-only fd where flock is emulated
 * with POSIX locks (NFS).
 */
export function tryLockShared(fd: number, path: string): boolean {
  return _tryFlock(fd, path, LOCK_SH);
}

function _tryFlock(fd: number, path: string, mode: number): boolean {
  const lib = lockSymbols();
  for (;;) {
    if (lib.flock(fd, mode | LOCK_NB) === 0) return true;
    const code = errno();
    if (code === EWOULDBLOCK) return false;
    if (code !== EINTR) throw new SepError("E_LOCK", `flock failed on ${path} (errno ${code})`);
  }
}

/** Blocking flock; only for locks held for microseconds (the ticket counter). */
export function lockBlocking(fd: number, path: string): void {
  const lib = lockSymbols();
  while (lib.flock(fd, LOCK_EX) !== 0) {
    if (errno() !== EINTR) throw new SepError("E_LOCK", `flock failed on ${path} (errno ${errno()})`);
  }
}

export function closeFd(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}
/** An exclusive flock on path without waiting: its fd (close it to release), or undefined if held. */
export function tryLockFile(path: string): number | undefined {
  const fd = openLockFile(path);
  if (tryLock(fd, path)) return fd;
  closeFd(fd);
  return undefined;
}

/**
 * Let go of a lock, then close its fd. Unlocked first, the lock is free by the time the close
 * wakes a waiter watching for it (turn/waker.ts): its first try succeeds.
 */
export function releaseLockFile(fd: number): void {
  libc()?.flock(fd, LOCK_UN);
  closeFd(fd);
}

