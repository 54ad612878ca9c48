// The hook's pieces in-process: which stdin is a Bash PreToolUse call, the label, and the wrapping,
// which bash must turn back into the original string byte for byte, whatever it holds.
import { describe, expect, test } from "bun:test";
import { answerClaudeHook, commandLabel, readBashToolCall, wrapCommand } from "../../src/agent/claude-hook.ts";
import { singleQuote } from "../../src/agent/sep-program.ts";

const call = (fields: Record<string, unknown>) =>
  JSON.stringify({ session_id: "s", cwd: "/tmp", hook_event_name: "PreToolUse", tool_name: "Bash", tool_input: { command: "pytest" }, ...fields });

describe("readBashToolCall", () => {
  test("a Bash PreToolUse call", () => {
    expect(readBashToolCall(call({ tool_input: { command: "pytest -x", timeout: 5 } }))).toEqual({ command: "pytest -x", toolInput: { command: "pytest -x", timeout: 5 }, cwd: "/tmp" });
  });
  test.each([
    ["not JSON", "pytest"],
    ["JSON, not an object", "[1]"],
    ["truncated", call({}).slice(0, -3)],
    ["another event", call({ hook_event_name: "PostToolUse" })],
    ["no event", call({ hook_event_name: undefined })],
    ["another tool", call({ tool_name: "Read", tool_input: { file_path: "/x" } })],
    ["no tool_input", call({ tool_input: undefined })],
    ["command not a string", call({ tool_input: { command: ["pytest"] } })],
    ["command empty", call({ tool_input: { command: "  " } })],
    ["cwd missing", call({ cwd: undefined })],
    ["cwd relative", call({ cwd: "sub" })],
    ["cwd a number", call({ cwd: 7 })],
    ["a NUL in the command", call({ tool_input: { command: "pytest\u0000x" } })],
    ["a command over 64 KiB", call({ tool_input: { command: `pytest ${"x".repeat(70_000)}` } })],
  ])("%s: skipped", (_name, stdin) => {
    expect("skip" in readBashToolCall(stdin)).toBe(true);
  });
});

test("commandLabel: one short line", () => {
  expect(commandLabel(["pytest", "-x"])).toBe("pytest -x");
  expect(commandLabel(["pytest", "a\nb\tc"])).toBe("pytest a b c");
  const long = commandLabel(["pytest", "x".repeat(100)]);
  expect([...long].length).toBe(60);
  expect(long.endsWith("…")).toBe(true);
});

describe("wrapCommand: bash -c gets the original string back, byte for byte", () => {
  const samples = [
    "pytest -x",
    "it's",
    "'",
    "''''",
    `a'\\''b`,
    '"$HOME" `id` $(echo hi) ${X:-y} \\ \\\\ \\n',
    "line1\nline2\r\n\ttab",
    "héllo wörld ✓ 日本語 🚀",
    "\u0001\u0002\u001b[31m\u007f",
    "!! !$ ^a^b",
    "-e not an option",
    " leading and trailing ",
  ];
  const random = Array.from({ length: 40 }, (_, n) => {
    const alphabet = ["'", '"', "\\", "$", "`", "\n", " ", "a", "é", "!", "(", ")", ";", "&", "|", "*", "?", "~", "#", "\t", "\u0007"];
    let text = "";
    for (let i = 0; i < 30; i++) text += alphabet[(n * 31 + i * 17 + ((n * i) % 7)) % alphabet.length];
    return text;
  });
  test.each([...samples, ...random])("%p", (original) => {
    const wrapped = wrapCommand(["/opt/sep dir/it's/sep"], commandLabel(original.split(" ")), original);
    // What the agent's shell does with the wrapped command: split it into argv. printf shows them.
    const run = Bun.spawnSync(["bash", "-c", `printf '%s\\0' ${wrapped.replace(/^'[^']*'(?:\\''[^']*')*/, "")}`], { stdout: "pipe", stderr: "pipe" });
    expect(run.exitCode).toBe(0);
    const argv = run.stdout.toString("utf8").split("\0").slice(0, -1);
    expect(argv.slice(0, 2)).toEqual(["--name", commandLabel(original.split(" "))]);
    expect(argv.slice(2)).toEqual(["--", "bash", "-c", original]);
  });

  test("the program path is quoted too", () => {
    expect(wrapCommand(["/a b/sep"], "l", "c")).toBe(`'/a b/sep' --name 'l' -- bash -c 'c'`);
    expect(singleQuote("it's")).toBe(`'it'\\''s'`);
  });
});

describe("answerClaudeHook", () => {
  const options = { program: ["/opt/sep"], env: { PATH: process.env.PATH, HOME: "/nonexistent" }, rules: () => ({ rules: [] }) };

  test("a heavy command: updatedInput with every other field kept, no permission decision", async () => {
    const answer = await answerClaudeHook(call({ tool_input: { command: "npm test", description: "Run tests", timeout: 600000, run_in_background: true } }), options);
    expect(JSON.parse(answer.stdout!)).toEqual({
      hookSpecificOutput: {
        hookEventName: "PreToolUse",
        updatedInput: { command: "'/opt/sep' --name 'npm test' -- bash -c 'npm test'", description: "Run tests", timeout: 600000, run_in_background: true },
      },
    });
  });

  test("a rule to ask by: permissionDecision ask, with the reason", async () => {
    const answer = await answerClaudeHook(call({}), { ...options, rules: () => ({ rules: [{ kind: "ask" as const, text: "Bash(pytest)", source: "/s.json" }] }) });
    const output = JSON.parse(answer.stdout!).hookSpecificOutput;
    expect(output.permissionDecision).toBe("ask");
    expect(output.permissionDecisionReason).toContain("Bash(pytest) (/s.json)");
    expect(Object.keys(output)).toEqual(["hookEventName", "permissionDecision", "permissionDecisionReason", "updatedInput"]);
  });

  test("a deny rule: no answer, and why on stderr", async () => {
    const answer = await answerClaudeHook(call({}), { ...options, rules: () => ({ rules: [{ kind: "deny" as const, text: "Bash(pytest:*)", source: "/s.json" }] }) });
    expect(answer.stdout).toBeUndefined();
    expect(answer.stderr).toContain("Bash(pytest:*)");
  });

  test("never allow", async () => {
    for (const rules of [[], [{ kind: "allow" as const, text: "Bash", source: "x" }], [{ kind: "allow" as const, text: "Bash(sep *)", source: "x" }]]) {
      const answer = await answerClaudeHook(call({}), { ...options, rules: () => ({ rules }) });
      expect(answer.stdout).not.toContain('"allow"');
    }
  });

  test("a bad configuration value: no answer, the error on stderr", async () => {
    const answer = await answerClaudeHook(call({}), { ...options, env: { ...options.env, SEP_AGENT_COMMANDS: "pytest;" } });
    expect(answer.stdout).toBeUndefined();
    expect(answer.stderr).toContain("SEP_AGENT_COMMANDS");
  });
});
