// `sep status [--json]`: the machine governor's view: budget, reserve, free memory, and every
// waiting, running and paused sep job of this user on this machine, whatever its project.
import { defineCommand } from "citty";
import { machineStatus } from "../core/governor/status.ts";
import { logger } from "../logger.ts";
import { formatAge, formatBytes, renderTable, singleLine } from "../format.ts";
import { writeStdout } from "../output.ts";
import { etaCell } from "./present.ts";
import { loadConfig } from "./context.ts";

export default defineCommand({
  meta: { name: "status", description: "Show the machine's memory budget and every waiting, running and paused sep job on it" },
  args: {
    json: { type: "boolean", description: "Print JSON: { budgetBytes, reserveBytes, availableBytes, jobs }, each job with its ETA (expectedMs, leftMs or startsInMs)" },
  },
  run: async ({ args }) => {
    const config = await loadConfig();
    const status = machineStatus(config, { onWarning: (message) => logger.warn(message) });
    if (args.json) {
      await writeStdout(`${JSON.stringify(status, null, 2)}\n`);
      return 0;
    }
    const budget = status.governor ? `budget ${formatBytes(status.budgetBytes)} (${status.why})` : "governor off (memoryBudgetMb 0)";
    let out = `${budget}, reserve ${formatBytes(status.reserveBytes)}, free ${formatBytes(status.availableBytes)}\n`;
    if (status.jobs.length === 0) {
      out += "no sep jobs on this machine\n";
    } else {
      const now = Date.now();
      out += renderTable(status.jobs, [
        { header: "STATE", value: (job) => job.state },
        { header: "PID", value: (job) => String(job.pid), align: "right" },
        { header: "RESERVED", value: (job) => formatBytes(job.reservationBytes), align: "right" },
        { header: "MEMORY", value: (job) => (job.state === "waiting" ? "-" : formatBytes(job.memoryBytes)), align: "right" },
        { header: "SINCE", value: (job) => formatAge(job.since, now) },
        { header: "ETA", value: (job) => etaCell(job) },
        { header: "PROJECT", value: (job) => singleLine(job.projectRoot), maxWidth: 40 },
        { header: "COMMAND", value: (job) => singleLine(job.argv.join(" ")), maxWidth: 60 },
      ]);
    }
    await writeStdout(out);
    return 0;
  },
});
