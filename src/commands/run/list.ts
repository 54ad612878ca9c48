// `sep run list [--limit N] [--status S] [--json]`: the run history, newest first (like `gh run list`).
import { defineCommand } from "citty";
import { UsageError } from "../../errors.ts";
import { isRunFilter, listRuns, RUN_FILTERS } from "../../core/records/history.ts";
import { logLayout } from "../../core/paths.ts";
import { logger } from "../../logger.ts";
import { writeStdout } from "../../output.ts";
import { loadConfig } from "../context.ts";
import { renderRunsTable } from "../present.ts";
import { strictArgs } from "./shared.ts";

export const DEFAULT_LIMIT = 20;

const args = {
  limit: { type: "string", alias: "L", description: `Show at most N runs (default ${DEFAULT_LIMIT})`, valueHint: "N" },
  status: { type: "string", alias: "s", description: `Only runs with this conclusion or status: ${RUN_FILTERS.join(", ")}`, valueHint: "S" },
  json: { type: "boolean", description: "Print the run records as a JSON array, newest first" },
} as const;

export default defineCommand({
  meta: { name: "list", description: "List recorded runs, newest first" },
  args,
  async run({ rawArgs }) {
    const { values } = strictArgs(rawArgs, args, "sep run list", 0);
    const limit = parseLimit(values.limit);
    const status = values.status;
    if (typeof status === "string" && !isRunFilter(status)) {
      throw new UsageError(`unknown --status ${JSON.stringify(status)}`, `use one of: ${RUN_FILTERS.join(", ")}`);
    }
    const config = await loadConfig();
    const now = new Date();
    const runs = listRuns(config.logDir, { limit, status: typeof status === "string" ? status : undefined, now });
    if (values.json) {
      await writeStdout(`${JSON.stringify(runs, null, 2)}\n`);
    } else if (runs.length === 0) {
      logger.info(`no ${typeof status === "string" ? `${status} ` : ""}runs recorded in ${logLayout(config.logDir).runsDir}`);
    } else {
      await writeStdout(renderRunsTable(runs, now));
    }
    return 0;
  },
});

function parseLimit(value: string | boolean | undefined): number {
  if (value === undefined) return DEFAULT_LIMIT;
  const text = String(value).trim();
  const n = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new UsageError(`--limit must be a whole number ≥ 1 (got ${JSON.stringify(value)})`, `e.g. --limit 50; the default is ${DEFAULT_LIMIT}`);
  }
  return n;
}
