// The paragraph `sep agent snippet` prints for an AGENTS.md or CLAUDE.md: how any coding agent,
// hook or no hook, should run heavy commands on a machine it shares.

export const AGENT_SNIPPET = `## Heavy commands go through sep

This machine runs heavy commands one at a time, inside memory and time limits, with \`sep\`.
Put \`sep --\` in front of every test suite, build, linter and type checker you run
(\`sep -- pytest -x\`, \`sep -- npm test\`, \`sep -- cargo build\`); for a whole shell line, use
\`sep -- bash -c '…'\`. sep waits for its turn, runs the command and exits with the command's own
exit code; its output is the command's, byte for byte. Light commands (\`ls\`, \`git status\`,
\`cat\`) need no sep. If sep exits with 75 after printing a run id and \`sep wait RUN_ID\`, the command
is still running in the background, under the same limits: run \`sep wait RUN_ID\` (again, if it
exits 75 again) to see the rest of its output and get its exit code. Never start the command a
second time meanwhile. \`sep run view RUN_ID --log\` shows a finished run's output.
`;
