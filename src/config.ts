// sep's configuration: the typed shape users write in sep.config.ts, and the resolved values.
// (resolveConfig is being written; the types below are the contract the rest of sep uses.)

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
  /** Jobs allowed at once in this scope. @default 1 */
  slots?: number;
  /** `project`: state under the project root; `machine`: one queue for all of this user's projects. @default "project" */
  scope?: "project" | "machine";
}

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
  slots: number;
  scope: "project" | "machine";
  /** CI / GITHUB_ACTIONS detected in the environment */
  ci: boolean;
  githubActions: boolean;
  sources: Record<ConfigKey, ConfigSource>;
}

/** Typed helper for `sep.config.ts`: `export default defineConfig({ memoryLimitMb: 4096 })`. */
export function defineConfig(config: SepConfig): SepConfig {
  return config;
}
