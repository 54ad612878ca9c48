// PYTEST_MAX_WORKERS: the cap on pytest-xdist workers in any job that runs pytest. A worker count
// given on the command line (`-n 8`, `-nauto`, `--numprocesses=logical`, `--maxprocesses 8`) is
// lowered to the cap in its own word; `-n auto` in the project's addopts, which sep does not
// rewrite, is capped through PYTEST_XDIST_AUTO_NUM_WORKERS (xdist reads it to size "auto").
import { scanArgs } from "./argv.ts";
import { PYTEST_OPTIONS } from "./python.ts";

export interface Clamped {
  args: string[];
  /** one line per rewrite, for Plan.notes */
  notes: string[];
}

const _WORKER_OPTIONS = new Set(["-n", "--numprocesses", "--maxprocesses"]);

/** args (pytest's own arguments) with every worker count above max lowered to max. */
export function clampWorkers(args: readonly string[], max: number): Clamped {
  const out = [...args];
  const notes: string[] = [];
  for (const option of scanArgs(args, PYTEST_OPTIONS).options) {
    if (!_WORKER_OPTIONS.has(option.name) || option.value === undefined) continue;
    const value = option.value;
    const lowered = value === "auto" || value === "logical" || (/^\d+$/.test(value) && Number(value) > max) ? String(max) : undefined;
    if (lowered === undefined) continue;
    if (option.valueIndex !== undefined) {
      notes.push(`${args[option.index]} ${value} → ${args[option.index]} ${lowered} (PYTEST_MAX_WORKERS=${max})`);
      out[option.valueIndex] = lowered;
    } else {
      // the value sits in the option's own word: --numprocesses=8, -n8, -xn8
      const word = args[option.index] as string;
      const rewritten = word.slice(0, word.length - value.length) + lowered;
      notes.push(`${word} → ${rewritten} (PYTEST_MAX_WORKERS=${max})`);
      out[option.index] = rewritten;
    }
  }
  return { args: out, notes };
}

/**
 * The environment a pytest job gets: PYTEST_XDIST_AUTO_NUM_WORKERS = the cap, or the value already
 * set in env when that is a smaller positive number.
 */
export function workerEnv(max: number, env: NodeJS.ProcessEnv): Record<string, string> {
  const current = env.PYTEST_XDIST_AUTO_NUM_WORKERS;
  const value = current !== undefined && /^\d+$/.test(current) && Number(current) >= 1 && Number(current) < max ? current : String(max);
  return { PYTEST_XDIST_AUTO_NUM_WORKERS: value };
}
