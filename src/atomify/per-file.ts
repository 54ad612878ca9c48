// The split every file-checking tool shares: read the arguments, check that every path names
// something, expand directories (and, for tools that take globs, globs) into the files the tool
// would check, and give each batch of files one atom with every other word of the command kept in
// its place. Anything sep is not sure of keeps the command whole, with the reason.
import { isAbsolute, resolve } from "node:path";
import { batches, type OptionSpec, type Scanned, scanArgs, withItems } from "./argv.ts";
import { filesMatchingGlob, filesUnder, isGlob, pathKind } from "./files.ts";
import type { Command, Split, SplitContext } from "./types.ts";

/** An option that turns the command into something other than checking the files it names. */
export interface WholeOption {
  names: readonly string[];
  why: string;
  /** only when the option's value passes this test (e.g. --max-warnings other than 0) */
  when?: (value: string | undefined) => boolean;
}

export interface PerFileSpec {
  options: OptionSpec;
  whole?: readonly WholeOption[];
  /** the first positional word must be one of these (ruff check / ruff format) */
  subcommands?: ReadonlySet<string>;
  /** the tool walks directories it is given (shellcheck does not) */
  directories: boolean;
  /** the tool expands glob patterns itself (eslint, prettier); else a glob word names nothing */
  globs?: boolean;
  /**
   * The files, among those found under a named directory or glob, that the tool would check there
   * (its extensions and its own ignore settings). Files named one by one are always kept: the tool
   * checks (or refuses) them itself, exactly as in the whole command. A string keeps the command
   * whole with that reason.
   */
  select(found: string[], context: SplitContext, scanned: Scanned, command: Command): Promise<string[] | string> | string[] | string;
}

/** Why an option keeps the command whole, if one does. */
export function wholeReason(scanned: Scanned, rules: readonly WholeOption[] | undefined, tool: string): string | undefined {
  for (const rule of rules ?? []) {
    const hit = scanned.options.find((o) => rule.names.includes(o.name) && (!rule.when || rule.when(o.value)));
    if (hit) return `${tool} ${hit.name}: ${rule.why}`;
  }
  return undefined;
}

export async function splitPerFile(command: Command, context: SplitContext, spec: PerFileSpec): Promise<Split> {
  const tool = command.name;
  const { args } = command;
  const scanned = scanArgs(args, spec.options);
  if (scanned.ambiguous) {
    return { kind: "whole", why: `${tool}: cannot tell whether ${scanned.ambiguous} takes a value (write ${scanned.ambiguous}=VALUE, or put it after the paths)` };
  }
  const because = wholeReason(scanned, spec.whole, tool);
  if (because) return { kind: "whole", why: because };

  let positionals = scanned.positionals;
  if (spec.subcommands) {
    const first = positionals[0];
    const sub = first === undefined ? undefined : args[first];
    if (sub === undefined || !spec.subcommands.has(sub)) {
      return { kind: "whole", why: `${tool} ${sub ?? ""}`.trimEnd() + `: only ${[...spec.subcommands].map((s) => `${tool} ${s}`).join(" / ")} are split` };
    }
    positionals = positionals.slice(1);
  }
  if (positionals.length === 0) return { kind: "whole", why: `${tool}: names no files; ${tool} chooses them itself` };

  const items: string[] = [];
  for (const index of positionals) {
    const word = args[index] as string;
    if (word === "-") return { kind: "whole", why: `${tool}: reads standard input` };
    const kind = pathKind(context.cwd, word);
    let found: string[];
    if (kind === "file") {
      items.push(word);
      continue;
    } else if (kind === "dir") {
      if (!spec.directories) return { kind: "whole", why: `${tool}: ${word} is a directory, which ${tool} does not take; kept whole so ${tool} reports it` };
      found = filesUnder(context.cwd, word);
    } else if (spec.globs && isGlob(word)) {
      found = filesMatchingGlob(context.cwd, word);
      if (found.length === 0) return { kind: "whole", why: `${tool}: the glob ${word} matches nothing; kept whole so ${tool} reports it` };
    } else {
      return { kind: "whole", why: `${tool}: ${word} names nothing on disk; kept whole so ${tool} reports it` };
    }
    const selected = await spec.select(found, context, scanned, command);
    if (typeof selected === "string") return { kind: "whole", why: `${tool}: ${selected}` };
    // Keep the user's style: an absolute directory gives absolute file paths.
    items.push(...selected.map((file) => (isAbsolute(word) ? resolve(context.cwd, file) : file)));
  }
  const unique = [...new Set(items)];
  if (unique.length === 0) return { kind: "whole", why: `${tool}: no files to check under ${positionals.map((i) => args[i]).join(" ")}; kept whole so ${tool} reports it` };
  return {
    kind: "split",
    atoms: batches(unique, context.config.atomifyBatchSize).map((batch) => ({ args: withItems(args, positionals, batch), items: batch })),
  };
}
