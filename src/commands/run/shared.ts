// What `sep run list/view/watch/prune` share: strict flags. How runs and jobs are shown lives in
// ../present.ts, shared with `sep queue start`; copying job logs to stdout in ../../output.ts.
import type { ArgsDef } from "citty";
import { UsageError } from "../../errors.ts";
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
