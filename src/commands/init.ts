// `sep init [--ci] [--force]`: set a project up: state dirs, .env.development, .gitignore entries.
import { chmodSync, existsSync, lstatSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { defineCommand } from "citty";
import { CONFIG_KEYS } from "../config.ts";
import { DOTENV_FILE, findProjectRoot } from "../core/paths.ts";
import { ensurePrivateDir, writeFileAtomic } from "../core/store.ts";
import { logger } from "../logger.ts";

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
export function mergeGitignore(existing: string | undefined): { text: string; added: string[] } {
  const text = existing ?? "";
  const eol = text.includes("\r\n") ? "\r\n" : "\n";
  const lines = text === "" ? [] : text.split(/\r?\n/);
  const present = new Set(lines.filter((l) => !/^\s*[#!]/.test(l)).map(_normalizeEntry));
  const missing = GITIGNORE_ENTRIES.filter((entry) => !present.has(_normalizeEntry(entry)));
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

/** Set up root for sep. Never overwrites .env.development unless force. */
export function initProject(options: { root: string; ci?: boolean; force?: boolean }): InitResult {
  const { root, ci = false, force = false } = options;
  const steps: InitStep[] = [];

  for (const name of STATE_DIRS) {
    const path = join(root, name);
    const existed = _exists(path);
    ensurePrivateDir(path); // mode 0700; refuses a symlink or another user's dir
    steps.push({ path, action: existed ? "exists" : "created" });
  }

  const dotenvPath = join(root, DOTENV_FILE);
  const dotenvExisted = _exists(dotenvPath);
  if (dotenvExisted && !force) {
    steps.push({ path: dotenvPath, action: "exists", detail: "left alone; --force overwrites it" });
  } else {
    _writeProjectFile(dotenvPath, renderDotenv(ci));
    steps.push({ path: dotenvPath, action: dotenvExisted ? "overwritten" : "created" });
  }

  const gitignorePath = join(root, ".gitignore");
  const existing = existsSync(gitignorePath) ? readFileSync(gitignorePath, "utf8") : undefined;
  const merged = mergeGitignore(existing);
  if (merged.added.length === 0) {
    steps.push({ path: gitignorePath, action: "unchanged", detail: "already ignores sep's files" });
  } else {
    _writeProjectFile(gitignorePath, merged.text);
    steps.push({
      path: gitignorePath,
      action: existing === undefined ? "created" : "updated",
      detail: `added ${merged.added.join(", ")}`,
    });
  }
  return { root, steps, ciValuesSkipped: ci && dotenvExisted && !force };
}

/**
 * Atomic write of a file that belongs to the project, not to sep's private state: it keeps the
 * mode an existing file had (writeFileAtomic creates 0600), and a new one is 0644 like any checkout.
 */
function _writeProjectFile(path: string, text: string): void {
  const mode = existsSync(path) ? statSync(path).mode & 0o7777 : 0o644;
  writeFileAtomic(path, text);
  chmodSync(path, mode);
}

/** lstat-based, so a dangling symlink counts as existing (ensurePrivateDir then refuses it). */
function _exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** A GitHub Actions job that installs sep and runs checks through it (printed by `init --ci`). */
export const GITHUB_WORKFLOW_SNIPPET = `# .github/workflows/checks.yml: run heavy checks one at a time, inside sep's limits
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
        # point this at the install.sh of the sep release you use
        run: curl -fsSL "$SEP_INSTALL_SH_URL" | sh
      - name: Set up sep
        run: sep init --ci
      - name: Checks
        run: |
          sep -- npm run lint
          sep -- npm test
      # Queueing instead? Every \`sep queue add\` needs a \`sep queue start\` in the same job,
      # or nothing runs (\`sep doctor\` finds workflows that forget it):
      #   sep queue add -- npm run lint
      #   sep queue add -- npm test
      #   sep queue start
`;

export default defineCommand({
  meta: { name: "init", description: "Set a project up for sep: state dirs, .env.development, .gitignore" },
  args: {
    ci: { type: "boolean", description: "Write CI values (VERBOSE=1, TIMEOUT=1800, PIPELINE_TIMEOUT=7200) and print a GitHub Actions job" },
    force: { type: "boolean", description: "Overwrite an existing .env.development" },
  },
  run({ args }) {
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
    if (args.ci) process.stdout.write(GITHUB_WORKFLOW_SNIPPET);
  },
});
