// Shared setup for the doctor tests: temp dirs and temp projects that clean themselves (call
// cleanupTempDirs from afterAll), a compact form of scan problems, a workflow builder, and the YAML
// blocks of docs/ci.md.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { ScanProblem } from "../../src/doctor/types.ts";
import { tempDir, type TempDir } from "../helpers.ts";

const dirs: TempDir[] = [];

/** Remove every temp dir made by this file's tests; call from afterAll. */
export function cleanupTempDirs(): void {
  for (const dir of dirs.splice(0)) dir.cleanup();
}

export function scratch(prefix = "sep-doctor-"): string {
  const dir = tempDir(prefix);
  dirs.push(dir);
  return dir.path;
}

/** A temp project holding the given files (paths relative to its root). */
export function project(files: Record<string, string>): string {
  const dir = tempDir("sep-scan-");
  dirs.push(dir);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir.path, path)), { recursive: true });
    writeFileSync(join(dir.path, path), text);
  }
  return dir.path;
}

/** The problems as compact tuples: [status, kind, file:line]. */
export function brief(problems: ScanProblem[]): string[][] {
  return problems.map((p) => [p.status, p.kind, `${p.file}${p.line === undefined ? "" : `:${p.line}`}`]);
}

/** A workflow file from job bodies; each job gets `runs-on` and its steps. */
export function workflow(jobs: Record<string, string>): string {
  let text = "name: ci\non: [push, pull_request]\njobs:\n";
  for (const [name, steps] of Object.entries(jobs)) text += `  ${name}:\n    runs-on: ubuntu-latest\n    steps:\n${steps}`;
  return text;
}

export const WF = ".github/workflows/ci.yml";

/** The YAML blocks of docs/ci.md. */
export function docsYamlBlocks(): string[] {
  const doc = readFileSync(join(import.meta.dir, "../../docs/ci.md"), "utf8");
  return [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((match) => match[1]!);
}
