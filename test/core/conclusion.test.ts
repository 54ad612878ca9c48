// The job ladder decide(): what happened to a job → its conclusion and sep's exit code (DESIGN §3),
// table-tested rung by rung in the ladder's order, then the precedence between rungs; and the run ladder decideRun().
import { describe, expect, test } from "bun:test";
import { decide, decideRun, isFailure, type JobEnding, type RunStop, signalName, signalNumber, type Verdict } from "../../src/core/conclusion.ts";

type Row = [name: string, ending: JobEnding, verdict: Verdict];

/** A job that exited by itself with `code` (or, with null, with no code and no signal). */
const exited = (exitCode: number | null): JobEnding => ({ exitCode, signal: null });

describe("each rung of the ladder, in order", () => {
  const rows: Row[] = [
    // 1. It never started: 127 / 126, whatever else the ending says.
    ["command not found -> 127", { startupError: "not_found", exitCode: null, signal: null }, { conclusion: "startup_failure", exitCode: 127 }],
    ["found but cannot run -> 126", { startupError: "not_executable", exitCode: null, signal: null }, { conclusion: "startup_failure", exitCode: 126 }],
    // 2. sep itself got a signal: the tree was killed, the run is cancelled, 128 + that signal.
    ["sep got SIGINT -> 130", { reason: { kind: "interrupted", signal: "SIGINT" }, exitCode: null, signal: "SIGTERM" }, { conclusion: "cancelled", exitCode: 130 }],
    ["sep got SIGTERM -> 143", { reason: { kind: "interrupted", signal: "SIGTERM" }, exitCode: null, signal: "SIGTERM" }, { conclusion: "cancelled", exitCode: 143 }],
    ["sep got SIGHUP -> 129", { reason: { kind: "interrupted", signal: "SIGHUP" }, exitCode: null, signal: "SIGTERM" }, { conclusion: "cancelled", exitCode: 129 }],
    // 3. A time limit: the job's --timeout and the queue's --pipeline-timeout both give 124.
    ["job timeout -> 124", { reason: { kind: "timeout" }, exitCode: null, signal: "SIGTERM" }, { conclusion: "timed_out", exitCode: 124 }],
    ["pipeline timeout -> 124", { reason: { kind: "pipeline_timeout" }, exitCode: null, signal: "SIGTERM" }, { conclusion: "timed_out", exitCode: 124 }],
    // 4. The memory limit: SIGKILL at once, 137.
    ["memory limit -> 137", { reason: { kind: "memory" }, exitCode: null, signal: "SIGKILL" }, { conclusion: "memory_exceeded", exitCode: 137 }],
    // 5. A signal the command did not get from sep: a failure, 128 + N.
    ["died of SIGSEGV (11) -> 139", { exitCode: null, signal: "SIGSEGV" }, { conclusion: "failure", exitCode: 139 }],
    ["died of SIGPIPE (13) -> 141", { exitCode: null, signal: "SIGPIPE" }, { conclusion: "failure", exitCode: 141 }],
    ["died of SIGHUP (1) -> 129", { exitCode: null, signal: "SIGHUP" }, { conclusion: "failure", exitCode: 129 }],
    ["died of someone else's SIGKILL (9) -> 137, a failure, not memory_exceeded", { exitCode: null, signal: "SIGKILL" }, { conclusion: "failure", exitCode: 137 }],
    // 6. It exited by itself: its own code; 0 alone is success.
    ["exit 0 -> success, 0", exited(0), { conclusion: "success", exitCode: 0 }],
    ["exit 1 -> failure, 1", exited(1), { conclusion: "failure", exitCode: 1 }],
    ["exit 42 -> failure, 42", exited(42), { conclusion: "failure", exitCode: 42 }],
    ["exit 255 -> failure, 255", exited(255), { conclusion: "failure", exitCode: 255 }],
    ["exit 124 of its own -> failure, 124 (not timed_out)", exited(124), { conclusion: "failure", exitCode: 124 }],
    // 7. Neither a code nor a signal: never success; 1.
    ["exitCode null and no signal -> failure, 1", exited(null), { conclusion: "failure", exitCode: 1 }],
  ];
  for (const [name, ending, verdict] of rows) test(name, () => expect(decide(ending)).toEqual(verdict));
});

describe("precedence: a higher rung wins over whatever a lower one would say", () => {
  // JobEnding holds one kill reason: which of two reasons wins (say an interrupt during the
  // grace of a timeout) is settled before decide(), by "first reason wins" in the executor.
  const rows: Row[] = [
    ["a startup error beats a kill reason", { startupError: "not_found", reason: { kind: "timeout" }, exitCode: null, signal: null }, { conclusion: "startup_failure", exitCode: 127 }],
    ["a startup error beats an interrupt", { startupError: "not_executable", reason: { kind: "interrupted", signal: "SIGINT" }, exitCode: null, signal: null }, { conclusion: "startup_failure", exitCode: 126 }],
    // The kill's own footprint (the TERM sep sent, or a clean exit in answer to it) is not the command's doing.
    ["an interrupt beats the exit code of the job it stopped", { reason: { kind: "interrupted", signal: "SIGINT" }, exitCode: 0, signal: null }, { conclusion: "cancelled", exitCode: 130 }],
    ["an interrupt beats the signal it killed the job with", { reason: { kind: "interrupted", signal: "SIGTERM" }, exitCode: null, signal: "SIGKILL" }, { conclusion: "cancelled", exitCode: 143 }],
    ["a timeout beats a clean exit on SIGTERM", { reason: { kind: "timeout" }, exitCode: 0, signal: null }, { conclusion: "timed_out", exitCode: 124 }],
    ["a timeout beats the SIGKILL after the grace", { reason: { kind: "timeout" }, exitCode: null, signal: "SIGKILL" }, { conclusion: "timed_out", exitCode: 124 }],
    ["a pipeline timeout beats the job's own failing exit", { reason: { kind: "pipeline_timeout" }, exitCode: 3, signal: null }, { conclusion: "timed_out", exitCode: 124 }],
    ["the memory limit beats an exit code", { reason: { kind: "memory" }, exitCode: 1, signal: null }, { conclusion: "memory_exceeded", exitCode: 137 }],
    ["a signal beats an exit code", { exitCode: 0, signal: "SIGSEGV" }, { conclusion: "failure", exitCode: 139 }],
  ];
  for (const [name, ending, verdict] of rows) test(name, () => expect(decide(ending)).toEqual(verdict));
});

describe("signal names and numbers", () => {
  const rows: Array<[name: string, number: number]> = [
    ["SIGHUP", 1],
    ["SIGINT", 2],
    ["SIGKILL", 9],
    ["SIGSEGV", 11],
    ["SIGTERM", 15],
  ];
  for (const [name, number] of rows) {
    test(`${name} <-> ${number}`, () => {
      expect(signalNumber(name)).toBe(number);
      expect(signalName(number)).toBe(name);
    });
  }

  // Node's os.constants.signals has no real-time signals: signalName(34) is "SIG34", and
  // signalNumber reads it back, so `sep -- sh -c 'kill -34 $$'` exits 128 + 34 = 162.
  test("a real-time signal (34) -> 162", () => {
    expect(decide({ exitCode: null, signal: signalName(34) })).toEqual({ conclusion: "failure", exitCode: 162 });
  });
});

// The run ladder: one row per rung, in order, and the precedence between them.
describe("decideRun: the run's conclusion and exit code from its jobs and how it stopped", () => {
  const ok = { conclusion: "success", exitCode: 0 } as const;
  const failed = (exitCode: number) => ({ conclusion: "failure", exitCode }) as const;
  const skipped = { conclusion: "skipped", exitCode: null } as const;
  const cancelled = { conclusion: "cancelled", exitCode: null } as const;
  const cases: Array<[label: string, jobs: Parameters<typeof decideRun>[0], stop: RunStop | undefined, verdict: Verdict]> = [
    ["the pipeline timeout beats every job's own ending", [failed(3), ok], { kind: "pipeline_timeout" }, { conclusion: "timed_out", exitCode: 124 }],
    ["a stop by a signal is cancelled with its code, whatever failed before", [failed(3)], { kind: "cancelled", exitCode: 130 }, { conclusion: "cancelled", exitCode: 130 }],
    ["a later job giving up waiting (75) cancels the run with 75", [ok, cancelled], { kind: "cancelled", exitCode: 75 }, { conclusion: "cancelled", exitCode: 75 }],
    ["abandoned (its sep died): cancelled, exit code of the first failure", [ok, failed(4), cancelled], { kind: "abandoned" }, { conclusion: "cancelled", exitCode: 4 }],
    ["abandoned mid-job: the cancelled job has no code, so 1", [ok, cancelled], { kind: "abandoned" }, { conclusion: "cancelled", exitCode: 1 }],
    ["abandoned after every job succeeded: cancelled, 0", [ok, ok], { kind: "abandoned" }, { conclusion: "cancelled", exitCode: 0 }],
    ["the first failed job decides, not the last", [ok, failed(2), failed(5)], undefined, { conclusion: "failure", exitCode: 2 }],
    ["a kill is a failure that names itself", [ok, { conclusion: "memory_exceeded", exitCode: 137 }, failed(1)], undefined, { conclusion: "memory_exceeded", exitCode: 137 }],
    ["a failed job with no code counts as 1", [{ conclusion: "startup_failure", exitCode: null }], undefined, { conclusion: "startup_failure", exitCode: 1 }],
    ["skipped jobs are not failures", [ok, skipped], undefined, { conclusion: "success", exitCode: 0 }],
    ["every job skipped: the run is skipped", [skipped, skipped], undefined, { conclusion: "skipped", exitCode: 0 }],
    ["all succeeded", [ok, ok], undefined, { conclusion: "success", exitCode: 0 }],
    ["no jobs at all: success, not skipped", [], undefined, { conclusion: "success", exitCode: 0 }],
  ];
  test.each(cases)("%s", (_label, jobs, stop, verdict) => {
    expect(decideRun(jobs, stop)).toEqual(verdict);
  });

  test.each([
    ["success", false],
    ["skipped", false],
    [null, false],
    ["failure", true],
    ["timed_out", true],
    ["memory_exceeded", true],
    ["cancelled", true],
    ["startup_failure", true],
  ] as const)("isFailure(%p) is %p: unfinished, success and skipped are not failures", (conclusion, failure) => {
    expect(isFailure(conclusion)).toBe(failure);
  });
});
