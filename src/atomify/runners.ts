// Runners: reading the runner a command was written with (`uv run pytest`, `npx eslint`), and
// enforcing the project's runner on tools of its ecosystem. The runner goes in as separate argv
// words (the original glued `uv run ruff check src/` into one word, ORIGINAL §4.5), only where the
// project's own lock files or its configuration name it, and never in front of a command that
// already starts with a runner, nor in front of anything that is not an allow-listed tool (so
// `pipx` and `pip-audit` are never touched: ORIGINAL §7.2 B20).
import { existsSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { JS_RUNNERS, PYTHON_RUNNERS, type ResolvedConfig, type RunnerName } from "../config.ts";
import { type OptionSpec, scanArgs, words } from "./argv.ts";
import type { Command, Ecosystem, ToolRule } from "./types.ts";

/** The argv words each runner puts in front of a tool. */
export const RUNNER_WORDS: Record<RunnerName, readonly string[]> = {
  uv: ["uv", "run"],
  poetry: ["poetry", "run"],
  pdm: ["pdm", "run"],
  pipenv: ["pipenv", "run"],
  npm: ["npx", "--no-install"],
  pnpm: ["pnpm", "exec"],
  yarn: ["yarn", "exec"],
};

/** Lock files that name a runner, per ecosystem. */
export const LOCK_FILES: Record<Ecosystem, readonly { file: string; runner: RunnerName }[]> = {
  python: [
    { file: "uv.lock", runner: "uv" },
    { file: "poetry.lock", runner: "poetry" },
    { file: "pdm.lock", runner: "pdm" },
    { file: "Pipfile.lock", runner: "pipenv" },
  ],
  js: [
    { file: "pnpm-lock.yaml", runner: "pnpm" },
    { file: "package-lock.json", runner: "npm" },
    { file: "npm-shrinkwrap.json", runner: "npm" },
    { file: "yarn.lock", runner: "yarn" },
  ],
};

/** Executables that run other programs: a command starting with one is never given another. */
export const RUNNER_EXECUTABLES: ReadonlySet<string> = words(
  "uv uvx npx npm pnpm pnpx yarn bun bunx deno poetry pipenv pdm hatch rye pixi pipx pip-run conda mamba micromamba nox tox",
);

export type RunnerChoice =
  | { kind: "runner"; runner: RunnerName; words: readonly string[]; why: string }
  | { kind: "none" }
  | { kind: "ambiguous"; why: string };

/**
 * The runner to enforce for an ecosystem: the one `runners` names, else the one named by the
 * nearest lock file from cwd up to root (two different ones in the same directory: ambiguous).
 */
export function chooseRunner(ecosystem: Ecosystem, cwd: string, root: string, config: ResolvedConfig): RunnerChoice {
  if (config.runners !== "auto") {
    const pool: readonly string[] = ecosystem === "python" ? PYTHON_RUNNERS : JS_RUNNERS;
    const named = config.runners.find((name) => pool.includes(name));
    if (named) return { kind: "runner", runner: named, words: RUNNER_WORDS[named], why: `runners = ${config.runners.join(",")} (${config.sources.runners.origin})` };
  }
  const stop = resolve(root);
  for (let dir = resolve(cwd); ; dir = resolve(dir, "..")) {
    const found = LOCK_FILES[ecosystem].filter(({ file }) => existsSync(join(dir, file)));
    const runners = [...new Set(found.map((f) => f.runner))];
    if (runners.length === 1) {
      const runner = runners[0] as RunnerName;
      return { kind: "runner", runner, words: RUNNER_WORDS[runner], why: `${found[0]!.file} in ${dir}` };
    }
    if (runners.length > 1) {
      return { kind: "ambiguous", why: `${found.map((f) => f.file).join(" and ")} in ${dir} name different runners; set \`runners\` to choose one` };
    }
    // Lock files above the project root belong to some other project.
    if (dir === stop || resolve(dir, "..") === dir) return { kind: "none" };
  }
}

// ---------------------------------------------------------------------------------------------
// Reading a command: runner words, tool words, arguments

// The options of each runner that sep can step over to find the tool. Any other option (or one
// that moves the working directory: uv --directory/--project, pnpm -C) leaves the tool unknown,
// and the command is run as written.
const UV_RUN: OptionSpec = {
  value: words("--with --with-editable --with-requirements --python -p --package --extra --group --only-group --no-group --env-file --index --index-url --default-index --extra-index-url --find-links -f --cache-dir --config-file --color --python-preference --resolution --prerelease --exclude-newer --link-mode --keyring-provider --index-strategy"),
  flag: words("--no-sync --frozen --locked --isolated --no-project --all-extras --no-dev --dev --only-dev --active --no-active --offline -q --quiet -v --verbose --no-cache -n --no-config --exact --all-packages --no-editable --all-groups --no-default-groups --no-env-file --no-progress --native-tls --refresh --compile-bytecode"),
};
const UVX: OptionSpec = {
  value: words("--from --with --with-editable --with-requirements --python -p --index --index-url --default-index --extra-index-url --find-links -f --cache-dir --config-file --color --python-preference --resolution --prerelease --exclude-newer"),
  flag: words("--isolated --offline -q --quiet -v --verbose --no-cache -n --no-config --refresh --no-progress --native-tls"),
};
const NPX: OptionSpec = {
  value: words("-p --package"),
  flag: words("--no-install --no -y --yes -q --quiet --offline --prefer-offline --prefer-online --silent"),
};
const NONE: OptionSpec = { value: words(""), flag: words("") };
const PYTHON: OptionSpec = { value: words(""), flag: words("-u -B -O -OO -E -s -I -q -b -bb -P") };

const DIRECTORY_OPTIONS = words("--directory --project -C --dir --prefix --cwd");

/** Known `runner subcommand` pairs and how to step over their options. */
const RUNNER_FORMS: { words: readonly string[]; options: OptionSpec }[] = [
  { words: ["uv", "run"], options: UV_RUN },
  { words: ["uv", "tool", "run"], options: UVX },
  { words: ["uvx"], options: UVX },
  { words: ["npx"], options: NPX },
  { words: ["pnpm", "exec"], options: NONE },
  { words: ["pnpm", "dlx"], options: NONE },
  { words: ["yarn", "exec"], options: NONE },
  { words: ["bunx"], options: NONE },
  { words: ["bun", "x"], options: NONE },
  { words: ["poetry", "run"], options: NONE },
  { words: ["pdm", "run"], options: NONE },
  { words: ["pipenv", "run"], options: NONE },
  { words: ["hatch", "run"], options: NONE },
  { words: ["rye", "run"], options: NONE },
];

export interface ReadCommand {
  command: Command;
  rule: ToolRule;
}

/**
 * The allow-listed tool argv runs, with the runner words before it and the tool's arguments
 * after it; undefined when argv is not (or not recognisably) one of the tools in rules.
 */
export function readCommand(argv: readonly string[], rules: readonly ToolRule[]): ReadCommand | undefined {
  let runner: string[] = [];
  let rest = [...argv];
  const first = rest[0];
  if (first === undefined) return undefined;
  if (RUNNER_EXECUTABLES.has(basename(first))) {
    const form = RUNNER_FORMS.find((f) => f.words.every((w, i) => (i === 0 ? basename(rest[0] ?? "") === w : rest[i] === w)));
    if (!form) return undefined;
    const after = rest.slice(form.words.length);
    const scanned = scanArgs(after, form.options);
    // The tool is the first positional word; every option before it must be one sep knows.
    const toolIndex = scanned.dashdash !== undefined && (scanned.positionals[0] ?? Infinity) > scanned.dashdash ? scanned.dashdash + 1 : scanned.positionals[0];
    if (toolIndex === undefined) return undefined;
    const before = scanned.options.filter((o) => o.index < toolIndex);
    if (before.some((o) => DIRECTORY_OPTIONS.has(o.name) || (!form.options.flag.has(o.name) && !form.options.value.has(o.name)))) return undefined;
    runner = [...rest.slice(0, form.words.length), ...after.slice(0, toolIndex)];
    rest = after.slice(toolIndex);
  }
  const head = rest[0];
  if (head === undefined) return undefined;
  // python -m TOOL (also python3, python3.12, .venv/bin/python)
  if (/^python(\d+(\.\d+)?)?$/.test(basename(head))) {
    let i = 1;
    while (i < rest.length && PYTHON.flag.has(rest[i] as string)) i++;
    if (rest[i] !== "-m") return undefined;
    const module = rest[i + 1];
    const rule = rules.find((r) => r.pythonModule && (r.name === module || r.aliases?.includes(module ?? "")));
    if (!rule || module === undefined) return undefined;
    return { command: { runner, tool: rest.slice(0, i + 2), name: rule.name, args: rest.slice(i + 2) }, rule };
  }
  const name = basename(head);
  const rule = rules.find((r) => r.name === name || r.aliases?.includes(name));
  if (!rule) return undefined;
  return { command: { runner, tool: [head], name: rule.name, args: rest.slice(1) }, rule };
}

/**
 * Where the runner would find a JS tool: node_modules/.bin/NAME from cwd up to the filesystem root
 * (npx, pnpm and yarn look there first).
 */
export function localNodeBin(cwd: string, name: string): string | undefined {
  for (let dir = resolve(cwd); ; dir = resolve(dir, "..")) {
    const path = join(dir, "node_modules", ".bin", name);
    if (existsSync(path)) return path;
    if (resolve(dir, "..") === dir) return undefined;
  }
}
