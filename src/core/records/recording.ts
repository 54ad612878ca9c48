// Writing a run's records as it goes, where a record that cannot be written is said and
// survived: the user's command matters more than its record (an unsafe state dir is refused).
import type { ResolvedConfig } from "../../config.ts";
import { errorMessage, SepError } from "../../errors.ts";
import { logger } from "../../logger.ts";
import { pruneRuns } from "./history.ts";
import { type JobRecord, type RunRecord, RunWriter } from "./runs.ts";
import { writeJsonAtomic } from "../store.ts";

/**
 * Create the run's records. A log dir that cannot be written (read-only, full, not a directory)
 * does not stop the user's command: sep says what is lost and runs it unrecorded. A state dir that
 * is a symlink or someone else's is refused (exit 1): writing there would not be safe.
 */
export function openRecords(config: ResolvedConfig, run: RunRecord): RunWriter | undefined {
  const writer = new RunWriter(config.logDir, run);
  try {
    writer.create();
    return writer;
  } catch (error) {
    if (error instanceof SepError && error.code === "E_UNSAFE_STATE_DIR") throw error;
    logger.warn(`cannot write run records under ${config.logDir} (${errorMessage(error)}); this run will not be recorded and its output not logged`);
    return undefined;
  }
}

export function writeReport(path: string, record: RunRecord | JobRecord): void {
  try {
    writeJsonAtomic(path, record);
  } catch (error) {
    logger.warn(`could not write the report ${path} (${errorMessage(error)})`);
  }
}

/** Keep the newest `keepRuns` runs (config); older completed ones are deleted after each run. */
export function pruneOldRuns(config: ResolvedConfig): void {
  try {
    const { errors } = pruneRuns(config.logDir, config.keepRuns);
    for (const { id, message } of errors) logger.warn(`could not delete old run ${id}: ${message}`);
  } catch (error) {
    logger.warn(`could not prune old runs in ${config.logDir}: ${errorMessage(error)}`);
  }
}
