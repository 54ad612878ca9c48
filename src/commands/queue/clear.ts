// `sep queue clear`: remove every stored job that has not started; a running job goes on.
import { defineCommand } from "citty";
import { clearQueue } from "../../core/queue/entries.ts";
import { logger } from "../../logger.ts";
import { loadConfig } from "../context.ts";

export default defineCommand({
  meta: { name: "clear", description: "Remove all stored jobs that have not started (a running job goes on)" },
  run: async () => {
    const config = await loadConfig();
    const removed = clearQueue(config.lockDir);
    logger.info(removed.length === 0 ? "the queue was already empty" : `removed ${removed.length} stored job(s)`);
    return 0;
  },
});
