// JavaScript tools: eslint and prettier (per file; which files they would check is asked of the
// project's own eslint / prettier through their Node APIs), biome (per file), jest and vitest (per
// test file, from their own listing), and tsc, which is never split.
import { readFileSync } from "node:fs";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import { batches, findOption, type OptionSpec, optionValues, type Scanned, scanArgs, withItems, words } from "./argv.ts";
import { ancestors } from "./config-files.ts";
import { comparePaths, filesUnder, globToRegexSource, pathKind, relPath } from "./files.ts";
import { splitPerFile, type WholeOption, wholeReason } from "./per-file.ts";
import { runListing } from "./spawn.ts";
import type { Command, Split, SplitContext, ToolRule } from "./types.ts";

/** The camelCase and kebab-case spellings of each option (jest and vitest take both). */
function bothCases(...lists: string[]): ReadonlySet<string> {
  const out = new Set<string>();
  for (const word of words(...lists)) {
    out.add(word);
    out.add(word.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`));
  }
  return out;
}

/** How long a listing (jest --listTests, vitest list, node asking eslint) may take. */
const LISTING_TIMEOUT_MS = 120_000;

// ---------------------------------------------------------------------------------------------
// Asking the project's eslint / prettier which files they would check

/**
 * Runs under `node` in the cwd. Reads { tool, files, options } on stdin, prints { files } (those
 * the tool would check when it meets them in a directory) or { error }.
 */
const NODE_PROBE = String.raw`
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
const input = JSON.parse(await new Promise((ok) => { let s = ""; process.stdin.on("data", (c) => (s += c)); process.stdin.on("end", () => ok(s)); }));
const load = async (name) => {
  const path = createRequire(process.cwd() + "/").resolve(name);
  const mod = await import(pathToFileURL(path).href);
  return mod.default && !mod.ESLint && !mod.getFileInfo ? mod.default : mod;
};
try {
  const keep = [];
  if (input.tool === "eslint") {
    const eslint = await load("eslint");
    const ESLint = eslint.loadESLint ? await eslint.loadESLint() : eslint.ESLint;
    const flat = ESLint.configType === "flat";
    const options = { cwd: process.cwd(), ...input.options };
    if (!flat) delete options.ignorePatterns;
    const linter = new ESLint(options);
    for (const file of input.files) if (!(await linter.isPathIgnored(file))) keep.push(file);
    process.stdout.write(JSON.stringify({ files: keep, flat }));
  } else {
    const prettier = await load("prettier");
    for (const file of input.files) {
      const info = await prettier.getFileInfo(file, { ...input.options, resolveConfig: true });
      if (!info.ignored && info.inferredParser) keep.push(file);
    }
    process.stdout.write(JSON.stringify({ files: keep }));
  }
} catch (error) {
  process.stdout.write(JSON.stringify({ error: String(error && error.message || error).split("\n")[0] }));
}
`;

async function _probe(tool: "eslint" | "prettier", files: string[], options: Record<string, unknown>, context: SplitContext): Promise<{ files: string[]; flat?: boolean } | string> {
  const node = Bun.which("node", { PATH: context.env.PATH ?? "" });
  if (!node) return `node is not on PATH, so sep cannot ask ${tool} which files it checks`;
  const listing = await runListing([node, "--input-type=module", "-e", NODE_PROBE], { cwd: context.cwd, env: context.env, input: JSON.stringify({ tool, files, options }), timeoutMs: LISTING_TIMEOUT_MS });
  if (!listing.ok) return `could not ask ${tool} which files it checks (${listing.why})`;
  const { stdout, stderr } = listing;
  let answer: { files?: string[]; flat?: boolean; error?: string };
  try {
    answer = JSON.parse(stdout);
  } catch {
    return `could not ask ${tool} which files it checks (${(stderr.trim().split("\n").at(-1) ?? "no answer").slice(0, 200)})`;
  }
  if (answer.error !== undefined || !answer.files) return `could not ask ${tool} which files it checks (${answer.error})`;
  return { files: answer.files, flat: answer.flat };
}

// ---------------------------------------------------------------------------------------------
// eslint

const ESLINT_OPTIONS: OptionSpec = {
  value: words(
    "-c --config --ext --global --parser --parser-options --resolve-plugins-relative-to --rulesdir --plugin --rule --ignore-pattern",
    "--ignore-path -f --format -o --output-file --max-warnings --cache-location --cache-strategy --stdin-filename --env --fix-type",
    "--report-unused-disable-directives-severity --concurrency --flag --suppressions-location --print-config",
  ),
  flag: words(
    "--fix --fix-dry-run --quiet --cache --no-eslintrc --no-config-lookup --no-inline-config --no-ignore --no-error-on-unmatched-pattern",
    "--exit-on-fatal-error --no-warn-ignored --pass-on-no-patterns --debug --color --no-color --stdin --init -h --help -v --version",
    "--env-info --report-unused-disable-directives --report-unused-inline-configs --stats --suppress-all --prune-suppressions",
    "--pass-on-unpruned-suppressions --inspect-config --mcp",
  ),
};

const ESLINT_WHOLE: readonly WholeOption[] = [
  { names: ["-o", "--output-file"], why: "writes one report, which each atom would overwrite" },
  { names: ["--max-warnings"], why: "counts warnings across all files; each atom would count its own", when: (v) => v !== "0" && v !== "-1" },
  { names: ["--stdin", "--stdin-filename"], why: "reads standard input" },
  { names: ["--suppress-all", "--suppress-rule", "--prune-suppressions"], why: "rewrites the suppressions file for the whole project" },
  { names: ["--init", "--print-config", "--inspect-config", "--env-info", "-h", "--help", "-v", "--version", "--mcp"], why: "lints nothing" },
];

async function _selectEslint(found: string[], context: SplitContext, scanned: Scanned): Promise<string[] | string> {
  const options: Record<string, unknown> = {};
  const config = findOption(scanned, ["-c", "--config"])?.value;
  if (config !== undefined) options.overrideConfigFile = config;
  if (findOption(scanned, ["--no-config-lookup", "--no-eslintrc"])) options.overrideConfigFile ??= true;
  if (findOption(scanned, ["--no-ignore"])) options.ignore = false;
  const patterns = optionValues(scanned, ["--ignore-pattern"]);
  if (patterns.length > 0) options.ignorePatterns = patterns;
  const answer = await _probe("eslint", found, options, context);
  if (typeof answer === "string") return answer;
  if (answer.flat) return answer.files;
  // eslintrc (eslint 8 and older): directories give .js files, plus any --ext
  const extensions = new Set([".js", ...optionValues(scanned, ["--ext"]).flatMap((v) => v.split(",")).map((e) => (e.startsWith(".") ? e : `.${e}`))]);
  return answer.files.filter((file) => extensions.has(file.slice(file.lastIndexOf("."))));
}

// ---------------------------------------------------------------------------------------------
// prettier

const PRETTIER_OPTIONS: OptionSpec = {
  value: words(
    "--config --ignore-path --plugin --parser --print-width --tab-width --trailing-comma --arrow-parens --end-of-line --prose-wrap",
    "--quote-props --html-whitespace-sensitivity --embedded-language-formatting --experimental-operator-position --object-wrap",
    "--cursor-offset --range-start --range-end --stdin-filepath --log-level --config-precedence --cache-location --cache-strategy",
    "--find-config-path --file-info",
  ),
  flag: words(
    "-c --check -l --list-different -w --write --no-config --no-editorconfig --with-node-modules --no-semi --single-quote",
    "--jsx-single-quote --bracket-same-line --no-bracket-spacing --use-tabs --vue-indent-script-and-style --single-attribute-per-line",
    "--insert-pragma --require-pragma --no-error-on-unmatched-pattern -u --ignore-unknown --cache --no-color --color --debug-check",
    "--experimental-ternaries --experimental-cli --no-plugin-search -h --help -v --version --support-info",
  ),
};

const PRETTIER_WHOLE: readonly WholeOption[] = [
  { names: ["--stdin-filepath"], why: "reads standard input" },
  { names: ["--cursor-offset", "--range-start", "--range-end"], why: "names a place in one file" },
  { names: ["--find-config-path", "--file-info", "--support-info", "-h", "--help", "-v", "--version"], why: "formats nothing" },
];

async function _selectPrettier(found: string[], context: SplitContext, scanned: Scanned): Promise<string[] | string> {
  const ignorePath = optionValues(scanned, ["--ignore-path"]);
  const options: Record<string, unknown> = { ignorePath: ignorePath.length > 0 ? ignorePath : [".gitignore", ".prettierignore"] };
  if (findOption(scanned, ["--with-node-modules"])) options.withNodeModules = true;
  const plugins = optionValues(scanned, ["--plugin"]);
  if (plugins.length > 0) options.plugins = plugins;
  const answer = await _probe("prettier", found, options, context);
  return typeof answer === "string" ? answer : answer.files;
}

// ---------------------------------------------------------------------------------------------
// biome

const BIOME_OPTIONS: OptionSpec = {
  value: words("--config-path --max-diagnostics --diagnostic-level --reporter --log-level --log-kind --colors --stdin-file-path --skip --only --since --log-file --log-prefix-name"),
  flag: words(
    "--write --fix --unsafe --apply --apply-unsafe --changed --staged --error-on-warnings --no-errors-on-unmatched --use-server --verbose",
    "--skip-errors --skip-parse-errors --formatter-enabled --linter-enabled --organize-imports-enabled --assist-enabled --files-ignore-unknown",
    "--vcs-enabled --vcs-use-ignore-file --json-formatter-enabled --css-linter-enabled --css-formatter-enabled --graphql-linter-enabled",
    "--graphql-formatter-enabled --javascript-formatter-enabled --javascript-linter-enabled --json-linter-enabled --enforce-assist -h --help -V --version",
  ),
};

const BIOME_WHOLE: readonly WholeOption[] = [
  { names: ["--changed", "--staged", "--since"], why: "chooses files from version control" },
  { names: ["--stdin-file-path"], why: "reads standard input" },
  { names: ["-h", "--help", "-V", "--version"], why: "checks nothing" },
];

const BIOME_EXTENSIONS = words(".js .jsx .ts .tsx .mjs .cjs .mts .cts .json .jsonc .css .graphql .gql");

/** biome.json(c) `files` settings: include/ignore (1.x) and includes with "!" negations (2.x). */
function _selectBiome(found: string[], context: SplitContext, scanned: Scanned): string[] | string {
  const explicit = findOption(scanned, ["--config-path"])?.value;
  const dirs = explicit !== undefined ? [resolve(context.cwd, explicit)] : ancestors(context.cwd);
  let files: { include?: string[]; ignore?: string[]; includes?: string[] } | undefined;
  let base = context.cwd;
  for (const dir of dirs) {
    for (const name of ["biome.json", "biome.jsonc"]) {
      let text: string;
      try {
        text = readFileSync(join(dir, name), "utf8");
      } catch {
        continue;
      }
      try {
        const config = JSON.parse(_stripJsonComments(text)) as { files?: typeof files };
        files = config.files ?? {};
        base = dir;
      } catch {
        return `cannot read ${join(dir, name)}`;
      }
      break;
    }
    if (files) break;
  }
  const matcher = (pattern: string) => {
    const glob = pattern.replace(/^!+/, "").replace(/^\.\//, "");
    const regex = new RegExp(`^${glob.includes("/") ? "" : "(?:.*/)?"}${globToRegexSource(glob)}(?:/.*)?$`);
    return (file: string) => regex.test(relative(base, resolve(context.cwd, file)).split(sep).join("/"));
  };
  const include = files?.include?.map(matcher);
  const ignore = files?.ignore?.map(matcher);
  const includes = files?.includes?.map((p) => ({ negate: p.startsWith("!"), test: matcher(p) }));
  return found.filter((file) => {
    if (!BIOME_EXTENSIONS.has(file.slice(file.lastIndexOf(".")))) return false;
    if (include && !include.some((m) => m(file))) return false;
    if (ignore?.some((m) => m(file))) return false;
    if (includes) {
      let keep = false;
      for (const rule of includes) if (rule.test(file)) keep = !rule.negate;
      return keep;
    }
    return true;
  });
}

function _stripJsonComments(text: string): string {
  return text
    .replace(/("(?:\\.|[^"\\])*")|\/\/[^\n]*|\/\*[\s\S]*?\*\//g, (_m, str: string | undefined) => str ?? "")
    .replace(/,(\s*[}\]])/g, "$1");
}

// ---------------------------------------------------------------------------------------------
// jest and vitest: per test file, from the runner's own listing

const JEST_OPTIONS: OptionSpec = {
  value: bothCases(
    "-c --config -t --testNamePattern --testPathIgnorePatterns -w --maxWorkers --outputFile --reporters --coverageDirectory",
    "--coverageReporters --rootDir --roots --selectProjects --shard --testEnvironment --testTimeout --seed --testRunner --testMatch",
    "--testRegex --collectCoverageFrom --changedSince --env --globals --maxConcurrency --moduleDirectories --moduleFileExtensions",
    "--modulePaths --moduleNameMapper --preset --projects --resolver --runner --testSequencer --transform --watchPathIgnorePatterns",
    "--setupFiles --setupFilesAfterEnv --snapshotSerializers --testEnvironmentOptions --testLocationInResults --testResultsProcessor",
    "--cacheDirectory --coverageProvider --coveragePathIgnorePatterns --coverageThreshold --filter --workerIdleMemoryLimit",
  ),
  optional: bothCases("-b --bail"),
  flag: bothCases(
    "--ci --cache --no-cache --clearCache --clearMocks --colors --coverage --collectCoverage --debug --detectOpenHandles",
    "--errorOnDeprecated -e --expand --forceExit -i --runInBand --json --listTests --logHeapUsage --noStackTrace --notify",
    "-o --onlyChanged --passWithNoTests --runTestsByPath --showConfig --silent -u --updateSnapshot --useStderr --verbose",
    "--watch --watchAll --lastCommit --init -h --help -v --version --injectGlobals --randomize --resetMocks --restoreMocks",
    "--detectLeaks --findRelatedTests --noWatchman --no-watchman --haste --openHandlesTimeout --showSeed --waitNextEventLoopTurnForUnhandledRejectionEvents",
  ),
};

const JEST_WHOLE: readonly WholeOption[] = [
  { names: [...bothCases("--coverage --collectCoverage --coverageThreshold")], why: "coverage would be measured and checked per atom" },
  { names: [...bothCases("--outputFile --json --testResultsProcessor")], why: "writes one report, which each atom would overwrite" },
  { names: [...bothCases("-b --bail")], why: "stops the whole run at the first failures; each atom would stop only itself" },
  { names: [...bothCases("-t --testNamePattern --filter")], why: "selects tests across the run; an atom whose file has no match could fail" },
  { names: [...bothCases("-o --onlyChanged --changedSince --lastCommit --findRelatedTests --shard")], why: "chooses test files itself" },
  { names: [...bothCases("--watch --watchAll")], why: "watches files and reruns" },
  { names: [...bothCases("--listTests --showConfig --clearCache --init -h --help -v --version")], why: "runs no tests" },
];

const VITEST_OPTIONS: OptionSpec = {
  value: bothCases(
    "-r --root -c --config -t --testNamePattern --dir --environment --pool --reporter --outputFile --shard --project --mode",
    "--testTimeout --hookTimeout --maxWorkers --minWorkers --maxConcurrency --sequence.seed --retry --bail --exclude --include",
    "--changed --related --inspect --inspectBrk --api --browser --typecheck --workspace --silent --logHeapUsage --clearScreen",
  ),
  flag: bothCases(
    "--run -u --update -w --watch --ui --open --globals --dom --isolate --no-isolate --passWithNoTests --allowOnly --dangerouslyIgnoreUnhandledErrors",
    "--coverage --no-color --hideSkippedTests --expandSnapshotDiff --disableConsoleIntercept --standalone --no-file-parallelism --fileParallelism",
    "-h --help -v --version --no-watch",
  ),
};

const VITEST_WHOLE: readonly WholeOption[] = [
  { names: [...bothCases("--coverage")], why: "coverage would be measured and checked per atom" },
  { names: [...bothCases("--outputFile")], why: "writes one report, which each atom would overwrite" },
  { names: [...bothCases("--bail")], why: "stops the whole run at the first failures; each atom would stop only itself" },
  { names: [...bothCases("-t --testNamePattern")], why: "selects tests across the run; an atom whose file has no match could fail" },
  { names: [...bothCases("--changed --related --shard")], why: "chooses test files itself" },
  { names: [...bothCases("-w --watch --ui --standalone")], why: "watches files and reruns" },
  { names: [...bothCases("-h --help -v --version")], why: "runs no tests" },
];

interface _TestRunner {
  name: "jest" | "vitest";
  options: OptionSpec;
  whole: readonly WholeOption[];
  /** the argv that lists test files (absolute paths) for these args */
  listArgv(launcher: string[], args: string[]): string[];
  parse(stdout: string): string[] | undefined;
  /** would `filter` (the atom's path word) select `file` (absolute) too? */
  selects(filter: string, file: string): boolean;
}

const JEST: _TestRunner = {
  name: "jest",
  options: JEST_OPTIONS,
  whole: JEST_WHOLE,
  listArgv: (launcher, args) => [...launcher, ...args, "--listTests"],
  parse: (stdout) => {
    const text = stdout.trim();
    if (text.startsWith("[")) {
      try {
        return (JSON.parse(text) as unknown[]).filter((f): f is string => typeof f === "string");
      } catch {
        return undefined;
      }
    }
    return text.split("\n").map((l) => l.trim()).filter((l) => isAbsolute(l));
  },
  // jest's path arguments are case-insensitive regular expressions searched in the absolute path
  selects: (filter, file) => {
    try {
      return new RegExp(filter, "i").test(file);
    } catch {
      return true;
    }
  },
};

const VITEST: _TestRunner = {
  name: "vitest",
  options: VITEST_OPTIONS,
  whole: VITEST_WHOLE,
  listArgv: (launcher, args) => [...launcher, "list", ...args.filter((a) => a !== "run" && a !== "--run"), "--json"],
  parse: (stdout) => {
    const start = stdout.indexOf("[");
    const end = stdout.lastIndexOf("]");
    if (start < 0 || end < start) return undefined;
    try {
      const entries = JSON.parse(stdout.slice(start, end + 1)) as { file?: unknown }[];
      return [...new Set(entries.map((e) => e.file).filter((f): f is string => typeof f === "string"))];
    } catch {
      return undefined;
    }
  },
  // vitest's filters are plain substrings of the file's path
  selects: (filter, file) => file.includes(filter),
};

async function splitTestRunner(runner: _TestRunner, command: Command, context: SplitContext): Promise<Split> {
  const { args } = command;
  const scanned = scanArgs(args, runner.options);
  const tool = runner.name;
  if (scanned.ambiguous) return { kind: "whole", why: `${tool}: cannot tell whether ${scanned.ambiguous} takes a value (write ${scanned.ambiguous}=VALUE, or put it after the paths)` };
  const because = wholeReason(scanned, runner.whole, tool);
  if (because) return { kind: "whole", why: because };
  let positionals = scanned.positionals;
  if (tool === "vitest") {
    // `vitest` alone watches in a terminal; only an explicit single run is split
    const sub = positionals[0] === undefined ? undefined : args[positionals[0]];
    if (sub === "run") positionals = positionals.slice(1);
    else if (!findOption(scanned, ["--run"])) return { kind: "whole", why: "vitest: only `vitest run` (or --run) is split; plain vitest may watch" };
    else if (sub !== undefined && ["watch", "dev", "bench", "list", "init", "related", "typecheck"].includes(sub)) return { kind: "whole", why: `vitest ${sub}: not a test run` };
  }
  for (const index of positionals) {
    const word = args[index] as string;
    if (pathKind(context.cwd, word) === "missing") return { kind: "whole", why: `${tool}: ${word} names no file or directory (a pattern); kept whole so ${tool} matches it itself` };
  }
  const listing = await runListing(runner.listArgv(context.launcher, args), { cwd: context.cwd, env: { ...context.env, CI: context.env.CI ?? "1" }, timeoutMs: LISTING_TIMEOUT_MS });
  if (!listing.ok) return { kind: "whole", why: `${tool}: could not list the test files (${listing.why}); kept whole` };
  const listed = listing.exitCode === 0 ? runner.parse(listing.stdout) : undefined;
  if (!listed) return { kind: "whole", why: `${tool}: could not list the test files (exit ${listing.exitCode}); kept whole so ${tool} reports it itself` };
  if (listed.length === 0) return { kind: "whole", why: `${tool}: found no test files; kept whole so ${tool} reports it` };
  const files = [...new Set(listed.map((f) => relPath(context.cwd, f)))].sort(comparePaths);
  // Each atom names its file by a pattern; it must select that file and no other test file.
  const universe = new Set([...listed.map((f) => resolve(context.cwd, f)), ...filesUnder(context.cwd, context.root).map((f) => resolve(context.cwd, f))]);
  for (const file of files) {
    const own = resolve(context.cwd, file);
    if (!runner.selects(file, own)) return { kind: "whole", why: `${tool}: the path ${file} would not select its own file as a ${tool} pattern; kept whole` };
    const other = [...universe].find((f) => f !== own && runner.selects(file, f) && /\.(test|spec)\.|__tests__/.test(f));
    if (other) return { kind: "whole", why: `${tool}: ${file} as a ${tool} pattern would also select ${relPath(context.cwd, other)}; kept whole` };
  }
  return {
    kind: "split",
    atoms: batches(files, context.config.atomifyBatchSize).map((batch) => ({ args: withItems(args, positionals, batch), items: batch })),
  };
}

// ---------------------------------------------------------------------------------------------

export const JS_RULES: readonly ToolRule[] = [
  {
    name: "eslint", ecosystem: "js", rule: "per file (the files eslint itself would lint: its config's files and ignores)",
    split: (command, context) => splitPerFile(command, context, { options: ESLINT_OPTIONS, whole: ESLINT_WHOLE, directories: true, globs: true, select: _selectEslint }),
  },
  {
    name: "prettier", ecosystem: "js", rule: "per file (the files prettier itself would format: .prettierignore, .gitignore, known languages)",
    split: (command, context) => splitPerFile(command, context, { options: PRETTIER_OPTIONS, whole: PRETTIER_WHOLE, directories: true, globs: true, select: _selectPrettier }),
  },
  {
    name: "biome", ecosystem: "js", rule: "per file, for biome check / lint / format / ci (biome.json files.include/ignore/includes honoured)",
    split: (command, context) => splitPerFile(command, context, { options: BIOME_OPTIONS, whole: BIOME_WHOLE, subcommands: words("check lint format ci"), directories: true, select: _selectBiome }),
  },
  { name: "jest", ecosystem: "js", rule: "per test file (from jest --listTests)", split: (command, context) => splitTestRunner(JEST, command, context) },
  { name: "vitest", ecosystem: "js", rule: "per test file, for vitest run (from vitest list)", split: (command, context) => splitTestRunner(VITEST, command, context) },
  { name: "tsc", ecosystem: "js", rule: "never", never: "tsc type-checks one whole program at once; it is never split" },
];
