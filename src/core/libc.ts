// The few libc calls Bun does not expose: flock(2), waitpid(2) and, on Linux, prctl(2), inotify(7) and poll(2), through
// bun:ffi. Symbol names differ by platform (errno is __errno_location in glibc and musl, __error
// on macOS), and dlopen fails when any listed symbol is missing, so each table lists only what the
// platform has. Flags and errno values come from the runtime's own constants, never hard-coded.
import { dlopen, FFIType as T, read, type Pointer } from "bun:ffi";
import { closeSync } from "node:fs";
import { constants } from "node:os";

const ERRNO_SYMBOL = process.platform === "darwin" ? "__error" : "__errno_location";

const symbols = {
  flock: { args: [T.i32, T.i32], returns: T.i32 },
  waitpid: { args: [T.i32, T.ptr, T.i32], returns: T.i32 },
  [ERRNO_SYMBOL]: { args: [], returns: T.ptr },
} as const;

const linuxSymbols = {
  prctl: { args: [T.i32, T.u64, T.u64, T.u64, T.u64], returns: T.i32 },
  inotify_init1: { args: [T.i32], returns: T.i32 },
  inotify_add_watch: { args: [T.i32, T.cstring, T.u32], returns: T.i32 },
  inotify_rm_watch: { args: [T.i32, T.i32], returns: T.i32 },
  poll: { args: [T.ptr, T.u64, T.i32], returns: T.i32 },
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

export const LOCK_SH = 1;
export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;
export const EWOULDBLOCK = constants.errno.EWOULDBLOCK;
export const EINTR = constants.errno.EINTR;
const PR_SET_CHILD_SUBREAPER = 36;
const WNOHANG = 1;

/**
 * Make this process the reaper of its orphaned descendants, so a double-forked daemon of a job is
 * re-parented to sep (and found by a walk of sep's children) instead of to pid 1. Linux only.
 */
export function becomeSubreaper(): boolean {
  const lib = linuxLibc();
  return lib !== null && lib.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) === 0;
}

let _linux: ReturnType<typeof open<typeof linuxSymbols>> | undefined;
function linuxLibc() {
  if (process.platform !== "linux") return null;
  _linux ??= open(linuxSymbols);
  return _linux;
}

/** inotify(7) events: a file opened for writing (or for reading only) was closed; an entry was deleted… */
export const IN_CLOSE_WRITE = 0x8;
export const IN_CLOSE_NOWRITE = 0x10;
export const IN_DELETE = 0x200;
/** …an entry was created, renamed out of the directory, renamed into it. */
export const IN_CREATE = 0x100;
export const IN_MOVED_FROM = 0x40;
export const IN_MOVED_TO = 0x80;
/** …a file was written to. */
export const IN_MODIFY = 0x2;
// inotify is Linux-only, and these two are its O_NONBLOCK and O_CLOEXEC on every Linux architecture
// Bun runs on (x64, arm64); the runtime's os.constants has no inotify flags to take them from.
const IN_NONBLOCK = 0o4000;
const IN_CLOEXEC = 0o2000000;

/** A new non-blocking, close-on-exec inotify fd; null where inotify is not available (not Linux, no FFI, out of instances). */
export function inotifyInit(): number | null {
  const lib = linuxLibc();
  if (!lib) return null;
  const fd = lib.inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  return fd < 0 ? null : fd;
}

/**
 * Watch each path (a file, or a directory: then the events of the entries in it) on an inotify
 * fd: the watch descriptors, or null when one cannot be watched (those already added are removed).
 * An fd watches a path once: watching it again replaces the first watch's events.
 */
export function inotifyAdd(fd: number, watches: ReadonlyArray<{ path: string; events: number }>): number[] | null {
  const lib = linuxLibc();
  if (!lib) return null;
  const added: number[] = [];
  for (const { path, events } of watches) {
    const wd = lib.inotify_add_watch(fd, Buffer.from(`${path}\0`), events);
    if (wd < 0) {
      inotifyRemove(fd, added);
      return null;
    }
    added.push(wd);
  }
  return added;
}

/**
 * Stop watches on an inotify fd. Cheap, unlike closing an fd that has watches: that waits for the
 * kernel to retire them (measured: up to 8–17 ms, the thread asleep), so a process that waits
 * often keeps one fd and adds and removes its watches.
 */
export function inotifyRemove(fd: number, wds: readonly number[]): void {
  const lib = linuxLibc();
  for (const wd of wds) lib?.inotify_rm_watch(fd, wd);
}

/** A fresh inotify fd watching each path for its events (see inotifyAdd); null where that cannot be had. */
export function inotifyWatch(watches: ReadonlyArray<{ path: string; events: number }>): number | null {
  const fd = inotifyInit();
  if (fd === null) return null;
  if (inotifyAdd(fd, watches) === null) {
    closeSync(fd);
    return null;
  }
  return fd;
}

const POLLIN = 0x1;
const POLLERR = 0x8;
const POLLNVAL = 0x20;

/**
 * Block this thread until fd is readable, up to timeoutMs: poll(2) on the calling thread, so the
 * event loop stands still meanwhile. A signal with a handler (Bun's, for process.on) ends the
 * block at once with "interrupted": the kernel hands a process's signal to its main thread when
 * that thread does not block it, and poll is never restarted after a handler. The handler itself
 * runs once the caller yields to the event loop. null where poll cannot be called (not Linux, no
 * FFI) or the fd cannot be waited on (closed behind the caller's back: POLLNVAL; POLLERR): a
 * caller that took that for "ready" would spin.
 */
export function pollReadable(fd: number, timeoutMs: number): "ready" | "timeout" | "interrupted" | null {
  const lib = linuxLibc();
  if (!lib) return null;
  // struct pollfd { int fd; short events; short revents; }, in the machine's byte order
  _pollFd[0] = fd;
  _pollEvents[2] = POLLIN;
  _pollEvents[3] = 0;
  const n = lib.poll(_pollFd, 1, Math.max(0, Math.floor(timeoutMs)));
  if (n > 0) return (_pollEvents[3]! & (POLLNVAL | POLLERR)) === 0 ? "ready" : null;
  if (n === 0) return "timeout";
  return errno() === EINTR ? "interrupted" : null;
}
const _pollFd = new Int32Array(2);
const _pollEvents = new Int16Array(_pollFd.buffer);

/**
 * Reap one specific zombie child. Never waitpid(-1): that would steal the exit status of the
 * children Bun itself waits for. Returns true when the pid was reaped.
 */
export function reap(pid: number): boolean {
  return libc()?.waitpid(pid, null, WNOHANG) === pid;
}
