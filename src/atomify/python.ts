// Python tools: pytest (per test file or per test, from pytest's own collection), and mypy, ruff,
// flake8, black and isort (per file, honouring each tool's own exclude settings where they are
// cheap to read).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { batches, findOption, type OptionSpec, optionValues, type Scanned, scanArgs, withItems, words } from "./argv.ts";
import { ancestors, findUp, fnmatchRegex, pythonRegex, readIni, readToml, splitList, tomlList, tomlTable } from "./config-files.ts";
import { comparePaths, globToRegexSource, pathKind, relPath } from "./files.ts";
import { splitPerFile, type WholeOption, wholeReason } from "./per-file.ts";
import { runListing } from "./spawn.ts";
import type { Command, Split, SplitContext, ToolRule } from "./types.ts";

// ---------------------------------------------------------------------------------------------
// pytest

/** pytest's options (core, pytest-xdist, pytest-cov, pytest-timeout, and a few common plugins). */
export const PYTEST_OPTIONS: OptionSpec = {
  value: words(
    "-k -m -c -p -o -W -r -n --tb --assert --basetemp --capture --code-highlight --color --confcutdir --config-file --deselect",
    "--doctest-glob --doctest-report --durations --durations-min --ignore --ignore-glob --import-mode --junit-prefix --junitprefix",
    "--junit-xml --junitxml --log-auto-indent --log-cli-date-format --log-cli-format --log-cli-level --log-date-format --log-disable",
    "--log-file --log-file-date-format --log-file-format --log-file-level --log-file-mode --log-format --log-level --maxfail",
    "--override-ini --pastebin --pdbcls --pythonwarnings --rootdir --show-capture --verbosity --lfnf --last-failed-no-failures",
    "--numprocesses --maxprocesses --dist --max-worker-restart --tx --rsyncdir --rsyncignore --testrunuid --maxschedchunk",
    "--cov-report --cov-config --cov-fail-under --cov-context --timeout --timeout-method --timeout_method --session-timeout",
    "--html --css --report-log --json-report-file --alluredir --randomly-seed --reruns --reruns-delay --only-rerun --asyncio-mode",
    "--benchmark-json --benchmark-save --benchmark-columns --benchmark-sort --benchmark-group-by --benchmark-storage",
    "--hypothesis-profile --hypothesis-seed --hypothesis-verbosity --splits --group --count --repeat-scope --strict",
  ),
  optional: words("--cov --cache-show --debug --benchmark-compare --benchmark-histogram --benchmark-autosave"),
  flag: words(
    "-x -v -q -s -l -V -h -d -f --help --version --verbose --quiet --exitfirst --showlocals --no-showlocals --full-trace",
    "--fulltrace --pdb --trace --runxfail --lf --last-failed --ff --failed-first --nf --new-first --cache-clear --sw --stepwise",
    "--sw-skip --stepwise-skip --sw-reset --stepwise-reset --co --collect-only --collectonly --pyargs --noconftest",
    "--keep-duplicates --keepduplicates --collect-in-virtualenv --continue-on-collection-errors --doctest-modules",
    "--doctest-ignore-import-errors --doctest-continue-on-failure --fixtures --funcargs --fixtures-per-test --markers",
    "--setup-only --setuponly --setup-show --setupshow --setup-plan --setupplan --trace-config --traceconfig --no-header",
    "--no-summary --no-fold-skipped --force-short-summary --xfail-tb --disable-warnings --disable-pytest-warnings",
    "--strict-markers --strict-config --disable-plugin-autoload --looponfail --no-cov --no-cov-on-fail --cov-append",
    "--cov-branch --snapshot-update --snapshot-warn-unused --snapshot-details --json-report --self-contained-html",
    "--benchmark-disable --benchmark-enable --benchmark-only --benchmark-skip --benchmark-disable-gc --benchmark-quiet",
    "--benchmark-verbose --hypothesis-show-statistics --hypothesis-explain -P",
  ),
};

/** Options that change what a session is, so it is not cut into files or tests. */
const PYTEST_WHOLE: readonly WholeOption[] = [
  { names: ["-k", "-m"], why: "selects tests across the session; an atom whose file has no match would fail with exit 5" },
  { names: ["--lf", "--last-failed", "--ff", "--failed-first", "--nf", "--new-first", "--sw", "--stepwise", "--sw-skip", "--stepwise-skip", "--lfnf", "--last-failed-no-failures"], why: "orders or selects tests from the last whole run's cache" },
  { names: ["-x", "--exitfirst", "--maxfail"], why: "stops the whole session at the first failures; each atom would stop only itself" },
  { names: ["--cov", "--cov-report", "--cov-fail-under", "--cov-append", "--cov-config", "--cov-branch", "--cov-context"], why: "coverage would be measured and checked per atom, not for the suite (add --no-cov to split)" },
  { names: ["--junitxml", "--junit-xml", "--html", "--report-log", "--json-report", "--json-report-file", "--benchmark-json", "--benchmark-save", "--benchmark-autosave", "--result-log"], why: "writes one report file, which each atom would overwrite" },
  { names: ["--co", "--collect-only", "--collectonly", "--fixtures", "--funcargs", "--fixtures-per-test", "--markers", "--setup-plan", "--setupplan", "--setup-only", "--setuponly", "--cache-show", "-h", "--help", "--version", "-V"], why: "runs no tests" },
  { names: ["--pyargs"], why: "names Python packages, not files" },
  { names: ["-f", "--looponfail"], why: "watches files and reruns" },
];

/** Options that change what pytest collects: given to the collection run too. */
const PYTEST_COLLECTION = words(
  "-c --config-file --rootdir --confcutdir --noconftest --import-mode -p --ignore --ignore-glob --deselect --doctest-modules",
  "--doctest-glob --doctest-ignore-import-errors -o --override-ini --keep-duplicates --keepduplicates --collect-in-virtualenv -P",
);

/** Written to a temp dir and loaded with `-p`: reports what pytest collected, with absolute paths. */
const COLLECT_PLUGIN = String.raw`
import json, os, shlex
import pytest

@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    # pytest-benchmark creates its storage directory (.benchmarks) as it starts: not in the project
    if hasattr(config.option, "benchmark_storage"):
        config.option.benchmark_storage = "file://" + os.environ["SEP_PYTEST_SCRATCH"]

def _split(value):
    if isinstance(value, str):
        return shlex.split(value)
    return [str(v) for v in value or []]

def _addopts(config):
    path = getattr(config, "inipath", None) or getattr(config, "inifile", None)
    if not path:
        return []
    path = str(path)
    if path.endswith(".toml"):
        try:
            import tomllib
        except ImportError:
            import tomli as tomllib
        with open(path, "rb") as f:
            tool = tomllib.load(f).get("tool", {}).get("pytest", {})
        section = tool.get("ini_options", tool) if isinstance(tool, dict) else {}
        return _split(section.get("addopts", ""))
    import configparser
    parser = configparser.RawConfigParser()
    parser.read(path)
    name = "tool:pytest" if os.path.basename(path) == "setup.cfg" else "pytest"
    return _split(parser.get(name, "addopts", fallback=""))

def pytest_collection_finish(session):
    config = session.config
    try:
        addopts = _addopts(config)
    except Exception:
        addopts = None
    path = getattr(config, "inipath", None) or getattr(config, "inifile", None)
    items = []
    for item in session.items:
        location = getattr(item, "path", None) or getattr(item, "fspath", None)
        items.append([str(location), item.nodeid])
    with open(os.environ["SEP_PYTEST_COLLECT_OUT"], "w") as f:
        json.dump({
            "inifile": str(path) if path else None,
            "addopts": addopts,
            "envAddopts": shlex.split(os.environ.get("SEP_PYTEST_ADDOPTS", "")),
            "items": items,
        }, f)
`;

interface _Collected {
  inifile: string | null;
  addopts: string[] | null;
  envAddopts: string[];
  items: [path: string, nodeid: string][];
}

/** How long pytest may take to collect before sep gives up and keeps the command whole. */
const COLLECT_TIMEOUT_MS = 180_000;

async function splitPytest(command: Command, context: SplitContext): Promise<Split> {
  const { args } = command;
  const scanned = scanArgs(args, PYTEST_OPTIONS);
  if (scanned.ambiguous) {
    return { kind: "whole", why: `pytest: cannot tell whether ${scanned.ambiguous} takes a value (write ${scanned.ambiguous}=VALUE, or put it after the paths)` };
  }
  if (!findOption(scanned, ["--no-cov"])) {
    const because = wholeReason(scanned, PYTEST_WHOLE, "pytest");
    if (because) return { kind: "whole", why: because };
  } else {
    const because = wholeReason(scanned, PYTEST_WHOLE.filter((rule) => !rule.names.includes("--cov")), "pytest");
    if (because) return { kind: "whole", why: because };
  }
  for (const index of scanned.positionals) {
    const word = args[index] as string;
    if (word.includes("::")) return { kind: "whole", why: `pytest: ${word} already names tests` };
    if (word === "-" || pathKind(context.cwd, word) === "missing") return { kind: "whole", why: `pytest: ${word} names nothing on disk; kept whole so pytest reports it` };
  }

  const collected = await _collect(command, context, scanned);
  if (typeof collected === "string") return { kind: "whole", why: `pytest: ${collected}; kept whole so pytest reports it itself` };

  // The project's addopts apply to every atom too; judge them like the command's own options.
  for (const [where, opts] of [
    [collected.inifile ? `addopts in ${relPath(context.cwd, collected.inifile)}` : "addopts", collected.addopts ?? []],
    ["PYTEST_ADDOPTS", collected.envAddopts],
  ] as const) {
    const own = scanArgs(opts, PYTEST_OPTIONS);
    const noCov = findOption(own, ["--no-cov"]) || findOption(scanned, ["--no-cov"]);
    const rules = noCov ? PYTEST_WHOLE.filter((rule) => !rule.names.includes("--cov")) : PYTEST_WHOLE;
    const because = wholeReason(own, rules, "pytest");
    if (because) return { kind: "whole", why: `${because.replace(/^pytest /, `pytest (${where}) `)}` };
  }
  if (collected.addopts === null) return { kind: "whole", why: `pytest: cannot read addopts from ${collected.inifile}` };

  const byFile = new Map<string, string[]>();
  for (const [path, nodeid] of collected.items) {
    const file = relPath(context.cwd, path);
    const at = nodeid.indexOf("::");
    const id = at < 0 ? file : `${file}${nodeid.slice(at)}`;
    const ids = byFile.get(file) ?? [];
    if (!ids.includes(id)) ids.push(id);
    byFile.set(file, ids);
  }
  if (byFile.size === 0) return { kind: "whole", why: "pytest: collected no tests; kept whole so pytest reports it" };
  const files = [...byFile.keys()].sort(comparePaths);
  const units = context.config.atomifyPytest === "test" ? files.flatMap((file) => byFile.get(file) ?? []) : files;
  return {
    kind: "split",
    atoms: batches(units, context.config.atomifyBatchSize).map((batch) => ({ args: withItems(args, scanned.positionals, batch), items: batch })),
  };
}

/**
 * Ask pytest what it would run: `pytest --collect-only -q` with the user's collection options and
 * paths, `-p no:cacheprovider` (no .pytest_cache written), `-o addopts=` and PYTEST_ADDOPTS unset
 * (so the project's own options — `-v`, `-n auto`, `--cov` — neither change the listing nor run),
 * `-p no:randomly` (a stable order), and a small plugin that writes the collected items with their
 * absolute paths (node ids are relative to pytest's rootdir, which need not be the cwd) and keeps
 * pytest-benchmark's storage out of the project.
 */
async function _collect(command: Command, context: SplitContext, scanned: Scanned): Promise<_Collected | string> {
  const { args } = command;
  const own: string[] = [];
  for (const option of scanned.options) {
    if (!PYTEST_COLLECTION.has(option.name)) continue;
    own.push(args[option.index] as string);
    if (option.valueIndex !== undefined) own.push(args[option.valueIndex] as string);
  }
  const paths = scanned.positionals.map((i) => args[i] as string);
  const dir = mkdtempSync(join(tmpdir(), "sep-collect-"));
  try {
    writeFileSync(join(dir, "_sep_collect.py"), COLLECT_PLUGIN);
    const out = join(dir, "collected.json");
    const argv = [
      ...context.launcher,
      ...own,
      "-p", "_sep_collect",
      "-p", "no:cacheprovider",
      "-p", "no:randomly",
      "-o", "addopts=",
      "--collect-only", "-q",
      ...(scanned.dashdash !== undefined ? ["--"] : []),
      ...paths,
    ];
    const env: Record<string, string | undefined> = {
      ...context.env,
      PYTHONPATH: context.env.PYTHONPATH ? `${dir}:${context.env.PYTHONPATH}` : dir,
      SEP_PYTEST_COLLECT_OUT: out,
      SEP_PYTEST_SCRATCH: join(dir, "scratch"),
      SEP_PYTEST_ADDOPTS: context.env.PYTEST_ADDOPTS ?? "",
      PYTHONDONTWRITEBYTECODE: context.env.PYTHONDONTWRITEBYTECODE ?? "1",
    };
    delete env.PYTEST_ADDOPTS;
    const listing = await runListing(argv, { cwd: context.cwd, env, timeoutMs: COLLECT_TIMEOUT_MS });
    if (!listing.ok) return `${listing.why} to collect the tests`;
    if (listing.exitCode === 5) return "collected no tests";
    if (listing.exitCode !== 0) return `could not collect the tests (exit ${listing.exitCode}: ${_lastLine(listing.stdout, listing.stderr)})`;
    let text: string;
    try {
      text = readFileSync(out, "utf8");
    } catch {
      return "did not report its collection (sep's collection plugin was not loaded)";
    }
    return JSON.parse(text) as _Collected;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function _lastLine(stdout: string, stderr: string): string {
  const lines = `${stdout}\n${stderr}`.split("\n").map((l) => l.trim()).filter((l) => l !== "" && !/^=+$/.test(l));
  const error = lines.find((l) => /^(ERROR|E )|error:/i.test(l));
  return (error ?? lines.at(-1) ?? "no output").replace(/^=+\s*|\s*=+$/g, "").slice(0, 200);
}

// ---------------------------------------------------------------------------------------------
// mypy

const MYPY_OPTIONS: OptionSpec = {
  value: words(
    "--always-false --always-true --any-exprs-report --cache-dir --cache-map --cobertura-xml-report --command --config-file",
    "--custom-typeshed-dir --custom-typing-module --disable-error-code --enable-error-code --enable-incomplete-feature --exclude",
    "--find-occurrences --follow-imports --html-report --junit-xml --line-checking-stats --linecount-report --linecoverage-report",
    "--lineprecision-report --module --package --package-root --platform --python-executable --python-version --quickstart-file",
    "--shadow-file --soft-error-limit --timing-stats --txt-report --xml-report --xslt-html-report --xslt-txt-report -c -m -p",
    "--untyped-calls-exclude --deprecated-calls-exclude --output --junit-format --exclude-gitignore",
  ),
  flag: words(
    "--allow-any-generics --allow-empty-bodies --allow-incomplete-defs --allow-redefinition --allow-subclassing-any",
    "--allow-untyped-calls --allow-untyped-decorators --allow-untyped-defs --allow-untyped-globals --bazel --cache-fine-grained",
    "--check-untyped-defs --color-output --disable-bytearray-promotion --disable-memoryview-promotion --disallow-any-decorated",
    "--disallow-any-explicit --disallow-any-expr --disallow-any-generics --disallow-any-unimported --disallow-empty-bodies",
    "--disallow-incomplete-defs --disallow-redefinition --disallow-subclassing-any --disallow-untyped-calls",
    "--disallow-untyped-decorators --disallow-untyped-defs --disallow-untyped-globals --error-summary --explicit-package-bases",
    "--fast-exit --fast-module-lookup --help --hide-absolute-path --hide-column-numbers --hide-error-codes --hide-error-context",
    "--hide-error-end --ignore-missing-imports --implicit-optional --implicit-reexport --incremental --install-types",
    "--interactive --local-partial-types --namespace-packages --no-check-untyped-defs --no-color-output --no-error-summary",
    "--no-explicit-package-bases --no-fast-exit --no-implicit-optional --no-implicit-reexport --no-incremental",
    "--no-install-types --no-namespace-packages --no-pretty --no-silence-site-packages --no-site-packages --no-sqlite-cache",
    "--no-strict-concatenate --no-strict-equality --no-strict-optional --no-warn-incomplete-stub --no-warn-no-return",
    "--no-warn-redundant-casts --no-warn-return-any --no-warn-unreachable --no-warn-unused-configs --no-warn-unused-ignores",
    "--non-interactive --pdb --pretty --raise-exceptions --scripts-are-modules --show-absolute-path --show-column-numbers",
    "--show-error-codes --show-error-context --show-error-end --show-traceback --skip-cache-mtime-checks --skip-version-check",
    "--sqlite-cache --stats --strict --strict-concatenate --strict-equality --strict-optional --tb --verbose --version",
    "--warn-incomplete-stub --warn-no-return --warn-redundant-casts --warn-return-any --warn-unreachable --warn-unused-configs",
    "--warn-unused-ignores --strict-bytes --no-strict-bytes --extra-checks --no-extra-checks --show-error-code-links",
    "--no-exclude-gitignore --strict-equality-for-none --allow-redefinition-new --warn-unused-configs -V -h -i -v",
  ),
};

const MYPY_WHOLE: readonly WholeOption[] = [
  { names: ["-c", "--command", "-m", "--module", "-p", "--package"], why: "checks code or modules, not files" },
  { names: ["--any-exprs-report", "--cobertura-xml-report", "--html-report", "--junit-xml", "--linecount-report", "--linecoverage-report", "--lineprecision-report", "--txt-report", "--xml-report", "--xslt-html-report", "--xslt-txt-report"], why: "writes one report, which each atom would overwrite" },
  { names: ["--shadow-file", "--find-occurrences"], why: "is about the whole program" },
  { names: ["-h", "--help", "-V", "--version"], why: "checks nothing" },
];

/** mypy's `exclude` regexes: --exclude flags, else the config file's (mypy.ini, pyproject, setup.cfg). */
function _mypyExcludes(context: SplitContext, scanned: Scanned): RegExp[] | string {
  let patterns = optionValues(scanned, ["--exclude"]);
  let from = "--exclude";
  if (patterns.length === 0) {
    const config = _mypyConfig(context, scanned);
    if (config) ({ patterns, from } = config);
  }
  const out: RegExp[] = [];
  for (const pattern of patterns) {
    const regex = pythonRegex(pattern);
    if (!regex) return `cannot read the exclude pattern ${JSON.stringify(pattern)} (from ${from})`;
    out.push(regex);
  }
  return out;
}

/** --config-file, else the first mypy.ini / .mypy.ini / pyproject [tool.mypy] / setup.cfg [mypy], cwd up to the root. */
function _mypyConfig(context: SplitContext, scanned: Scanned): { patterns: string[]; from: string } | undefined {
  const read = (file: string): string[] | undefined => {
    if (file.endsWith(".toml")) {
      const table = tomlTable(readToml(file), "tool.mypy");
      return table ? tomlList(table.exclude) : undefined;
    }
    const section = readIni(file)?.get("mypy");
    if (!section) return basename(file).endsWith("mypy.ini") && pathKind(context.cwd, file) === "file" ? [] : undefined;
    const value = section.get("exclude");
    return value === undefined ? [] : [value];
  };
  const explicit = findOption(scanned, ["--config-file"])?.value;
  if (explicit !== undefined) {
    const file = resolve(context.cwd, explicit);
    return { patterns: read(file) ?? [], from: file };
  }
  for (const dir of ancestors(context.cwd)) {
    for (const name of ["mypy.ini", ".mypy.ini", "pyproject.toml", "setup.cfg"]) {
      const file = join(dir, name);
      const patterns = read(file);
      if (patterns) return { patterns, from: file };
    }
    if (dir === resolve(context.root)) break;
  }
  return undefined;
}

const MYPY_SKIP_DIRS = new Set(["__pycache__", "site-packages", "node_modules"]);

function _selectMypy(found: string[], context: SplitContext, scanned: Scanned): string[] | string {
  const excludes = _mypyExcludes(context, scanned);
  if (typeof excludes === "string") return excludes;
  const kept = found.filter((file) => {
    if (!/\.pyi?$/.test(file)) return false;
    const parts = file.split("/");
    // mypy's own crawl skips these directories, and matches exclude against "dir/" and "dir/file"
    for (let i = 0; i < parts.length; i++) {
      const name = parts[i] as string;
      if (name === ".." || name === ".") continue;
      if (i < parts.length - 1 && (MYPY_SKIP_DIRS.has(name) || name.startsWith("."))) return false;
      const sub = parts.slice(0, i + 1).join("/") + (i < parts.length - 1 ? "/" : "");
      if (excludes.some((regex) => regex.test(sub))) return false;
    }
    return true;
  });
  // A stub wins over its module, as in mypy's crawl; both would be "Duplicate module".
  const stubs = new Set(kept.filter((f) => f.endsWith(".pyi")).map((f) => f.slice(0, -1)));
  return kept.filter((f) => !stubs.has(f));
}

// ---------------------------------------------------------------------------------------------
// flake8

const FLAKE8_OPTIONS: OptionSpec = {
  value: words(
    "--append-config --builtins --color --config --enable-extensions --exclude --exclude-from-doctest --extend-exclude",
    "--extend-ignore --extend-select --filename --format --ignore --include-in-doctest --indent-size --jobs --max-complexity",
    "--max-doc-length --max-line-length --output-file --per-file-ignores --require-plugins --select --stdin-display-name -j",
    "--docstring-convention --import-order-style --application-import-names --inline-quotes --multiline-quotes --docstring-quotes",
  ),
  flag: words("--benchmark --bug-report --count --diff --disable-noqa --doctests --exit-zero --hang-closing --help --isolated --no-show-source --quiet --show-source --statistics --tee --verbose --version -h -q -v"),
};

const FLAKE8_WHOLE: readonly WholeOption[] = [
  { names: ["--output-file"], why: "writes one report, which each atom would overwrite" },
  { names: ["--diff"], why: "reads a diff from standard input" },
  { names: ["--bug-report", "--version", "-h", "--help"], why: "checks nothing" },
];

const FLAKE8_DEFAULT_EXCLUDE = ".svn,CVS,.bzr,.hg,.git,__pycache__,.tox,.nox,.eggs,*.egg";

/** flake8's own config: --config, else the first setup.cfg / tox.ini / .flake8 with [flake8], cwd upwards. */
function _flake8Config(context: SplitContext, scanned: Scanned): { values: Map<string, string>; dir: string } | undefined {
  if (findOption(scanned, ["--isolated"])) return undefined;
  const explicit = findOption(scanned, ["--config"])?.value;
  const files = explicit !== undefined ? [resolve(context.cwd, explicit)] : ancestors(context.cwd).flatMap((dir) => ["setup.cfg", "tox.ini", ".flake8"].map((n) => join(dir, n)));
  for (const file of files) {
    const section = readIni(file)?.get("flake8");
    if (section) return { values: section, dir: dirname(file) };
  }
  return undefined;
}

function _selectFlake8(found: string[], context: SplitContext, scanned: Scanned): string[] {
  const config = _flake8Config(context, scanned);
  const pattern = (list: string, base: string) => splitList(list).map((p) => ({ regex: fnmatchRegex(p.includes("/") ? resolve(base, p) : p), path: p.includes("/") }));
  const cliExclude = optionValues(scanned, ["--exclude"]);
  const excludes = [
    ...(cliExclude.length > 0 ? cliExclude.flatMap((v) => pattern(v, context.cwd)) : pattern(config?.values.get("exclude") ?? FLAKE8_DEFAULT_EXCLUDE, config?.dir ?? context.cwd)),
    ...pattern(config?.values.get("extend-exclude") ?? config?.values.get("extend_exclude") ?? "", config?.dir ?? context.cwd),
    ...optionValues(scanned, ["--extend-exclude"]).flatMap((v) => pattern(v, context.cwd)),
  ];
  const cliFilename = optionValues(scanned, ["--filename"]);
  const filenames = pattern(cliFilename.length > 0 ? cliFilename.join(",") : (config?.values.get("filename") ?? "*.py"), config?.dir ?? context.cwd);
  const matches = (list: typeof excludes, name: string, absolute: string) => list.some((p) => p.regex.test(p.path ? absolute : name));
  return found.filter((file) => {
    const parts = file.split("/");
    for (let i = 0; i < parts.length; i++) {
      const absolute = resolve(context.cwd, parts.slice(0, i + 1).join("/"));
      if (matches(excludes, parts[i] as string, absolute)) return false;
    }
    return matches(filenames, basename(file), resolve(context.cwd, file));
  });
}

// ---------------------------------------------------------------------------------------------
// ruff

const RUFF_OPTIONS: OptionSpec = {
  value: words(
    "--config --select --ignore --extend-select --extend-ignore --per-file-ignores --extend-per-file-ignores --fixable --unfixable",
    "--extend-fixable --exclude --extend-exclude --output-format -o --output-file --target-version --line-length --dummy-variable-rgx",
    "--cache-dir --stdin-filename --extension --color --range --add-noqa",
  ),
  flag: words(
    "--fix --no-fix --unsafe-fixes --no-unsafe-fixes --show-fixes --no-show-fixes --diff -w --watch --fix-only --no-fix-only",
    "--ignore-noqa --show-files --show-settings -n --no-cache --isolated --preview --no-preview --respect-gitignore",
    "--no-respect-gitignore --force-exclude --no-force-exclude -e --exit-zero --exit-non-zero-on-fix --exit-non-zero-on-format",
    "--statistics --check -q --quiet -s --silent -v --verbose -h --help -V --version",
  ),
};

const RUFF_WHOLE: readonly WholeOption[] = [
  { names: ["-o", "--output-file"], why: "writes one report, which each atom would overwrite" },
  { names: ["-w", "--watch"], why: "watches files and reruns" },
  { names: ["--stdin-filename"], why: "reads standard input" },
  { names: ["--show-settings", "--range", "-h", "--help", "-V", "--version"], why: "is not a check of every file" },
];

const RUFF_DEFAULT_EXCLUDE = [".bzr", ".direnv", ".eggs", ".git", ".git-rewrite", ".hg", ".ipynb_checkpoints", ".mypy_cache", ".nox", ".pants.d", ".pyenv", ".pytest_cache", ".pytype", ".ruff_cache", ".svn", ".tox", ".venv", ".vscode", "__pypackages__", "_build", "buck-out", "build", "dist", "node_modules", "site-packages", "venv"];
const RUFF_DEFAULT_INCLUDE = ["*.py", "*.pyi", "*.ipynb", "**/pyproject.toml"];

/** Ruff's settings table: --config FILE, else the nearest ruff.toml / .ruff.toml / pyproject.toml with [tool.ruff]. */
function _ruffSettings(context: SplitContext, scanned: Scanned): { table: Record<string, unknown>; dir: string } | undefined {
  if (findOption(scanned, ["--isolated"])) return undefined;
  const explicit = optionValues(scanned, ["--config"]).find((v) => !v.includes("=") || v.endsWith(".toml"));
  if (explicit !== undefined) {
    const file = resolve(context.cwd, explicit);
    const doc = readToml(file);
    const table = basename(file) === "pyproject.toml" ? tomlTable(doc, "tool.ruff") : doc;
    return table ? { table, dir: dirname(file) } : undefined;
  }
  for (const dir of ancestors(context.cwd)) {
    for (const name of ["ruff.toml", ".ruff.toml"]) {
      const doc = readToml(join(dir, name));
      if (doc) return { table: doc, dir };
    }
    const table = tomlTable(readToml(join(dir, "pyproject.toml")), "tool.ruff");
    if (table) return { table, dir };
  }
  return undefined;
}

/** A ruff/black-style path pattern: with a "/" it is anchored at base; without, it matches any component. */
function _pathMatcher(pattern: string, base: string): (absolute: string, name: string) => boolean {
  if (pattern.includes("/")) {
    const regex = new RegExp(`^${globToRegexSource(relPath(base, resolve(base, pattern)))}$`);
    return (absolute) => regex.test(relative(base, absolute).split(sep).join("/"));
  }
  const regex = new RegExp(`^${globToRegexSource(pattern)}$`);
  return (_absolute, name) => regex.test(name);
}

function _selectRuff(found: string[], context: SplitContext, scanned: Scanned): string[] {
  const settings = _ruffSettings(context, scanned);
  const base = settings?.dir ?? context.cwd;
  const table = settings?.table ?? {};
  const cliExclude = optionValues(scanned, ["--exclude"]).flatMap((v) => splitList(v));
  const exclude = [
    ...(cliExclude.length > 0 ? cliExclude : (table.exclude !== undefined ? tomlList(table.exclude) : RUFF_DEFAULT_EXCLUDE)),
    ...tomlList(table["extend-exclude"]),
    ...optionValues(scanned, ["--extend-exclude"]).flatMap((v) => splitList(v)),
  ].map((p) => _pathMatcher(p, base));
  const include = [...(table.include !== undefined ? tomlList(table.include) : RUFF_DEFAULT_INCLUDE), ...tomlList(table["extend-include"])]
    .map((p) => _pathMatcher(p.replace(/^\*\*\//, ""), base));
  return found.filter((file) => {
    const parts = file.split("/");
    for (let i = 0; i < parts.length; i++) {
      const absolute = resolve(context.cwd, parts.slice(0, i + 1).join("/"));
      if (exclude.some((m) => m(absolute, parts[i] as string))) return false;
    }
    return include.some((m) => m(resolve(context.cwd, file), basename(file)));
  });
}

// ---------------------------------------------------------------------------------------------
// black

const BLACK_OPTIONS: OptionSpec = {
  value: words("--code --config --exclude --extend-exclude --force-exclude --include --line-length --python-cell-magics --required-version --stdin-filename --target-version --workers -W -c -l -t --line-ranges --enable-unstable-feature"),
  flag: words("--check --color --diff --experimental-string-processing --fast --ipynb --no-color --preview --pyi --quiet --safe --skip-magic-trailing-comma --skip-source-first-line --skip-string-normalization --verbose --version --unstable --no-cache -C -S -q -v -x -h --help"),
};

const BLACK_WHOLE: readonly WholeOption[] = [
  { names: ["-c", "--code"], why: "formats code given on the command line" },
  { names: ["--stdin-filename"], why: "reads standard input" },
  { names: ["--line-ranges"], why: "names lines of one file" },
  { names: ["--version", "-h", "--help"], why: "formats nothing" },
];

const BLACK_DEFAULT_EXCLUDE = String.raw`/(\.direnv|\.eggs|\.git|\.hg|\.ipynb_checkpoints|\.mypy_cache|\.nox|\.pytest_cache|\.ruff_cache|\.tox|\.svn|\.venv|\.vscode|__pypackages__|_build|buck-out|build|dist|venv)/`;

function _selectBlack(found: string[], context: SplitContext, scanned: Scanned): string[] | string {
  // black's project root: the nearest directory with .git, .hg or pyproject.toml
  const marker = findUp(context.cwd, [".git", ".hg", "pyproject.toml"]);
  const root = marker ? dirname(marker) : "/";
  const explicit = findOption(scanned, ["--config"])?.value;
  const configFile = explicit !== undefined ? resolve(context.cwd, explicit) : join(root, "pyproject.toml");
  const doc = readToml(configFile);
  const table = (explicit !== undefined && basename(configFile) !== "pyproject.toml" ? tomlTable(doc, "tool.black") ?? doc : tomlTable(doc, "tool.black")) ?? {};
  const pick = (flag: string, key: string) => findOption(scanned, [flag])?.value ?? (typeof table[key] === "string" ? (table[key] as string) : undefined);
  const patterns = {
    include: pick("--include", "include") ?? (findOption(scanned, ["--ipynb"]) ? String.raw`(\.pyi?|\.ipynb)$` : String.raw`\.pyi?$`),
    exclude: pick("--exclude", "exclude") ?? BLACK_DEFAULT_EXCLUDE,
    extend: pick("--extend-exclude", "extend-exclude"),
    force: pick("--force-exclude", "force-exclude"),
  };
  const regex: Record<string, RegExp | undefined> = {};
  for (const [key, pattern] of Object.entries(patterns)) {
    if (pattern === undefined) continue;
    regex[key] = pythonRegex(pattern);
    if (!regex[key]) return `cannot read the ${key} pattern ${JSON.stringify(pattern)}`;
  }
  return found.filter((file) => {
    const absolute = resolve(context.cwd, file);
    const rel = `/${relative(root, absolute).split(sep).join("/")}`;
    const parts = rel.split("/").slice(1);
    for (let i = 0; i < parts.length; i++) {
      const sub = `/${parts.slice(0, i + 1).join("/")}${i < parts.length - 1 ? "/" : ""}`;
      if ([regex.exclude, regex.extend, regex.force].some((r) => r?.test(sub))) return false;
    }
    return regex.include!.test(rel);
  });
}

// ---------------------------------------------------------------------------------------------
// isort

const ISORT_OPTIONS: OptionSpec = {
  value: words(
    "--add-import --blocked-extension --builtin --conda-env --ext --extension --extra-builtin --ff --fgw --force-grid-wrap --formatter",
    "--from-first --future --indent --known-local-folder --lai --lbt --le --line-ending --line-length --line-width --lines-after-imports",
    "--lines-between-types --multi-line --nlb --no-lines-before --nsl --profile --project --py --python-version --remove-import --rm",
    "--sd --section-default --settings --settings-file --settings-path --sg --single-line-exclusions --skip --skip-glob --sp --src",
    "--src-path --supported-extension --thirdparty --top --treat-comment-as-code --virtual-env --wl --wrap-length --extend-skip",
    "--extend-skip-glob -a -b -f -i -l -m -o -p -s -t -w",
  ),
  optional: words("-j --jobs"),
  flag: words(
    "--ac --af --append --append-only --apply --atomic --balanced --ca --case-sensitive --check --check-only --color --combine-as",
    "--combine-star --cs --dedup-headings --df --diff --dont-order-by-type --dont-skip --ds --dt --ensure-newline-before-comments",
    "--fas --fass --filter-files --float-to-top --force-adds --force-alphabetical-sort --force-alphabetical-sort-within-sections",
    "--force-single-line-imports --force-sort-within-sections --fss --gitignore --help --honor-noqa --ignore-whitespace --interactive",
    "--keep-direct-and-as --length-sort --length-sort-straight --ls --lss --magic-placement --nis --no-inline-sort --no-sections",
    "--old-finders --om --only-modified --only-sections --order-by-type --os --ot --quiet --recursive --remove-redundant-aliases",
    "--reverse-relative --rr --show-config --show-files --skip-gitignore --sl --stdout --tc --trailing-comma --treat-all-comment-as-code",
    "--up --use-parentheses --verbose --version --version-number --vn --ws -V -c -d -e -h -k -n -ns -q -rc -v",
  ),
};

const ISORT_WHOLE: readonly WholeOption[] = [
  { names: ["--show-config", "--show-files", "--version", "-V", "--version-number", "--vn", "-h", "--help"], why: "sorts nothing" },
  { names: ["--dont-skip", "-ns"], why: "changes which files isort skips" },
  { names: ["--interactive"], why: "asks questions" },
];

const ISORT_DEFAULT_SKIP = [".bzr", ".direnv", ".eggs", ".git", ".hg", ".mypy_cache", ".nox", ".pants.d", ".svn", ".tox", ".venv", "__pypackages__", "_build", "buck-out", "build", "dist", "node_modules", "venv"];

/** isort's settings: --settings-path/-file, else .isort.cfg, pyproject [tool.isort], setup.cfg, tox.ini, cwd upwards. */
function _isortSettings(context: SplitContext, scanned: Scanned): Map<string, string[]> | undefined {
  const read = (file: string): Map<string, string[]> | undefined => {
    if (file.endsWith(".toml")) {
      const table = tomlTable(readToml(file), "tool.isort");
      if (!table) return undefined;
      return new Map(Object.entries(table).map(([k, v]) => [k.replace(/-/g, "_"), tomlList(v).length > 0 ? tomlList(v) : [String(v)]]));
    }
    const ini = readIni(file);
    const section = ini?.get(file.endsWith(".isort.cfg") ? "settings" : "isort") ?? ini?.get("isort") ?? ini?.get("tool:isort");
    if (!section) return undefined;
    return new Map([...section].map(([k, v]) => [k.replace(/-/g, "_"), splitList(v)]));
  };
  const explicit = findOption(scanned, ["--settings-path", "--settings-file", "--settings", "--sp"])?.value;
  if (explicit !== undefined) {
    const path = resolve(context.cwd, explicit);
    const files = pathKind(context.cwd, path) === "dir" ? [".isort.cfg", "pyproject.toml", "setup.cfg", "tox.ini"].map((n) => join(path, n)) : [path];
    for (const file of files) {
      const settings = read(file);
      if (settings) return settings;
    }
    return undefined;
  }
  for (const dir of ancestors(context.cwd)) {
    for (const name of [".isort.cfg", "pyproject.toml", "setup.cfg", "tox.ini"]) {
      const settings = read(join(dir, name));
      if (settings) return settings;
    }
  }
  return undefined;
}

function _selectIsort(found: string[], context: SplitContext, scanned: Scanned): string[] {
  const settings = _isortSettings(context, scanned);
  const cliSkip = optionValues(scanned, ["--skip", "-s"]);
  const skip = new Set([
    ...(cliSkip.length > 0 ? cliSkip : (settings?.get("skip") ?? ISORT_DEFAULT_SKIP)),
    ...(settings?.get("extend_skip") ?? []),
    ...optionValues(scanned, ["--extend-skip"]),
  ]);
  const skipGlobs = [...(settings?.get("skip_glob") ?? []), ...(settings?.get("extend_skip_glob") ?? []), ...optionValues(scanned, ["--skip-glob", "--sg", "--extend-skip-glob"])].map(fnmatchRegex);
  const extensions = new Set([
    ...(settings?.get("supported_extensions") ?? ["py", "pyi", "pyx", "pxd"]),
    ...optionValues(scanned, ["--ext", "--extension", "--supported-extension"]),
  ].map((e) => e.replace(/^\./, "")));
  return found.filter((file) => {
    const parts = file.split("/");
    if (parts.some((part) => skip.has(part))) return false;
    if (skipGlobs.some((regex) => parts.some((_, i) => regex.test(parts.slice(0, i + 1).join("/")) || regex.test(parts[i] as string)))) return false;
    return extensions.has(file.slice(file.lastIndexOf(".") + 1));
  });
}

// ---------------------------------------------------------------------------------------------

export const PYTHON_RULES: readonly ToolRule[] = [
  { name: "pytest", aliases: ["py.test"], ecosystem: "python", pythonModule: true, rule: "per test file (or per test: atomifyPytest = test), from pytest's own collection", split: splitPytest },
  {
    name: "mypy", ecosystem: "python", pythonModule: true, rule: "per file (.py/.pyi; mypy's exclude honoured)",
    split: (command, context) => splitPerFile(command, context, { options: MYPY_OPTIONS, whole: MYPY_WHOLE, directories: true, select: _selectMypy }),
  },
  {
    name: "ruff", ecosystem: "python", rule: "per file, for ruff check / ruff format (ruff's include/exclude honoured)",
    split: (command, context) => splitPerFile(command, context, { options: RUFF_OPTIONS, whole: RUFF_WHOLE, subcommands: words("check format"), directories: true, select: _selectRuff }),
  },
  {
    name: "flake8", ecosystem: "python", pythonModule: true, rule: "per file (flake8's exclude and filename honoured)",
    split: (command, context) => splitPerFile(command, context, { options: FLAKE8_OPTIONS, whole: FLAKE8_WHOLE, directories: true, select: _selectFlake8 }),
  },
  {
    name: "black", ecosystem: "python", pythonModule: true, rule: "per file (black's include/exclude honoured)",
    split: (command, context) => splitPerFile(command, context, { options: BLACK_OPTIONS, whole: BLACK_WHOLE, directories: true, select: _selectBlack }),
  },
  {
    name: "isort", ecosystem: "python", pythonModule: true, rule: "per file (isort's skip / skip_glob honoured)",
    split: (command, context) => splitPerFile(command, context, { options: ISORT_OPTIONS, whole: ISORT_WHOLE, directories: true, select: _selectIsort }),
  },
];
