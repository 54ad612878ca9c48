// What every command needs first: the configuration (flags applied), and sep's verbosity.
import { type ConfigFlags, type ResolvedConfig, resolveConfig } from "../config.ts";
import { type RunReporter, reporters } from "../core/job-in-turn.ts";
import { setVerbosity } from "../logger.ts";
import { flagToConfigKey } from "./run-options.ts";

/**
 * Resolve the configuration from cwd, with any run-option flags present in args (and any other
 * flags a command maps itself, such as `--keep`) overriding it. Reads files, creates none.
 */
export async function loadConfig(args: Record<string, unknown> = {}, extra: ConfigFlags = {}): Promise<ResolvedConfig> {
  const flags: ConfigFlags = { ...extra };
  for (const [flag, key] of Object.entries(flagToConfigKey)) {
    const value = args[flag];
    if (typeof value === "string") flags[key] = value;
  }
  if (typeof args["pipeline-timeout"] === "string") flags.pipelineTimeout = args["pipeline-timeout"];
  const config = await resolveConfig({ cwd: process.cwd(), flags });
  setVerbosity(args.verbose === true || config.verbose, args.quiet === true);
  return config;
}

/** The values of the run-option flags that were given, as validated numbers, by config key. */
export function givenOverrides(args: Record<string, unknown>, config: ResolvedConfig) {
  const overrides: Partial<Record<"timeout" | "memoryLimitMb" | "checkInterval" | "killGrace", number>> = {};
  for (const [flag, key] of Object.entries(flagToConfigKey)) {
    if (typeof args[flag] === "string") overrides[key as keyof typeof overrides] = config[key as keyof typeof overrides];
  }
  return overrides;
}

/**
 * How a run is reported: the terminal's own lines, plus GitHub Actions groups, annotations and
 * step summary under GITHUB_ACTIONS=true (loaded only there).
 */
export async function runReporter(config: ResolvedConfig, terminal?: RunReporter): Promise<RunReporter | undefined> {
  if (!config.githubActions) return terminal;
  const { githubReporter } = await import("../ci/github.ts");
  return reporters(terminal, githubReporter());
}
