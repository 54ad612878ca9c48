// `sep queue remove ID`: take one stored job out of the queue.
import { defineCommand } from "citty";
import { removeFromQueue } from "../../core/queue/entries.ts";
import { UsageError } from "../../errors.ts";
import { logger } from "../../logger.ts";
import { loadConfig } from "../context.ts";

export default defineCommand({
  meta: { name: "remove", description: "Remove one stored job by its id (see `sep queue status`)" },
  args: { id: { type: "positional", description: "the job's id, e.g. q12", required: false } },
  run: async ({ args }) => {
    if (!args.id) throw new UsageError("which job? give its id", "`sep queue status` lists the stored jobs and their ids");
    const config = await loadConfig();
    const entry = removeFromQueue(config.lockDir, args.id);
    logger.info(`removed ${entry.id}: ${entry.name ?? entry.argv.join(" ")}`);
    return 0;
  },
});
