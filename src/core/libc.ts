// The few libc calls Bun does not expose: flock(2), waitpid(2) and, on Linux, prctl(2), through
// bun:ffi. Symbol names differ by platform (errno is __errno_location in glibc and musl, __error
// on macOS), and dlopen fails when any listed symbol is missing, so each table lists only what the
// platform has. Flags and errno values come from the runtime's own constants, never hard-coded.
import { dlopen, FFIType as T, read, type Pointer } from "bun:ffi";
import { constants } from "node:os";

const ERRNO_SYMBOL = process.platform === "darwin" ? "__error" : "__errno_location";

const symbols = {
  flock: { args: [T.i32, T.i32], returns: T.i32 },
  waitpid: { args: [T.i32, T.ptr, T.i32], returns: T.i32 },
  [ERRNO_SYMBOL]: { args: [], returns: T.ptr },
} as const;

const linuxSymbols = {
  prctl: { args: [T.i32, T.u64, T.u64, T.u64, T.u64], returns: T.i32 },
} as const;

// glibc, musl (Alpine) and macOS name their C library differently; try each.
const LIBRARY_NAMES =
  process.platform === "darwin" ? ["libc.dylib", "/usr/lib/libSystem.B.dylib"] : ["libc.so.6", "libc.musl-x86_64.so.1", "libc.musl-aarch64.so.1"];

interface Libc {
  flock(fd: number, operation: number): number;
  waitpid(pid: number, status: null, options: number): number;
  errnoLocation(): Pointer | null;
}

let _libc: Libc | null | undefined;

function open<S extends Record<string, { args: readonly T[]; returns: T }>>(table: S) {
  for (const name of LIBRARY_NAMES) {
    try {
      return dlopen(name, table).symbols;
    } catch {
      // try the next name
    }
  }
  return null;
}

/** libc's symbols, or null where no library could be opened. */
export function libc(): Libc | null {
  if (_libc !== undefined) return _libc;
  const lib = open(symbols) as Record<string, (...args: unknown[]) => unknown> | null;
  _libc = lib
    ? {
        flock: (fd, operation) => lib.flock!(fd, operation) as number,
        waitpid: (pid, status, options) => lib.waitpid!(pid, status, options) as number,
        errnoLocation: () => lib[ERRNO_SYMBOL]!() as Pointer | null,
      }
    : null;
  return _libc;
}

export function errno(): number {
  const location = libc()?.errnoLocation();
  return location ? read.i32(location, 0) : 0;
}

export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const EWOULDBLOCK = constants.errno.EWOULDBLOCK;
export const EINTR = constants.errno.EINTR;
const PR_SET_CHILD_SUBREAPER = 36;
const WNOHANG = 1;

/**
 * Make this process the reaper of its orphaned descendants, so a double-forked daemon of a job is
 * re-parented to sep (and found by a walk of sep's children) instead of to pid 1. Linux only.
 */
export function becomeSubreaper(): boolean {
  if (process.platform !== "linux") return false;
  const lib = open(linuxSymbols);
  return lib !== null && lib.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) === 0;
}

/**
 * Reap one specific zombie child. Never waitpid(-1): that would steal the exit status of the
 * children Bun itself waits for. Returns true when the pid was reaped.
 */
export function reap(pid: number): boolean {
  return libc()?.waitpid(pid, null, WNOHANG) === pid;
}
