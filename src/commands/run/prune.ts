// `sep run prune [--keep N]`: delete the oldest completed runs beyond the newest N (config keepRuns).
import { defineCommand } from "citty";
import { pruneRuns } from "../../core/records/history.ts";
import { logLayout } from "../../core/paths.ts";
import { logger } from "../../logger.ts";
import { writeStdout } from "../../output.ts";
import { loadConfig } from "../context.ts";
import { strictArgs } from "./shared.ts";

const args = {
  keep: { type: "string", description: "Keep the newest N runs (default: keepRuns / SEP_KEEP_RUNS, 100; 0 = keep all)", valueHint: "N" },
} as const;

export default defineCommand({
  meta: { name: "prune", description: "Delete the oldest completed runs beyond the newest N" },
  args,
  async run({ rawArgs }) {
    const { values } = strictArgs(rawArgs, args, "sep run prune", 0);
    const config = await loadConfig(values); // --keep sets keepRuns
    const runsDir = logLayout(config.logDir).runsDir;
    if (config.keepRuns === 0) {
      logger.info(`keepRuns is 0: every run is kept; nothing pruned in ${runsDir}`);
      return 0;
    }
    const result = pruneRuns(config.logDir, config.keepRuns);
    if (result.removed.length > 0) await writeStdout(result.removed.map((id) => `${id}\n`).join(""));
    for (const { id, message } of result.errors) logger.warn(`could not delete run ${id}: ${message}`);
    const kept = `${result.remaining} ${result.remaining === 1 ? "run" : "runs"} left in ${runsDir}`;
    logger.info(`${result.removed.length === 0 ? "nothing to prune" : `deleted ${result.removed.length} ${result.removed.length === 1 ? "run" : "runs"}`}; ${kept} (keeping the newest ${config.keepRuns})`);
    return result.errors.length > 0 ? 1 : 0;
  },
});
