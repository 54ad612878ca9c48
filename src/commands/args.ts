// Strict parsing of sep's own flags. citty parses leniently (an unknown flag is silently kept), so
// a typo such as `--timout 5` would run the job without its limit; sep rejects it instead. It is
// also the hot path of every `sep -- CMD`, and this loop costs microseconds where citty's parseArgs
// costs about a millisecond at start-up.
import type { ArgsDef } from "citty";
import { UsageError } from "../errors.ts";

interface Known {
  name: string;
  type: string | undefined;
  negated?: boolean;
}

function knownFlags(def: ArgsDef): Map<string, Known> {
  const known = new Map<string, Known>();
  for (const [name, arg] of Object.entries(def)) {
    if (arg.type === "positional") continue;
    const aliases = "alias" in arg && arg.alias ? (Array.isArray(arg.alias) ? arg.alias : [arg.alias]) : [];
    for (const n of [name, ...aliases]) known.set(n, { name, type: arg.type });
    if (arg.type === "boolean") known.set(`no-${name}`, { name, type: "boolean", negated: true });
  }
  return known;
}

export interface ParsedFlags {
  /** by the flag's long name: a string for string flags, a boolean for boolean ones */
  values: Record<string, string | boolean>;
  positionals: string[];
}

/**
 * Parse tokens against def: `--name=value`, `--name value`, `-n value`, `--flag`, `--no-flag`.
 * An unknown flag or a missing value is a UsageError naming it; positional words are returned for
 * the caller to judge.
 */
export function parseFlags(tokens: string[], def: ArgsDef, where: string): ParsedFlags {
  const known = knownFlags(def);
  const values: Record<string, string | boolean> = {};
  const positionals: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] ?? "";
    if (!token.startsWith("-") || token === "-") {
      positionals.push(token);
      continue;
    }
    const long = token.startsWith("--");
    const eq = token.indexOf("=");
    const name = long ? token.slice(2, eq < 0 ? undefined : eq) : token.slice(1);
    const flag = known.get(name);
    if (!flag) throw new UsageError(`unknown option ${long ? `--${name}` : `-${name}`} for ${where}`, `see \`${where} --help\``);
    if (flag.type === "boolean") {
      if (eq >= 0) throw new UsageError(`option --${name} takes no value (got ${JSON.stringify(token)})`, `see \`${where} --help\``);
      values[flag.name] = !flag.negated;
      continue;
    }
    if (long && eq >= 0) {
      values[flag.name] = token.slice(eq + 1);
      continue;
    }
    const value = tokens[i + 1];
    if (value === undefined) throw new UsageError(`option ${token} needs a value`, `see \`${where} --help\``);
    values[flag.name] = value;
    i++;
  }
  return { values, positionals };
}

/** A megabytes flag (`--reserve 512`): a whole number ≥ 1; undefined when not given; UsageError when bad. */
export function parseMegabytes(value: unknown, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const mb = typeof value === "string" && /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(mb) || mb < 1) {
    throw new UsageError(`${flag} must be a whole number of MB ≥ 1 (got ${JSON.stringify(value)} on the command line)`, `e.g. ${flag} 512`);
  }
  return mb;
}

/** A seconds flag (`--wait-timeout 2.5`) in ms; undefined when not given; UsageError when bad. */
export function parseSeconds(value: unknown, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const seconds = typeof value === "string" && /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!Number.isFinite(seconds)) {
    throw new UsageError(
      `${flag} must be a number of seconds ≥ 0 (got ${JSON.stringify(value)} on the command line)`,
      `give it in plain decimal, e.g. ${flag} 30 or ${flag} 2.5`,
    );
  }
  return seconds * 1000;
}
