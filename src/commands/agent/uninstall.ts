// `sep agent uninstall claude [--user]`: take sep's PreToolUse hook out of Claude Code's settings again.
import { defineCommand } from "citty";
import { claudeSettingsPath, uninstallClaudeHook } from "../../agent/claude-settings.ts";
import { logger } from "../../logger.ts";
import { agentArg, agentName } from "./shared.ts";

export default defineCommand({
  meta: { name: "uninstall", description: "Remove sep's PreToolUse hook (and nothing else) from .claude/settings.json (or, with --user, ~/.claude/settings.json)" },
  args: {
    ...agentArg,
    user: { type: "boolean", description: "Remove it from your own ~/.claude/settings.json instead of the project's" },
  },
  run: ({ args }) => {
    agentName(args.agent, "sep agent uninstall");
    const scope = args.user ? "user" : "project";
    const result = uninstallClaudeHook(claudeSettingsPath(scope, process.cwd()), scope);
    if (result.action === "absent") {
      logger.info(`no sep hook in ${result.path}; nothing changed`);
      return 0;
    }
    logger.success(result.fileRemoved ? `removed ${result.path}, which sep had created for its hook` : `removed sep's PreToolUse hook from ${result.path}`);
    for (const what of result.alsoRemoved) logger.info(`also removed ${what}, which sep had created`);
    return 0;
  },
});
