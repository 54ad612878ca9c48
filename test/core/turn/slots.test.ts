// A slot's records: who holds it (before the spawn) and the same with the job's process group (after
// it), in two files, so the second write is a new file and never a replace; readers take the newer;
// a dead holder's records are the next holder's leftover, and never stand for its own job.
import { expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { lockLayout } from "../../../src/core/paths.ts";
import { openLockFile, tryLock } from "../../../src/core/turn/flock.ts";
import { type Holder, listHolders, readHolders, takeSlot } from "../../../src/core/turn/slots.ts";
import { tempDir } from "../../helpers.ts";

function holder(jobId: string, pgid?: number): Holder {
  return { pid: process.pid, runId: "run", jobId, name: jobId, argv: ["true"], cwd: "/", logDir: "/logs", createdAt: new Date().toISOString(), ...(pgid === undefined ? {} : { pgid }) };
}

function layoutIn(dir: string) {
  const layout = lockLayout(dir);
  mkdirSync(layout.slotsDir, { recursive: true });
  return layout;
}

function take(layout: ReturnType<typeof lockLayout>) {
  const fd = openLockFile(layout.slotLock(0));
  expect(tryLock(fd, layout.slotLock(0))).toBe(true);
  return takeSlot(layout, 0, fd);
}

const read = (path: string) => JSON.parse(readFileSync(path, "utf8")) as Holder;

test("before the spawn the holder's file, after it a file of its own with the process group; release removes both", () => {
  using dir = tempDir();
  const layout = layoutIn(dir.path);
  const turn = take(layout);
  expect(turn.leftover).toBeUndefined();
  turn.recordHolder(holder("job-1"));
  expect(read(layout.slotHolder(0)).jobId).toBe("job-1");
  expect(existsSync(layout.slotStarted(0))).toBe(false);
  expect(readHolders(dir.path, 1).map((h) => h.pgid)).toEqual([undefined]);

  turn.recordHolder(holder("job-1", 4242));
  expect(read(layout.slotStarted(0)).pgid).toBe(4242);
  expect(read(layout.slotHolder(0)).pgid).toBeUndefined(); // not rewritten
  expect(readHolders(dir.path, 1).map((h) => h.pgid)).toEqual([4242]);
  expect(listHolders(dir.path).map((h) => h.pgid)).toEqual([4242]);

  turn.release();
  expect(existsSync(layout.slotHolder(0))).toBe(false);
  expect(existsSync(layout.slotStarted(0))).toBe(false);
  expect(readHolders(dir.path, 1)).toEqual([]);
});

test("a dead holder's records are the leftover (its started one first), and its started record never names the next job", () => {
  using dir = tempDir();
  const layout = layoutIn(dir.path);
  writeFileSync(layout.slotHolder(0), JSON.stringify(holder("dead-job")));
  writeFileSync(layout.slotStarted(0), JSON.stringify(holder("dead-job", 777)));
  const turn = take(layout);
  expect(turn.leftover).toMatchObject({ jobId: "dead-job", pgid: 777 });

  turn.recordHolder(holder("next-job"));
  expect(existsSync(layout.slotStarted(0))).toBe(false);
  expect(readHolders(dir.path, 1).map((h) => [h.jobId, h.pgid])).toEqual([["next-job", undefined]]);
  turn.release();
});

test("a dead holder that left only its holder's file (killed before its spawn) is the leftover too", () => {
  using dir = tempDir();
  const layout = layoutIn(dir.path);
  writeFileSync(layout.slotHolder(0), JSON.stringify(holder("dead-job")));
  const turn = take(layout);
  expect(turn.leftover).toMatchObject({ jobId: "dead-job" });
  expect(turn.leftover?.pgid).toBeUndefined();
  turn.release();
});

test("a record written after the release is dropped: it would stand for the slot's next holder", () => {
  using dir = tempDir();
  const layout = layoutIn(dir.path);
  const turn = take(layout);
  turn.recordHolder(holder("job-1"));
  turn.release();
  turn.recordHolder(holder("job-1", 4242));
  expect(existsSync(layout.slotStarted(0))).toBe(false);
  expect(existsSync(layout.slotHolder(0))).toBe(false);
});
