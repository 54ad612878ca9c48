// Atomification: turning one heavy command into small jobs (per file, per test), safely. The one
// entry point is planCommand(); everything else in src/atomify is its machinery, one file per
// tool family (python.ts, js.ts, shell.ts, yaml.ts), plus file discovery (files.ts), runners
// (runners.ts) and the pytest-xdist cap (pytest-workers.ts). Nothing here runs the command, nor
// passes a word through a shell; planning may run the tool's own listing (pytest --collect-only,
// jest --listTests, vitest list) and `node` to ask eslint / prettier which files they check.
import { isAbsolute, resolve } from "node:path";
import { UsageError } from "../errors.ts";
import { formatArgv } from "./argv.ts";
import { JS_RULES } from "./js.ts";
import { clampWorkers, workerEnv } from "./pytest-workers.ts";
import { PYTHON_RULES } from "./python.ts";
import { chooseRunner, localNodeBin, readCommand } from "./runners.ts";
import { SHELL_RULES } from "./shell.ts";
import type { Atom, Command, Plan, PlanOptions, ToolRule } from "./types.ts";
import { YAML_RULES } from "./yaml.ts";

export type { Atom, Plan, PlanOptions } from "./types.ts";
export { formatArgv } from "./argv.ts";

/** The allow-list: every tool sep may split or give a runner, with its rule. Any other command is run as written. */
export const TOOL_RULES: readonly ToolRule[] = [...PYTHON_RULES, ...JS_RULES, ...SHELL_RULES, ...YAML_RULES];

/**
 * How `argv` would run: the atoms (jobs) to run in order, and one note per thing sep decided.
 *
 * The contract:
 * - Never empty: `atoms.length >= 1`. An empty argv throws UsageError (exit 2).
 * - A command that is not an allow-listed tool (git, make, cp, tar, mv, rm, bash -c, python -c,
 *   pipx, pip-audit, a runner sep cannot read, …): exactly one atom, `argv` exactly as given,
 *   no notes, `tool` absent. Never split, never rewritten.
 * - An allow-listed tool (`tool` names it):
 *   - runner: with `enforceRunners`, when the command does not already start with a runner (nor
 *     name its executable by path) and the project names a runner for the tool's ecosystem
 *     (`runners` config, else the nearest lock file from cwd up to root), the runner's words are
 *     put in front of every atom (`uv run`, `npx --no-install`, `pnpm exec`, `yarn exec`, …), and a
 *     note says so;
 *   - `atomify: false`: one atom, argv as given (runner aside);
 *   - `atomify: true`: one atom per batch of `config.atomifyBatchSize` files (or tests), each the
 *     whole command with its path arguments replaced by the batch at the place of the first one
 *     (or right after the tool when it named none) and every other word kept in its place; or,
 *     when sep cannot split it safely (a path naming nothing, a glob matching nothing, the tool not
 *     installed, pytest failing to collect, an option that changes the session such as `-k`,
 *     `--lf`, `-x`, `--cov`, a report file, …), one atom with the command whole and one note
 *     saying why; pytest's `-n`/`--numprocesses`/`--maxprocesses` counts above
 *     `config.pytestMaxWorkers` are lowered in place (noted);
 *   - pytest atoms carry `env.PYTEST_XDIST_AUTO_NUM_WORKERS` (the cap), whatever `atomify` is.
 * - `name` is set on split atoms only: the tool and the first file or test of the batch.
 * - Deterministic: the same tree, config and argv give the same plan (files sorted by path).
 * - Nothing is written in the project. Planning may run the tool's own listing, under
 *   `PYTHONDONTWRITEBYTECODE=1` and `-p no:cacheprovider` for pytest.
 */
export async function planCommand(argv: string[], options: PlanOptions): Promise<Plan> {
  if (argv.length === 0) throw new UsageError("no command to plan", "write it as: sep plan -- COMMAND [ARGS...]");
  const read = readCommand(argv, TOOL_RULES);
  if (!read) return { atoms: [{ argv: [...argv] }], notes: [] };
  const { rule } = read;
  const command: Command = { ...read.command, runner: [...read.command.runner] };
  const notes: string[] = [];
  const cwd = resolve(options.cwd);
  const { config } = options;

  if (options.enforceRunners && rule.ecosystem && command.runner.length === 0 && !(command.tool[0] ?? "").includes("/")) {
    const choice = chooseRunner(rule.ecosystem, cwd, options.root, config);
    if (choice.kind === "runner") {
      command.runner = [...choice.words];
      notes.push(`runner: ${formatArgv(argv)} → ${formatArgv([...command.runner, ...command.tool, ...command.args])} (${choice.why})`);
    } else if (choice.kind === "ambiguous") {
      notes.push(`runner: ${choice.why}; ${rule.name} runs as written`);
    }
  }

  const env = rule.name === "pytest" ? workerEnv(config.pytestMaxWorkers, process.env) : undefined;
  const launcher = [...command.runner, ...command.tool];
  const atom = (args: string[], name?: string): Atom => ({ argv: [...launcher, ...args], ...(env ? { env } : {}), ...(name ? { name } : {}) });
  if (!options.atomify) return { atoms: [atom(command.args)], notes, tool: rule.name };

  let args = command.args;
  if (rule.name === "pytest") {
    const clamped = clampWorkers(args, config.pytestMaxWorkers);
    args = clamped.args;
    notes.push(...clamped.notes.map((note) => `pytest: ${note}`));
  }
  const whole = (why: string): Plan => {
    notes.push(why);
    return { atoms: [atom(args)], notes, tool: rule.name };
  };
  if (!rule.split) return whole(`${rule.name}: ${rule.never ?? "never split"}`);
  const missing = _notInstalled(command, cwd);
  if (missing) return whole(`${rule.name}: ${missing}; kept whole so the run reports it`);

  const split = await rule.split({ ...command, args }, { cwd, root: options.root, config, env: process.env, launcher });
  if (split.kind === "whole") return whole(split.why);
  const atoms = split.atoms.map((a) => atom(a.args, `${rule.name} ${a.items[0] ?? ""}${a.items.length > 1 ? ` (+${a.items.length - 1})` : ""}`));
  const count = split.atoms.reduce((n, a) => n + a.items.length, 0);
  const unit = rule.name === "pytest" && config.atomifyPytest === "test" ? "tests" : "files";
  notes.push(`${rule.name}: split into ${atoms.length} ${atoms.length === 1 ? "atom" : "atoms"} (${count} ${unit}, up to ${config.atomifyBatchSize} per atom)`);
  return { atoms, notes, tool: rule.name };
}

/** Why the command's program cannot be found, if it cannot: then there is nothing to split for. */
function _notInstalled(command: Command, cwd: string): string | undefined {
  const first = command.runner[0] ?? command.tool[0] ?? "";
  const PATH = process.env.PATH ?? "";
  if (first.includes("/")) {
    const path = isAbsolute(first) ? first : resolve(cwd, first);
    return Bun.which(path, { PATH, cwd }) ? undefined : `${first} does not exist or is not executable`;
  }
  if (!Bun.which(first, { PATH, cwd })) return `${first} is not installed (not on PATH)`;
  const runner = command.runner[0];
  if (runner === "npx" || runner === "pnpm" || runner === "yarn") {
    if (!localNodeBin(cwd, command.name) && !Bun.which(command.name, { PATH, cwd })) return `${command.name} is not installed (no node_modules/.bin/${command.name})`;
  }
  return undefined;
}
