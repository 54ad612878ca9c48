// The few libc calls Bun does not expose: flock(2), prctl(2) and waitpid(2), through bun:ffi.
import { dlopen, FFIType as T, read, type Pointer } from "bun:ffi";

const symbols = {
  open: { args: [T.cstring, T.i32, T.i32], returns: T.i32 },
  close: { args: [T.i32], returns: T.i32 },
  flock: { args: [T.i32, T.i32], returns: T.i32 },
  prctl: { args: [T.i32, T.u64, T.u64, T.u64, T.u64], returns: T.i32 },
  waitpid: { args: [T.i32, T.ptr, T.i32], returns: T.i32 },
  __errno_location: { args: [], returns: T.ptr },
} as const;

type Libc = ReturnType<typeof dlopen<typeof symbols>>["symbols"];

// glibc, musl (Alpine) and macOS name their C library differently; try each.
const LIBRARY_NAMES = ["libc.so.6", "libc.musl-x86_64.so.1", "libc.musl-aarch64.so.1", "libc.dylib"];

let _libc: Libc | null | undefined;

/** libc's symbols, or null where no library could be opened (sep then uses its fallbacks). */
export function libc(): Libc | null {
  if (_libc !== undefined) return _libc;
  _libc = null;
  for (const name of LIBRARY_NAMES) {
    try {
      _libc = dlopen(name, symbols).symbols;
      break;
    } catch {
      // try the next name
    }
  }
  return _libc;
}

export function errno(): number {
  const lib = libc();
  if (!lib) return 0;
  return read.i32(lib.__errno_location() as Pointer, 0);
}

export const O_RDWR = 0o2;
export const O_CREAT = 0o100;
export const O_NOFOLLOW = 0o400000;
export const O_CLOEXEC = 0o2000000;
export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;
export const EWOULDBLOCK = 11;
export const EINTR = 4;
const PR_SET_CHILD_SUBREAPER = 36;
const WNOHANG = 1;

/**
 * Make this process the reaper of its orphaned descendants, so a double-forked daemon of a job is
 * re-parented to sep (and found by a walk of sep's children) instead of to pid 1. Linux only.
 */
export function becomeSubreaper(): boolean {
  const lib = libc();
  if (!lib || process.platform !== "linux") return false;
  return lib.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) === 0;
}

/**
 * Reap one specific zombie child. Never waitpid(-1): that would steal the exit status of the
 * children Bun itself waits for. Returns true when the pid was reaped.
 */
export function reap(pid: number): boolean {
  const lib = libc();
  if (!lib) return false;
  return lib.waitpid(pid, null, WNOHANG) === pid;
}
