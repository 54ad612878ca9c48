// The agent hook's latency: `sep agent hook claude` answering a light and a heavy Bash command
// (and the heavy one with permission rules to check, and in a project with a sep.config.ts), each
// against `sep --version` in the same run, interleaved round by round. Claude Code waits for the
// hook before every Bash call, so the goal is an answer within 50 ms.
//
//   bun bench/agent-hook.ts           a Markdown section on stdout (progress on stderr)
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Context, fmt, makeContext, monoNs, removeScratch, rotated, type Section, stats, table, tempProject } from "./lib.ts";

const ROUNDS = 40;
const WARMUP = 3;
const GOAL_MS = 50;

function payload(cwd: string, command: string): Buffer {
  return Buffer.from(JSON.stringify({
    session_id: "bench", transcript_path: "/dev/null", cwd, permission_mode: "default", hook_event_name: "PreToolUse",
    tool_name: "Bash", tool_input: { command, description: "bench" }, tool_use_id: "toolu_bench",
  }));
}

function timed(argv: string[], cwd: string, env: Record<string, string>, stdin?: Buffer): { ms: number; ok: boolean; answered: boolean } {
  const t0 = monoNs();
  const run = Bun.spawnSync(argv, { cwd, env, stdin: stdin ?? "ignore", stdout: "pipe", stderr: "ignore" });
  return { ms: (monoNs() - t0) / 1e6, ok: run.exitCode === 0, answered: run.stdout.length > 0 };
}

export async function agentHook(ctx: Context): Promise<Section> {
  const plain = tempProject(ctx, "agent-hook");
  mkdirSync(join(plain, "sub"));
  const ruled = tempProject(ctx, "agent-hook-rules");
  mkdirSync(join(ruled, ".claude"));
  writeFileSync(join(ruled, ".claude/settings.json"), JSON.stringify({
    permissions: { allow: ["Bash(npm run lint)", "Bash(git status:*)"], ask: ["Bash(git push:*)"], deny: ["Bash(rm -rf /*)", "Bash(curl:*)"] },
  }));
  const configured = tempProject(ctx, "agent-hook-config");
  writeFileSync(join(configured, "sep.config.ts"), 'export default { agentCommands: ["pytest", "npm test"] };\n');
  const home = join(ctx.scratch, "agent-hook-home");
  mkdirSync(home, { recursive: true });
  const env = { ...ctx.env, HOME: home };

  const contenders = [
    { name: "`sep --version`", cwd: plain, argv: [ctx.sep, "--version"], answers: true },
    { name: "hook: light (`git status | head`)", cwd: plain, argv: [ctx.sep, "agent", "hook", "claude"], stdin: payload(plain, "git status | head"), answers: false },
    { name: "hook: heavy (`cd sub && npm test`)", cwd: plain, argv: [ctx.sep, "agent", "hook", "claude"], stdin: payload(plain, "cd sub && npm test"), answers: true },
    { name: "hook: heavy, 5 permission rules", cwd: ruled, argv: [ctx.sep, "agent", "hook", "claude"], stdin: payload(ruled, "cd sub && npm test"), answers: true },
    { name: "hook: light, with sep.config.ts", cwd: configured, argv: [ctx.sep, "agent", "hook", "claude"], stdin: payload(configured, "git status | head"), answers: false },
  ];
  const times = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
  const failures: string[] = [];
  for (let round = -WARMUP; round < ROUNDS; round++) {
    for (const c of rotated(contenders, Math.max(0, round))) {
      const run = timed(c.argv, c.cwd, env, c.stdin);
      // --version "answers" with its version; the hook only for the heavy commands.
      if (!run.ok || run.answered !== c.answers) failures.push(`${c.name}: exit ok ${run.ok}, printed ${run.answered}`);
      if (round >= 0) times.get(c.name)!.push(run.ms);
    }
  }
  const s = Object.fromEntries(contenders.map((c) => [c.name, stats(times.get(c.name)!)]));
  const version = s["`sep --version`"]!.median;
  const worst = Math.max(...contenders.slice(1).map((c) => s[c.name]!.median));
  ctx.log(`agent hook: --version ${fmt(version)} ms, slowest hook median ${fmt(worst)} ms`);
  const rows = contenders.map((c) => {
    const st = s[c.name]!;
    return [c.name, fmt(st.median), fmt(st.p90), fmt(st.min), fmt(st.median / version, 2)];
  });
  return {
    title: "Agent hook latency",
    goals: [{
      what: "`sep agent hook claude` answer time",
      yardstick: "`sep --version`",
      goal: `median ≤ ${GOAL_MS} ms`,
      result: `${fmt(worst)} ms (slowest case), ${fmt(worst / version, 2)}× --version`,
      status: worst <= GOAL_MS && failures.length === 0 ? "met" : "missed",
    }],
    markdown: [
      `${ROUNDS} rounds after ${WARMUP} warm-up rounds, contenders interleaved; wall time of the whole process, ms.`,
      "",
      table(["", "median", "p90", "min", "× --version"], rows),
      failures.length > 0 ? `\nFailures: ${[...new Set(failures)].join("; ")}` : "",
    ].join("\n"),
  };
}

if (import.meta.main) {
  const ctx = await makeContext((message) => console.error(message));
  try {
    const section = await agentHook(ctx);
    console.log(`## ${section.title}\n\n${section.markdown}\n`);
    for (const goal of section.goals) console.log(`${goal.what}: ${goal.result} (goal ${goal.goal} against ${goal.yardstick}): ${goal.status}`);
  } finally {
    removeScratch(ctx);
  }
}
