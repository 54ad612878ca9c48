// The shapes the doctor modules share: a finding (what `sep doctor` reports, and `--json` prints),
// and what a project-file scan returns (its section and the problems in it).

export type FindingStatus = "ok" | "warn" | "fail";

export type CheckName = "config" | "lock-dir" | "log-dir" | "proc" | "flock" | "version" | "governor" | ScanSection["kind"];

/**
 * One result of one check. `--json` prints an array of these (stable names; fields may be added).
 * `file` is relative to the project root when it is inside it, else absolute.
 */
export interface Finding {
  check: CheckName;
  status: FindingStatus;
  message: string;
  file?: string;
  /** 1-based */
  line?: number;
  /** what to do about it (warn and fail findings) */
  fix?: string;
}

export type ScanStatus = "ok" | "warn" | "fail";

/** One problem found in one place. Paths are relative to the scanned root. */
export interface ScanProblem {
  status: Exclude<ScanStatus, "ok">;
  kind: "queue-not-started" | "old-script" | "parse-error";
  file: string;
  /** 1-based */
  line?: number;
  message: string;
  fix?: string;
}

/** What one kind of file contributed: how much was read, and what was wrong. */
export interface ScanSection {
  kind: "workflows" | "makefiles" | "package-json" | "pre-commit";
  files: string[];
  /** jobs, targets, scripts or hooks read */
  units: number;
  problems: ScanProblem[];
}
