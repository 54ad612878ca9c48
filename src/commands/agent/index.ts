// `sep agent …`: sep in a coding agent's path (Claude Code's PreToolUse hook, the AGENTS.md paragraph).
import { defineCommand } from "citty";

export default defineCommand({
  meta: { name: "agent", description: "Put sep in a coding agent's path: a Claude Code hook that runs heavy commands under sep" },
  subCommands: {
    install: () => import("./install.ts").then((m) => m.default),
    uninstall: () => import("./uninstall.ts").then((m) => m.default),
    hook: () => import("./hook.ts").then((m) => m.default),
    snippet: () => import("./snippet.ts").then((m) => m.default),
  },
});
