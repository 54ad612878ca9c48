// What every command needs first: the configuration (flags applied), and sep's verbosity.
import { type ConfigFlags, FLAG_TO_KEY, type ResolvedConfig, resolveConfig } from "../config.ts";
import { type RunReporter, reporters } from "../core/job/events.ts";
import type { JobOverrides } from "../core/job/limits.ts";
import type { JobToRun } from "../core/run-now.ts";
import { logger, setVerbosity } from "../logger.ts";
import { terminalReporter } from "./present.ts";

/**
 * Resolve the configuration from cwd, with every value flag in args that sets a configuration key
 * (FLAG_TO_KEY: `--timeout`, `--memory-limit`, `--pipeline-timeout`, `--keep`, …) overriding it.
 * Boolean flags come in `extra` from the commands that have them (`--no-…` and legacy spellings
 * mean more than a value), and --verbose / --quiet set sep's verbosity. Reads files, creates none.
 */
export async function loadConfig(args: Record<string, unknown> = {}, extra: ConfigFlags = {}): Promise<ResolvedConfig> {
  const flags: ConfigFlags = { ...extra };
  for (const [flag, key] of Object.entries(FLAG_TO_KEY)) {
    const value = args[flag];
    if (typeof value === "string") flags[key] = value;
  }
  const config = await resolveConfig({ cwd: process.cwd(), flags });
  setVerbosity(args.verbose === true || config.verbose, args.quiet === true);
  return config;
}

/** The limits a stored job keeps whatever the drain's configuration says. */
const JOB_LIMIT_KEYS = ["timeout", "memoryLimitMb", "checkInterval", "killGrace"] as const satisfies readonly (keyof JobOverrides)[];

/** The job limits given as flags (already validated by loadConfig), by config key. */
export function givenOverrides(config: ResolvedConfig): JobOverrides {
  const overrides: JobOverrides = {};
  for (const key of JOB_LIMIT_KEYS) if (config.sources[key].kind === "flag") overrides[key] = config[key];
  return overrides;
}

/**
 * How a run is reported: the terminal's own lines, plus GitHub Actions groups, annotations and
 * step summary under GITHUB_ACTIONS=true (loaded only there).
 */
export async function runReporter(config: ResolvedConfig, progress?: RunReporter): Promise<RunReporter> {
  const terminal = reporters(progress, terminalReporter());
  if (!config.githubActions) return terminal;
  const { githubReporter } = await import("../ci/github.ts");
  return reporters(terminal, githubReporter());
}

/**
 * The jobs a command becomes. `sep -- CMD` runs argv exactly as written unless --atomify or
 * --enforce-runners is given; `sep queue add` follows the configuration (atomify and
 * enforceRunners, both on by default), which the same flags override. A job that runs pytest gets
 * the pytest-xdist worker cap in its environment either way (PYTEST_MAX_WORKERS): an environment
 * variable, not a change of argv. The atomify module is loaded only when it has work to do.
 */
export async function planJobs(
  command: string[],
  args: Record<string, unknown>,
  config: ResolvedConfig,
  mode: "run" | "queue",
): Promise<JobToRun[]> {
  const enforceFlag = args.dont_enforce_runners === true ? false : (args["enforce-runners"] as boolean | undefined);
  const atomify = mode === "run" ? args.atomify === true : ((args.atomify as boolean | undefined) ?? config.atomify);
  const enforceRunners = mode === "run" ? enforceFlag === true : (enforceFlag ?? config.enforceRunners);
  if (!atomify && !enforceRunners && !command.some((word) => /(^|\/)py\.?test(-\d)?$|^pytest$/.test(word))) return [{ argv: command }];
  const { planCommand } = await import("../atomify/index.ts");
  const { legacyNotes } = await import("./atomify-options.ts");
  const plan = await planCommand(command, { cwd: process.cwd(), root: config.root, config, atomify, enforceRunners });
  for (const note of [...legacyNotes(args), ...plan.notes]) logger.info(note);
  return plan.atoms.map((atom) => ({ argv: atom.argv, env: atom.env, name: atom.name }));
}
