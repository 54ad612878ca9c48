// `sep doctor`: every check in report order (the setup checks in checks.ts, then the scans of the
// project's files in scans.ts), and the exit code they make. Read-only: it creates nothing in the
// project (the flock probe uses a temp file in the OS temp dir and removes it).
import { tmpdir } from "node:os";
import { isAbsolute, join, relative, resolve } from "node:path";
import { type ResolvedConfig, resolveConfig } from "../config.ts";
import { errorMessage } from "../errors.ts";
import { findProjectRoot } from "../core/paths.ts";
import { checkFlock, checkGovernor, checkProc, checkStateDir, checkVersion, configFailure, configOk } from "./checks.ts";
import { fsReader } from "./reader.ts";
import { SCANS, sectionFindings } from "./scans.ts";
import type { Finding } from "./types.ts";

export type { CheckName, Finding, FindingStatus } from "./types.ts";

export interface DoctorReport {
  root: string;
  findings: Finding[];
}

export interface DoctorOptions {
  cwd: string;
  /** defaults to process.env; never modified */
  env?: NodeJS.ProcessEnv;
  /** where the flock probe makes its temp file; defaults to os.tmpdir() */
  tempDir?: string;
}

/** Run every check. Never throws for what it finds: a broken config is a finding, not an exit 2. */
export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const cwd = resolve(options.cwd);
  const findings: Finding[] = [];
  let config: ResolvedConfig | undefined;
  try {
    config = await resolveConfig({ cwd, env: options.env });
  } catch (error) {
    findings.push(...configFailure(error));
  }
  const root = config?.root ?? findProjectRoot(cwd);
  if (config) findings.push(configOk(config));

  // Without a valid config, check where the defaults would put state (and say so).
  const defaults = config === undefined ? " (the default; the configuration did not load)" : "";
  findings.push(checkStateDir("lock-dir", config?.lockDir ?? join(root, ".sequential-locks"), "SEQUENTIAL_LOCK_BASE_DIR", defaults));
  findings.push(checkStateDir("log-dir", config?.logDir ?? join(root, "logs"), "SEP_LOG_DIR", defaults));
  findings.push(checkProc());
  findings.push(checkFlock(options.tempDir ?? tmpdir()));
  if (config) findings.push(checkGovernor(config, options.env ?? process.env));
  findings.push(checkVersion());
  const reader = fsReader(root);
  for (const { kind, scan } of SCANS) {
    try {
      findings.push(...sectionFindings(scan(reader)));
    } catch (error) {
      // A scanner bug must not hide the other checks' results.
      findings.push({ check: kind, status: "fail", message: `the scan failed: ${errorMessage(error)}`, fix: "report this as a sep bug, with the file it was reading" });
    }
  }
  return { root, findings: findings.map((finding) => _relativeFile(finding, root)) };
}

/** 1 when any finding failed, else 0: warnings alone do not fail `sep doctor`. */
export function doctorExitCode(findings: readonly Finding[]): number {
  return findings.some((finding) => finding.status === "fail") ? 1 : 0;
}

function _relativeFile(finding: Finding, root: string): Finding {
  if (finding.file === undefined || !isAbsolute(finding.file)) return finding;
  const rel = relative(root, finding.file);
  return rel.startsWith("..") || isAbsolute(rel) ? finding : { ...finding, file: rel };
}
