// The shapes shared by the atomify modules: a plan and its atoms, a command as sep reads it
// (runner words, tool words, the tool's arguments), and what a tool's rule decides.
import type { ResolvedConfig } from "../config.ts";

/** One job of a split command. */
export interface Atom {
  /** the exact argv to run; never passed through a shell */
  argv: string[];
  /** variables to set for this job only, on top of sep's own environment */
  env?: Record<string, string>;
  /** a short label for records ("pytest tests/test_a.py"); absent when the command was not split */
  name?: string;
}

export interface Plan {
  /** at least one; in the order they should run */
  atoms: Atom[];
  /** one line each: why the command was not split, what was rewritten */
  notes: string[];
  /** the allow-listed tool recognised ("pytest", "ruff", …); absent for any other command */
  tool?: string;
}

export interface PlanOptions {
  /** where the command will run; relative paths in argv are relative to it */
  cwd: string;
  /** the project root (config.root); lock files are looked for from cwd up to here */
  root: string;
  config: ResolvedConfig;
  /** split into atoms; false = one atom with the argv as given (runner prefix aside) */
  atomify: boolean;
  /** prefix the project's runner to tools of its ecosystem */
  enforceRunners: boolean;
}

export type Ecosystem = "python" | "js";

/** A command as sep reads it. argv = [...runner, ...tool, ...args]. */
export interface Command {
  /** runner words before the tool, as written or as enforced: ["uv", "run"], ["npx", "--no-install"] */
  runner: string[];
  /** the words that start the tool: ["pytest"], ["python", "-m", "pytest"], [".venv/bin/mypy"] */
  tool: string[];
  /** the tool's canonical name: "pytest" */
  name: string;
  /** everything after the tool words */
  args: string[];
}

/** What a tool's rule decided for one command. */
export type Split =
  | { kind: "whole"; why: string }
  | {
      kind: "split";
      /** each atom: the tool's arguments (runner and tool words go around them), and the files or tests it names */
      atoms: { args: string[]; items: string[] }[];
    };

export interface SplitContext {
  cwd: string;
  root: string;
  config: ResolvedConfig;
  /** the environment the tool would run in (PATH, PYTEST_ADDOPTS, …) */
  env: NodeJS.ProcessEnv;
  /** the runner + tool words, for running the tool's own listing (`pytest --collect-only`) */
  launcher: string[];
}

/** One allow-listed tool and how it is split. */
export interface ToolRule {
  /** canonical name, also the executable's name */
  name: string;
  /** other executable names for it ("py.test") */
  aliases?: readonly string[];
  /** the ecosystem whose runner it takes; absent = never prefixed */
  ecosystem?: Ecosystem;
  /** `python -m NAME` runs it too */
  pythonModule?: boolean;
  /** the rule in words, for docs and `sep plan`: "per test file", "never" */
  rule: string;
  /** absent = never split (the reason is `never`) */
  split?: (command: Command, context: SplitContext) => Promise<Split>;
  /** why a never-split tool is never split */
  never?: string;
}
