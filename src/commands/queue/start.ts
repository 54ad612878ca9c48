// `sep queue start`: run every stored job in FIFO order as one run, then return.
import { defineCommand } from "citty";
import { drainQueue } from "../../core/queue/drain.ts";
import { installInterruptHandlers } from "../../core/interrupts.ts";
import { formatDuration } from "../../format.ts";
import { logger, writeStderr } from "../../logger.ts";
import { jobHeaderLine, jobResultLine, renderJobsTable, runResultLine } from "../present.ts";
import { loadConfig, runReporter } from "../context.ts";
import { runEndOptions } from "../run-options.ts";

export default defineCommand({
  meta: { name: "start", description: "Run the stored jobs in FIFO order as one run; return when the queue is empty" },
  args: {
    "fail-fast": { type: "boolean", description: "Stop at the first failing job; record the rest as skipped" },
    "pipeline-timeout": { type: "string", description: "Seconds for the whole run (0 = none); then exit 124", valueHint: "SECONDS" },
    follow: { type: "boolean", description: "Keep waiting for new jobs when the queue is empty, until interrupted" },
    wait: { type: "boolean", description: "If another drain runs, start after it instead of failing" },
    verbose: { type: "boolean", alias: "v", description: "Say what sep does, step by step" },
    quiet: { type: "boolean", alias: "q", description: "Only warnings and errors from sep" },
    ...runEndOptions,
  },
  run: async ({ args }) => {
    installInterruptHandlers();
    const config = await loadConfig(args);
    const started = Date.now();
    const { exitCode } = await drainQueue(config, {
      failFast: args["fail-fast"] === true,
      follow: args.follow === true,
      wait: args.wait === true,
      reporter: await runReporter(config, {
        // Progress: which job of how many, how long the run has taken so far, the command.
        jobStarting: (job, total) => logger.info(`${jobHeaderLine(job, job.n, total)}  (${formatDuration(Date.now() - started)} into the run)`),
        jobEnded: (job, total) => logger.info(jobResultLine(job, job.n, total)),
        runEnded: (run) => {
          const now = new Date();
          writeStderr(`\n${renderJobsTable(run, now)}`);
          logger.info(runResultLine(run, now));
        },
      }),
    });
    return exitCode;
  },
});
