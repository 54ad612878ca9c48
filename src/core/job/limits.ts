// The limits one job runs under: the configuration's, or the job's own (given on the command line
// or stored by `queue add`), in the units the executor takes.
import type { ResolvedConfig } from "../../config.ts";
import type { JobRecord } from "../records/types.ts";

export interface JobLimits {
  timeoutMs: number;
  memoryLimitBytes: number;
  checkIntervalMs: number;
  killGraceMs: number;
}

/** Per-job values a user can give on the command line; undefined = the configuration's. */
export interface JobOverrides {
  timeout?: number;
  memoryLimitMb?: number;
  checkInterval?: number;
  killGrace?: number;
}

export function jobLimits(config: ResolvedConfig, overrides: JobOverrides = {}): JobLimits {
  return {
    timeoutMs: (overrides.timeout ?? config.timeout) * 1000,
    memoryLimitBytes: (overrides.memoryLimitMb ?? config.memoryLimitMb) * 1024 * 1024,
    checkIntervalMs: (overrides.checkInterval ?? config.checkInterval) * 1000,
    killGraceMs: (overrides.killGrace ?? config.killGrace) * 1000,
  };
}

/** The limits as a job record keeps them: null for "none". */
export function recordedLimits(limits: JobLimits): JobRecord["limits"] {
  return {
    timeoutMs: limits.timeoutMs > 0 ? limits.timeoutMs : null,
    memoryLimitBytes: limits.memoryLimitBytes > 0 ? limits.memoryLimitBytes : null,
  };
}
