// `sep doctor`'s setup checks on real temp dirs: the state dirs sep writes into, and flock.
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { checkFlock, checkStateDir } from "../../src/doctor/checks.ts";
import { cleanupTempDirs, scratch } from "./helpers.ts";

afterAll(cleanupTempDirs);

describe("checkStateDir", () => {
  test("a private directory of yours", () => {
    const dir = join(scratch(), "locks");
    mkdirSync(dir, { mode: 0o700 });
    expect(checkStateDir("lock-dir", dir, "SEQUENTIAL_LOCK_BASE_DIR")).toMatchObject({ status: "ok" });
  });

  test("open to other users: a warning with the chmod", () => {
    const dir = join(scratch(), "logs");
    mkdirSync(dir);
    chmodSync(dir, 0o755);
    const finding = checkStateDir("log-dir", dir, "SEP_LOG_DIR");
    expect(finding).toMatchObject({ status: "warn", fix: `chmod 700 ${dir} (sep creates its dirs with mode 0700)` });
    expect(finding.message).toContain("mode 0755");
  });

  test("a symlink is refused", () => {
    const base = scratch();
    mkdirSync(join(base, "real"), { mode: 0o700 });
    symlinkSync(join(base, "real"), join(base, "logs"));
    const finding = checkStateDir("log-dir", join(base, "logs"), "SEP_LOG_DIR");
    expect(finding.status).toBe("fail");
    expect(finding.message).toContain("is a symlink");
  });

  test("a file where the dir should be", () => {
    const base = scratch();
    writeFileSync(join(base, "logs"), "");
    expect(checkStateDir("log-dir", join(base, "logs"), "SEP_LOG_DIR")).toMatchObject({ status: "fail" });
    // and a dir that would have to be created below a file
    const below = checkStateDir("lock-dir", join(base, "logs", "locks"), "SEQUENTIAL_LOCK_BASE_DIR");
    expect(below.status).toBe("fail");
    expect(below.message).toContain("is not a directory");
  });

  test("missing, several levels deep: creatable from the nearest existing ancestor, and not created", () => {
    const base = scratch();
    const dir = join(base, "a", "b", "c");
    const finding = checkStateDir("lock-dir", dir, "SEQUENTIAL_LOCK_BASE_DIR");
    expect(finding.status).toBe("ok");
    expect(finding.message).toContain(`sep will create it (mode 0700) in ${base}`);
    expect(readdirSync(base)).toEqual([]);
  });
});

describe("checkFlock", () => {
  test("takes, excludes and releases a lock, and removes its file", () => {
    const dir = scratch();
    expect(checkFlock(dir)).toMatchObject({ check: "flock", status: "ok" });
    expect(readdirSync(dir)).toEqual([]);
  });

  test("a temp dir that does not exist is a fail finding, not a throw", () => {
    expect(checkFlock(join(scratch(), "missing"))).toMatchObject({ check: "flock", status: "fail" });
  });
});
