// `sep agent hook claude`: the PreToolUse hook Claude Code runs before each tool call. Reads the
// call's JSON on stdin; prints an answer only for a Bash command to run under sep; exits 0, and
// never 2 (cli.ts sees to it), because exit 2 from a PreToolUse hook blocks the tool call.
import { writeSync } from "node:fs";
import { defineCommand } from "citty";
import { answerClaudeHook, type HookAnswer, MAX_HOOK_INPUT_BYTES } from "../../agent/claude-hook.ts";
import { sepArgv } from "../../agent/sep-program.ts";
import { errorMessage } from "../../errors.ts";
import { tryWriteStdout } from "../../output.ts";
import { agentArg, agentName } from "./shared.ts";

export default defineCommand({
  meta: { name: "hook", description: "Claude Code's PreToolUse hook (installed by `sep agent install claude`): reads the tool call on stdin, answers with heavy Bash commands wrapped in sep" },
  args: agentArg,
  run: ({ args }) => {
    agentName(args.agent, "sep agent hook");
    return runClaudeHook();
  },
});

/**
 * The hook itself. cli.ts calls it straight for `sep agent hook claude`, past citty and the
 * logger: Claude Code waits for it before every Bash call, so every millisecond of start-up counts.
 */
export async function runClaudeHook(): Promise<number> {
  if (process.stdin.isTTY) {
    _stderr("sep agent hook: reads Claude Code's PreToolUse JSON on stdin; see `sep agent install claude`\n");
    return 0;
  }
  const stdin = await _readBounded(MAX_HOOK_INPUT_BYTES);
  // Fail open: whatever goes wrong, Claude Code runs the call as if there were no hook.
  const answer: HookAnswer = stdin === undefined
    ? {}
    : await answerClaudeHook(stdin, { program: sepArgv(), env: process.env }).catch((error) => ({ stderr: `sep agent hook: internal error: ${errorMessage(error)}\n` }));
  if (answer.stderr) _stderr(answer.stderr);
  if (answer.stdout) await tryWriteStdout(answer.stdout);
  return 0;
}

/** All of stdin as UTF-8, or undefined when it holds more than max bytes (then it is not read to the end). */
async function _readBounded(max: number): Promise<string | undefined> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of Bun.stdin.stream()) {
    size += chunk.byteLength;
    if (size > max) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** One line for Claude Code's debug log (stderr of a hook that exits 0 goes nowhere else). */
function _stderr(text: string): void {
  try {
    writeSync(2, text);
  } catch {
    // stderr closed: nobody to tell
  }
}
