// State on disk: private directories, atomic JSON writes (temp + rename), tolerant reads.
import { closeSync, fsyncSync, lstatSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { constants, type Stats } from "node:fs";
import { dirname } from "node:path";
import { type ErrorCode, SepError } from "../errors.ts";

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
    if (error instanceof SepError) throw error;
    // ENOTDIR: a parent is a regular file; EACCES: a parent cannot be searched.
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw fsFailure("E_STATE_DIR", "use", dir, error);
  }
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw fsFailure("E_STATE_DIR", "create", dir, error);
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
export function writeFileAtomic(path: string, data: string | Uint8Array, options: { fsync?: boolean; errorCode?: ErrorCode } = {}): void {
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
    throw fsFailure(options.errorCode ?? "E_STATE_WRITE", "write", path, error);
  }
}

/**
 * A failed file-system call as a SepError: `cannot <what> <path>: <errno>`, and a hint that says
 * what to do about that errno there. Never "internal error" with a stack for a full disk.
 */
export function fsFailure(code: ErrorCode, what: string, path: string, error: unknown): SepError {
  const errno = (error as NodeJS.ErrnoException).code ?? (error as Error).message ?? String(error);
  return new SepError(code, `cannot ${what} ${path}: ${errno}`, { cause: error, hint: errnoHint(errno, path) });
}

/** What to do next about a failed file-system call on path, by errno. */
export function errnoHint(errno: string, path: string): string {
  const dir = dirname(path);
  switch (errno) {
    case "ENOSPC":
    case "EDQUOT":
      return `the disk (or your quota) is full: free some space where ${dir} lives (\`df -h ${dir}\`), then try again`;
    case "EROFS":
      return `${dir} is on a read-only file system: remount it read-write, or point sep's state elsewhere (\`sep config\` shows lockDir and logDir)`;
    case "EACCES":
    case "EPERM":
      return `you may not write there: check the owner and mode of ${dir} (\`ls -ld ${dir}\`)`;
    case "ENOTDIR":
      return `a part of ${path} is a file, not a directory: move that file away, or point sep's state elsewhere (\`sep config\`)`;
    case "EISDIR":
      return `${path} is a directory where sep expects a file: move it away, then try again`;
    case "ENOENT":
      return `${dir} does not exist (any more): create it, or run \`sep init\``;
    case "EEXIST":
    case "ENOTEMPTY":
      return `something else is in the way at ${path}: move it away, then try again`;
    case "EMFILE":
    case "ENFILE":
      return "too many open files: raise the limit (`ulimit -n`) or close other programs, then try again";
    case "ELOOP":
      return `${path} is a symlink (or a loop of them), which sep never follows: replace it with a real file or directory`;
    case "EIO":
      return `the disk reported an I/O error: check it (\`dmesg\`), then try again`;
    default:
      return `check ${path} and ${dir} (\`ls -ld ${dir}\`), then try again`;
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

/** Is there anything at path, a dangling symlink included (lstat: a link is never followed)? */
export function pathExists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

export function unlinkSafe(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}
