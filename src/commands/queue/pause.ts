// `sep queue pause`: the running job finishes; the next one waits for `sep queue resume`.
import { defineCommand } from "citty";
import { setPaused } from "../../core/queue/entries.ts";
import { logger } from "../../logger.ts";
import { loadConfig } from "../context.ts";

export default defineCommand({
  meta: { name: "pause", description: "Hold the queue between jobs: the running job finishes, the next waits for resume" },
  run: async () => {
    const config = await loadConfig();
    setPaused(config.lockDir, true);
    logger.info("paused: no new job starts until `sep queue resume`");
    return 0;
  },
});
