// The run history on disk, read defensively: listing, finding and pruning run records. A malformed
// or half-written record is skipped, never a crash; a run left unfinished by a dead sep is shown
// (and re-recorded) as cancelled. Reading creates nothing: no directory, no lock, no log.
import { lstatSync, rmSync } from "node:fs";
import { SepError } from "../../errors.ts";
import type { Conclusion } from "../conclusion.ts";
import { logLayout } from "../paths.ts";
import { listRunIds, markAbandoned, mergeJobFiles, ownerAlive, reconcileRun } from "./reconcile.ts";
import type { RunRecord, Status } from "./types.ts";
import { ensurePrivateDir, readJson } from "../store.ts";

export const STATUSES: readonly Status[] = ["queued", "in_progress", "completed"];
export const CONCLUSIONS: readonly Conclusion[] = [
  "success",
  "failure",
  "timed_out",
  "memory_exceeded",
  "cancelled",
  "skipped",
  "startup_failure",
];

/** What `run list --status` accepts: any conclusion or status word. */
export type RunFilter = Status | Conclusion;
export const RUN_FILTERS: readonly RunFilter[] = [...CONCLUSIONS, ...STATUSES];

export function isRunFilter(word: string): word is RunFilter {
  return (RUN_FILTERS as readonly string[]).includes(word);
}

/** True when the run's status or its conclusion is the word. */
export function runMatches(run: RunRecord, filter: RunFilter): boolean {
  return run.status === filter || run.conclusion === filter;
}

/** The shape newRunId() gives: `20250101-120000-123-a1b2c3`. Only such directories are ever pruned. */
export const RUN_ID_PATTERN = /^\d{8}-\d{6}-\d{3}-[0-9a-f]{6}$/;

/**
 * A run directory with no readable record is normally one being created (the directory comes a
 * moment before its first record). Prune leaves such a directory alone until it is this old.
 */
export const UNREADABLE_RUN_GRACE_MS = 60_000;

/** Run ids on disk, newest first (ids sort by creation time). Temp and hidden entries are skipped. */
export function runIdsNewestFirst(logDir: string): string[] {
  return listRunIds(logDir)
    .filter((name) => !name.endsWith(".tmp"))
    .reverse();
}

/**
 * One run's record, or undefined when it is missing, unreadable or malformed. A run that is not
 * completed but whose owner (the sep process writing it) is dead is reconciled: rewritten as
 * cancelled (reconcileRun), or, where the record cannot be rewritten, shown as cancelled.
 * The record's id is the directory's name.
 */
export function readRun(logDir: string, runId: string, now = new Date()): RunRecord | undefined {
  if (!_isSafeName(runId)) return undefined;
  const path = logLayout(logDir).runRecord(runId);
  let run = _validRun(readJson<unknown>(path), runId);
  if (!run || run.status === "completed") return run;
  // run.json of a live run may be up to 200 ms behind its job files (see RunWriter.saveJob).
  mergeJobFiles(logLayout(logDir), run);
  if (!_validOwner(run.owner)) {
    // No owner to ask (a hand-made or foreign record): it can never finish, so never show it running.
    markAbandoned(run, now);
    return run;
  }
  if (ownerAlive(run.owner)) return run;
  try {
    reconcileRun(logDir, runId, now);
    run = _validRun(readJson<unknown>(path), runId) ?? run;
  } catch {
    // read-only or foreign log dir: the record stays as it is on disk; show the truth anyway
  }
  if (run.status !== "completed") markAbandoned(run, now);
  return run;
}

export interface ListRunsOptions {
  /** at most this many runs (after filtering) */
  limit?: number;
  /** only runs whose status or conclusion is this word */
  status?: RunFilter;
  now?: Date;
}

/**
 * Runs on disk, newest first. Malformed records are skipped. Only as many records are read as the
 * limit needs, so `run list` stays fast with thousands of runs on disk.
 */
export function listRuns(logDir: string, options: ListRunsOptions = {}): RunRecord[] {
  const runs: RunRecord[] = [];
  if (options.limit !== undefined && options.limit <= 0) return runs;
  for (const id of runIdsNewestFirst(logDir)) {
    const run = readRun(logDir, id, options.now);
    if (!run || (options.status && !runMatches(run, options.status))) continue;
    runs.push(run);
    if (options.limit !== undefined && runs.length >= options.limit) break;
  }
  return runs;
}

/** The newest readable run, if any. */
export function latestRun(logDir: string, now?: Date): RunRecord | undefined {
  return listRuns(logDir, { limit: 1, now })[0];
}

/**
 * The newest run still queued or in progress with a live owner. Stale runs (dead owner) met on the
 * way are reconciled to cancelled and passed over, so `run watch` never follows a run that cannot end.
 */
export function newestInProgress(logDir: string, now?: Date): RunRecord | undefined {
  for (const id of runIdsNewestFirst(logDir)) {
    const run = readRun(logDir, id, now);
    if (run && run.status !== "completed") return run;
  }
  return undefined;
}

/**
 * The run with this id. Also accepted: a unique prefix of an id (`20250101-1200`), or the random
 * suffix that ends one (`a1b2c3`). Throws SepError (exit 2) naming the id and the log dir when no
 * run matches or several do, and (exit 1) when the run's record is unreadable.
 */
export function loadRun(logDir: string, idOrPrefix: string, now?: Date): RunRecord {
  const layout = logLayout(logDir);
  const wanted = idOrPrefix.trim();
  const hint = "`sep run list` shows the recorded runs";
  if (wanted === "" || !_isSafeName(wanted)) {
    throw new SepError("E_NO_RUN", `no run ${JSON.stringify(idOrPrefix)} in ${layout.runsDir}`, { exitCode: 2, hint });
  }
  const ids = runIdsNewestFirst(logDir);
  let id = ids.includes(wanted) ? wanted : undefined;
  if (!id) {
    const matches = ids.filter((candidate) => candidate.startsWith(wanted) || candidate.endsWith(`-${wanted}`));
    if (matches.length > 1) {
      const shown = matches.slice(0, 5).join(", ") + (matches.length > 5 ? `, … (${matches.length} in all)` : "");
      throw new SepError("E_AMBIGUOUS_RUN", `run id ${JSON.stringify(wanted)} is ambiguous in ${layout.runsDir}: it matches ${shown}`, {
        exitCode: 2,
        hint: "give more of the id; `sep run list` shows the ids",
      });
    }
    id = matches[0];
  }
  if (!id) {
    throw new SepError("E_NO_RUN", `no run ${JSON.stringify(wanted)} in ${layout.runsDir}`, {
      exitCode: 2,
      hint: ids.length === 0 ? "no runs are recorded there yet" : hint,
    });
  }
  const run = readRun(logDir, id, now);
  if (!run) {
    throw new SepError("E_BAD_RECORD", `the record of run ${id} (${layout.runRecord(id)}) is missing or malformed`, {
      hint: "it may be half-written or edited by hand; `sep run prune` removes it once it is old enough",
    });
  }
  return run;
}

/** Runs read at most when looking for a command's durations, newest first. */
const DURATION_SCAN_RUNS = 200;

/** A command as the run records tell it apart: its argv and its cwd. */
export function commandOfJob(argv: readonly string[], cwd: string): string {
  return JSON.stringify([argv, cwd]);
}

/**
 * How long each command's last jobs took (commandOfJob → ms, newest first, at most `perCommand`
 * each), from the newest DURATION_SCAN_RUNS runs: what the ETA falls back on when the machine
 * governor has no profile of a command. A job counts when it ran to an end of its own or was killed
 * at a limit; cancelled, skipped and jobs that never started do not say how long the command takes.
 * Time the governor kept a job paused is not counted. Strictly read-only: nothing is reconciled.
 */
export function recentJobDurations(logDir: string, perCommand: number): Map<string, number[]> {
  const layout = logLayout(logDir);
  const durations = new Map<string, number[]>();
  for (const id of runIdsNewestFirst(logDir).slice(0, DURATION_SCAN_RUNS)) {
    if (!_isSafeName(id)) continue;
    const run = _validRun(readJson<unknown>(layout.runRecord(id)), id);
    for (const job of [...(run?.jobs ?? [])].reverse()) {
      if (job.status !== "completed" || !_TIMED.has(job.conclusion as Conclusion)) continue;
      if (typeof job.durationMs !== "number" || !Number.isFinite(job.durationMs) || typeof job.cwd !== "string") continue;
      const key = commandOfJob(job.argv, job.cwd);
      const list = durations.get(key) ?? [];
      if (list.length >= perCommand) continue;
      const paused = typeof job.pausedMs === "number" && Number.isFinite(job.pausedMs) ? job.pausedMs : 0;
      list.push(Math.max(0, job.durationMs - paused));
      durations.set(key, list);
    }
  }
  return durations;
}

/** Conclusions whose duration is what the command took. */
const _TIMED = new Set<Conclusion>(["success", "failure", "timed_out", "memory_exceeded"]);

export interface PruneResult {
  /** ids of the runs deleted, newest first */
  removed: string[];
  /** sep's run directories left on disk */
  remaining: number;
  /** runs that could not be deleted, with why */
  errors: { id: string; message: string }[];
}

/**
 * Delete the oldest runs beyond the newest `keep`, which are always kept. Of the older ones, only
 * completed runs are deleted (a stale run of a dead owner is reconciled first, and so is completed);
 * a run still in progress under a live sep is never touched. `keep` 0 means keep every run.
 * Only directories named like run ids are deleted; symlinks are never followed. Run after every
 * run (cheap: one readdir when nothing is over the limit) and by `sep run prune`.
 */
export function pruneRuns(logDir: string, keep: number, now = new Date()): PruneResult {
  if (!Number.isSafeInteger(keep) || keep < 0) throw new RangeError(`keep must be a whole number ≥ 0 (got ${keep})`);
  // Only sep's own run directories count and go: anything else in runs/ is not ours to judge.
  const ids = runIdsNewestFirst(logDir).filter((id) => RUN_ID_PATTERN.test(id));
  const result: PruneResult = { removed: [], remaining: ids.length, errors: [] };
  if (keep === 0 || ids.length <= keep) return result;

  const layout = logLayout(logDir);
  // Both exist (runs were listed), so nothing is created: this refuses a symlinked or foreign dir.
  ensurePrivateDir(layout.dir);
  ensurePrivateDir(layout.runsDir);
  for (const id of ids.slice(keep)) {
    const dir = layout.runDir(id);
    let mtimeMs: number;
    try {
      const stat = lstatSync(dir);
      if (!stat.isDirectory()) continue;
      mtimeMs = stat.mtimeMs;
    } catch {
      continue; // gone already (another prune)
    }
    const run = readRun(logDir, id, now);
    if (run ? run.status !== "completed" : now.getTime() - mtimeMs < UNREADABLE_RUN_GRACE_MS) continue;
    try {
      rmSync(dir, { recursive: true, force: true });
      result.removed.push(id);
    } catch (error) {
      result.errors.push({ id, message: (error as NodeJS.ErrnoException).code ?? String(error) });
    }
  }
  result.remaining = ids.length - result.removed.length;
  return result;
}

function _isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Record files are named by the id; an id is never a path. */
function _isSafeName(name: string): boolean {
  return name !== "" && !name.startsWith(".") && !/[/\\\0]/.test(name);
}

/** The parts every reader relies on; anything else is shown as found. */
/** What every command that shows a job relies on; a job without it makes the run malformed. */
function _validJob(value: unknown): boolean {
  return (
    _isObject(value) &&
    (STATUSES as readonly unknown[]).includes(value.status) &&
    typeof value.name === "string" &&
    Array.isArray(value.argv) &&
    value.argv.every((word) => typeof word === "string") &&
    (value.conclusion === null || typeof value.conclusion === "string")
  );
}

function _validRun(value: unknown, runId: string): RunRecord | undefined {
  if (!_isObject(value) || typeof value.id !== "string") return undefined;
  if (!(STATUSES as readonly unknown[]).includes(value.status)) return undefined;
  if (!Array.isArray(value.jobs) || !value.jobs.every(_validJob)) return undefined;
  const run = value as unknown as RunRecord;
  run.id = runId;
  return run;
}

function _validOwner(owner: unknown): owner is RunRecord["owner"] {
  return _isObject(owner) && Number.isInteger(owner.pid) && (owner.pid as number) > 0;
}
