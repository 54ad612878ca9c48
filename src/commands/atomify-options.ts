// The options that decide how a command is split and rewritten (`sep plan`, and for the
// integrator `sep queue add` and `sep -- CMD`), including the bash original's spellings.
import type { ArgsDef } from "citty";
import type { ConfigFlags } from "../config.ts";

export const atomifyOptions = {
  atomify: { type: "boolean", description: "Split the command into per-file / per-test jobs (--no-atomify: run it exactly as written)" },
  "enforce-runners": { type: "boolean", description: "Prefix the project's runner (uv run, npx --no-install, pnpm exec, …) to tools of its ecosystem" },
  dont_enforce_runners: { type: "boolean", description: "Legacy spelling of --no-enforce-runners" },
  only_verified: { type: "boolean", description: "Legacy; always true now: only allow-listed tools are split or given a runner, and no command is skipped" },
  "enable-second-tier": { type: "boolean", description: "Legacy; no effect: sep has one allow-list of tools" },
} as const satisfies ArgsDef;

/**
 * The configuration flags these options set: `--atomify`/`--no-atomify` → atomify,
 * `--enforce-runners`/`--no-enforce-runners`/`--dont_enforce_runners` → enforceRunners.
 */
export function atomifyFlags(args: Record<string, unknown>): ConfigFlags {
  const flags: ConfigFlags = {};
  if (typeof args.atomify === "boolean") flags.atomify = String(args.atomify);
  if (typeof args["enforce-runners"] === "boolean") flags.enforceRunners = String(args["enforce-runners"]);
  if (args.dont_enforce_runners === true) flags.enforceRunners = "false";
  return flags;
}

/** One line per legacy flag given, saying what it means now. */
export function legacyNotes(args: Record<string, unknown>): string[] {
  const notes: string[] = [];
  if (args.dont_enforce_runners === true) notes.push("--dont_enforce_runners: same as --no-enforce-runners");
  if (args.only_verified === true) notes.push("--only_verified: always on; only allow-listed tools are split or given a runner, and no command is ever skipped");
  if (args["enable-second-tier"] === true) notes.push("--enable-second-tier: no effect; sep has one allow-list of tools");
  return notes;
}
