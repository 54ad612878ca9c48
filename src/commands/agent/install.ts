// `sep agent install claude [--user]`: add sep's PreToolUse hook to Claude Code's settings.
import { defineCommand } from "citty";
import { claudeSettingsPath, installClaudeHook } from "../../agent/claude-settings.ts";
import { sepArgv } from "../../agent/sep-program.ts";
import { logger } from "../../logger.ts";
import { agentArg, agentName } from "./shared.ts";

export default defineCommand({
  meta: { name: "install", description: "Add sep's PreToolUse hook for the Bash tool to .claude/settings.json (or, with --user, ~/.claude/settings.json)" },
  args: {
    ...agentArg,
    user: { type: "boolean", description: "Install into your own ~/.claude/settings.json (all projects) instead of the project's" },
  },
  run: ({ args }) => {
    agentName(args.agent, "sep agent install");
    const scope = args.user ? "user" : "project";
    const result = installClaudeHook(claudeSettingsPath(scope, process.cwd()), sepArgv(), scope);
    if (result.action === "unchanged") logger.info(`sep's hook is already in ${result.path}; nothing changed`);
    else logger.success(`${result.action === "added" ? "added sep's PreToolUse hook to" : "pointed sep's PreToolUse hook at this sep in"} ${result.path}`);
    logger.info(`hook command: ${result.command}`);
    if (result.action !== "unchanged" && scope === "project") {
      logger.info("the hook names sep by this machine's path: on a machine without sep there, Claude Code reports a hook error and runs commands as they are");
    }
    return 0;
  },
});
