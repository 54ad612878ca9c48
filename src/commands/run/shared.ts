// What `sep run list/view/watch/prune` share: strict flags and copying job logs to stdout. How runs
// and jobs are shown lives in ../present.ts, shared with `sep queue start`.
import { closeSync, existsSync, fstatSync, openSync, readSync } from "node:fs";
import type { ArgsDef } from "citty";
import { UsageError } from "../../errors.ts";
import type { JobRecord, RunRecord } from "../../core/records/types.ts";
import { logLayout } from "../../core/paths.ts";
import { writeStdout } from "../../output.ts";
import { parseFlags, type ParsedFlags } from "../args.ts";

/**
 * citty parses leniently (an unknown flag is silently dropped); sep rejects it instead, so a typo
 * such as `--limt 5` is an error, not a surprise. At most `maxPositionals` words are accepted.
 */
export function strictArgs(rawArgs: string[], def: ArgsDef, where: string, maxPositionals: number): ParsedFlags {
  const parsed = parseFlags(rawArgs, def, where);
  if (parsed.positionals.length > maxPositionals) {
    throw new UsageError(`unexpected ${JSON.stringify(parsed.positionals[maxPositionals])} for ${where}`, `see \`${where} --help\``);
  }
  return parsed;
}

// ---------------------------------------------------------------------------------------------
// Job logs to stdout

/**
 * Where the job's output is: the path its record names, or, when that is gone (the project was
 * moved, or the record predates logs), where the layout puts it.
 */
export function jobLogFile(logDir: string, run: RunRecord, job: JobRecord, n: number): string {
  if (typeof job.logPath === "string" && job.logPath !== "" && existsSync(job.logPath)) return job.logPath;
  return logLayout(logDir).jobLog(run.id, n);
}

const CHUNK = 64 * 1024;

/**
 * Copy the file from `offset` to its current end onto stdout; returns the new offset. A missing
 * file copies nothing (it may not exist yet). A file that shrank (replaced) is read from its start.
 */
export async function copyNewBytes(path: string, offset: number): Promise<{ offset: number; exists: boolean }> {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return { offset, exists: false };
  }
  try {
    const size = fstatSync(fd).size;
    let position = size < offset ? 0 : offset;
    const buffer = Buffer.allocUnsafe(CHUNK);
    while (position < size) {
      const read = readSync(fd, buffer, 0, Math.min(CHUNK, size - position), position);
      if (read <= 0) break;
      await writeStdout(buffer.subarray(0, read));
      position += read;
    }
    return { offset: position, exists: true };
  } finally {
    closeSync(fd);
  }
}
