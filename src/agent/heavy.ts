// Does a Bash command string run a heavy command? The shell lexer (src/shell.ts) splits it into
// simple commands; each is matched against the `agentCommands` patterns after its assignments,
// wrappers (env, sudo, time, …) and runners (uv run, npx, pnpm exec, …). Finding is all this does:
// the hook wraps the whole original string, so nothing here ever rewrites shell text.
import { basename, shellCommands, skipPrefixes } from "../shell.ts";

/** One `agentCommands` entry, split into words: `"cargo test"` → `["cargo", "test"]`. */
export type CommandPattern = readonly string[];

export interface HeavyCommand {
  /** the pattern that matched, as configured */
  pattern: string;
  /** the simple command's words from its program on (assignments and wrappers left out) */
  words: string[];
}

export function parsePatterns(patterns: readonly string[]): CommandPattern[] {
  return patterns.map((pattern) => pattern.split(" ").filter(Boolean)).filter((words) => words.length > 0);
}

/**
 * Words that run the tool after them. The first is compared by basename, the rest exactly; the
 * tool may follow after options (`uv run --with x pytest`), so every later word is tried.
 */
const RUNNERS: readonly (readonly string[])[] = [
  ["uv", "run"], ["uvx"], ["poetry", "run"], ["pdm", "run"], ["pipenv", "run"], ["hatch", "run"], ["rye", "run"], ["pixi", "run"],
  ["npx"], ["pnpx"], ["bunx"], ["npm", "exec"], ["pnpm", "exec"], ["pnpm", "dlx"], ["yarn", "exec"], ["yarn", "dlx"], ["yarn"],
];
const PYTHON = /^python[0-9.]*$/;

/** The first simple command in text that runs a heavy command, or undefined. Never throws. */
export function findHeavyCommand(text: string, patterns: readonly CommandPattern[]): HeavyCommand | undefined {
  if (patterns.length === 0) return undefined;
  for (const command of shellCommands(text)) {
    const start = skipPrefixes(command.words);
    const words = command.words.slice(start);
    const pattern = _matchAny(words, patterns, 0);
    if (pattern) return { pattern: pattern.join(" "), words };
  }
  return undefined;
}

/**
 * True when the command's program is sep itself: named `sep`, or the very program the hook would
 * wrap with (`'/abs/sep'`, or bun and sep's entry script when run from source).
 */
export function isSepCommand(words: readonly string[], sepArgv: readonly string[]): boolean {
  const rest = words.slice(skipPrefixes([...words]));
  if (rest[0] !== undefined && basename(rest[0]) === "sep") return true;
  return sepArgv.length > 0 && sepArgv.every((word, i) => rest[i] === word);
}

function _matchAny(words: readonly string[], patterns: readonly CommandPattern[], depth: number): CommandPattern | undefined {
  const program = words[0];
  // A command that already runs under sep waits for its own turn; wrapping it would queue it twice.
  if (program === undefined || basename(program) === "sep" || depth > 4) return undefined;
  for (const pattern of patterns) if (_matches(words, pattern)) return pattern;
  for (const tool of _toolStarts(words)) {
    const rest = words.slice(tool);
    const found = _matchAny(rest.slice(skipPrefixes(rest)), patterns, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/** Where the tool a runner runs may start: every non-option word after the runner's own words. */
function _toolStarts(words: readonly string[]): number[] {
  const program = basename(words[0] ?? "");
  let after = 0;
  if (PYTHON.test(program) && words[1] === "-m") after = 2;
  for (const runner of RUNNERS) {
    if (after > 0) break;
    if (runner[0] === program && runner.slice(1).every((word, i) => words[i + 1] === word)) after = runner.length;
  }
  if (after === 0) return [];
  const starts: number[] = [];
  for (let i = after; i < words.length; i++) if (!words[i]!.startsWith("-")) starts.push(i);
  return starts;
}

/**
 * The program (by basename) is the pattern's first word, and the pattern's other words follow in
 * order, options (words starting with - or +) between them skipped: `npm --silent test` is `npm test`.
 */
function _matches(words: readonly string[], pattern: CommandPattern): boolean {
  if (!_wordMatches(basename(words[0]!), basename(pattern[0]!))) return false;
  let i = 1;
  for (let k = 1; k < pattern.length; k++) {
    for (;;) {
      const word = words[i];
      if (word === undefined) return false;
      i++;
      if (_wordMatches(word, pattern[k]!)) break;
      if (!word.startsWith("-") && !word.startsWith("+")) return false;
    }
  }
  return true;
}

function _wordMatches(word: string, pattern: string): boolean {
  return pattern.endsWith("*") ? word.startsWith(pattern.slice(0, -1)) : word === pattern;
}
