// citty parses leniently (an unknown flag is silently kept); sep rejects it, so a typo such as
// `--timout 5` is an error instead of a job that runs without its limit.
import type { ArgsDef } from "citty";
import { UsageError } from "../errors.ts";

function names(def: ArgsDef): Map<string, { type: string | undefined }> {
  const known = new Map<string, { type: string | undefined }>();
  for (const [name, arg] of Object.entries(def)) {
    if (arg.type === "positional") continue;
    const aliases = "alias" in arg && arg.alias ? (Array.isArray(arg.alias) ? arg.alias : [arg.alias]) : [];
    for (const n of [name, ...aliases]) known.set(n, { type: arg.type });
    if (arg.type === "boolean") known.set(`no-${name}`, { type: "boolean" });
  }
  return known;
}

/**
 * Check every flag in tokens against def. Returns the positional words (for the caller to judge).
 * `--name=value`, `--name value`, `-x value` and `-xvalue`-free short flags are accepted.
 */
export function checkFlags(tokens: string[], def: ArgsDef, where: string): string[] {
  const known = names(def);
  const positionals: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] ?? "";
    if (!token.startsWith("-") || token === "-") {
      positionals.push(token);
      continue;
    }
    const long = token.startsWith("--");
    const name = long ? token.slice(2).split("=")[0]! : token.slice(1);
    const arg = known.get(name);
    if (!arg) throw new UsageError(`unknown option ${long ? `--${name}` : `-${name}`} for ${where}`, `see \`${where} --help\``);
    if (arg.type === "string" && !token.includes("=")) {
      if (i + 1 >= tokens.length) throw new UsageError(`option ${token} needs a value`, `see \`${where} --help\``);
      i++;
    }
  }
  return positionals;
}
