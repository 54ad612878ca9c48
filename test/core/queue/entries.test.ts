// The durable queue's store (src/core/queue.ts) directly: numbering, FIFO listing, corrupt entries
// set aside with their contents, remove, clear, claims, pause. No sep process runs here.
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { lockLayout } from "../../../src/core/paths.ts";
import {
  addAllToQueue,
  addToQueue,
  claimEntry,
  clearQueue,
  dropClaim,
  findEntry,
  isPaused,
  listQueue,
  type NewQueueEntry,
  markClaimStarted,
  recoverClaims,
  removeFromQueue,
  setAsideCorrupt,
  setPaused,
} from "../../../src/core/queue/entries.ts";
import { type ErrorCode, SepError } from "../../../src/errors.ts";
import { type TempDir, tempDir } from "../../helpers.ts";

const dirs: TempDir[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) dir.cleanup();
});

function lockDir(): string {
  const dir = tempDir("sep-queue-");
  dirs.push(dir);
  return join(dir.path, ".sequential-locks");
}

function job(...argv: string[]): NewQueueEntry {
  return { argv, cwd: "/somewhere", overrides: {} };
}

const queueDir = (lock: string) => join(lock, "queue");

describe("addToQueue / listQueue", () => {
  test("numbers entries q1, q2, … and lists them oldest first, argv exact", () => {
    const lock = lockDir();
    const weird = ["printf", "%s\n", "a b", "", "line1\nline2", "$(rm -rf /)", "ü ✓ 🚀", "--"];
    const first = addToQueue(lock, { ...job(...weird), name: "weird", overrides: { timeout: 1, memoryLimitMb: 5 }, waitTimeoutMs: 1500 });
    const second = addToQueue(lock, job("true"));
    expect([first.id, first.seq, second.id, second.seq]).toEqual(["q1", 1, "q2", 2]);
    const { entries, corrupt } = listQueue(lock);
    expect(corrupt).toEqual([]);
    expect(entries.map((e) => e.id)).toEqual(["q1", "q2"]);
    expect(entries[0]!.argv).toEqual(weird);
    expect(entries[0]!.overrides).toEqual({ timeout: 1, memoryLimitMb: 5 });
    expect(entries[0]!.waitTimeoutMs).toBe(1500);
    expect(entries[0]!.name).toBe("weird");
    expect(Date.parse(entries[0]!.addedAt)).not.toBeNaN();
  });

  test("orders by number, not by name length (q10 after q9)", () => {
    const lock = lockDir();
    for (let i = 1; i <= 12; i++) addToQueue(lock, job("echo", String(i)));
    expect(listQueue(lock).entries.map((e) => e.argv[1])).toEqual(Array.from({ length: 12 }, (_, i) => String(i + 1)));
  });

  test("a missing queue is empty and listing it creates nothing", () => {
    const lock = lockDir();
    expect(listQueue(lock)).toEqual({ entries: [], corrupt: [] });
    expect(existsSync(lock)).toBe(false);
  });

  test("files that are not jobs are listed as corrupt; temp files and subdirs are ignored", () => {
    const lock = lockDir();
    addToQueue(lock, job("true"));
    const bad: Record<string, string> = {
      "000000000002.json": "garbage {",
      "000000000003.json": "[]",
      "000000000004.json": '{"argv": "not an array"}',
      "000000000005.json": "null",
      "000000000006.json": JSON.stringify({ id: "q6", seq: 6, argv: [], cwd: "/", overrides: {}, addedAt: "x" }),
      "000000000007.json": JSON.stringify({ id: "q7", seq: 7, argv: ["ls", 5], cwd: "/", overrides: {}, addedAt: "x" }),
      "000000000008.json": "",
    };
    for (const [name, text] of Object.entries(bad)) writeFileSync(join(queueDir(lock), name), text);
    writeFileSync(join(queueDir(lock), "000000000009.json.123.1.tmp"), "half a fi");
    mkdirSync(join(queueDir(lock), "claimed"));
    setPaused(lock, true);
    const listing = listQueue(lock);
    expect(listing.entries.map((e) => e.id)).toEqual(["q1"]);
    expect(listing.corrupt).toEqual(Object.keys(bad));
  });

  test("a queue counter edited into nonsense never makes a new entry overwrite a stored one", () => {
    const lock = lockDir();
    addToQueue(lock, job("echo", "one"));
    addToQueue(lock, job("echo", "two"));
    writeFileSync(join(lock, "queue-counter"), "garbage");
    addToQueue(lock, job("echo", "three"));
    expect(listQueue(lock).entries.map((e) => e.argv[1])).toEqual(["one", "two", "three"]);
  });

  test("a deleted queue counter never makes a new entry overwrite a stored one", () => {
    const lock = lockDir();
    addToQueue(lock, job("echo", "one"));
    rmSync(join(lock, "queue-counter"));
    addToQueue(lock, job("echo", "two"));
    expect(listQueue(lock).entries.map((e) => e.argv[1])).toEqual(["one", "two"]);
  });
});

describe("setAsideCorrupt", () => {
  test("moves the named files into queue/corrupt with their contents; the valid ones stay", () => {
    const lock = lockDir();
    addToQueue(lock, job("true"));
    addToQueue(lock, job("false"));
    writeFileSync(join(queueDir(lock), "000000000002.json"), "not json");
    const { corrupt } = listQueue(lock);
    expect(corrupt).toEqual(["000000000002.json"]);
    const moved = setAsideCorrupt(lock, corrupt);
    expect(moved.length).toBe(1);
    expect(moved[0]!.startsWith(join(queueDir(lock), "corrupt"))).toBe(true);
    expect(moved[0]!.endsWith("000000000002.json")).toBe(true);
    expect(readFileSync(moved[0]!, "utf8")).toBe("not json");
    expect(listQueue(lock)).toEqual({ entries: [expect.objectContaining({ id: "q1" })], corrupt: [] });
  });

  test("a name already gone (claimed or removed meanwhile) is skipped without throwing", () => {
    const lock = lockDir();
    addToQueue(lock, job("true"));
    expect(setAsideCorrupt(lock, ["000000000042.json"])).toEqual([]);
    expect(setAsideCorrupt(lock, [])).toEqual([]);
    expect(listQueue(lock).entries.length).toBe(1);
  });
});

describe("remove / clear / claims", () => {
  test("removeFromQueue takes an id (q2) or a bare number (3); an unknown id is a SepError (exit 2) naming it", () => {
    const lock = lockDir();
    for (const word of ["a", "b", "c", "d"]) addToQueue(lock, job("echo", word));
    expect(removeFromQueue(lock, "q2").argv).toEqual(["echo", "b"]);
    expect(removeFromQueue(lock, "3").argv).toEqual(["echo", "c"]);
    expect(listQueue(lock).entries.map((e) => e.id)).toEqual(["q1", "q4"]);
    let error: unknown;
    try {
      removeFromQueue(lock, "q77");
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SepError);
    expect((error as SepError).exitCode).toBe(2);
    expect((error as SepError).message).toContain("q77");
    expect(findEntry(lock, "q2")).toBeUndefined();
  });

  test("claimEntry succeeds once; a claimed or removed entry cannot be claimed again, nor removed, nor cleared", () => {
    const lock = lockDir();
    const first = addToQueue(lock, job("one"));
    const second = addToQueue(lock, job("two"));
    const third = addToQueue(lock, job("three"));
    expect(claimEntry(lock, first)).toBe(true);
    expect(claimEntry(lock, first)).toBe(false);
    expect(listQueue(lock).entries.map((e) => e.id)).toEqual(["q2", "q3"]);
    expect(() => removeFromQueue(lock, "q1")).toThrow(SepError);
    removeFromQueue(lock, "q2");
    expect(claimEntry(lock, second)).toBe(false);
    expect(clearQueue(lock).map((e) => e.id)).toEqual(["q3"]);
    expect(claimEntry(lock, third)).toBe(false);
    expect(listQueue(lock).entries).toEqual([]);
    // The claim survives clear (its job is running) until the drain drops it.
    expect(readdirSync(join(queueDir(lock), "claimed"))).toEqual(["1.json"]);
    dropClaim(lock, first);
    expect(readdirSync(join(queueDir(lock), "claimed"))).toEqual([]);
  });

  test("recoverClaims returns claims that never started to the queue (same number, same place) and drops started ones", () => {
    const lock = lockDir();
    expect(recoverClaims(lock)).toEqual({ returned: [], dropped: [] });
    const a = addToQueue(lock, job("a"));
    const b = addToQueue(lock, job("b"));
    const c = addToQueue(lock, job("c"));
    claimEntry(lock, a);
    claimEntry(lock, b);
    markClaimStarted(lock, b);
    writeFileSync(join(queueDir(lock), "claimed", "99.json"), "garbage");
    expect(recoverClaims(lock)).toEqual({ returned: [a.id], dropped: [b.id] });
    expect(readdirSync(join(queueDir(lock), "claimed"))).toEqual([]);
    expect(listQueue(lock).entries.map((entry) => entry.id)).toEqual([a.id, c.id]);
    expect(readdirSync(join(queueDir(lock), "corrupt")).some((name) => name.endsWith("claimed-99.json"))).toBe(true);
  });

  test("addAllToQueue gives one command's jobs consecutive numbers, even with adds racing it", async () => {
    const lock = lockDir();
    addToQueue(lock, job("before"));
    const all = addAllToQueue(lock, [job("x1"), job("x2"), job("x3")]);
    expect(all.map((entry) => entry.seq)).toEqual([2, 3, 4]);
    expect(addToQueue(lock, job("after")).seq).toBe(5);
  });

  test("clearQueue on an empty or missing queue returns nothing", () => {
    const lock = lockDir();
    expect(clearQueue(lock)).toEqual([]);
  });
});

describe("pause", () => {
  test("setPaused(true) makes isPaused true; false removes the flag; both are idempotent", () => {
    const lock = lockDir();
    expect(isPaused(lock)).toBe(false);
    setPaused(lock, false);
    expect(existsSync(lock)).toBe(false);
    setPaused(lock, true);
    setPaused(lock, true);
    expect(isPaused(lock)).toBe(true);
    expect(listQueue(lock)).toEqual({ entries: [], corrupt: [] });
    setPaused(lock, false);
    setPaused(lock, false);
    expect(isPaused(lock)).toBe(false);
  });
});

/** The SepError fn throws (the test fails when it throws anything else, or nothing). */
function sepErrorOf(fn: () => unknown): SepError {
  try {
    fn();
  } catch (error) {
    if (error instanceof SepError) return error;
    throw error;
  }
  throw new Error("expected a SepError, got none");
}

/** Every file and dir under root, relative, sorted: what a failed operation must leave as it was. */
const tree = (root: string) => readdirSync(root, { recursive: true, encoding: "utf8" }).sort();

describe("file-system failures are SepErrors naming the file and the errno, and change nothing else", () => {
  // Tests run as root, where permission bits stop nothing: each case blocks the operation with
  // something real in the way (a regular file where a directory must be, a directory where a
  // file must go), which fails for root too.
  const cases: {
    name: string;
    block: (lock: string) => void;
    act: (lock: string) => unknown;
    code: ErrorCode;
    errno: RegExp;
    names: (lock: string) => string;
  }[] = [
    {
      name: "add: a parent of the lock dir is a regular file",
      block: (lock) => writeFileSync(lock, "not a dir"),
      act: (lock) => addToQueue(join(lock, "inner"), job("true")),
      code: "E_STATE_DIR",
      errno: /ENOTDIR/,
      names: (lock) => join(lock, "inner"),
    },
    {
      name: "claim: queue/claimed is a regular file",
      block: (lock) => writeFileSync(join(queueDir(lock), "claimed"), "x"),
      act: (lock) => claimEntry(lock, findEntry(lock, "q1")!),
      code: "E_STATE_DIR",
      errno: /EEXIST|ENOTDIR/,
      names: (lock) => join(queueDir(lock), "claimed"),
    },
    {
      name: "claim: a directory is in the way of the claim file",
      block: (lock) => mkdirSync(join(queueDir(lock), "claimed", "1.json", "inside"), { recursive: true }),
      act: (lock) => claimEntry(lock, findEntry(lock, "q1")!),
      code: "E_STATE_WRITE",
      errno: /EISDIR|ENOTEMPTY|EEXIST/,
      names: (lock) => join(queueDir(lock), "claimed", "1.json"),
    },
    {
      name: "set aside: queue/corrupt is a regular file",
      block: (lock) => {
        writeFileSync(join(queueDir(lock), "7.json"), "{not json");
        writeFileSync(join(queueDir(lock), "corrupt"), "x");
      },
      act: (lock) => setAsideCorrupt(lock, ["7.json"]),
      code: "E_STATE_DIR",
      errno: /EEXIST|ENOTDIR/,
      names: (lock) => join(queueDir(lock), "corrupt"),
    },
    {
      name: "remove: a directory is in the way of the entry's trash name",
      block: (lock) => mkdirSync(join(queueDir(lock), `.removed-1-${process.pid}`, "inside"), { recursive: true }),
      act: (lock) => removeFromQueue(lock, "q1"),
      code: "E_STATE_WRITE",
      errno: /EISDIR|ENOTEMPTY|EEXIST/,
      names: (lock) => lockLayout(lock).queueEntry(1),
    },
    {
      name: "clear: the same, through clearQueue",
      block: (lock) => mkdirSync(join(queueDir(lock), `.removed-1-${process.pid}`, "inside"), { recursive: true }),
      act: (lock) => clearQueue(lock),
      code: "E_STATE_WRITE",
      errno: /EISDIR|ENOTEMPTY|EEXIST/,
      names: (lock) => lockLayout(lock).queueEntry(1),
    },
    {
      name: "pause: the paused flag's place is taken by a directory",
      block: (lock) => mkdirSync(join(queueDir(lock), "paused", "inside"), { recursive: true }),
      act: (lock) => setPaused(lock, true),
      code: "E_STATE_WRITE",
      errno: /EISDIR|ENOTEMPTY|EEXIST/,
      names: (lock) => join(queueDir(lock), "paused"),
    },
    {
      name: "resume: the paused flag is a directory, which unlink cannot remove",
      block: (lock) => mkdirSync(join(queueDir(lock), "paused", "inside"), { recursive: true }),
      act: (lock) => setPaused(lock, false),
      code: "E_STATE_WRITE",
      errno: /EISDIR|EPERM/,
      names: (lock) => join(queueDir(lock), "paused"),
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const lock = lockDir();
      if (!c.name.startsWith("add")) addToQueue(lock, job("true"));
      c.block(lock);
      const root = join(lock, "..");
      const before = tree(root);
      const error = sepErrorOf(() => c.act(lock));
      expect(error.code).toBe(c.code);
      expect(error.exitCode).toBe(1);
      expect(error.message).toContain(c.names(lock));
      expect(error.message).toMatch(c.errno);
      expect(error.hint.length).toBeGreaterThan(0);
      expect(tree(root)).toEqual(before);
    });
  }

  test("a claim or remove that loses the race (the entry is gone) is no failure", () => {
    const lock = lockDir();
    const entry = addToQueue(lock, job("true"));
    rmSync(lockLayout(lock).queueEntry(1));
    expect(claimEntry(lock, entry)).toBe(false);
    expect(setAsideCorrupt(lock, [basename(lockLayout(lock).queueEntry(1))])).toEqual([]);
    expect(clearQueue(lock)).toEqual([]);
  });

  test("the paused flag is written atomically: mode 0600, no temp file left", () => {
    const lock = lockDir();
    setPaused(lock, true);
    expect(readdirSync(queueDir(lock))).toEqual(["paused"]);
    expect(statSync(join(queueDir(lock), "paused")).mode & 0o777).toBe(0o600);
    expect(Date.parse(readFileSync(join(queueDir(lock), "paused"), "utf8").trim())).not.toBeNaN();
  });
});
