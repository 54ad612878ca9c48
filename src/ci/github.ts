// GitHub Actions output: each job's output folded in a ::group::, failures as ::error::
// annotations, and a Markdown table of the run's jobs, with a chart of their memory over time,
// appended to $GITHUB_STEP_SUMMARY.
import { appendFileSync } from "node:fs";
import type { RunReporter } from "../core/job/events.ts";
import { type JobRecord, randomHex, type RunRecord } from "../core/records/types.ts";
import { describeKill } from "../describe.ts";
import { formatBytes, formatDuration, singleLine } from "../format.ts";
import { runMemoryChart } from "../memory-chart.ts";
import { atLineStart } from "../core/fd.ts";
import { writeStderr } from "../logger.ts";

/** Workflow-command data: %, CR and LF are escaped so a message stays one command. */
export function escapeData(text: string): string {
  return text.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}

/** Workflow-command property values (title=…) also escape ':' and ','. */
export function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, "%3A").replace(/,/g, "%2C");
}

/** The ::error:: line for a job that did not succeed; undefined for success, skipped and unfinished. */
export function errorAnnotation(job: JobRecord): string | undefined {
  const ending = describeKill(job, { largest: false });
  if (!ending) return undefined;
  const message = `${singleLine(job.name)}: ${ending}, conclusion ${job.conclusion}, exit code ${job.exitCode ?? "-"}`;
  return `::error title=${escapeProperty(`sep: ${job.conclusion}`)}::${escapeData(message)}`;
}

/** Record text made safe for one Markdown line or table cell. */
function _cell(text: string): string {
  return singleLine(text).replace(/\|/g, "\\|");
}

/** A command name as inline code. */
function _code(name: string): string {
  return `\`${_cell(name).replace(/`/g, "'")}\``;
}

/** The step summary: a heading, one table row per job, and the jobs' memory over time. */
export function stepSummary(run: RunRecord): string {
  const rows = run.jobs.map(
    (job) =>
      `| ${job.n} | ${_code(job.name)} | ${job.conclusion ?? job.status} | ${job.exitCode ?? "-"} | ${formatDuration(job.durationMs)} | ${formatBytes(job.peakMemoryBytes)} |`,
  );
  // What sep did to a job it ended (a limit, a signal), under the table, in the one wording.
  const killed = run.jobs.flatMap((job) => {
    const ending = job.kill ? describeKill(job) : undefined;
    return ending ? [`- job ${job.n}: ${_cell(ending)}`] : [];
  });
  const chart = memoryChartSection(run);
  return [
    `### sep run \`${run.id}\`: ${run.conclusion ?? run.status} (exit ${run.exitCode ?? "-"})`,
    "",
    "| # | command | conclusion | exit | duration | peak memory |",
    "|---:|---|---|---:|---:|---:|",
    ...rows,
    ...(killed.length > 0 ? ["", ...killed] : []),
    ...(chart.length > 0 ? ["", ...chart] : []),
    "",
    "",
  ].join("\n");
}

/** At most this many jobs are charted (the biggest peaks), so the summary stays small. */
const CHARTED_JOBS = 8;

/**
 * The Mermaid chart of the jobs' memory over time and its legend (the chart has none: the lines
 * are told apart by colour). No lines when no job has memory samples.
 */
function memoryChartSection(run: RunRecord): string[] {
  const chart = runMemoryChart(run, { maxJobs: CHARTED_JOBS });
  if (!chart) return [];
  const legend = [
    ...chart.jobs.map(({ job, colour }) => `- ${colour}: job ${job.n} ${_code(job.name)}, peak ${formatBytes(job.peakMemoryBytes)}`),
    ...chart.limits.map(({ bytes, colour }) => `- ${colour}, flat: memory limit ${formatBytes(bytes)}`),
  ];
  const leftOut = chart.leftOut > 0 ? [`- ${chart.leftOut} more ${chart.leftOut === 1 ? "job" : "jobs"} with smaller peaks not charted (at most ${CHARTED_JOBS})`] : [];
  return ["#### Memory over time", "", ...chart.block.trimEnd().split("\n"), "", ...legend, ...leftOut];
}

/**
 * The reporter for runs under GITHUB_ACTIONS=true. Markers go to stderr (stdout belongs to the
 * command). Between the group's start and end, workflow commands are switched off with a random
 * stop-commands token, so a command printing `::endgroup::`, `::error::` or `::add-mask::` cannot
 * break out of its group or speak for sep.
 */
export function githubReporter(env: NodeJS.ProcessEnv = process.env): RunReporter {
  let token: string | undefined;
  return {
    jobStarting(job, total) {
      token = randomHex(16);
      const label = total === undefined ? singleLine(job.name) : `job ${job.n}/${total}: ${singleLine(job.name)}`;
      writeStderr(`${atLineStart() ? "" : "\n"}::group::${escapeData(label)}\n::stop-commands::${token}\n`);
    },
    jobEnded(job) {
      // The resume token must start a line of its own, or the runner never reads it and every
      // workflow command after it is ignored: end a last line the job left open.
      if (token) writeStderr(`${atLineStart() ? "" : "\n"}::${token}::\n::endgroup::\n`);
      token = undefined;
      const annotation = errorAnnotation(job);
      if (annotation) writeStderr(`${annotation}\n`);
    },
    runEnded(run) {
      const file = env.GITHUB_STEP_SUMMARY;
      if (!file) return;
      try {
        appendFileSync(file, stepSummary(run));
      } catch (error) {
        writeStderr(`sep: warning: could not append to GITHUB_STEP_SUMMARY ${file}: ${(error as Error).message}\n`);
      }
    },
  };
}
