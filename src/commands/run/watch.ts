// `sep run watch [RUN_ID] [--exit-status]`: follow a run live, job by job, streaming the current
// job's output, until the run ends.
import { defineCommand } from "citty";
import { SepError } from "../../errors.ts";
import { compileHotLoopsSoon } from "../../core/jit.ts";
import { latestRun, loadRun, newestInProgress, readRun } from "../../core/records/history.ts";
import { type RunRecord, runExitCode } from "../../core/records/types.ts";
import { formatAge } from "../../format.ts";
import { logger } from "../../logger.ts";
import { loadConfig } from "../context.ts";
import { copyNewBytes, jobLogFile } from "../../output.ts";
import { jobHeaderLine, jobNumber, jobResultLine, runResultLine, stateWord } from "../present.ts";
import { strictArgs } from "./shared.ts";

/** How often the run record and the current job's log are read. */
export const POLL_MS = 100;

const args = {
  runId: { type: "positional", required: false, description: "The run to follow (an id, a unique prefix, or its last 6 characters); default: the newest run in progress", valueHint: "RUN_ID" },
  "exit-status": { type: "boolean", description: "Exit with the run's exit code once it ends" },
} as const;

export default defineCommand({
  meta: { name: "watch", description: "Follow a run live until it ends (default: the newest run in progress)" },
  args,
  async run({ rawArgs }) {
    const { values, positionals } = strictArgs(rawArgs, args, "sep run watch", 1);
    const config = await loadConfig();
    let run: RunRecord | undefined;
    if (positionals[0] !== undefined) {
      run = loadRun(config.logDir, positionals[0]);
    } else {
      run = newestInProgress(config.logDir);
      if (!run) {
        const latest = latestRun(config.logDir);
        const last = latest ? `; the latest run, ${latest.id}, ended ${stateWord(latest)} ${formatAge(latest.completedAt ?? latest.createdAt, new Date())}` : "";
        logger.info(`no run in progress to watch${last}`);
        return 0;
      }
    }
    const ended = await follow(config.logDir, run);
    if (!values["exit-status"]) return 0;
    return runExitCode(ended);
  },
});

/**
 * Print each job's header when it starts, its log as it grows, its result when it ends; return
 * the completed run. A run whose owner dies is reconciled to cancelled by readRun, so this ends.
 */
export async function follow(logDir: string, first: RunRecord): Promise<RunRecord> {
  compileHotLoopsSoon();
  const announced = new Set<number>();
  const finished = new Set<number>();
  const offsets = new Map<number, number>();
  let saidWaiting = false;
  for (let run: RunRecord | undefined = first; ; run = readRun(logDir, first.id)) {
    if (!run) {
      throw new SepError("E_RUN_GONE", `run ${first.id} disappeared from ${logDir} while being watched`, {
        hint: "it was deleted, perhaps pruned (keepRuns); `sep run list` shows the runs that are left",
      });
    }
    // A run in progress may still be taking jobs (`queue start --follow`): no "of N" until it ends.
    const total = run.status === "completed" ? run.jobs.length : undefined;
    for (const [index, job] of run.jobs.entries()) {
      const n = jobNumber(job, index);
      if (finished.has(n)) continue;
      if (job.status === "queued") break; // jobs run in order: nothing after this one has started
      if (!announced.has(n) && job.startedAt) {
        logger.info(jobHeaderLine(job, n, total));
        announced.add(n);
      }
      // The record is read before the log: once it says completed, the log holds every byte.
      if (job.startedAt) offsets.set(n, (await copyNewBytes(jobLogFile(logDir, run, job, n), offsets.get(n) ?? 0)).offset);
      if (job.status !== "completed") break;
      logger.info(jobResultLine(job, n, total));
      finished.add(n);
    }
    if (run.status === "completed") {
      logger.info(runResultLine(run));
      return run;
    }
    if (!saidWaiting && run.status === "queued") {
      logger.info(`run ${run.id} is waiting for its turn`);
      saidWaiting = true;
    }
    await Bun.sleep(POLL_MS);
  }
}
