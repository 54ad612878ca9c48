// `sep queue resume`: let a paused queue go on.
import { defineCommand } from "citty";
import { setPaused } from "../../core/queue/entries.ts";
import { logger } from "../../logger.ts";
import { loadConfig } from "../context.ts";

export default defineCommand({
  meta: { name: "resume", description: "Let a paused queue go on" },
  run: async () => {
    const config = await loadConfig();
    setPaused(config.lockDir, false);
    logger.info("resumed");
    return 0;
  },
});
