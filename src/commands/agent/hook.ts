// `sep agent hook claude`: the PreToolUse hook Claude Code runs before each tool call. Reads the
// call's JSON on stdin; prints an answer only for a Bash command to run under sep; exits 0, and
// never 2 (cli.ts sees to it), because exit 2 from a PreToolUse hook blocks the tool call.
import { defineCommand } from "citty";
import { answerClaudeHook, type HookAnswer, MAX_HOOK_INPUT_BYTES } from "../../agent/claude-hook.ts";
import { sepArgv } from "../../agent/sep-program.ts";
import { errorMessage } from "../../errors.ts";
import { writeStderr } from "../../logger.ts";
import { tryWriteStdout } from "../../output.ts";
import { agentArg, agentName } from "./shared.ts";

export default defineCommand({
  meta: { name: "hook", description: "Claude Code's PreToolUse hook (installed by `sep agent install claude`): reads the tool call on stdin, answers with heavy Bash commands wrapped in sep" },
  args: agentArg,
  run: async ({ args }) => {
    agentName(args.agent, "sep agent hook");
    if (process.stdin.isTTY) {
      writeStderr("sep agent hook: reads Claude Code's PreToolUse JSON on stdin; see `sep agent install claude`\n");
      return 0;
    }
    const stdin = await _readBounded(MAX_HOOK_INPUT_BYTES);
    // Fail open: whatever goes wrong, Claude Code runs the call as if there were no hook.
    const answer: HookAnswer = stdin === undefined
      ? {}
      : await answerClaudeHook(stdin, { program: sepArgv(), env: process.env }).catch((error) => ({ stderr: `sep agent hook: internal error: ${errorMessage(error)}\n` }));
    if (answer.stderr) writeStderr(answer.stderr);
    if (answer.stdout) await tryWriteStdout(answer.stdout);
    return 0;
  },
});

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
