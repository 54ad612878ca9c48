// `sep queue stop [--clear]`: end the drain now — its current job's tree is killed and its run
// marked cancelled; stored jobs stay for next time unless --clear.
import { defineCommand } from "citty";
import { stopDrain } from "../../core/queue/drain.ts";
import { clearQueue } from "../../core/queue/entries.ts";
import { logger } from "../../logger.ts";
import { loadConfig } from "../context.ts";

export default defineCommand({
  meta: { name: "stop", description: "Stop the running drain: kill its current job's tree, mark the run cancelled" },
  args: { clear: { type: "boolean", description: "Also remove the stored jobs that have not started" } },
  run: async ({ args }) => {
    const config = await loadConfig();
    const stopped = await stopDrain(config);
    if (stopped) logger.info(`stopped the drain (sep pid ${stopped.pid}, run ${stopped.runId})`);
    else logger.info("no queue is being drained");
    if (args.clear) {
      const removed = clearQueue(config.lockDir);
      logger.info(`removed ${removed.length} stored job(s)`);
    }
    return 0;
  },
});
