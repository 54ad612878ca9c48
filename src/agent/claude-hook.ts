// Claude Code's PreToolUse hook (`sep agent hook claude`): read the tool call Claude Code sends on
// stdin and, when it is a Bash command that runs a heavy command, answer with the whole command
// wrapped to run under sep. Anything else, or anything unreadable, gets no answer: the hook fails
// open, and Claude Code runs the call as if there were no hook. docs/agents.md has the protocol.
import { isAbsolute } from "node:path";
import { resolveConfig } from "../config.ts";
import { errorMessage } from "../errors.ts";
import { shellCommands } from "../shell.ts";
import { type ClaudeRules, guardRewrite, loadClaudeRules } from "./claude-permissions.ts";
import { findHeavyCommand, isSepCommand, parsePatterns } from "./heavy.ts";
import { singleQuote } from "./sep-program.ts";

/** More stdin than this is not a tool call sep will read (Claude Code sends a few KB). */
export const MAX_HOOK_INPUT_BYTES = 1024 * 1024;
/** Longer commands are left alone: they are scripts written inline, and scanning them costs time. */
export const MAX_COMMAND_CHARS = 64 * 1024;
const LABEL_CHARS = 60;

/** The part of a PreToolUse call the hook uses; the rest of tool_input is passed back unchanged. */
export interface BashToolCall {
  command: string;
  toolInput: Record<string, unknown>;
  cwd: string;
}

/** What the hook prints: stdout (the JSON answer) and a line for stderr, each only when there is one. */
export interface HookAnswer {
  stdout?: string;
  stderr?: string;
}

export interface HookOptions {
  /** the argv that runs this sep (sepArgv()) */
  program: readonly string[];
  env: NodeJS.ProcessEnv;
  /** the rules to check against; default: read them now (loadClaudeRules) */
  rules?: (cwd: string) => ClaudeRules;
}

/**
 * A Bash PreToolUse call from raw stdin, or why it is not one (not JSON, another event or tool, a
 * field missing or of the wrong type, a NUL byte no argv can carry, too long).
 */
export function readBashToolCall(stdin: string): BashToolCall | { skip: string } {
  let input: unknown;
  try {
    input = JSON.parse(stdin);
  } catch {
    return { skip: "stdin is not JSON" };
  }
  if (!_isObject(input)) return { skip: "stdin is not a JSON object" };
  if (input.hook_event_name !== "PreToolUse") return { skip: "not a PreToolUse event" };
  if (input.tool_name !== "Bash") return { skip: "not the Bash tool" };
  const toolInput = input.tool_input;
  if (!_isObject(toolInput) || typeof toolInput.command !== "string") return { skip: "no tool_input.command string" };
  if (typeof input.cwd !== "string" || !isAbsolute(input.cwd)) return { skip: "no absolute cwd" };
  const command = toolInput.command;
  if (command.trim() === "") return { skip: "the command is empty" };
  if (command.includes("\0")) return { skip: "the command holds a NUL byte" };
  if (command.length > MAX_COMMAND_CHARS) return { skip: `the command is longer than ${MAX_COMMAND_CHARS} characters` };
  return { command, toolInput, cwd: input.cwd };
}

/**
 * The hook's answer to one call. No stdout means "no opinion": a light command, a command that
 * already runs under sep, one the permission rules say to leave alone, or a configuration sep
 * cannot read (said on stderr, which Claude Code shows only in its debug output for exit 0).
 */
export async function answerClaudeHook(stdin: string, options: HookOptions): Promise<HookAnswer> {
  const call = readBashToolCall(stdin);
  if ("skip" in call) return {};
  const first = shellCommands(call.command)[0];
  if (first && isSepCommand(first.words, options.program)) return {};
  let agentCommands: readonly string[];
  try {
    agentCommands = (await resolveConfig({ cwd: call.cwd, env: options.env })).agentCommands;
  } catch (error) {
    return { stderr: `sep agent hook: ${errorMessage(error)}; the command runs as it is\n` };
  }
  const heavy = findHeavyCommand(call.command, parsePatterns(agentCommands));
  if (!heavy) return {};
  const wrapped = wrapCommand(options.program, commandLabel(heavy.words), call.command);
  const rules = (options.rules ?? ((cwd) => loadClaudeRules({ cwd, env: options.env })))(call.cwd);
  const guard = guardRewrite(call.command, wrapped, options.program, rules);
  if (guard.kind === "leave") return { stderr: `sep agent hook: left ${JSON.stringify(heavy.words.join(" "))} alone: ${guard.why}\n` };
  // Never "allow": that would skip the prompt the user may be owed. No decision leaves it to Claude
  // Code's own rules and mode; "ask" makes sure the user sees the wrapped command.
  const decision = guard.kind === "ask"
    ? { permissionDecision: "ask", permissionDecisionReason: `sep runs this under its queue; asking because ${guard.why}` }
    : {};
  const answer = { hookSpecificOutput: { hookEventName: "PreToolUse", ...decision, updatedInput: { ...call.toolInput, command: wrapped } } };
  return { stdout: `${JSON.stringify(answer)}\n` };
}

/** `'/abs/sep' --name 'LABEL' -- bash -c 'COMMAND'`: bash runs the original string, byte for byte. */
export function wrapCommand(program: readonly string[], label: string, command: string): string {
  return [...program.map(singleQuote), "--name", singleQuote(label), "--", "bash", "-c", singleQuote(command)].join(" ");
}

/** The heavy command's words on one short line, for the job's name in sep's records. */
export function commandLabel(words: readonly string[]): string {
  const line = words.join(" ").replace(/[\u0000-\u001f\u007f]+/g, " ").replace(/\s+/g, " ").trim();
  const chars = [...line];
  return chars.length <= LABEL_CHARS ? line : `${chars.slice(0, LABEL_CHARS - 1).join("")}…`;
}

function _isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
