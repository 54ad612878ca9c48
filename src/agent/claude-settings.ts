// `sep agent install|uninstall claude`: sep's PreToolUse hook in a Claude Code settings file, put
// in and taken out as a text edit (json-edit.ts), so everything else in the file stays as it was.
// The hook sep adds is always a matcher group of its own, `{"matcher": "Bash", "hooks": [sep's]}`,
// appended to hooks.PreToolUse. Its command ends in a shell comment that names the containers sep
// had to create for it (`hooks`, `PreToolUse`, the file, `.claude/`), so that uninstall removes
// those when they are left empty, and only those, even from a copy of the file on another machine.
import { closeSync, constants, fchmodSync, lstatSync, mkdirSync, openSync, readFileSync, rmdirSync, statSync, unlinkSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { findProjectRoot } from "../core/paths.ts";
import { fsFailure, pathExists, writeFileAtomic } from "../core/store.ts";
import { ConfigError, SepError } from "../errors.ts";
import {
  appendItem, insertMember, type JsonArray, type JsonNode, type JsonObject, JsonSyntaxError, jsonValue, memberOf,
  parseJsonNodes, removeItem, removeMember, replaceNode,
} from "./json-edit.ts";
import { singleQuote } from "./sep-program.ts";

export type SettingsScope = "project" | "user";

/** Seconds Claude Code gives the hook before it cancels it and runs the call unwrapped. */
export const HOOK_TIMEOUT_SECONDS = 10;

/** What sep may have created for its hook; uninstall removes each, when empty, only if named here. */
type Created = "hooks" | "PreToolUse" | "settings.json" | ".claude/";
const CREATED_ORDER: readonly Created[] = [".claude/", "settings.json", "hooks", "PreToolUse"];

const MARK = "# added by sep agent install";
const SEP_HOOK = /^(.+?) agent hook claude(?: # added by sep agent install(?: \(created ([^)]*)\))?)?$/s;

/** `.claude/settings.json` in the project root (see findProjectRoot), or the user's (`~/.claude`, or $CLAUDE_CONFIG_DIR). */
export function claudeSettingsPath(scope: SettingsScope, cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  if (scope === "user") return join(env.CLAUDE_CONFIG_DIR || join(env.HOME || homedir(), ".claude"), "settings.json");
  return join(findProjectRoot(cwd), ".claude", "settings.json");
}

/** The hook's command: the sep program, single-quoted, then `agent hook claude` and sep's mark. */
export function hookCommand(program: readonly string[], created: readonly Created[] = []): string {
  const names = CREATED_ORDER.filter((name) => created.includes(name));
  return `${program.map(singleQuote).join(" ")} agent hook claude ${MARK}${names.length > 0 ? ` (created ${names.join(", ")})` : ""}`;
}

export interface InstallResult {
  path: string;
  /** added: a new hook; updated: sep's hook named another sep program, now this one; unchanged: already there */
  action: "added" | "updated" | "unchanged";
  command: string;
}

export interface UninstallResult {
  path: string;
  /** removed: sep's hook was taken out (the file too, when sep had created it and nothing else is left) */
  action: "removed" | "absent";
  fileRemoved: boolean;
  /** what else went with it because it was left empty and sep had created it */
  alsoRemoved: string[];
}

/**
 * Add sep's PreToolUse hook for the Bash tool to the settings file at path (creating the file,
 * and its directory, when missing). Installing twice leaves one hook; a sep hook that names another
 * sep program is pointed at this one. A malformed file is refused (exit 2) and left untouched.
 */
export function installClaudeHook(path: string, program: readonly string[], scope: SettingsScope): InstallResult {
  const programText = program.map(singleQuote).join(" ");
  const settings = _readSettings(path);
  if (!settings) {
    const dirCreated = _ensureDir(dirname(path));
    const command = hookCommand(program, dirCreated ? [".claude/", "settings.json"] : ["settings.json"]);
    _write(path, `${JSON.stringify({ hooks: { PreToolUse: [_group(command)] } }, null, 2)}\n`, undefined, scope);
    return { path, action: "added", command };
  }
  const { text, root } = settings;
  const existing = _sepHooks(root);
  if (existing.length > 0) {
    const first = existing[0]!;
    if (first.program === programText) return { path, action: "unchanged", command: first.command };
    const command = hookCommand(program, first.created);
    const next = replaceNode(text, first.commandNode, command);
    _check(path, next, _withCommand(jsonValue(root), first, command));
    _write(path, next, text, scope);
    return { path, action: "updated", command };
  }
  const hooks = memberOf(root, "hooks")?.value as JsonObject | undefined;
  const preToolUse = hooks ? (memberOf(hooks, "PreToolUse")?.value as JsonArray | undefined) : undefined;
  let next: string;
  let command: string;
  if (!hooks) {
    command = hookCommand(program, ["hooks", "PreToolUse"]);
    next = insertMember(text, root, "hooks", { PreToolUse: [_group(command)] });
  } else if (!preToolUse) {
    command = hookCommand(program, ["PreToolUse"]);
    next = insertMember(text, hooks, "PreToolUse", [_group(command)]);
  } else {
    command = hookCommand(program);
    next = appendItem(text, preToolUse, _group(command));
  }
  _check(path, next, _withGroup(jsonValue(root), _group(command)));
  _write(path, next, text, scope);
  return { path, action: "added", command };
}

/**
 * Take every sep hook out of the settings file at path, and nothing else: a matcher group that
 * held only sep's hook goes with it (sep always adds a group of its own), and so does a PreToolUse
 * list, hooks object, file or `.claude/` directory that is left empty, but only if sep's mark
 * says sep created it. A malformed file is refused (exit 2) and left untouched.
 */
export function uninstallClaudeHook(path: string, scope: SettingsScope): UninstallResult {
  const settings = _readSettings(path);
  const absent: UninstallResult = { path, action: "absent", fileRemoved: false, alsoRemoved: [] };
  if (!settings) return absent;
  const original = settings.text;
  const before = jsonValue(settings.root);
  let { text, root } = settings;
  const created = new Set<Created>();
  const alsoRemoved: string[] = [];
  let found = false;
  for (let hooks = _sepHooks(root); hooks.length > 0; hooks = _sepHooks(root)) {
    found = true;
    const hook = hooks[0]!;
    for (const name of hook.created) created.add(name);
    const groupHooks = memberOf(hook.group, "hooks")!.value as JsonArray;
    if (groupHooks.items.length > 1 || hook.group.members.some((member) => member.key !== "matcher" && member.key !== "hooks")) {
      text = removeItem(text, groupHooks, hook.hookIndex);
    } else {
      text = removeItem(text, hook.preToolUse, hook.groupIndex);
    }
    root = _parse(path, text).root;
  }
  if (!found) return absent;
  const createdAll = created.has("settings.json");
  const hooksMember = memberOf(root, "hooks");
  const hooks = hooksMember?.value as JsonObject | undefined;
  const preToolUse = hooks ? memberOf(hooks, "PreToolUse") : undefined;
  if (hooks && preToolUse && (preToolUse.value as JsonArray).items.length === 0 && (createdAll || created.has("PreToolUse"))) {
    text = removeMember(text, hooks, hooks.members.indexOf(preToolUse));
    alsoRemoved.push("the empty hooks.PreToolUse list");
    root = _parse(path, text).root;
  }
  const emptyHooks = memberOf(root, "hooks");
  if (emptyHooks && emptyHooks.value.kind === "object" && emptyHooks.value.members.length === 0 && (createdAll || created.has("hooks"))) {
    text = removeMember(text, root, root.members.indexOf(emptyHooks));
    alsoRemoved.push("the empty hooks object");
    root = _parse(path, text).root;
  }
  _check(path, text, _withoutSepHooks(before, created));
  if (createdAll && root.members.length === 0) {
    _unlinkUnchanged(path, original);
    const dir = dirname(path);
    const dirRemoved: string[] = [];
    if (created.has(".claude/")) {
      try {
        rmdirSync(dir);
        dirRemoved.push(`the empty directory ${dir}`);
      } catch {
        // not empty (or gone): it holds something else now
      }
    }
    return { path, action: "removed", fileRemoved: true, alsoRemoved: dirRemoved };
  }
  _write(path, text, original, scope);
  return { path, action: "removed", fileRemoved: false, alsoRemoved };
}

// ---------------------------------------------------------------------------------------------
// Reading, with the shape sep relies on checked

interface _Settings {
  text: string;
  root: JsonObject;
}

interface _SepHook {
  preToolUse: JsonArray;
  group: JsonObject;
  groupIndex: number;
  hookIndex: number;
  commandNode: JsonNode;
  command: string;
  program: string;
  created: Created[];
}

/** The settings file's text and tree; undefined when there is none. Refuses what sep must not edit. */
function _readSettings(path: string): _Settings | undefined {
  _refuseLink(dirname(path), "directory");
  let stat;
  try {
    stat = lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw fsFailure("E_PROJECT_FILE", "read", path, error);
  }
  if (stat.isSymbolicLink()) {
    throw new ConfigError(`refusing to change ${path}: it is a symlink, and sep never writes through one`,
      "edit the file it points to by hand, or replace the symlink with a copy of that file and run this again");
  }
  if (!stat.isFile()) throw new ConfigError(`cannot change ${path}: it is not a regular file`, "move it away and run this again");
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw fsFailure("E_PROJECT_FILE", "read", path, error);
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw _malformed(path, "it is not UTF-8 text");
  }
  return _parse(path, text);
}

function _parse(path: string, text: string): _Settings {
  let root: JsonNode;
  try {
    root = parseJsonNodes(text);
  } catch (error) {
    if (error instanceof JsonSyntaxError) throw _malformed(path, `it is not valid JSON (${error.message})`);
    throw error;
  }
  const problem = _shapeProblem(root);
  if (problem) throw _malformed(path, problem);
  return { text, root: root as JsonObject };
}

/** What in the tree is not the shape Claude Code's settings have, where sep has to look. */
function _shapeProblem(root: JsonNode): string | undefined {
  if (root.kind !== "object") return `its top level is ${_kind(root)}, not an object`;
  const hooks = memberOf(root, "hooks")?.value;
  if (!hooks) return undefined;
  if (hooks.kind !== "object") return `"hooks" is ${_kind(hooks)}, not an object`;
  const preToolUse = memberOf(hooks, "PreToolUse")?.value;
  if (!preToolUse) return undefined;
  if (preToolUse.kind !== "array") return `"hooks.PreToolUse" is ${_kind(preToolUse)}, not a list`;
  for (const [g, group] of preToolUse.items.entries()) {
    const where = `hooks.PreToolUse[${g}]`;
    if (group.kind !== "object") return `"${where}" is ${_kind(group)}, not an object`;
    const matcher = memberOf(group, "matcher")?.value;
    if (matcher && !(matcher.kind === "scalar" && typeof matcher.value === "string")) return `"${where}.matcher" is ${_kind(matcher)}, not a string`;
    const handlers = memberOf(group, "hooks")?.value;
    if (!handlers) continue;
    if (handlers.kind !== "array") return `"${where}.hooks" is ${_kind(handlers)}, not a list`;
    for (const [h, handler] of handlers.items.entries()) {
      if (handler.kind !== "object") return `"${where}.hooks[${h}]" is ${_kind(handler)}, not an object`;
    }
  }
  return undefined;
}

function _kind(node: JsonNode): string {
  if (node.kind === "object") return "an object";
  if (node.kind === "array") return "a list";
  if (node.value === null) return "null";
  return typeof node.value === "string" ? "a string" : `a ${typeof node.value}`;
}

function _malformed(path: string, what: string): ConfigError {
  return new ConfigError(`cannot change ${path}: ${what}`,
    "fix the file (Claude Code cannot read it as it is either) or move it away, then run this again; sep changed nothing");
}

function _refuseLink(dir: string, what: string): void {
  let stat;
  try {
    stat = lstatSync(dir);
  } catch {
    return; // missing: created later (for the file), or its parent is checked when it is
  }
  if (stat.isSymbolicLink()) {
    throw new ConfigError(`refusing to change ${join(dir, "settings.json")}: its ${what} ${dir} is a symlink, and sep never writes through one`,
      `give the real path instead, e.g. CLAUDE_CONFIG_DIR="$(realpath ${dir})" for --user, or edit the file by hand`);
  }
}

/** Every sep hook (a command hook whose command is `… agent hook claude`) in hooks.PreToolUse. */
function _sepHooks(root: JsonObject): _SepHook[] {
  const hooks = memberOf(root, "hooks")?.value;
  const preToolUse = hooks?.kind === "object" ? memberOf(hooks, "PreToolUse")?.value : undefined;
  if (preToolUse?.kind !== "array") return [];
  const found: _SepHook[] = [];
  for (const [groupIndex, group] of preToolUse.items.entries()) {
    if (group.kind !== "object") continue;
    const handlers = memberOf(group, "hooks")?.value;
    if (handlers?.kind !== "array") continue;
    for (const [hookIndex, handler] of handlers.items.entries()) {
      if (handler.kind !== "object") continue;
      const type = memberOf(handler, "type")?.value;
      const commandNode = memberOf(handler, "command")?.value;
      if (type?.kind !== "scalar" || type.value !== "command" || commandNode?.kind !== "scalar" || typeof commandNode.value !== "string") continue;
      const match = SEP_HOOK.exec(commandNode.value);
      if (!match) continue;
      const created = (match[2] ?? "").split(",").map((name) => name.trim()).filter((name): name is Created => (CREATED_ORDER as readonly string[]).includes(name));
      found.push({ preToolUse, group, groupIndex, hookIndex, commandNode, command: commandNode.value, program: match[1]!, created });
    }
  }
  return found;
}

// ---------------------------------------------------------------------------------------------
// The same changes on plain values: what the text edits must come to

function _group(command: string) {
  return { matcher: "Bash", hooks: [{ type: "command", command, timeout: HOOK_TIMEOUT_SECONDS }] };
}

type _Settingsish = Record<string, any>;

function _withGroup(value: unknown, group: unknown): unknown {
  const root = structuredClone(value) as _Settingsish;
  root.hooks ??= {};
  root.hooks.PreToolUse ??= [];
  root.hooks.PreToolUse.push(group);
  return root;
}

function _withCommand(value: unknown, hook: _SepHook, command: string): unknown {
  const root = structuredClone(value) as _Settingsish;
  root.hooks.PreToolUse[hook.groupIndex].hooks[hook.hookIndex].command = command;
  return root;
}

function _withoutSepHooks(value: unknown, created: ReadonlySet<Created>): unknown {
  const root = structuredClone(value) as _Settingsish;
  const all = created.has("settings.json");
  const isSep = (handler: any) => handler?.type === "command" && typeof handler.command === "string" && SEP_HOOK.test(handler.command);
  const groups: any[] = root.hooks.PreToolUse;
  root.hooks.PreToolUse = groups.flatMap((group) => {
    if (!Array.isArray(group?.hooks) || !group.hooks.some(isSep)) return [group];
    const rest = group.hooks.filter((handler: any) => !isSep(handler));
    const onlySep = Object.keys(group).every((key) => key === "matcher" || key === "hooks");
    return rest.length === 0 && onlySep ? [] : [{ ...group, hooks: rest }];
  });
  if (root.hooks.PreToolUse.length === 0 && (all || created.has("PreToolUse"))) delete root.hooks.PreToolUse;
  if (Object.keys(root.hooks).length === 0 && (all || created.has("hooks"))) delete root.hooks;
  return root;
}

/** The edited text must parse to exactly the value the change means; else it is a bug, and nothing is written. */
function _check(path: string, text: string, expected: unknown): void {
  const actual = jsonValue(parseJsonNodes(text));
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new SepError("E_INTERNAL", `editing ${path} went wrong (the result differs from the intended change); the file is unchanged`);
  }
}

// ---------------------------------------------------------------------------------------------
// Writing

/** mkdir when missing; true if sep created it. */
function _ensureDir(dir: string): boolean {
  try {
    if (statSync(dir).isDirectory()) return false;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw fsFailure("E_PROJECT_FILE", "use", dir, error);
  }
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw fsFailure("E_PROJECT_FILE", "create", dir, error);
  }
  return true;
}

/**
 * Atomic replace (writeFileAtomic: temp file, never through a symlink, renamed over the old one),
 * keeping the old file's mode; a new file is 0644 in a project (it is meant to be committed) and
 * 0600 for the user. If the file changed since sep read it, nothing is written.
 */
function _write(path: string, text: string, readText: string | undefined, scope: SettingsScope): void {
  let mode = scope === "project" ? 0o644 : 0o600;
  if (readText !== undefined) {
    mode = _unchangedMode(path, readText);
  } else if (pathExists(path)) {
    throw new SepError("E_PROJECT_FILE", `${path} appeared while sep was writing it; nothing was changed`, { hint: "run this again" });
  }
  writeFileAtomic(path, text, { errorCode: "E_PROJECT_FILE" });
  // The mode is set through a descriptor opened without following links: the new file, nothing else.
  let fd: number | undefined;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    fchmodSync(fd, mode);
  } catch (error) {
    throw fsFailure("E_PROJECT_FILE", `set mode ${mode.toString(8)} on`, path, error);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The mode of the file at path, after checking it still holds readText. */
function _unchangedMode(path: string, readText: string): number {
  let current: string;
  let mode: number;
  try {
    current = readFileSync(path, "utf8");
    mode = lstatSync(path).mode & 0o7777;
  } catch (error) {
    throw fsFailure("E_PROJECT_FILE", "read", path, error);
  }
  if (current !== readText) {
    throw new SepError("E_PROJECT_FILE", `${path} changed while sep was editing it; nothing was changed`, { hint: "run this again" });
  }
  return mode;
}

function _unlinkUnchanged(path: string, readText: string): void {
  _unchangedMode(path, readText);
  try {
    unlinkSync(path);
  } catch (error) {
    throw fsFailure("E_PROJECT_FILE", "remove", path, error);
  }
}

