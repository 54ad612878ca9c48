// sep's configuration: the typed shape users write in sep.config.ts, and resolveConfig(), which
// merges flags, environment, .env.development, sep.config.* and defaults into one validated value.
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { basename, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { DOTENV_FILE, findConfigFile, findProjectRoot, machineStateDir } from "./core/paths.ts";
import { ConfigError } from "./errors.ts";

/** What a project may put in `sep.config.ts` (every field optional). */
export interface SepConfig {
  /** Memory limit for the job's whole process tree, in MB; 0 = none. @default 2048 */
  memoryLimitMb?: number;
  /** Seconds between memory polls (fractions allowed). @default 0.25 */
  checkInterval?: number;
  /** Seconds per job; 0 = none. @default 86400 */
  timeout?: number;
  /** Seconds for one `sep queue start`; 0 = none. @default 86400 */
  pipelineTimeout?: number;
  /** Seconds between SIGTERM and SIGKILL when sep kills a job. @default 5 */
  killGrace?: number;
  /** Say what sep does, step by step. @default false */
  verbose?: boolean;
  /** Lock, tickets and queue; relative to the project root. @default "./.sequential-locks" */
  lockDir?: string;
  /** Lock file guarding shared log appends; relative to the project root. @default "./.sep.log.lock" */
  logLockFile?: string;
  /** Run and job records; relative to the project root. @default "./logs" */
  logDir?: string;
  /** Caps pytest-xdist workers in jobs that run pytest. @default 1 */
  pytestMaxWorkers?: number;
  /**
   * Jobs allowed at once in this scope; `"auto"` = as many as the machine governor admits, at most
   * the number of CPUs. @default 1
   */
  slots?: number | "auto";
  /** `project`: state under the project root; `machine`: one queue for all of this user's projects. @default "project" */
  scope?: "project" | "machine";
  /** Runs kept in the history; older completed runs are deleted after each run; 0 = keep all. @default 100 */
  keepRuns?: number;
  /**
   * Split a heavy command into small jobs (one per file or test, see README "Atomification") when
   * it is stored with `sep queue add`; `sep -- CMD` splits only with `--atomify`. @default true
   */
  atomify?: boolean;
  /**
   * How pytest is split: `"file"`, one job per test file; `"test"`, one job per test (node id, from
   * pytest's own collection). The issue's `atomify.pytest`. @default "file"
   */
  atomifyPytest?: "file" | "test";
  /** Files (or tests) per job when a command is split. The issue's `atomify.batchSize`. @default 1 */
  atomifyBatchSize?: number;
  /**
   * Prefix the project's runner (`uv run`, `npx --no-install`, `pnpm exec`, …) to the tools of its
   * ecosystem, as separate argv words; commands that already start with a runner are left alone.
   * @default true
   */
  enforceRunners?: boolean;
  /**
   * Which runners enforcement uses: `"auto"`, the ones the project's lock files name (uv.lock,
   * poetry.lock, pdm.lock, Pipfile.lock, pnpm-lock.yaml, package-lock.json, yarn.lock), or a list
   * such as `"uv,pnpm"` / `["uv", "pnpm"]` (at most one Python and one JS runner), which replaces
   * detection for those ecosystems. @default "auto"
   */
  runners?: "auto" | string | RunnerName[];
  /**
   * The machine governor's memory budget shared by every sep job on the machine, in MB: `"auto"`
   * = the machine's memory (MemTotal, or the limit of the cgroup sep runs in, whichever is lower)
   * minus `memoryReserveMb`; `0` = no governor. See docs/governor.md. @default "auto"
   */
  memoryBudgetMb?: "auto" | number;
  /**
   * Memory kept free for everything that is not a sep job (editor, browser, agents), in MB:
   * `"auto"` = 10 % of the machine's memory, at least 512 MB. @default "auto"
   */
  memoryReserveMb?: "auto" | number;
  /**
   * Seconds of waiting plus running after which `sep -- CMD` leaves its job to a background sep and
   * exits 75 with the run id (`sep wait RUN_ID` picks it up): an agent's shell time-out never kills
   * or re-runs it. `"auto"` = 100 when `CLAUDECODE=1` is set, else off; `0` = off. @default "auto"
   */
  detachAfter?: "auto" | number;
  /**
   * The commands the agent hook (`sep agent hook claude`) runs under sep: command patterns, each one
   * or more words (`"cargo test"`, `"npm run build"`; a word ending in `*` matches any word that
   * starts with the rest). See docs/agents.md for how a Bash command is matched. The list replaces
   * the default; an empty list makes the hook wrap nothing.
   * @default ["pytest", "vitest", "jest", "mocha", "npm test", …] (DEFAULT_AGENT_COMMANDS)
   */
  agentCommands?: string | string[];
  /**
   * A shell command run (`sh -c`) after each run of `sep -- CMD` and `sep queue start`, with the run
   * record as JSON on its stdin and SEP_RUN_ID, SEP_RUN_CONCLUSION, SEP_RUN_EXIT_CODE, … in its
   * environment: a desktop notification, a chat message. Its failure is a warning, never sep's exit
   * code; it is stopped after 10 s. Empty = none. See README "Told when a run ends". @default ""
   */
  onFinish?: string;
}

/** Python runners and JS runners that `runners` may name (the words they prefix: README). */
export const PYTHON_RUNNERS = ["uv", "poetry", "pdm", "pipenv"] as const;
export const JS_RUNNERS = ["npm", "pnpm", "yarn"] as const;
export type RunnerName = (typeof PYTHON_RUNNERS)[number] | (typeof JS_RUNNERS)[number];

/** Heavy commands the agent hook puts under sep unless `agentCommands` says otherwise. */
export const DEFAULT_AGENT_COMMANDS: readonly string[] = [
  "pytest", "vitest", "jest", "mocha",
  "npm test", "pnpm test", "yarn test",
  "npm run build", "npm run test", "pnpm run build", "pnpm run test", "yarn run build", "yarn run test", "pnpm build", "yarn build",
  "cargo build", "cargo test", "cargo clippy",
  "go test", "go build",
  "make", "cmake --build",
  "mvn", "./mvnw", "gradle", "./gradlew",
  "tsc", "mypy", "pyright", "eslint", "ruff", "tox", "nox",
];

export type ConfigKey = keyof SepConfig;

/** Where a resolved value came from, highest precedence first. */
export type ConfigSourceKind = "flag" | "env" | "dotenv" | "config" | "default";

export interface ConfigSource {
  kind: ConfigSourceKind;
  /** e.g. "--timeout", "TIMEOUT", "/p/.env.development", "/p/sep.config.ts", "default" */
  origin: string;
}

/** Every value validated, defaulted and made absolute; nothing downstream re-checks. */
export interface ResolvedConfig {
  /** absolute project root */
  root: string;
  memoryLimitMb: number;
  checkInterval: number;
  timeout: number;
  pipelineTimeout: number;
  killGrace: number;
  verbose: boolean;
  /** absolute; the machine state dir when scope is "machine" and lockDir was not set */
  lockDir: string;
  /** absolute */
  logLockFile: string;
  /** absolute */
  logDir: string;
  pytestMaxWorkers: number;
  /** a number; `auto` is resolved to the number of CPUs (at most 64), each slot's job admitted by the governor */
  slots: number;
  scope: "project" | "machine";
  keepRuns: number;
  atomify: boolean;
  atomifyPytest: "file" | "test";
  atomifyBatchSize: number;
  enforceRunners: boolean;
  /** "auto", or the runners named (at most one per ecosystem), in the order given */
  runners: "auto" | RunnerName[];
  /** "auto", or MB; 0 = no governor (resolveBudget in core/governor turns it into bytes) */
  memoryBudgetMb: "auto" | number;
  /** "auto", or MB */
  memoryReserveMb: "auto" | number;
  /** seconds; 0 = never detach (`auto` resolved from CLAUDECODE) */
  detachAfter: number;
  /** command patterns, each its words joined by one space ("cargo test"); may be empty */
  agentCommands: string[];
  /** the shell command run after each run; "" = none */
  onFinish: string;
  /** CI / GITHUB_ACTIONS detected in the environment */
  ci: boolean;
  githubActions: boolean;
  sources: Record<ConfigKey, ConfigSource>;
  /** absolute path of the sep.config.* that was loaded, if any */
  configFile?: string;
  /** absolute path of the .env.development that was read, if any */
  dotenvFile?: string;
}

/** Typed helper for `sep.config.ts`: `export default defineConfig({ memoryLimitMb: 4096 })`. */
export function defineConfig(config: SepConfig): SepConfig {
  return config;
}

/** How a key's raw value is checked and converted. */
export type ConfigRule =
  | { type: "integer"; min: number; max?: number }
  | { type: "number"; min: number; exclusiveMin?: boolean; max: number }
  | { type: "boolean" }
  | { type: "path" }
  | { type: "enum"; values: readonly string[] }
  /** "auto", or a list ("uv,pnpm" as text; a string or an array in sep.config.*) of runner names */
  | { type: "runners" }
  /** "auto", or a whole number ≥ min */
  | { type: "autoOrInteger"; min: number; max?: number }
  /** a list of command patterns ("pytest,cargo test" as text; a string or an array in sep.config.*) */
  | { type: "commandPatterns" }
  /** a shell command line, run by `sh -c`: any text without NUL; blank = none */
  | { type: "shellCommand" };

export interface ConfigKeyInfo {
  key: ConfigKey;
  /** the environment / `.env.development` variable */
  env: string;
  /** the command-line flag, where sep has one */
  flag?: string;
  default: number | boolean | string | readonly string[];
  description: string;
  rule: ConfigRule;
}

/** `detachAfter: auto` under Claude Code: well inside its ~2-minute shell time-out. */
const AUTO_DETACH_AFTER_SECONDS = 100;

// setTimeout fires at once for delays above 2^31-1 ms, so longer limits would kill jobs immediately.
const MAX_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

/** Every key sep reads, in the order of DESIGN §4; `sep config` and the docs list them from here. */
export const CONFIG_KEYS: readonly ConfigKeyInfo[] = [
  { key: "memoryLimitMb", env: "MEMORY_LIMIT_MB", flag: "--memory-limit", default: 2048,
    description: "memory limit in MB for the job's whole process tree; 0 = none",
    rule: { type: "integer", min: 0 } },
  { key: "checkInterval", env: "CHECK_INTERVAL", flag: "--check-interval", default: 0.25,
    description: "seconds between memory polls (fractions allowed)",
    rule: { type: "number", min: 0, exclusiveMin: true, max: 3600 } },
  { key: "timeout", env: "TIMEOUT", flag: "--timeout", default: 86400,
    description: "seconds per job; 0 = none",
    rule: { type: "number", min: 0, max: MAX_TIMER_SECONDS } },
  { key: "pipelineTimeout", env: "PIPELINE_TIMEOUT", flag: "--pipeline-timeout", default: 86400,
    description: "seconds for one `sep queue start`; 0 = none",
    rule: { type: "number", min: 0, max: MAX_TIMER_SECONDS } },
  { key: "killGrace", env: "KILL_TIMEOUT", flag: "--kill-grace", default: 5,
    description: "seconds between SIGTERM and SIGKILL",
    rule: { type: "number", min: 0, max: MAX_TIMER_SECONDS } },
  { key: "verbose", env: "VERBOSE", flag: "--verbose", default: false,
    description: "say what sep does, step by step",
    rule: { type: "boolean" } },
  { key: "lockDir", env: "SEQUENTIAL_LOCK_BASE_DIR", default: "./.sequential-locks",
    description: "lock, tickets and queue; relative to the project root",
    rule: { type: "path" } },
  { key: "logLockFile", env: "WAIT_ALL_LOG_LOCK", default: "./.sep.log.lock",
    description: "lock file guarding shared log appends; relative to the project root",
    rule: { type: "path" } },
  { key: "logDir", env: "SEP_LOG_DIR", default: "./logs",
    description: "run and job records; relative to the project root",
    rule: { type: "path" } },
  { key: "pytestMaxWorkers", env: "PYTEST_MAX_WORKERS", default: 1,
    description: "caps pytest-xdist workers in jobs that run pytest",
    rule: { type: "integer", min: 1 } },
  { key: "slots", env: "SEP_SLOTS", default: 1,
    description: "jobs allowed at once in this scope: a number, or auto (as many as the governor admits, at most the number of CPUs)",
    rule: { type: "autoOrInteger", min: 1, max: 64 } },
  { key: "scope", env: "SEP_SCOPE", default: "project",
    description: "project: state under the project root; machine: one queue for all your projects",
    rule: { type: "enum", values: ["project", "machine"] } },
  { key: "keepRuns", env: "SEP_KEEP_RUNS", flag: "--keep", default: 100,
    description: "runs kept in the history (older completed runs are deleted after each run); 0 = keep all",
    rule: { type: "integer", min: 0 } },
  { key: "atomify", env: "SEP_ATOMIFY", flag: "--atomify", default: true,
    description: "split heavy commands into per-file / per-test jobs in `sep queue add` (`sep --` only with --atomify)",
    rule: { type: "boolean" } },
  { key: "atomifyPytest", env: "SEP_ATOMIFY_PYTEST", default: "file",
    description: "how pytest is split: file = one job per test file, test = one job per test",
    rule: { type: "enum", values: ["file", "test"] } },
  { key: "atomifyBatchSize", env: "SEP_ATOMIFY_BATCH_SIZE", default: 1,
    description: "files or tests per job when a command is split",
    rule: { type: "integer", min: 1, max: 100000 } },
  { key: "enforceRunners", env: "SEP_ENFORCE_RUNNERS", flag: "--enforce-runners", default: true,
    description: "prefix the project's runner (uv run, npx --no-install, pnpm exec, …) to the tools of its ecosystem",
    rule: { type: "boolean" } },
  { key: "runners", env: "SEP_RUNNERS", default: "auto",
    description: "runners to enforce: auto (named by the project's lock files) or a list such as uv,pnpm",
    rule: { type: "runners" } },
  { key: "memoryBudgetMb", env: "SEP_MEMORY_BUDGET_MB", default: "auto",
    description: "MB all sep jobs on the machine may reserve together: auto (machine or cgroup memory − reserve) or a number; 0 = no governor",
    rule: { type: "autoOrInteger", min: 0 } },
  { key: "memoryReserveMb", env: "SEP_MEMORY_RESERVE_MB", default: "auto",
    description: "MB the governor keeps free for everything else: auto (10 % of the memory, at least 512) or a number",
    rule: { type: "autoOrInteger", min: 0 } },
  { key: "detachAfter", env: "SEP_DETACH_AFTER", flag: "--detach-after", default: "auto",
    description: "seconds of waiting plus running after which sep -- leaves the job to a background sep and exits 75 (see sep wait): auto = 100 under Claude Code (CLAUDECODE=1), else off; 0 = off",
    rule: { type: "autoOrInteger", min: 0, max: MAX_TIMER_SECONDS } },
  { key: "agentCommands", env: "SEP_AGENT_COMMANDS", default: DEFAULT_AGENT_COMMANDS,
    description: "commands the agent hook runs under sep: comma-separated patterns of words such as cargo test (a word may end in *)",
    rule: { type: "commandPatterns" } },
  { key: "onFinish", env: "SEP_ON_FINISH", flag: "--on-finish", default: "",
    description: "shell command run (sh -c) after each run, the run record as JSON on its stdin, SEP_RUN_ID, SEP_RUN_CONCLUSION, SEP_RUN_EXIT_CODE in its environment; stopped after 10 s; its failure is only a warning; empty = none",
    rule: { type: "shellCommand" } },
];

/**
 * Each command-line flag that sets a configuration key (its name without "--") → that key, derived
 * from CONFIG_KEYS: `{ "memory-limit": "memoryLimitMb", timeout: "timeout", keep: "keepRuns", … }`.
 */
export const FLAG_TO_KEY: Readonly<Record<string, ConfigKey>> = Object.fromEntries(
  CONFIG_KEYS.flatMap((info) => (info.flag ? [[info.flag.replace(/^--/, ""), info.key]] : [])),
);

/**
 * Flags as the command line gives them, keyed by config key: `{ timeout: "30" }`. Only keys that
 * have a `flag` in CONFIG_KEYS are read: nothing on a command line can set the others.
 */
export type ConfigFlags = Partial<Record<ConfigKey, string | number | boolean | undefined>>;

export interface ResolveConfigOptions {
  cwd: string;
  flags?: ConfigFlags;
  /** defaults to process.env; never modified */
  env?: NodeJS.ProcessEnv;
}

/** One raw value offered for a key, before validation. */
interface _Candidate {
  raw: unknown;
  source: ConfigSource;
  /** where the value sits, for messages: "in /p/.env.development:3", "in the environment" */
  where: string;
  /** the name the user wrote: "--timeout", "TIMEOUT", "timeout" */
  name: string;
  /** true for text (flags, env, dotenv), false for JS values from sep.config.* */
  text: boolean;
  hint: string;
}

type _Value = number | boolean | string | readonly string[];

/**
 * Resolve sep's configuration for a working directory.
 * Precedence, highest first: flag > environment > `.env.development` > `sep.config.*` > default.
 * Every value offered by any layer is validated, even one a higher layer hides: a broken file stays
 * broken when an env var masks it, and should fail now rather than on the next machine.
 * Throws ConfigError (exit 2) naming the key, the value and the file or variable.
 */
export async function resolveConfig(options: ResolveConfigOptions): Promise<ResolvedConfig> {
  const env = options.env ?? process.env;
  const root = findProjectRoot(resolve(options.cwd));
  const dotenvPath = resolve(root, DOTENV_FILE);
  const dotenv = _readDotenv(dotenvPath);
  const configFile = findConfigFile(root);
  const fileConfig = configFile ? await _loadConfigFile(root, configFile, env) : undefined;

  const values = {} as Record<ConfigKey, _Value>;
  const sources = {} as Record<ConfigKey, ConfigSource>;
  const problems: string[] = [];
  const hints: string[] = [];

  for (const info of CONFIG_KEYS) {
    const candidates = _candidates(info, options.flags, env, dotenv, dotenvPath, fileConfig, configFile);
    let chosen: { value: _Value; source: ConfigSource } | undefined;
    for (const candidate of candidates) {
      const value = _convert(info.rule, candidate.raw, candidate.text);
      if (value === undefined) {
        problems.push(
          `${candidate.name} must be ${_ruleText(info.rule, candidate.text)} ` +
            `(got ${_show(candidate.raw, candidate.text)} ${candidate.where})`,
        );
        hints.push(candidate.hint);
      } else {
        chosen ??= { value, source: candidate.source };
      }
    }
    chosen ??= { value: info.default, source: { kind: "default", origin: "default" } };
    values[info.key] = chosen.value;
    sources[info.key] = chosen.source;
  }
  if (problems.length === 1) throw new ConfigError(problems[0]!, hints[0]!);
  if (problems.length > 1) {
    throw new ConfigError(problems.join("\n"), "fix each value above; every line says where it is set");
  }

  const scope = values.scope as ResolvedConfig["scope"];
  let lockDir = resolve(root, values.lockDir as string);
  if (scope === "machine" && sources.lockDir.kind === "default") {
    lockDir = machineStateDir(env);
    sources.lockDir = { kind: "default", origin: "default for scope machine" };
  }

  return {
    root,
    memoryLimitMb: values.memoryLimitMb as number,
    checkInterval: values.checkInterval as number,
    timeout: values.timeout as number,
    pipelineTimeout: values.pipelineTimeout as number,
    killGrace: values.killGrace as number,
    verbose: values.verbose as boolean,
    lockDir,
    logLockFile: resolve(root, values.logLockFile as string),
    logDir: resolve(root, values.logDir as string),
    pytestMaxWorkers: values.pytestMaxWorkers as number,
    // `auto`: one slot per CPU; how many of them run at once is the machine governor's to say.
    slots: values.slots === "auto" ? Math.min(64, Math.max(1, availableParallelism())) : (values.slots as number),
    scope,
    keepRuns: values.keepRuns as number,
    atomify: values.atomify as boolean,
    atomifyPytest: values.atomifyPytest as ResolvedConfig["atomifyPytest"],
    atomifyBatchSize: values.atomifyBatchSize as number,
    enforceRunners: values.enforceRunners as boolean,
    runners: values.runners === "auto" ? "auto" : [...(values.runners as RunnerName[])],
    memoryBudgetMb: values.memoryBudgetMb as "auto" | number,
    memoryReserveMb: values.memoryReserveMb as "auto" | number,
    // Claude Code sets CLAUDECODE=1 in its shells and gives up on a command after about 2 minutes.
    detachAfter: values.detachAfter === "auto" ? (env.CLAUDECODE === "1" ? AUTO_DETACH_AFTER_SECONDS : 0) : (values.detachAfter as number),
    agentCommands: [...(values.agentCommands as readonly string[])],
    onFinish: values.onFinish as string,
    // CI detection reads the real environment only, never .env.development: the seed's CI setup
    // writes CI=true into that file, and a copy of it on a laptop must not switch on GitHub output.
    ci: _isTruthy(env.CI),
    githubActions: env.GITHUB_ACTIONS === "true",
    sources,
    configFile,
    dotenvFile: dotenv ? dotenvPath : undefined,
  };
}

/** A resolved value as `sep config` shows it. */
export function formatValue(value: unknown): string {
  if (Array.isArray(value)) return value.join(",");
  if (value === "") return "(none)";
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** The raw values offered for one key, highest precedence first. */
function _candidates(
  info: ConfigKeyInfo,
  flags: ConfigFlags | undefined,
  env: NodeJS.ProcessEnv,
  dotenv: Map<string, DotenvEntry> | undefined,
  dotenvPath: string,
  fileConfig: Record<string, unknown> | undefined,
  configFile: string | undefined,
): _Candidate[] {
  const out: _Candidate[] = [];
  const flagValue = flags?.[info.key];
  if (flagValue !== undefined && info.flag) {
    out.push({ raw: String(flagValue), source: { kind: "flag", origin: info.flag }, where: "on the command line",
      name: info.flag, text: true, hint: "see `sep --help` for the flag's values" });
  }
  const envValue = env[info.env];
  if (envValue !== undefined) {
    out.push({ raw: envValue, source: { kind: "env", origin: info.env }, where: "in the environment",
      name: info.env, text: true, hint: `fix or unset ${info.env} in the environment (${info.description})` });
  }
  const dotenvEntry = dotenv?.get(info.env);
  if (dotenvEntry) {
    out.push({ raw: dotenvEntry.value, source: { kind: "dotenv", origin: dotenvPath },
      where: `in ${dotenvPath}:${dotenvEntry.line}`, name: info.env, text: true,
      hint: `edit ${info.env} in ${dotenvPath} (${info.description})` });
  }
  if (fileConfig && configFile && fileConfig[info.key] !== undefined) {
    out.push({ raw: fileConfig[info.key], source: { kind: "config", origin: configFile }, where: `in ${configFile}`,
      name: info.key, text: false, hint: `edit ${info.key} in ${configFile} (${info.description})` });
  }
  return out;
}

const _DECIMAL = /^(?:\d+(?:\.\d+)?|\.\d+)$/;
const _INTEGER = /^\d+$/;
const _TRUE = new Set(["1", "true", "yes"]);
const _FALSE = new Set(["0", "false", "no"]);

/** The validated value, or undefined when raw breaks the rule. Text is plain decimal only. */
function _convert(rule: ConfigRule, raw: unknown, text: boolean): _Value | undefined {
  switch (rule.type) {
    case "integer":
    case "number": {
      let n: number;
      if (text) {
        const s = String(raw).trim();
        if (!(rule.type === "integer" ? _INTEGER : _DECIMAL).test(s)) return undefined;
        n = Number(s);
      } else {
        if (typeof raw !== "number") return undefined;
        n = raw;
      }
      if (!Number.isFinite(n)) return undefined;
      if (rule.type === "integer" && !Number.isSafeInteger(n)) return undefined;
      const aboveMin = rule.type === "number" && rule.exclusiveMin ? n > rule.min : n >= rule.min;
      if (!aboveMin || (rule.max !== undefined && n > rule.max)) return undefined;
      return n;
    }
    case "boolean": {
      if (!text) return typeof raw === "boolean" ? raw : undefined;
      const s = String(raw).trim().toLowerCase();
      return _TRUE.has(s) ? true : _FALSE.has(s) ? false : undefined;
    }
    case "path":
      return typeof raw === "string" && raw.trim() !== "" ? raw : undefined;
    case "enum": {
      if (typeof raw !== "string") return undefined;
      const s = text ? raw.trim().toLowerCase() : raw;
      return rule.values.includes(s) ? s : undefined;
    }
    case "runners":
      return _convertRunners(raw, text);
    case "autoOrInteger": {
      if (typeof raw === "string" && (text ? raw.trim().toLowerCase() : raw) === "auto") return "auto";
      if (!text && typeof raw !== "number") return undefined;
      return _convert({ type: "integer", min: rule.min, max: rule.max }, raw, text);
    }
    case "commandPatterns":
      return _convertCommandPatterns(raw, text);
    case "shellCommand":
      // NUL cannot be in an argv word (sh -c would never get the command); blank means none.
      if (typeof raw !== "string" || raw.includes("\0")) return undefined;
      return raw.trim() === "" ? "" : raw;
  }
}

// A pattern word: no quotes, no shell operators, no commas (the list separator), `*` only at its end.
const _PATTERN_WORD = /^[^\s'"`$;&|<>(){}\\,#*]+\*?$/;

/**
 * Command patterns: comma-separated as text; a comma-separated string or an array of strings in
 * sep.config.*. Each pattern is words separated by spaces, the first not an option; empty entries
 * are dropped, so "" (or []) is the empty list. Returned with single spaces between words.
 */
function _convertCommandPatterns(raw: unknown, text: boolean): readonly string[] | undefined {
  let entries: unknown[];
  if (typeof raw === "string") entries = raw.split(",");
  else if (!text && Array.isArray(raw)) entries = raw;
  else return undefined;
  const patterns: string[] = [];
  for (const entry of entries) {
    if (typeof entry !== "string") return undefined;
    const words = entry.trim().split(/\s+/).filter(Boolean);
    if (words.length === 0) {
      if (Array.isArray(raw)) return undefined; // an array entry must be a pattern
      continue;
    }
    if (!words.every((word) => _PATTERN_WORD.test(word)) || words[0]!.startsWith("-")) return undefined;
    const pattern = words.join(" ");
    if (!patterns.includes(pattern)) patterns.push(pattern);
  }
  return patterns;
}

/**
 * "auto", or runner names (comma- or space-separated as text; a string or an array of strings in
 * sep.config.*): each known, none repeated, at most one per ecosystem.
 */
function _convertRunners(raw: unknown, text: boolean): "auto" | RunnerName[] | undefined {
  let words: unknown[];
  if (typeof raw === "string") words = raw.split(/[\s,]+/).filter(Boolean);
  else if (!text && Array.isArray(raw)) words = raw;
  else return undefined;
  if (!words.every((w): w is string => typeof w === "string")) return undefined;
  const names = words.map((w) => (text ? w.toLowerCase() : w));
  if (names.length === 1 && names[0] === "auto") return "auto";
  if (names.length === 0) return undefined;
  const python = names.filter((n) => (PYTHON_RUNNERS as readonly string[]).includes(n));
  const js = names.filter((n) => (JS_RUNNERS as readonly string[]).includes(n));
  if (python.length + js.length !== names.length || python.length > 1 || js.length > 1) return undefined;
  return names as RunnerName[];
}

/** What a rule asks for, in words: "a whole number ≥ 0". */
function _ruleText(rule: ConfigRule, text: boolean): string {
  switch (rule.type) {
    case "integer":
      return rule.max === undefined
        ? `a whole number ≥ ${rule.min}`
        : `a whole number from ${rule.min} to ${rule.max}`;
    case "number":
      return rule.exclusiveMin
        ? `a number > ${rule.min} and ≤ ${rule.max}`
        : `a number from ${rule.min} to ${rule.max}`;
    case "boolean":
      return text ? "one of 0, 1, true, false, yes, no" : "true or false";
    case "path":
      return "a non-empty path";
    case "enum":
      return rule.values.map((v) => `"${v}"`).join(" or ");
    case "autoOrInteger":
      return rule.max === undefined ? `"auto" or a whole number ≥ ${rule.min}` : `"auto" or a whole number from ${rule.min} to ${rule.max}`;
    case "commandPatterns":
      return `a list of command patterns (${text ? "comma-separated" : "an array of strings"}), each words such as "cargo test" (the first a program, not an option) ` +
        "with no quotes or shell operators (;&|<>()$`) and a * only at the end of a word";
    case "shellCommand":
      return `a shell command line (${text ? "text" : "a string"}, run by sh -c; empty = none)`;
    case "runners":
      return `"auto" or a list of runners, at most one of ${PYTHON_RUNNERS.join("/")} and one of ${JS_RUNNERS.join("/")} ` +
        `(${text ? "comma-separated" : "a string or an array"})`;
  }
}

/** The offending value as the user wrote it; JS values also say their type when it misleads. */
function _show(raw: unknown, text: boolean): string {
  if (text) return JSON.stringify(String(raw));
  if (typeof raw === "string") return `the string ${JSON.stringify(raw)}`;
  if (typeof raw === "number" || typeof raw === "boolean") return String(raw);
  if (raw === null) return "null";
  if (Array.isArray(raw)) return `an array ${_shorten(JSON.stringify(raw) ?? "", 120)}`;
  return `a ${typeof raw}`;
}

function _shorten(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function _isTruthy(value: string | undefined): boolean {
  return value !== undefined && value !== "" && !_FALSE.has(value.trim().toLowerCase());
}

// ---------------------------------------------------------------------------------------------
// .env.development

export interface DotenvEntry {
  value: string;
  /** 1-based line where the assignment starts */
  line: number;
}

function _readDotenv(path: string): Map<string, DotenvEntry> | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new ConfigError(
      `cannot read ${path}: ${(error as Error).message}`,
      `make ${path} a readable file of KEY=VALUE lines (\`sep init --force\` writes a fresh one), or remove it`,
    );
  }
  return parseDotenv(text, path);
}

/**
 * Parse `.env.development` text into its own assignments (process.env is neither read nor changed).
 * Accepts `KEY=VALUE`, `export KEY=VALUE`, `#` comments (a `#` after whitespace ends an unquoted
 * value, as in sh), blank lines, and '…' (literal) or "…" (\n \t \" \\ escapes) values, which may
 * span lines. No `${VAR}` interpolation. Later assignments win, as when the shell sources the file.
 * Any other line is an error: a typo like `MEMORY_LIMIT_MB 300` must not be silently ignored.
 */
export function parseDotenv(text: string, file: string): Map<string, DotenvEntry> {
  const entries = new Map<string, DotenvEntry>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const line = lines[i] ?? "";
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=[ \t]*(.*)$/.exec(trimmed);
    if (!match) {
      throw new ConfigError(
        `cannot parse line ${lineNo} of ${file}: ${JSON.stringify(line)} is not KEY=VALUE`,
        `fix line ${lineNo} of ${file}, or make it a comment with #`,
      );
    }
    const key = match[1] as string;
    let rest = match[2] as string;
    let value: string;
    const quote = rest[0];
    if (quote === '"' || quote === "'") {
      let body = rest.slice(1);
      let end = _closingQuote(body, quote);
      while (end < 0 && i + 1 < lines.length) {
        body += "\n" + (lines[++i] ?? "");
        end = _closingQuote(body, quote);
      }
      const after = end < 0 ? "" : body.slice(end + 1).trim();
      if (end < 0 || (after !== "" && !after.startsWith("#"))) {
        throw new ConfigError(
          `cannot parse line ${lineNo} of ${file}: ${key} has ${end < 0 ? `an unclosed ${quote}` : `text after the closing ${quote}`} ` +
            `(got ${JSON.stringify(line)})`,
          `fix line ${lineNo} of ${file}`,
        );
      }
      value = body.slice(0, end);
      if (quote === '"') value = _unescapeDouble(value);
    } else {
      rest = rest.replace(/\s#.*$/, "");
      value = rest.trim();
    }
    entries.set(key, { value, line: lineNo });
  }
  return entries;
}

function _closingQuote(body: string, quote: string): number {
  for (let i = 0; i < body.length; i++) {
    if (quote === '"' && body[i] === "\\") i++;
    else if (body[i] === quote) return i;
  }
  return -1;
}

function _unescapeDouble(value: string): string {
  const map: Record<string, string> = { n: "\n", r: "\r", t: "\t", '"': '"', "\\": "\\", $: "$" };
  return value.replace(/\\(.)/g, (whole, c: string) => map[c] ?? whole);
}

// ---------------------------------------------------------------------------------------------
// sep.config.*

let _sepModuleRegistered = false;

/**
 * Make `import { defineConfig } from "sep"` resolve inside the standalone binary, where the user's
 * project has no `sep` package (BUN_NOTES §3): a runtime virtual module, registered once.
 */
function _registerSepModule(): void {
  if (_sepModuleRegistered) return;
  _sepModuleRegistered = true;
  Bun.plugin({
    name: "sep",
    setup(build) {
      build.module("sep", () => ({ exports: { defineConfig }, loader: "object" }));
    },
  });
}

/** Load sep.config.* through c12 and check its shape; unknown keys are errors. */
async function _loadConfigFile(
  root: string,
  file: string,
  env: NodeJS.ProcessEnv,
): Promise<Record<string, unknown>> {
  _registerSepModule();
  const name = basename(file);
  const hint = `fix ${file}; it should \`export default defineConfig({ ... })\``;
  let layer: unknown;
  try {
    const { loadConfig } = await import("c12");
    const result = await loadConfig({
      cwd: root,
      name: "sep",
      configFile: name,
      dotenv: false,
      rcFile: false,
      packageJson: false,
      globalRc: false,
      extend: false,
      giget: false,
      // `bun build` inlines a static process.env.NODE_ENV as "development"; read it dynamically.
      envName: env["NODE" + "_ENV"] || false,
      jiti: _nativeLoader as unknown as NonNullable<Parameters<typeof loadConfig>[0]>["jiti"],
    });
    layer = result.layers?.find((l) => l.configFile === name)?.config;
  } catch (error) {
    throw new ConfigError(`${file} failed to load: ${_loadErrorMessage(error)}`, hint);
  }
  if (typeof layer !== "object" || layer === null || Array.isArray(layer)) {
    throw new ConfigError(`${file} must export an object (got ${_show(layer, false)})`, hint);
  }
  const config = layer as Record<string, unknown>;
  for (const key of Object.keys(config)) {
    // $development / $production / $env blocks are c12's per-environment overrides, already merged.
    if (key.startsWith("$") || CONFIG_KEYS.some((info) => info.key === key)) continue;
    const guess = _closestKey(key);
    throw new ConfigError(
      `unknown key ${JSON.stringify(key)} in ${file}${guess ? ` (did you mean ${JSON.stringify(guess)}?)` : ""}`,
      `use one of the known keys: ${CONFIG_KEYS.map((info) => info.key).join(", ")}`,
    );
  }
  return config;
}

/**
 * The one part of jiti that c12 calls (`jiti.import(file, { default: true })`), done by Bun's own
 * import, which reads .ts/.mts/.cts/.js/.mjs/.cjs/.json. Real jiti retries any failed native import
 * with its babel transform, which is not in the standalone binary: a config file that threw or had
 * a syntax error was reported as "Cannot find module '../dist/babel.cjs'" instead of its own error.
 * Bypassing jiti also means it never writes a transpile cache (fsCache) into /tmp or node_modules.
 */
const _nativeLoader = {
  async import(file: string, options?: { default?: boolean }): Promise<unknown> {
    const module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    if (!options?.default || !("default" in module)) return module;
    if (module.default == null) throw new Error(`its default export is ${module.default}, not an object`);
    return module.default;
  },
};

/** One line from whatever a config file threw; Bun's syntax errors are BuildMessages with a position. */
function _loadErrorMessage(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) {
    const more = error.errors.length - 1;
    return _loadErrorMessage(error.errors[0]) + (more > 0 ? ` (and ${more} more)` : "");
  }
  const { message, position } = (typeof error === "object" && error !== null ? error : {}) as {
    message?: unknown;
    position?: { line?: number; column?: number } | null;
  };
  const text = message === undefined ? String(error) : String(message);
  const at = position?.line ? ` at line ${position.line}, column ${position.column ?? 0}` : "";
  return text.trim().replace(/\s*\n\s*/g, " ") + at;
}

/** The known key a typo most likely meant: a prefix of it, its env name, or a few edits away. */
function _closestKey(unknown: string): ConfigKey | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[_-]/g, "");
  const target = norm(unknown);
  let best: { key: ConfigKey; distance: number } | undefined;
  for (const info of CONFIG_KEYS) {
    for (const name of [info.key, info.env]) {
      const candidate = norm(name);
      const prefix = Math.min(target.length, candidate.length) >= 4 &&
        (candidate.startsWith(target) || target.startsWith(candidate));
      const distance = prefix ? 1 : _editDistance(target, candidate);
      if (!best || distance < best.distance) best = { key: info.key, distance };
    }
  }
  return best && best.distance <= Math.max(1, Math.min(3, Math.floor(target.length / 3))) ? best.key : undefined;
}

function _editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
