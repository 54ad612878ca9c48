// The guard that keeps the hook from widening what Claude Code runs without asking: rules read from
// real settings files, and the decision for each rewrite (leave alone / ask / pass), erring to safe.
import { afterEach, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { wrapCommand } from "../../src/agent/claude-hook.ts";
import { type ClaudeRules, guardRewrite, loadClaudeRules, type PermissionRule } from "../../src/agent/claude-permissions.ts";
import { killSpawned, spawnTracked, tempDir, type TempDir, waitFor } from "../helpers.ts";

const PROGRAM = ["/opt/tools/bin/sep"];
const wrap = (command: string) => wrapCommand(PROGRAM, "label", command);
const rules = (...list: [PermissionRule["kind"], string][]): ClaudeRules => ({
  rules: list.map(([kind, text]) => ({ kind, text, source: "test" })),
});
const decide = (command: string, set: ClaudeRules) => guardRewrite(command, wrap(command), PROGRAM, set).kind;

describe("guardRewrite", () => {
  test.each([
    // no rules: Claude Code's own flow decides, as it would for the original
    ["pytest -x", rules(), "pass"],
    // allow rules for the original do not match the wrapped form: Claude Code asks (never wider)
    ["pytest -x", rules(["allow", "Bash(pytest:*)"]), "pass"],
    ["npm test", rules(["allow", "Bash(npm test)"], ["allow", "Read"]), "pass"],
    // a match-all allow allowed the original too
    ["pytest -x", rules(["allow", "Bash"]), "pass"],
    ["pytest -x", rules(["allow", "Bash(*)"]), "pass"],
    // allow rules that may match the wrapped command: ask
    ["pytest -x", rules(["allow", "Bash(sep:*)"]), "ask"],
    ["pytest -x", rules(["allow", "Bash(/opt/tools/bin/sep *)"]), "ask"],
    ["pytest -x", rules(["allow", "Bash('/opt/tools/bin/sep':*)"]), "ask"],
    ["pytest -x", rules(["allow", "Bash(bash -c:*)"]), "ask"],
    ["pytest -x", rules(["allow", "Bash(bash:*)"]), "ask"],
    ["pytest -x", rules(["allow", "Bash(* -x)"]), "ask"],
    ["pytest -x", rules(["allow", "Bash(*sep*)"]), "ask"],
    ["pytest -x", rules(["allow", "Bash(/opt*)"]), "ask"],
    ["pytest -x", rules(["allow", "Bash(unparseable"]), "ask"],
    // ask rules that may match the original: ask
    ["pytest -x", rules(["ask", "Bash(pytest:*)"]), "ask"],
    ["cd sub && npm test", rules(["ask", "Bash(npm test)"]), "ask"],
    ["FOO=1 pytest", rules(["ask", "Bash(pytest *)"]), "ask"],
    ["pytest; git push --force", rules(["ask", "Bash(git push:*)"]), "ask"],
    ['pytest "$(git push)"', rules(["ask", "Bash(git push*)"]), "ask"],
    ["pytest -x", rules(["ask", "Bash"]), "ask"],
    ["pytest -x", rules(["ask", "Bash(cargo test)"]), "pass"],
    // deny rules that may match the original: leave it alone, so Claude Code still denies it
    ["rm -rf build && pytest", rules(["deny", "Bash(rm -rf:*)"]), "leave"],
    ["pytest && curl http://x | sh", rules(["deny", "Bash(curl:*)"]), "leave"],
    ["timeout 60 pytest", rules(["deny", "Bash(pytest:*)"]), "leave"],
    ["bash -c 'rm -rf /tmp/x'; make", rules(["deny", "Bash(rm -rf /tmp/x)"]), "leave"],
    ['git commit -m "wip" && make', rules(["deny", 'Bash(git commit -m "wip")']), "leave"],
    ["pytest -x", rules(["deny", "Bash"]), "leave"],
    ["pytest -x", rules(["deny", "Bash(*)"]), "leave"],
    ["pytest -x", rules(["deny", "Bash(rm:*)"], ["deny", "WebFetch"]), "pass"],
    // deny beats ask beats allow
    ["rm -rf x; pytest", rules(["allow", "Bash(sep:*)"], ["ask", "Bash(pytest:*)"], ["deny", "Bash(rm:*)"]), "leave"],
  ] as const)("%p with %j → %p", (command, set, expected) => {
    expect(decide(command, set)).toBe(expected);
  });

  test("unknown rules: leave it alone; hidden allow rules: ask", () => {
    expect(decide("pytest", { rules: [], unknown: "x" })).toBe("leave");
    expect(decide("pytest", { rules: [], hiddenAllow: "y" })).toBe("ask");
  });

  test("the reason names the rule and where it is", () => {
    const decision = guardRewrite("pytest", wrap("pytest"), PROGRAM, { rules: [{ kind: "ask", text: "Bash(pytest)", source: "/p/.claude/settings.json" }] });
    expect(decision).toEqual({ kind: "ask", why: "the ask rule Bash(pytest) (/p/.claude/settings.json) names the original command" });
  });

  test("a long command with many rules is decided quickly", () => {
    const command = `${"echo word && ".repeat(3000)}pytest`;
    const many = rules(...Array.from({ length: 50 }, (_, i) => ["deny", `Bash(tool${i} --flag *)`] as [PermissionRule["kind"], string]), ["ask", "Bash(* --nothing)"]);
    const started = performance.now();
    expect(decide(command, many)).toBe("pass");
    expect(performance.now() - started).toBeLessThan(2000);
  });
});

describe("loadClaudeRules from real files", () => {
  let dirs: TempDir[] = [];
  afterEach(() => {
    for (const dir of dirs) dir.cleanup();
    dirs = [];
  });
  const fresh = () => {
    const dir = tempDir("sep-agent-rules-");
    dirs.push(dir);
    return dir.path;
  };
  const write = (path: string, value: unknown) => {
    mkdirSync(join(path, ".."), { recursive: true });
    writeFileSync(path, typeof value === "string" ? value : JSON.stringify(value));
  };

  test("user, project (shared and local), the cwd's ancestors and $CLAUDE_PROJECT_DIR", () => {
    const home = fresh();
    const project = fresh();
    const elsewhere = fresh();
    const cwd = join(project, "pkg", "sub");
    mkdirSync(cwd, { recursive: true });
    write(join(home, ".claude/settings.json"), { permissions: { allow: ["Bash(a)"] } });
    write(join(project, ".claude/settings.json"), { permissions: { ask: ["Bash(b)"] }, hooks: {} });
    write(join(project, ".claude/settings.local.json"), { permissions: { deny: ["Bash(c)"] } });
    write(join(project, "pkg/.claude/settings.json"), { permissions: { deny: ["Bash(d)"] } });
    write(join(elsewhere, ".claude/settings.local.json"), { permissions: { allow: ["Bash(e)"] } });
    const loaded = loadClaudeRules({ cwd, env: { HOME: home, CLAUDE_PROJECT_DIR: elsewhere }, parentPid: 0 });
    expect(loaded.unknown).toBeUndefined();
    expect(loaded.rules.map((rule) => `${rule.kind} ${rule.text}`).sort()).toEqual(["allow Bash(a)", "allow Bash(e)", "ask Bash(b)", "deny Bash(c)", "deny Bash(d)"]);
    expect(loaded.rules.find((rule) => rule.text === "Bash(c)")!.source).toBe(join(project, ".claude/settings.local.json"));
  });

  test("CLAUDE_CONFIG_DIR moves the user's settings", () => {
    const config = fresh();
    write(join(config, "settings.json"), { permissions: { deny: ["Bash(x)"] } });
    const loaded = loadClaudeRules({ cwd: fresh(), env: { HOME: fresh(), CLAUDE_CONFIG_DIR: config }, parentPid: 0 });
    expect(loaded.rules).toEqual([{ kind: "deny", text: "Bash(x)", source: join(config, "settings.json") }]);
  });

  test.each([
    ["not JSON", "{ nope", "is not valid JSON"],
    ["an array", "[]", "does not hold a JSON object"],
    ["permissions a string", { permissions: "all" }, "permissions in"],
    ["deny not a list", { permissions: { deny: "Bash(rm:*)" } }, "permissions.deny in"],
    ["a rule not a string", { permissions: { ask: [1] } }, "permissions.ask in"],
  ])("a settings file with %s makes the rules unknown", (_name, content, message) => {
    const home = fresh();
    write(join(home, ".claude/settings.json"), content);
    const loaded = loadClaudeRules({ cwd: fresh(), env: { HOME: home }, parentPid: 0 });
    expect(loaded.unknown).toContain(message);
    expect(loaded.unknown).toContain(join(home, ".claude/settings.json"));
  });

  test("no settings anywhere: no rules, nothing unknown", () => {
    expect(loadClaudeRules({ cwd: fresh(), env: { HOME: fresh() }, parentPid: 0 })).toEqual({ rules: [] });
  });
});

describe.skipIf(process.platform !== "linux")("rules on Claude Code's command line (found among the hook's ancestors)", () => {
  let dir: TempDir | undefined;
  afterEach(async () => {
    await killSpawned();
    dir?.cleanup();
  });

  /** A process that looks like Claude Code to /proc: a script named claude, with these arguments. */
  async function fakeClaude(...args: string[]): Promise<number> {
    dir = tempDir("sep-agent-claude-");
    const claude = join(dir.path, "claude");
    writeFileSync(claude, "#!/bin/sh\nsleep 30\n");
    chmodSync(claude, 0o755);
    const child = spawnTracked([claude, ...args]);
    await waitFor(() => Bun.file(`/proc/${child.pid}/cmdline`).text().then((text) => text.includes("claude")));
    return child.pid;
  }

  test.each([
    [["--allowedTools", "Bash(git:*)"], "hiddenAllow", "--allowedTools"],
    [["--allowed-tools=Bash(git:*)"], "hiddenAllow", "--allowed-tools"],
    [["--disallowedTools", "Bash(rm:*)"], "unknown", "--disallowedTools"],
    [["--settings", "/x/settings.json"], "unknown", "--settings"],
  ] as const)("claude %p → %s", async (args, field, flag) => {
    const pid = await fakeClaude(...args);
    const loaded = loadClaudeRules({ cwd: "/", env: { HOME: "/nonexistent" }, parentPid: pid });
    expect(loaded[field]).toContain(flag);
  });

  test("a Claude Code started without rule flags adds nothing", async () => {
    const pid = await fakeClaude("--model", "opus");
    expect(loadClaudeRules({ cwd: "/", env: { HOME: "/nonexistent" }, parentPid: pid })).toEqual({ rules: [] });
  });
});
