// Runs one job: spawn it detached, stream its output, race the time, memory and signal watchers,
// and leave no process of its tree behind. The first reason to stop it wins and is recorded.
import { closeSync, openSync, readFileSync, statSync, writeSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { decide, type JobEnding, type KillReason, signalName, type Verdict } from "./conclusion.ts";
import { interrupted, onRepeatedInterrupt } from "./interrupts.ts";
import { noteStderr, writeAll } from "./fd.ts";
import { compileHotLoopsSoon } from "./jit.ts";
import { becomeSubreaper } from "./libc.ts";
import { MemoryWatch } from "./proc/memory.ts";
import type { SamplePoint } from "./proc/samples.ts";
import { descendants, isAlive, killTree, processStartTime, reapOrphans, terminateTree, treeMemory } from "./proc/index.ts";
import type { KilledProcess } from "./records/types.ts";

export const JOB_MARKER = "SEP_JOB_ID";

export interface JobSpec {
  id: string;
  argv: string[];
  cwd: string;
  env: Record<string, string | undefined>;
  /** 0 = no limit */
  timeoutMs: number;
  /** 0 = no limit */
  memoryLimitBytes: number;
  checkIntervalMs: number;
  killGraceMs: number;
  /** the job's output is also appended here; undefined = not logged */
  logPath?: string;
  /**
   * false: the output goes to the log only, not to sep's own stdout/stderr — the background sep
   * of a detaching `sep --`, whose caller follows the log. Default true.
   */
  forwardOutput?: boolean;
  /**
   * the SEP_JOB_ID its processes carry; default its id. A job of a sep nested inside another job
   * keeps the outer job's, so a cleanup after the outer job (say, after its sep was SIGKILLed)
   * still finds every process under it.
   */
  marker?: string;
  /** stops the job from outside (pipeline timeout, `sep queue stop`); its reason is a KillReason */
  abort?: AbortSignal;
  /** called as soon as the job has a pid (= its process group id), with its leader's start time (undefined: unknown) */
  onSpawn?(pid: number, leaderStartTime: number | undefined): void;
  /**
   * Called once the job's leader has exited and nothing of its tree is left, its output copied,
   * with the result runJob is about to return: the moment the next job may start (the turn is
   * handed over here, before the records are written). A throw is reported as a warning.
   */
  onTreeGone?(result: JobResult): void;
  /** something was lost (log write failed, …); said once per kind */
  onWarning?(message: string): void;
  /**
   * Called once, right after the spawn, with the handle that pauses and resumes the job's tree
   * (the machine governor's pressure loop, see core/governor). Returns a function the executor
   * calls when the job's leader has exited, before what it left is killed; the job is resumed then
   * if it was paused. Paused time does not count against timeoutMs.
   */
  control?(job: JobControl): (() => void) | void;
}

/** The hold an outside controller (the governor) has on a running job. */
export interface JobControl {
  /** SIGSTOP to the job's process group and every descendant; false when already paused or ending */
  pause(): boolean;
  /** SIGCONT to the same; false when not paused */
  resume(): boolean;
  readonly paused: boolean;
  /** the job's process group (its leader's pid) and the leader's start time */
  readonly pgid: number;
  readonly leaderStartTime?: number;
  /** the tree's memory at the last poll (RSS sum, or PSS where it was read); 0 before the first */
  treeBytes(): number;
}

export interface JobResult {
  verdict: Verdict;
  ending: JobEnding;
  startedAt: Date;
  completedAt: Date;
  /** null when nothing could be measured */
  peakMemoryBytes: number | null;
  /** the memory polls over time, downsampled (≤ 120 points, ms since startedAt); absent when it never started */
  memorySamples?: SamplePoint[];
  /** time the job spent paused (SIGSTOPped by its control), not counted against the timeout */
  pausedMs: number;
  /** what the tree looked like when sep killed it */
  kill?: { reason: string; measuredBytes?: number; processes: KilledProcess[] };
  /** the message for a command that could not start (126/127) */
  startupMessage?: string;
}

/** Where the job's output is copied besides the terminal; stops (and says so) at the first failure. */
class LogFile {
  private fd: number | undefined;
  private bytes = 0;

  constructor(
    private readonly path: string | undefined,
    private readonly warn: (message: string) => void,
  ) {
    if (!path) return;
    try {
      this.fd = openSync(path, "a", 0o600);
    } catch (error) {
      this.warn(`cannot open the job log ${path} (${(error as NodeJS.ErrnoException).code}); output goes only to the terminal`);
    }
  }

  write(chunk: Uint8Array): void {
    if (this.fd === undefined) return;
    try {
      for (let offset = 0; offset < chunk.length; ) {
        const written = writeSync(this.fd, chunk, offset);
        offset += written;
        this.bytes += written;
      }
    } catch (error) {
      this.warn(
        `the job log ${this.path} is incomplete: writing failed after ${this.bytes} bytes (${(error as NodeJS.ErrnoException).code}); output still goes to the terminal`,
      );
      this.close();
    }
  }

  close(): void {
    if (this.fd === undefined) return;
    try {
      closeSync(this.fd);
    } catch {
      // nothing more to lose
    }
    this.fd = undefined;
  }
}


/**
 * Copy a child stream to our own fd and the log, chunk by chunk as it arrives (no buffering until
 * the end). If our reader went away (EPIPE), stop reading and close the child's end, so its next
 * write fails as in a shell pipeline. (Bun connects the child through a socket pair, not a pipe,
 * so that write fails with EPIPE or ECONNRESET rather than raising SIGPIPE: see the README.)
 */
async function pump(stream: ReadableStream<Uint8Array>, fd: number, log: LogFile, forward = true): Promise<void> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      log.write(value);
      if (!forward) continue;
      if (fd === 2) noteStderr(value);
      try {
        await writeAll(fd, value);
      } catch {
        forward = false;
        await reader.cancel();
        return;
      }
    }
  } catch {
    // the stream was cancelled after the job ended
  }
}

type Resolved = { path: string } | { error: "not_found" | "not_executable"; message: string };

/** Find argv[0] as execvp would, so a missing or unrunnable command gets 127/126 and a clear message. */
function resolveCommand(command: string, cwd: string, env: Record<string, string | undefined>): Resolved {
  const path = command.includes("/") ? (isAbsolute(command) ? command : resolve(cwd, command)) : Bun.which(command, { PATH: env.PATH ?? "", cwd });
  if (!path) return { error: "not_found", message: `command not found: ${command}` };
  try {
    const stat = statSync(path);
    if (stat.isDirectory()) return { error: "not_executable", message: `cannot run ${command}: it is a directory` };
    if ((stat.mode & 0o111) === 0) return { error: "not_executable", message: `cannot run ${command}: permission denied (not executable)` };
  } catch {
    return { error: "not_found", message: `command not found: ${command}` };
  }
  return { path };
}

let subreaper: boolean | undefined;
/** How often the job's exited orphans (now sep's children) are reaped while it runs. */
const REAP_INTERVAL_MS = 1000;

export async function runJob(spec: JobSpec): Promise<JobResult> {
  const startedAt = new Date();
  const warned = new Set<string>();
  const warn = (message: string) => {
    if (warned.has(message)) return;
    warned.add(message);
    spec.onWarning?.(message);
  };
  const failStart = (error: "not_found" | "not_executable", message: string): JobResult => {
    const ending: JobEnding = { startupError: error, exitCode: null, signal: null };
    return { verdict: decide(ending), ending, startedAt, completedAt: new Date(), peakMemoryBytes: null, pausedMs: 0, startupMessage: message };
  };

  const resolved = resolveCommand(spec.argv[0] ?? "", spec.cwd, spec.env);
  if ("error" in resolved) return failStart(resolved.error, resolved.message);

  // As subreaper, sep inherits the job's double-forked daemons, so walking sep's own descendants
  // finds the whole tree, even processes that left the job's process group and session.
  subreaper ??= becomeSubreaper();

  const log = new LogFile(spec.logPath, warn);
  let child: ReturnType<typeof spawnDetached>;
  try {
    child = withJobOomScore(() => spawnDetached(resolved.path, spec), warn);
  } catch (error) {
    log.close();
    const code = (error as NodeJS.ErrnoException).code;
    // The file was found above, so ENOENT here is its #! interpreter; ENOEXEC is a file that is
    // neither a binary nor a script with a #! line (a shell would try it with sh; exec does not).
    const why =
      code === "ENOENT"
        ? "its interpreter (the #! line) was not found"
        : code === "ENOEXEC"
          ? "not an executable format (a script needs a #! line)"
          : (code ?? (error as Error).message);
    return failStart(code === "ENOENT" ? "not_found" : "not_executable", `cannot run ${spec.argv[0]}: ${why}`);
  }
  const pgid = child.pid;
  // From here sep supervises the job, maybe for hours: its poller, pumps and (in a drain) the
  // next jobs are worth compiling.
  compileHotLoopsSoon();

  let reason: KillReason | undefined;
  let kill: JobResult["kill"];
  let killing: Promise<unknown> | undefined;
  // The time limit counts running time only: a pause stops the clock, a resume re-arms it with
  // what was left.
  let timer: ReturnType<typeof setTimeout> | undefined;
  let timeLeftMs = spec.timeoutMs;
  let armedAt = 0;
  const armTimer = () => {
    if (spec.timeoutMs <= 0 || reason) return;
    armedAt = Date.now();
    timer = setTimeout(() => stopJob({ kind: "timeout" }), Math.max(0, timeLeftMs));
  };
  const stopTimer = () => {
    if (timer === undefined) return;
    clearTimeout(timer);
    timer = undefined;
    timeLeftMs -= Date.now() - armedAt;
  };
  let pausedAt: number | undefined;
  let pausedMs = 0;
  const endPause = () => {
    if (pausedAt === undefined) return;
    pausedMs += Date.now() - pausedAt;
    pausedAt = undefined;
  };
  const stopJob = (why: KillReason, snapshot?: { measuredBytes: number; processes: KilledProcess[] }) => {
    if (reason) return; // first reason wins
    reason = why;
    // A paused tree is being killed: terminateTree sends SIGCONT after SIGTERM, so the TERM is
    // delivered and the grace period means something; the pause ends here.
    endPause();
    kill = snapshot
      ? { reason: why.kind, ...snapshot }
      : { reason: why.kind === "interrupted" ? why.signal : why.kind, processes: treeMemory(descendants(process.pid)).processes };
    // A tree over its memory limit gets SIGKILL at once: during a grace period it could go on
    // allocating until the kernel's OOM killer picks a victim, maybe not of this job.
    const graceMs = why.kind === "memory" ? 0 : spec.killGraceMs;
    killing = terminateTree({ pgid, rootPid: process.pid, leaderPid: pgid, graceMs });
  };

  // The first sample is taken at once, before anything else, so even a very short job is seen.
  const memory = new MemoryWatch();
  memory.start({
    rootPid: process.pid,
    limitBytes: spec.memoryLimitBytes,
    intervalMs: spec.checkIntervalMs,
    onExceeded: (info) => stopJob({ kind: "memory" }, { measuredBytes: info.measuredBytes, processes: info.processes }),
  });
  const leaderStartTime = processStartTime(pgid) ?? undefined;
  spec.onSpawn?.(pgid, leaderStartTime);
  armTimer();
  const control: JobControl = {
    pause: () => {
      if (reason || pausedAt !== undefined) return false;
      stopTimer();
      pausedAt = Date.now();
      signalTree(pgid, "SIGSTOP");
      return true;
    },
    resume: () => {
      if (pausedAt === undefined) return false;
      signalTree(pgid, "SIGCONT");
      endPause();
      armTimer();
      return true;
    },
    get paused() {
      return pausedAt !== undefined;
    },
    pgid,
    leaderStartTime,
    treeBytes: () => memory.lastSample?.treeBytes ?? 0,
  };
  const releaseControl = spec.control?.(control);
  const reaper = setInterval(() => reapOrphans(pgid), REAP_INTERVAL_MS);
  const onInterrupt = () => stopJob({ kind: "interrupted", signal: interrupted.reason });
  if (interrupted.aborted) onInterrupt();
  else interrupted.addEventListener("abort", onInterrupt, { once: true });
  const onAbort = () => stopJob(spec.abort?.reason as KillReason);
  if (spec.abort?.aborted) onAbort();
  else spec.abort?.addEventListener("abort", onAbort, { once: true });
  // A second Ctrl-C means "now": SIGKILL the whole tree without waiting out the grace period.
  const offRepeat = onRepeatedInterrupt(() => killTree({ pgid, pids: descendants(process.pid), signal: "SIGKILL" }));

  const pumps = Promise.all([pump(child.stdout, 1, log, spec.forwardOutput !== false), pump(child.stderr, 2, log, spec.forwardOutput !== false)]);
  await child.exited;
  stopTimer();
  clearInterval(reaper);
  releaseControl?.();
  // Never leave the rest of a paused tree stopped (the leader can only have exited by a kill).
  if (control.paused) control.resume();
  stopTimer();
  const last = memory.sampleNow();
  memory.stop();

  // The leader is gone; whatever it left running (`cmd &`, daemons) dies now: TERM, grace, KILL.
  // The last memory sample has just walked the tree; its pids are what is left.
  const rest = (last?.pids ?? descendants(process.pid)).filter((pid) => pid !== pgid && isAlive(pid));
  if (rest.length > 0 || killing) {
    await killing;
    await terminateTree({ pgid, rootPid: process.pid, leaderPid: pgid, graceMs: spec.killGraceMs });
  }
  // Output still buffered in the pipes is copied; a pipe held open by something we could not kill
  // must not hang sep forever.
  await Promise.race([pumps, Bun.sleep(2000)]);

  const signal = child.signalCode;
  const ending: JobEnding = { reason, exitCode: child.exitCode, signal: typeof signal === "number" ? signalName(signal) : (signal ?? null) };
  const result: JobResult = {
    verdict: decide(ending),
    ending,
    startedAt,
    completedAt: new Date(),
    // wait4's rusage would be no help: Bun spawns with vfork, and exec records the borrowed parent's
    // high-water mark as the child's maxrss, so it reports sep's memory, not the job's. A job gone
    // before the first poll has no measured peak (null), rather than a made-up one.
    peakMemoryBytes: memory.peakBytes > 0 ? memory.peakBytes : null,
    memorySamples: memory.series.points(startedAt.getTime()),
    pausedMs,
    kill,
  };
  try {
    spec.onTreeGone?.(result);
  } catch (error) {
    warn(`handing the turn over failed: ${(error as Error).message}`);
  }
  log.close();
  interrupted.removeEventListener("abort", onInterrupt);
  spec.abort?.removeEventListener("abort", onAbort);
  offRepeat();
  return result;
}

/**
 * SIGSTOP or SIGCONT to the job's whole tree: its process group, then every descendant of sep
 * (escaped daemons, via the subreaper), walked twice for a stop, so a child forked between the
 * group signal and the first walk is stopped too.
 */
function signalTree(pgid: number, signal: "SIGSTOP" | "SIGCONT"): void {
  killTree({ pgid, pids: descendants(process.pid), signal });
  if (signal === "SIGSTOP") killTree({ pids: descendants(process.pid), signal });
}

const OOM_SCORE_ADJ = "/proc/self/oom_score_adj";
/** sep's own value, read at the first spawn: only sep writes it, and it always puts it back. */
let _ownOomScoreAdj: string | null | undefined;
/** The most the kernel's OOM killer can prefer a process: a job tree dies before sep, the agent or the terminal. */
const JOB_OOM_SCORE_ADJ = "1000";

/**
 * Run spawn with sep's own oom_score_adj raised to 1000, restored right after. The job inherits
 * the value at fork, before it runs a single instruction, so every process it ever forks has it
 * too; writing /proc/<child>/oom_score_adj after the spawn instead would race with the job's own
 * first forks. The window is the spawn call itself: Bun.spawn forks synchronously.
 * Restoring is always allowed: an unprivileged process may lower its value down to
 * oom_score_adj_min, which only a CAP_SYS_RESOURCE write ever sets, so the value it had (at or
 * above that minimum, or it could not have had it) can be written back; a privileged sep may
 * write anything. Where /proc is missing or the write fails, the job runs with sep's value.
 */
function withJobOomScore<T>(spawn: () => T, warn: (message: string) => void): T {
  if (process.platform !== "linux") return spawn();
  if (_ownOomScoreAdj === undefined) {
    try {
      _ownOomScoreAdj = readFileSync(OOM_SCORE_ADJ, "latin1").trim();
    } catch {
      _ownOomScoreAdj = null;
    }
  }
  const previous = _ownOomScoreAdj;
  if (previous === null || previous === JOB_OOM_SCORE_ADJ) return spawn(); // no /proc, or a sep inside a job: already there
  try {
    _writeOomScoreAdj(JOB_OOM_SCORE_ADJ);
  } catch {
    return spawn();
  }
  try {
    return spawn();
  } finally {
    try {
      _writeOomScoreAdj(previous);
    } catch (error) {
      warn(`could not set sep's oom_score_adj back to ${previous} (${(error as NodeJS.ErrnoException).code}); the kernel's OOM killer may pick sep itself`);
    }
  }
}

/** The file stays open (close-on-exec) from spawn to spawn: each write is one pwrite, not open, write, close. */
let _oomScoreAdjFd: number | undefined;

function _writeOomScoreAdj(value: string): void {
  _oomScoreAdjFd ??= openSync(OOM_SCORE_ADJ, "w");
  writeSync(_oomScoreAdjFd, value, 0);
}

function spawnDetached(path: string, spec: JobSpec) {
  // detached: the job gets its own session and process group (setsid), so one kill(-pgid) reaches
  // the whole group, and a Ctrl-C in the terminal reaches sep alone, which then stops the tree.
  return Bun.spawn([path, ...spec.argv.slice(1)], {
    argv0: spec.argv[0],
    cwd: spec.cwd,
    env: { ...spec.env, [JOB_MARKER]: spec.marker ?? spec.id },
    detached: true,
    stdin: "inherit",
    stdout: "pipe",
    stderr: "pipe",
  });
}
