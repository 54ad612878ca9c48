// `sep agent snippet`: the paragraph for AGENTS.md / CLAUDE.md, on stdout.
import { defineCommand } from "citty";
import { AGENT_SNIPPET } from "../../agent/snippet.ts";
import { writeStdout } from "../../output.ts";

export default defineCommand({
  meta: { name: "snippet", description: "Print a paragraph for AGENTS.md or CLAUDE.md telling any coding agent to run heavy commands through sep" },
  run: async () => {
    await writeStdout(AGENT_SNIPPET);
    return 0;
  },
});
