// `sep run view [RUN_ID] [--log] [--log-failed] [--json] [--exit-status]`: one run, its jobs, their output.
import { defineCommand } from "citty";
import { SepError } from "../../errors.ts";
import { latestRun, loadRun } from "../../core/records/history.ts";
import { logLayout } from "../../core/paths.ts";
import { isFailure } from "../../core/conclusion.ts";
import { type RunRecord, runExitCode } from "../../core/records/types.ts";
import { logger } from "../../logger.ts";
import { loadConfig } from "../context.ts";
import { copyNewBytes, jobLogFile, writeStdout } from "../../output.ts";
import { jobNumber, jobResultLine, renderRunView } from "../present.ts";
import { strictArgs } from "./shared.ts";

const args = {
  runId: { type: "positional", required: false, description: "The run (an id, a unique prefix of one, or its last 6 characters); default: the latest run", valueHint: "RUN_ID" },
  log: { type: "boolean", description: "Print every job's output (sep's job headers go to stderr)" },
  "log-failed": { type: "boolean", description: "Print the output of the failed jobs only" },
  json: { type: "boolean", description: "Print the run record as JSON" },
  "exit-status": { type: "boolean", description: "Exit with the run's exit code (1 while it is still in progress)" },
} as const;

export default defineCommand({
  meta: { name: "view", description: "Show a run and its jobs (default: the latest run)" },
  args,
  async run({ rawArgs }) {
    const { values, positionals } = strictArgs(rawArgs, args, "sep run view", 1);
    const config = await loadConfig();
    const now = new Date();
    const run = positionals[0] !== undefined ? loadRun(config.logDir, positionals[0], now) : latestRun(config.logDir, now);
    if (!run) {
      throw new SepError("E_NO_RUN", `no runs recorded in ${logLayout(config.logDir).runsDir}`, {
        exitCode: 2,
        hint: "runs are recorded by `sep -- COMMAND` and `sep queue start`",
      });
    }

    if (values.json) await writeStdout(`${JSON.stringify(run, null, 2)}\n`);
    else if (values.log || values["log-failed"]) await printLogs(config.logDir, run, values["log-failed"] === true && !values.log);
    else await writeStdout(renderRunView(run, now));

    if (!values["exit-status"]) return 0;
    if (run.status !== "completed") {
      logger.warn(`run ${run.id} is still ${run.status}: it has no exit status yet (exit 1)`);
      return 1;
    }
    return runExitCode(run);
  },
});

/**
 * Each job's log, whole, on stdout, so `sep run view --log > out.txt` holds exactly the output;
 * a one-line header per job on stderr says whose output follows.
 */
async function printLogs(logDir: string, run: RunRecord, failedOnly: boolean): Promise<void> {
  const total = run.jobs.length;
  const jobs = run.jobs.map((job, index) => ({ job, n: jobNumber(job, index) })).filter(({ job }) => !failedOnly || isFailure(job.conclusion));
  if (jobs.length === 0) {
    logger.info(failedOnly ? `no failed jobs in run ${run.id}` : `run ${run.id} has no jobs`);
    return;
  }
  for (const { job, n } of jobs) {
    logger.info(jobResultLine(job, n, total));
    if (job.status !== "completed" && !job.startedAt) {
      logger.info(`job ${n} has not started; no output yet`);
      continue;
    }
    const path = jobLogFile(logDir, run, job, n);
    const { exists } = await copyNewBytes(path, 0);
    if (!exists) logger.warn(`no log for job ${n}: ${path} is missing`);
  }
}
