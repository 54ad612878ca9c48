// Shared setup for the atomify tests: small real projects in temp dirs, and planCommand run on
// them with a configuration resolved from the project alone (nothing from the caller's env).
import { chmodSync, mkdirSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { type Plan, planCommand } from "../../src/atomify/index.ts";
import { resolveConfig } from "../../src/config.ts";
import { tempDir } from "../helpers.ts";

export const REPO = resolve(import.meta.dir, "../..");

const _dirs: { cleanup(): void }[] = [];

/** Remove every project made by this file's tests; call from afterAll / afterEach. */
export function cleanupProjects(): void {
  for (const dir of _dirs.splice(0)) dir.cleanup();
}

/**
 * A project with these files (content, or null for a directory). `git: true` makes it a git work
 * tree with everything committed (files added later are untracked); otherwise it has no .git and
 * a sep.config.json marks its root.
 */
export function project(files: Record<string, string | null>, options: { git?: boolean } = {}): string {
  const dir = tempDir("sep-atomify-");
  _dirs.push(dir);
  const root = realpathSync(dir.path);
  write(root, files);
  if (options.git) {
    git(root, "init", "-q");
    git(root, "add", "-A");
    git(root, "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-q", "--allow-empty", "-m", "init");
  } else if (!Object.keys(files).some((f) => f.startsWith("sep.config"))) {
    writeFileSync(join(root, "sep.config.json"), "{}\n");
  }
  return root;
}

export function write(root: string, files: Record<string, string | null>): void {
  for (const [name, content] of Object.entries(files)) {
    const path = join(root, name);
    if (content === null) {
      mkdirSync(path, { recursive: true });
      continue;
    }
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
    if (content.startsWith("#!")) chmodSync(path, 0o755);
  }
}

export function git(cwd: string, ...args: string[]): string {
  const result = Bun.spawnSync(["git", ...args], { cwd, stdout: "pipe", stderr: "pipe" });
  if (result.exitCode !== 0) throw new Error(`git ${args.join(" ")} failed: ${result.stderr.toString()}`);
  return result.stdout.toString();
}

/** node_modules of this repository (eslint, prettier) made visible to a temp project. */
export function linkNodeModules(root: string): void {
  symlinkSync(join(REPO, "node_modules"), join(root, "node_modules"));
}

export interface PlanInput {
  cwd: string;
  /** configuration variables (SEP_ATOMIFY_PYTEST=test, …), as if from the environment */
  env?: Record<string, string>;
  atomify?: boolean;
  enforceRunners?: boolean;
}

/** planCommand on a project, with its configuration resolved from the project and `env` only. */
export async function plan(argv: string[], input: PlanInput): Promise<Plan> {
  const config = await resolveConfig({ cwd: input.cwd, env: input.env ?? {} });
  return planCommand(argv, {
    cwd: input.cwd,
    root: config.root,
    config,
    atomify: input.atomify ?? true,
    enforceRunners: input.enforceRunners ?? config.enforceRunners,
  });
}

export function argvs(result: Plan): string[][] {
  return result.atoms.map((atom) => atom.argv);
}

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Run an argv to the end (as a job would, with its env), in cwd. */
export function run(argv: string[], cwd: string, env: Record<string, string> = {}): RunResult {
  const result = Bun.spawnSync(argv, { cwd, env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" });
  return { exitCode: result.exitCode ?? -1, stdout: result.stdout.toString(), stderr: result.stderr.toString() };
}

/** A directory on PATH holding the named program, or undefined. */
export function onPath(name: string, accept: (path: string) => boolean = () => true): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(":")) {
    const path = join(dir, name);
    if (Bun.which(path) && accept(path)) return dir;
  }
  return undefined;
}

/**
 * Whether tests of real tools must be skipped here: true when a tool is not installed on this
 * machine, with a line saying so (a fresh machine with only Node and npm has none of Debian's
 * linters). Under CI never: .ci/run installs every tool, and one that is missing there must fail
 * the run, not skip it.
 */
export function missing(what: string, present: boolean, install: string): boolean {
  if (present || process.env.CI) return false;
  console.warn(`skipping the ${what} tests: not installed here (${install}; .ci/run installs it)`);
  return true;
}

export const missingTool = (name: string, debianPackage = name) => missing(name, onPath(name) !== undefined, `apt-get install ${debianPackage}`);
