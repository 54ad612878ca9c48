// State on disk: private directories, atomic JSON writes (temp + rename), tolerant reads.
import { closeSync, fsyncSync, lstatSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { constants, type Stats } from "node:fs";
import { SepError } from "../errors.ts";

const uid = typeof process.getuid === "function" ? process.getuid() : -1;

/**
 * Create dir (and parents) with mode 0700 and check it is safe to write into: a real directory,
 * not a symlink, owned by us. Logs may hold secrets a command printed, and another user's or a
 * symlinked dir could redirect our writes.
 */
export function ensurePrivateDir(dir: string): void {
  try {
    // The common case, on every run: the dir exists; one lstat checks it.
    _checkPrivateDir(dir, lstatSync(dir));
    return;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new SepError("E_STATE_DIR", `cannot create ${dir}: ${(error as NodeJS.ErrnoException).code ?? error}`, {
      cause: error,
      hint: "check the path and its permissions, or point the setting elsewhere (see `sep config`)",
    });
  }
  _checkPrivateDir(dir, lstatSync(dir));
}

function _checkPrivateDir(dir: string, stat: Stats): void {
  if (stat.isSymbolicLink()) {
    throw new SepError("E_UNSAFE_STATE_DIR", `refusing to use ${dir}: it is a symlink`, {
      hint: "remove the symlink, or point the setting at a real directory of your own",
    });
  }
  if (!stat.isDirectory()) {
    throw new SepError("E_STATE_DIR", `cannot use ${dir}: it is not a directory`, {
      hint: "remove it, or point the setting at a directory",
    });
  }
  if (uid >= 0 && stat.uid !== uid) {
    throw new SepError("E_UNSAFE_STATE_DIR", `refusing to use ${dir}: it belongs to uid ${stat.uid}, not to you (uid ${uid})`, {
      hint: "use a state directory of your own",
    });
  }
}

let tempCounter = 0;

/**
 * Write data to path atomically: a reader sees the old file or the new one, never half of one.
 * O_EXCL|O_NOFOLLOW on the temp name means we never write through a planted symlink. A failure
 * (disk full, read-only, gone) is a SepError naming the file, and leaves no temp file behind.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, options: { fsync?: boolean } = {}): void {
  const temp = `${path}.${process.pid}.${++tempCounter}.tmp`;
  let fd: number | undefined;
  try {
    fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    const bytes = typeof data === "string" ? Buffer.from(data) : data;
    for (let offset = 0; offset < bytes.length; ) offset += writeSync(fd, bytes, offset);
    if (options.fsync) fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(temp, path);
  } catch (error) {
    if (fd !== undefined) closeSync(fd);
    unlinkSafe(temp);
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new SepError("E_STATE_WRITE", `cannot write ${path}: ${code}`, { cause: error, hint: "check the disk space and permissions there" });
  }
}

export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** Parse a JSON file; a missing, unreadable or malformed file is absent (undefined), never a crash. */
export function readJson<T>(path: string): T | undefined {
  try {
    const value = JSON.parse(readFileSync(path, "utf8"));
    return value !== null && typeof value === "object" ? (value as T) : undefined;
  } catch {
    return undefined;
  }
}

export function unlinkSafe(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}
