// `sep wait RUN_ID [--timeout S]`: pick up a run a `sep --` left in the background (exit 75 with
// --detach-after): its output from where the caller left off, then its exit code.
import { defineCommand } from "citty";
import { waitForRun } from "../agent/wait.ts";
import { UsageError } from "../errors.ts";
import { parseSeconds } from "./args.ts";
import { loadConfig } from "./context.ts";
import { strictArgs } from "./run/shared.ts";

const args = {
  // Not `required`: citty's own check ends in an internal error; run() says what is missing (exit 2).
  runId: { type: "positional", required: false, description: "The run (an id, a unique prefix of one, or its last 6 characters)", valueHint: "RUN_ID" },
  timeout: { type: "string", description: "Give up waiting (exit 75 again; the run goes on) after this many seconds", valueHint: "SECONDS" },
} as const;

export default defineCommand({
  meta: { name: "wait", description: "Wait for a run left in the background (after --detach-after): print its output from where you left off, exit with its code" },
  args,
  async run({ rawArgs }) {
    const { values, positionals } = strictArgs(rawArgs, args, "sep wait", 1);
    if (positionals[0] === undefined) throw new UsageError("sep wait needs the run id", "the id is in the line `sep --` printed when it detached: sep wait RUN_ID");
    const config = await loadConfig();
    return waitForRun({ logDir: config.logDir, runId: positionals[0], timeoutMs: parseSeconds(values.timeout, "--timeout") });
  },
});
