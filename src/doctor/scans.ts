// The project-file scans, in report order, and a scan's section as doctor findings. Together they
// find the seed's CI failure: a `sep queue add` (or the old `sep_queue.sh -- CMD`) with no later
// `sep queue start` in the same workflow job, make target, npm script or pre-commit hook, which
// stores commands, runs none and shows green; and calls of the old bash scripts.
import { scanMakefiles } from "./scan-makefiles.ts";
import { scanPackageJson } from "./scan-package-json.ts";
import { scanPreCommit } from "./scan-pre-commit.ts";
import { scanWorkflows } from "./scan-workflows.ts";
import type { ProjectReader } from "./reader.ts";
import type { Finding, ScanSection } from "./types.ts";

/** Every scan, in the order doctor reports them. */
export const SCANS: readonly { kind: ScanSection["kind"]; scan: (reader: ProjectReader) => ScanSection }[] = [
  { kind: "workflows", scan: scanWorkflows },
  { kind: "makefiles", scan: scanMakefiles },
  { kind: "package-json", scan: scanPackageJson },
  { kind: "pre-commit", scan: scanPreCommit },
];

const _SECTION_NAMES: Record<ScanSection["kind"], { what: string; unit: string }> = {
  workflows: { what: "GitHub workflows", unit: "job" },
  makefiles: { what: "Makefiles", unit: "target" },
  "package-json": { what: "package.json", unit: "script" },
  "pre-commit": { what: ".pre-commit-config.yaml", unit: "hook" },
};

/** A scan's problems as findings; a clean scan is one ok finding saying what was read. */
export function sectionFindings(section: ScanSection): Finding[] {
  const names = _SECTION_NAMES[section.kind];
  if (section.problems.length > 0) {
    return section.problems.map((problem) => ({
      check: section.kind,
      status: problem.status,
      message: problem.message,
      file: problem.file,
      line: problem.line,
      fix: problem.fix,
    }));
  }
  if (section.files.length === 0) return [{ check: section.kind, status: "ok", message: `no ${names.what} found` }];
  const files = section.files.length === 1 ? section.files[0] : `${section.files.length} files`;
  const units = `${section.units} ${names.unit}${section.units === 1 ? "" : "s"}`;
  return [{ check: section.kind, status: "ok", message: `${names.what}: ${files}, ${units}; no queue left unstarted, no old scripts` }];
}
