// core/store.ts: file-system failures as SepErrors that name the file and the errno and say what
// to do, and the atomic write leaving nothing behind when it fails.
import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ensurePrivateDir, errnoHint, fsFailure, writeFileAtomic } from "../../src/core/store.ts";
import { SepError } from "../../src/errors.ts";
import { type TempDir, tempDir } from "../helpers.ts";

const dirs: TempDir[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) dir.cleanup();
});

function scratch(): string {
  const dir = tempDir("sep-store-");
  dirs.push(dir);
  return dir.path;
}

function sepErrorOf(fn: () => unknown): SepError {
  try {
    fn();
  } catch (error) {
    if (error instanceof SepError) return error;
    throw error;
  }
  throw new Error("expected a SepError, got none");
}

describe("errnoHint: what to do next, by errno", () => {
  const path = "/p/.sequential-locks/queue/paused";
  const cases: [errno: string, mentions: string[]][] = [
    ["ENOSPC", ["full", "df -h /p/.sequential-locks/queue"]],
    ["EDQUOT", ["quota", "df -h"]],
    ["EROFS", ["read-only", "sep config"]],
    ["EACCES", ["ls -ld /p/.sequential-locks/queue"]],
    ["EPERM", ["ls -ld /p/.sequential-locks/queue"]],
    ["ENOTDIR", ["is a file, not a directory", path]],
    ["EISDIR", [`${path} is a directory`, "move it away"]],
    ["ENOENT", ["/p/.sequential-locks/queue does not exist", "sep init"]],
    ["EEXIST", ["in the way", path]],
    ["ENOTEMPTY", ["in the way", path]],
    ["EMFILE", ["ulimit -n"]],
    ["ENFILE", ["ulimit -n"]],
    ["ELOOP", ["symlink"]],
    ["EIO", ["dmesg"]],
    ["EWHATEVER", [path, "ls -ld /p/.sequential-locks/queue"]],
  ];
  for (const [errno, mentions] of cases) {
    test(errno, () => {
      const hint = errnoHint(errno, path);
      for (const text of mentions) expect(hint).toContain(text);
    });
  }
});

describe("fsFailure", () => {
  test("`cannot <what> <path>: <errno>`, the code asked for, exit 1, the errno's hint, the cause kept", () => {
    const cause = Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
    const error = fsFailure("E_STATE_WRITE", "write", "/p/x.json", cause);
    expect(error).toBeInstanceOf(SepError);
    expect([error.code, error.message, error.exitCode]).toEqual(["E_STATE_WRITE", "cannot write /p/x.json: ENOSPC", 1]);
    expect(error.hint).toBe(errnoHint("ENOSPC", "/p/x.json"));
    expect(error.cause).toBe(cause);
  });

  test("an error without an errno is named by its message", () => {
    expect(fsFailure("E_PROJECT_FILE", "read", "/p/.gitignore", new Error("boom")).message).toBe("cannot read /p/.gitignore: boom");
  });
});

describe("real failures", () => {
  test("ensurePrivateDir under a regular file: E_STATE_DIR naming the dir and ENOTDIR", () => {
    const root = scratch();
    writeFileSync(join(root, "file"), "x");
    const error = sepErrorOf(() => ensurePrivateDir(join(root, "file", "locks")));
    expect(error.code).toBe("E_STATE_DIR");
    expect(error.message).toBe(`cannot use ${join(root, "file", "locks")}: ENOTDIR`);
  });

  test("writeFileAtomic onto a directory: E_STATE_WRITE (or the code asked for), EISDIR, no temp file left", () => {
    const root = scratch();
    mkdirSync(join(root, "target", "inside"), { recursive: true });
    const error = sepErrorOf(() => writeFileAtomic(join(root, "target"), "data"));
    expect(error.code).toBe("E_STATE_WRITE");
    expect(error.message).toMatch(new RegExp(`^cannot write ${join(root, "target")}: (EISDIR|ENOTEMPTY|EEXIST)$`));
    expect(readdirSync(root)).toEqual(["target"]);
    expect(sepErrorOf(() => writeFileAtomic(join(root, "target"), "data", { errorCode: "E_PROJECT_FILE" })).code).toBe("E_PROJECT_FILE");
  });
});
