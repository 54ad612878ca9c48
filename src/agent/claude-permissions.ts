// Keeping the hook from widening what Claude Code runs without asking. Claude Code matches its
// permission rules against the command the hook hands back (docs/agents.md cites where), so a deny
// or ask rule written for the original no longer sees it, and an allow rule may match the wrapped
// form that did not match the original. This module reads the rules Claude Code reads and says,
// for one rewrite, whether to leave the command alone, to wrap it but have the user asked, or to
// wrap it and let Claude Code's own flow decide. Every matcher here over-approximates: when in
// doubt a rule counts as matching, which only ever means "leave it alone" or "ask".
import { readdirSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { parseStat } from "../core/proc/parse.ts";
import { shellCommands } from "../shell.ts";

export type RuleKind = "allow" | "ask" | "deny";

export interface PermissionRule {
  kind: RuleKind;
  /** as written, e.g. `Bash(rm -rf *)` */
  text: string;
  /** the settings file it is in, or the Claude Code flag */
  source: string;
}

export interface ClaudeRules {
  rules: PermissionRule[];
  /** why the rules cannot be known (an unreadable settings file, rules on the command line); then sep leaves commands alone */
  unknown?: string;
  /** why an allow rule sep cannot see may exist (`--allowedTools`); then sep asks */
  hiddenAllow?: string;
}

export type GuardDecision =
  | { kind: "leave"; why: string }
  | { kind: "ask"; why: string }
  | { kind: "pass" };

export interface RuleSources {
  /** the hook input's cwd */
  cwd: string;
  env: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  /** the pid whose ancestors are searched for Claude Code and its flags; default process.ppid */
  parentPid?: number;
}

/**
 * Every settings file Claude Code may take permission rules from, read now: managed settings,
 * the user's, and the project's shared and local files, in $CLAUDE_PROJECT_DIR and in the cwd and
 * each directory above it (more files than Claude Code reads can only add rules, which is safe
 * here), plus rules given to Claude Code on its command line.
 */
export function loadClaudeRules(sources: RuleSources): ClaudeRules {
  const out: ClaudeRules = { rules: [] };
  for (const file of _settingsFiles(sources)) {
    const problem = _readRules(file, out.rules);
    if (problem) {
      out.unknown = problem;
      return out;
    }
  }
  const flags = _claudeFlags(sources.parentPid ?? process.ppid, sources.platform ?? process.platform);
  if (flags.unknown) out.unknown = flags.unknown;
  if (flags.hiddenAllow) out.hiddenAllow = flags.hiddenAllow;
  return out;
}

/**
 * For wrapping `original` as `wrapped` (whose program words are `program`): leave it alone when
 * a deny rule may match the original (Claude Code would no longer see it) or the rules cannot be
 * known; ask when an ask rule may match the original, or an allow rule may match the wrapped
 * command, or allow rules sep cannot see may exist; else pass (Claude Code's own flow decides,
 * and no visible allow rule makes the wrapped command run where the original would have asked).
 */
export function guardRewrite(original: string, wrapped: string, program: readonly string[], rules: ClaudeRules): GuardDecision {
  if (rules.unknown) return { kind: "leave", why: rules.unknown };
  const bash = rules.rules.map((rule) => ({ rule, matcher: _bashMatcher(rule.text) })).filter((entry) => entry.matcher !== undefined);
  const pieces = _originalPieces(original).map(_normalize);
  const deny = bash.find(({ rule, matcher }) => rule.kind === "deny" && pieces.some((piece) => matcher!.anyWord(piece)));
  if (deny) return { kind: "leave", why: `the deny rule ${deny.rule.text} (${deny.rule.source}) may match it` };
  const ask = bash.find(({ rule, matcher }) => rule.kind === "ask" && pieces.some((piece) => matcher!.anyWord(piece)));
  if (ask) return { kind: "ask", why: `the ask rule ${ask.rule.text} (${ask.rule.source}) names the original command` };
  const forms = _wrappedForms(original, wrapped, program).map(_normalize);
  const allow = bash.find(({ rule, matcher }) => rule.kind === "allow" && !matcher!.all && forms.some((form) => matcher!.atStart(form)));
  if (allow) return { kind: "ask", why: `the allow rule ${allow.rule.text} (${allow.rule.source}) may match the wrapped command` };
  if (rules.hiddenAllow) return { kind: "ask", why: rules.hiddenAllow };
  return { kind: "pass" };
}

// ---------------------------------------------------------------------------------------------
// Settings files

function _settingsFiles(sources: RuleSources): string[] {
  const { env } = sources;
  const platform = sources.platform ?? process.platform;
  const files: string[] = [];
  const managed = platform === "darwin" ? "/Library/Application Support/ClaudeCode" : platform === "linux" ? "/etc/claude-code" : undefined;
  if (managed) {
    files.push(join(managed, "managed-settings.json"));
    try {
      const dropIns = join(managed, "managed-settings.d");
      files.push(...readdirSync(dropIns).filter((name) => name.endsWith(".json")).sort().map((name) => join(dropIns, name)));
    } catch {
      // no drop-in directory
    }
  }
  const userDir = env.CLAUDE_CONFIG_DIR || join(env.HOME || homedir(), ".claude");
  files.push(join(userDir, "settings.json"), join(userDir, "settings.local.json"));
  const projects = new Set<string>();
  if (env.CLAUDE_PROJECT_DIR) projects.add(resolve(env.CLAUDE_PROJECT_DIR));
  for (let dir = resolve(sources.cwd); ; dir = dirname(dir)) {
    projects.add(dir);
    if (dirname(dir) === dir) break;
  }
  for (const dir of projects) files.push(join(dir, ".claude", "settings.json"), join(dir, ".claude", "settings.local.json"));
  return [...new Set(files)];
}

/** Add a file's permissions.{allow,ask,deny} to rules; a problem (unreadable, malformed) as text. */
function _readRules(file: string, rules: PermissionRule[]): string | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    return `${file} cannot be read (${code ?? String(error)}), so its permission rules are unknown`;
  }
  let settings: unknown;
  try {
    settings = JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch {
    return `${file} is not valid JSON, so its permission rules are unknown`;
  }
  if (!_isObject(settings)) return `${file} does not hold a JSON object, so its permission rules are unknown`;
  const permissions = settings.permissions;
  if (permissions === undefined) return undefined;
  if (!_isObject(permissions)) return `permissions in ${file} is not an object, so its rules are unknown`;
  for (const kind of ["allow", "ask", "deny"] as const) {
    const list = permissions[kind];
    if (list === undefined) continue;
    if (!Array.isArray(list) || !list.every((rule) => typeof rule === "string")) {
      return `permissions.${kind} in ${file} is not a list of rules, so its rules are unknown`;
    }
    for (const rule of list as string[]) rules.push({ kind, text: rule, source: file });
  }
  return undefined;
}

function _isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

// ---------------------------------------------------------------------------------------------
// Claude Code's command line

/** Flags of Claude Code that carry permission rules sep cannot read from any file. */
const _RULE_FLAGS = new Set(["--disallowedTools", "--disallowed-tools", "--settings"]);
const _ALLOW_FLAGS = new Set(["--allowedTools", "--allowed-tools"]);

/**
 * Whether an ancestor process that looks like Claude Code (`claude`, or node running claude-code's
 * cli.js) was started with rules on its command line: deny rules or a settings file (unknown) or
 * allow rules (hidden). Every ancestor up to eight levels is looked at, so a look-alike does not
 * hide the real one. None among the ancestors (sep run by hand, a test) adds none.
 */
function _claudeFlags(startPid: number, platform: NodeJS.Platform): { unknown?: string; hiddenAllow?: string } {
  let hiddenAllow: string | undefined;
  let pid = startPid;
  for (let depth = 0; depth < 8 && pid > 1; depth++) {
    const info = _processInfo(pid, platform);
    if (!info) break;
    if (info.argv.slice(0, 3).some((word) => /(^|\/)claude$|claude-code|claude-agent-sdk/.test(word))) {
      const flag = (set: Set<string>) => info.argv.find((word) => set.has(word.split("=")[0]!))?.split("=")[0];
      const rules = flag(_RULE_FLAGS);
      if (rules) return { unknown: `Claude Code (pid ${pid}) was started with ${rules}, whose rules sep cannot check` };
      const allow = flag(_ALLOW_FLAGS);
      if (allow) hiddenAllow ??= `Claude Code (pid ${pid}) was started with ${allow}, whose rules may match the wrapped command`;
    }
    pid = info.ppid;
  }
  return hiddenAllow ? { hiddenAllow } : {};
}

/** A process's parent and argv: from /proc on Linux, from ps(1) elsewhere (argv split at spaces). */
function _processInfo(pid: number, platform: NodeJS.Platform): { ppid: number; argv: string[] } | undefined {
  if (platform === "linux") {
    try {
      const stat = parseStat(readFileSync(`/proc/${pid}/stat`, "latin1"));
      const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
      return stat ? { ppid: stat.ppid, argv } : undefined;
    } catch {
      return undefined;
    }
  }
  const ps = Bun.spawnSync(["ps", "-ww", "-o", "ppid=", "-o", "args=", "-p", String(pid)], { stdin: "ignore", stderr: "ignore" });
  const match = /^\s*(\d+)\s+(.*)$/s.exec(ps.stdout.toString().trim());
  return ps.exitCode === 0 && match ? { ppid: Number(match[1]), argv: match[2]!.split(/\s+/) } : undefined;
}

// ---------------------------------------------------------------------------------------------
// Matching, always erring towards "matches"

/** Both tests take text already passed through _normalize. */
interface _Matcher {
  /** the rule matches every Bash command (`Bash`, `Bash(*)`) */
  all: boolean;
  /** may match the text read from its start */
  atStart(text: string): boolean;
  /** may match the text read from any of its words (Claude Code strips assignments and wrappers) */
  anyWord(text: string): boolean;
}

/**
 * A Bash rule as a prefix test: quotes and backslashes dropped and blanks squeezed on both sides,
 * `:*` read as `*`, `*` as any text, and no end anchor, so exact rules and word boundaries match
 * more than Claude Code would let them. undefined for rules of other tools; a rule that names Bash
 * in a shape sep does not know may match anything.
 */
function _bashMatcher(rule: string): _Matcher | undefined {
  const whole = /^\s*Bash\s*(?:\(([\s\S]*)\))?\s*$/.exec(rule);
  if (!whole) return /^\s*Bash\b/.test(rule) ? _anything : undefined;
  let content = _normalize(whole[1] ?? "");
  if (content.endsWith(":*")) content = `${content.slice(0, -2)}*`;
  // The blank before a * is optional: `Bash(ls *)` is taken to match `ls` too.
  content = content.replace(/ ?\* ?/g, "*");
  if (/^\**$/.test(content)) return _everything;
  const parts = content.split("*");
  const literal = parts[0]!;
  const sticky = new RegExp(parts.map(_escape).join("[\\s\\S]*"), "y");
  const at = (text: string, index: number) => {
    if (!text.startsWith(literal, index)) return false;
    sticky.lastIndex = index;
    return sticky.test(text);
  };
  return {
    all: false,
    atStart: (text) => at(text, 0),
    anyWord: (text) => {
      // A leading * already reaches every later position.
      if (literal === "") return at(text, 0);
      for (let i = 0; ; ) {
        if (at(text, i)) return true;
        const space = text.indexOf(" ", i);
        if (space < 0) return false;
        i = space + 1;
      }
    },
  };
}

const _everything: _Matcher = { all: true, atStart: () => true, anyWord: () => true };
/** A Bash rule in a shape sep does not know: it may match anything, but it is not known to match everything. */
const _anything: _Matcher = { all: false, atStart: () => true, anyWord: () => true };

function _normalize(text: string): string {
  return text.replace(/['"\\]/g, "").replace(/\s+/g, " ").trim();
}

function _escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

/**
 * The parts of the original a deny or ask rule might be matched against: the whole text; the
 * text cut at every operator character, quoted or not; and each simple command the lexer finds.
 */
function _originalPieces(original: string): string[] {
  const pieces = new Set<string>([original]);
  for (const piece of original.split(/&&|\|\||[;|&\n()`{}]/)) if (piece.trim()) pieces.add(piece);
  for (const command of shellCommands(original)) pieces.add(command.words.join(" "));
  return [...pieces];
}

/** The forms an allow rule might be matched against for the wrapped command. */
function _wrappedForms(original: string, wrapped: string, program: readonly string[]): string[] {
  const rest = wrapped.slice(wrapped.indexOf(" --name "));
  return [wrapped, `sep${rest}`, ...program.map((word) => `${word}${rest}`), `bash -c ${original}`];
}
