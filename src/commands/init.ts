// `sep init [--ci] [--force]`: set a project up: state dirs, .env.development, and ignore entries
// (.gitignore; with --ci, .git/info/exclude, so a CI checkout's tracked files stay unchanged).
import { chmodSync, lstatSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { defineCommand } from "citty";
import { CONFIG_KEYS } from "../config.ts";
import { DOTENV_FILE, findProjectRoot } from "../core/paths.ts";
import { ensurePrivateDir, fsFailure, pathExists, writeFileAtomic } from "../core/store.ts";
import { logger } from "../logger.ts";
import { writeStdout } from "../output.ts";

export const GITIGNORE_HEADER = "# sep (Sequential Execution Pipeline)";
export const GITIGNORE_ENTRIES = ["logs/", ".sequential-locks/", ".sep.log.lock"] as const;
const STATE_DIRS = ["logs", ".sequential-locks"] as const;

/** The values `sep init` writes, as text, in the seed's spelling (DESIGN §4 defaults). */
const DOTENV_VALUES: Record<string, string> = {
  MEMORY_LIMIT_MB: "2048",
  CHECK_INTERVAL: "0.25",
  TIMEOUT: "86400",
  PIPELINE_TIMEOUT: "86400",
  KILL_TIMEOUT: "5",
  VERBOSE: "0",
  SEQUENTIAL_LOCK_BASE_DIR: '"./.sequential-locks"',
  WAIT_ALL_LOG_LOCK: '"./.sep.log.lock"',
  SEP_LOG_DIR: "./logs",
  PYTEST_MAX_WORKERS: "1",
};

/** CI runners are slow and shared: say more, and fail a stuck job in 30 min, a stuck queue in 2 h. */
const CI_VALUES: Record<string, string> = { VERBOSE: "1", TIMEOUT: "1800", PIPELINE_TIMEOUT: "7200" };

/**
 * The on-finish example `sep init` prints (and leaves commented out in .env.development): a desktop
 * notification per run. The run's title reaches notify-send as a variable's value, never as shell
 * text, so quotes or `$(…)` in a command's argv stay words.
 */
export const NOTIFY_SEND_EXAMPLE = `SEP_ON_FINISH='notify-send "sep: $SEP_RUN_CONCLUSION (exit $SEP_RUN_EXIT_CODE)" "$SEP_RUN_TITLE"'`;

/** The `.env.development` that `sep init` writes: one comment line per key, then the key. */
export function renderDotenv(ci: boolean): string {
  const lines = [
    "# sep (Sequential Execution Pipeline) settings; `sep config` shows what is in effect.",
    "# A variable already set in the environment wins over this file.",
  ];
  for (const [name, value] of Object.entries(DOTENV_VALUES)) {
    const info = CONFIG_KEYS.find((candidate) => candidate.env === name);
    lines.push(`# ${info?.description ?? name}`, `${name}=${(ci && CI_VALUES[name]) || value}`);
  }
  if (!ci) lines.push("# To be told when a run ends (a desktop notification), uncomment:", `# ${NOTIFY_SEND_EXAMPLE}`);
  return `${lines.join("\n")}\n`;
}

/** `/logs/`, `logs` and `logs/` all ignore the logs directory: compare entries without slashes. */
function _normalizeEntry(line: string): string {
  return line.trim().replace(/^\//, "").replace(/\/$/, "");
}

/**
 * Add sep's entries to .gitignore text, under one header. Entries already present anywhere are
 * not repeated; when the header exists, missing entries go right under it. Idempotent.
 */
export function mergeGitignore(existing: string | undefined, entries: readonly string[] = GITIGNORE_ENTRIES): { text: string; added: string[] } {
  const text = existing ?? "";
  const eol = text.includes("\r\n") ? "\r\n" : "\n";
  const lines = text === "" ? [] : text.split(/\r?\n/);
  const present = new Set(lines.filter((l) => !/^\s*[#!]/.test(l)).map(_normalizeEntry));
  const missing = entries.filter((entry) => !present.has(_normalizeEntry(entry)));
  if (missing.length === 0) return { text, added: [] };

  const header = lines.findIndex((line) => line.trim() === GITIGNORE_HEADER);
  if (header >= 0) {
    lines.splice(header + 1, 0, ...missing);
    return { text: lines.join(eol), added: missing };
  }
  let out = text;
  if (out !== "" && !out.endsWith("\n")) out += eol;
  if (out !== "") out += eol;
  return { text: out + [GITIGNORE_HEADER, ...missing].join(eol) + eol, added: missing };
}

export interface InitStep {
  path: string;
  action: "created" | "exists" | "overwritten" | "updated" | "unchanged";
  detail?: string;
}

export interface InitResult {
  root: string;
  steps: InitStep[];
  /** --ci was asked but .env.development was kept, so the CI values are not in it */
  ciValuesSkipped: boolean;
}

/**
 * Set up root for sep. Never overwrites .env.development unless force. With ci, sep's files are
 * ignored through .git/info/exclude instead of .gitignore: a CI job must not change tracked files
 * (a later `git diff --exit-code` or a release step would see a dirty checkout). Everything is read
 * before anything is written, so a file sep cannot read stops it with nothing changed; a failure
 * is a SepError naming the file and the errno.
 */
export function initProject(options: { root: string; ci?: boolean; force?: boolean }): InitResult {
  const { root, ci = false, force = false } = options;
  const dirs = STATE_DIRS.map((name) => join(root, name)).map((path) => ({ path, existed: pathExists(path) }));
  const dotenvPath = join(root, DOTENV_FILE);
  const dotenvExisted = pathExists(dotenvPath);
  const keepDotenv = dotenvExisted && !force;
  // A second `init --ci` finds the file the first one wrote: nothing was skipped then.
  const ciValuesSkipped = keepDotenv && ci && _readText(dotenvPath) !== renderDotenv(true);
  const ignore = ci ? _localIgnoreFile(root) : { path: join(root, ".gitignore"), entries: GITIGNORE_ENTRIES };
  const ignoreText = "entries" in ignore ? _readProjectFile(ignore.path) : undefined;

  const steps: InitStep[] = [];
  for (const { path, existed } of dirs) {
    ensurePrivateDir(path); // mode 0700; refuses a symlink or another user's dir
    steps.push({ path, action: existed ? "exists" : "created" });
  }
  if (keepDotenv) {
    steps.push({ path: dotenvPath, action: "exists", detail: "left alone; --force overwrites it" });
  } else {
    _writeProjectFile(dotenvPath, renderDotenv(ci));
    steps.push({ path: dotenvPath, action: dotenvExisted ? "overwritten" : "created" });
  }
  steps.push("entries" in ignore ? _addIgnoreEntries(ignore.path, ignoreText, ignore.entries) : ignore);
  return { root, steps, ciValuesSkipped };
}

function _addIgnoreEntries(path: string, existing: string | undefined, entries: readonly string[]): InitStep {
  const merged = mergeGitignore(existing, entries);
  if (merged.added.length === 0) return { path, action: "unchanged", detail: "already ignores sep's files" };
  const dir = dirname(path);
  try {
    mkdirSync(dir, { recursive: true }); // .git/info may be missing in a fresh clone
  } catch (error) {
    throw fsFailure("E_PROJECT_FILE", "create", dir, error);
  }
  _writeProjectFile(path, merged.text);
  return { path, action: existing === undefined ? "created" : "updated", detail: `added ${merged.added.join(", ")}` };
}

/**
 * CI: where to ignore sep's files (and the .env.development init wrote) in this clone only, or the
 * step that says there is no clone to ignore them in.
 */
function _localIgnoreFile(root: string): { path: string; entries: readonly string[] } | InitStep {
  const gitDir = join(root, ".git");
  const path = join(gitDir, "info", "exclude");
  let isGitDir = false;
  try {
    isGitDir = lstatSync(gitDir).isDirectory();
  } catch {
    // not a git checkout
  }
  if (!isGitDir) return { path, action: "unchanged", detail: "no .git directory here; nothing to ignore in" };
  return { path, entries: [...GITIGNORE_ENTRIES, DOTENV_FILE] };
}

/** A project file's text; undefined when there is none. Any other failure names the file. */
function _readProjectFile(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw fsFailure("E_PROJECT_FILE", "read", path, error);
  }
}

function _readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/**
 * Atomic write of a file that belongs to the project, not to sep's private state: it keeps the
 * mode an existing file had (writeFileAtomic creates 0600), and a new one is 0644 like any checkout.
 */
function _writeProjectFile(path: string, text: string): void {
  let mode = 0o644;
  try {
    mode = statSync(path).mode & 0o7777;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw fsFailure("E_PROJECT_FILE", "use", path, error);
  }
  writeFileAtomic(path, text, { errorCode: "E_PROJECT_FILE" });
  try {
    chmodSync(path, mode);
  } catch (error) {
    throw fsFailure("E_PROJECT_FILE", `set mode ${mode.toString(8)} on`, path, error);
  }
}


/**
 * Where CI downloads the installer: the latest release's install.sh (it installs the matching
 * binary after checking its SHA-256; SEP_VERSION=X.Y.Z pins a release). OWNER is the GitHub
 * account that publishes sep's releases.
 */
export const INSTALL_SCRIPT_URL = "https://github.com/OWNER/sep/releases/latest/download/install.sh";

/** A GitHub Actions workflow that installs sep and runs checks through it (printed by `init --ci`). */
export const GITHUB_WORKFLOW_SNIPPET = `# .github/workflows/checks.yml: heavy checks one at a time, inside sep's memory and time limits
name: checks
on: [push, pull_request]
jobs:
  checks:
    runs-on: ubuntu-latest
    env:
      # the environment wins over .env.development, so these apply even if that file is committed
      VERBOSE: "1"
      TIMEOUT: "1800"           # seconds per job
      PIPELINE_TIMEOUT: "7200"  # seconds for one \`sep queue start\`
    steps:
      - uses: actions/checkout@v4
      - name: Install sep
        # to ~/.local/bin, added to $GITHUB_PATH for the next steps; \`| SEP_VERSION=X.Y.Z sh\` pins a release
        run: curl -fsSL ${INSTALL_SCRIPT_URL} | sh
      - name: Set up sep
        # logs/, .sequential-locks/ and .env.development, ignored in .git/info/exclude
        run: sep init --ci
      - name: Check the workflows
        # fails on a job that queues commands but never starts the queue
        run: sep doctor
      - name: Checks
        # each command runs at once, in its turn, and fails the step with its own exit code
        run: |
          sep -- npm run lint
          sep -- npm test
      # Or queue them and run the queue: every \`sep queue add\` needs a \`sep queue start\`
      # later in the same job (each job is a fresh runner), or nothing runs:
      #   sep queue add -- npm run lint
      #   sep queue add -- npm test
      #   sep queue start
`;

export default defineCommand({
  meta: { name: "init", description: "Set a project up for sep: state dirs, .env.development, .gitignore" },
  args: {
    ci: { type: "boolean", description: "For a CI runner: write CI values (VERBOSE=1, TIMEOUT=1800, PIPELINE_TIMEOUT=7200), ignore sep's files in .git/info/exclude (tracked files stay unchanged), and print a GitHub Actions workflow" },
    force: { type: "boolean", description: "Overwrite an existing .env.development" },
  },
  async run({ args }) {
    const root = findProjectRoot(process.cwd());
    const result = initProject({ root, ci: Boolean(args.ci), force: Boolean(args.force) });
    logger.info(`project root: ${root}`);
    for (const step of result.steps) {
      const line = `${step.path}: ${step.action}${step.detail ? ` (${step.detail})` : ""}`;
      if (step.action === "created" || step.action === "overwritten" || step.action === "updated") logger.success(line);
      else logger.info(line);
    }
    if (result.ciValuesSkipped) {
      logger.warn(`${DOTENV_FILE} exists, so the CI values were not written: use --force, or set them in the workflow's env`);
    }
    if (args.ci) await writeStdout(GITHUB_WORKFLOW_SNIPPET);
    else logger.info(`to be told when a run ends, set SEP_ON_FINISH in ${DOTENV_FILE} or your shell's profile, e.g.: ${NOTIFY_SEND_EXAMPLE}`);
  },
});
