// `sep queue status [--json]`: the running job, invocations waiting for their turn, stored jobs.
import { defineCommand } from "citty";
import { queueStatus } from "../../core/queue/status.ts";
import { formatAbout, formatBytes, formatDuration, renderTable, singleLine } from "../../format.ts";
import { etaCell } from "../present.ts";
import { writeStdout } from "../../output.ts";
import { loadConfig } from "../context.ts";

export default defineCommand({
  meta: { name: "status", description: "Show the running job, invocations waiting for their turn, and stored jobs" },
  args: {
    json: { type: "boolean", description: "Print JSON: { running, waiting, queued, corrupt, drain, paused }, with ETAs (expectedMs, leftMs, startsInMs)" },
  },
  run: async ({ args }) => {
    const config = await loadConfig();
    const status = queueStatus(config);
    if (args.json) {
      await writeStdout(`${JSON.stringify(status, null, 2)}\n`);
      return 0;
    }
    let out = "";
    out += status.drain ? `draining: sep pid ${status.drain.pid}, run ${status.drain.runId}${status.paused ? " (paused)" : ""}\n` : status.paused ? "paused\n" : "";
    out += `running (${status.running.length}):\n`;
    if (status.running.length > 0) {
      out += renderTable(status.running, [
        { header: "PID", value: (job) => String(job.pid), align: "right" },
        { header: "ELAPSED", value: (job) => formatDuration(job.elapsedMs), align: "right" },
        { header: "MEMORY", value: (job) => formatBytes(job.memoryBytes), align: "right" },
        { header: "ETA", value: (job) => etaCell({ expectedMs: job.expectedMs, leftMs: job.leftMs }) },
        { header: "JOB", value: (job) => singleLine(job.name), maxWidth: 80 },
      ]);
    }
    out += `waiting for a turn (${status.waiting.length}):\n`;
    if (status.waiting.length > 0) {
      out += renderTable(status.waiting, [
        { header: "PID", value: (w) => String(w.pid), align: "right" },
        { header: "WAITING", value: (w) => formatDuration(w.waitMs), align: "right" },
        { header: "ETA", value: (w) => etaCell({ expectedMs: w.expectedMs, startsInMs: w.startsInMs }) },
        { header: "COMMAND", value: (w) => singleLine(w.name), maxWidth: 80 },
      ]);
    }
    out += `stored (${status.queued.length}):\n`;
    if (status.queued.length > 0) {
      out += renderTable(status.queued, [
        { header: "ID", value: (job) => job.id },
        { header: "WAITING", value: (job) => formatDuration(job.waitMs), align: "right" },
        { header: "USUALLY", value: (job) => (job.expectedMs === null ? "-" : `takes ${formatAbout(job.expectedMs)}`) },
        { header: "COMMAND", value: (job) => singleLine(job.name ?? job.argv.join(" ")), maxWidth: 80 },
      ]);
    }
    if (status.corrupt.length > 0) out += `not valid (set aside at the next \`sep queue start\`): ${status.corrupt.join(", ")}\n`;
    await writeStdout(out);
    return 0;
  },
});
