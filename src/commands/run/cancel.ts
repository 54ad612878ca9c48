// `sep run cancel RUN_ID`: stop a run that is still going (one left in the background after
// --detach-after, or any other): its job's tree is killed and the run recorded cancelled.
import { defineCommand } from "citty";
import { cancelRun } from "../../agent/wait.ts";
import { UsageError } from "../../errors.ts";
import { logger } from "../../logger.ts";
import { loadConfig } from "../context.ts";
import { stateWord } from "../present.ts";
import { strictArgs } from "./shared.ts";

const args = {
  // Not `required`: citty's own check ends in an internal error; run() says what is missing (exit 2).
  runId: { type: "positional", required: false, description: "The run (an id, a unique prefix of one, or its last 6 characters)", valueHint: "RUN_ID" },
} as const;

export default defineCommand({
  meta: { name: "cancel", description: "Stop a run that is still going: kill its job's process tree, record it cancelled" },
  args,
  async run({ rawArgs }) {
    const { positionals } = strictArgs(rawArgs, args, "sep run cancel", 1);
    if (positionals[0] === undefined) throw new UsageError("sep run cancel needs the run id", "`sep run list --status in_progress` lists the runs still going");
    const config = await loadConfig();
    const run = await cancelRun(config.logDir, positionals[0], config.killGrace * 1000);
    logger.info(`run ${run.id} ${stateWord(run)}${typeof run.exitCode === "number" ? ` (exit ${run.exitCode})` : ""}`);
    return 0;
  },
});
