// The shell lexer: which simple commands a piece of shell text holds, and on which line.
import { describe, expect, test } from "bun:test";
import { shellCommands } from "../src/shell.ts";

describe("shellCommands", () => {
  const cases: { name: string; script: string; commands: [number, string[]][] }[] = [
    { name: "a comment is not a command", script: "# sep queue add -- x\necho hi # sep queue add", commands: [[1, ["echo", "hi"]]] },
    { name: "quoted text stays one word of the echo", script: `echo "sep queue add -- y" 'sep queue start'`, commands: [[0, ["echo", "sep queue add -- y", "sep queue start"]]] },
    { name: "a continuation joins lines; the command is on its first word's line", script: "true\nsep queue add \\\n  --name x \\\n  -- pytest\nls", commands: [[0, ["true"]], [1, ["sep", "queue", "add", "--name", "x", "--", "pytest"]], [4, ["ls"]]] },
    { name: "operators split commands", script: "a && b || c; d | e & f", commands: [[0, ["a"]], [0, ["b"]], [0, ["c"]], [0, ["d"]], [0, ["e"]], [0, ["f"]]] },
    { name: "a heredoc body written to a file is data", script: "cat > run.sh << 'EOF'\nsep queue add -- x\nEOF\nchmod +x run.sh", commands: [[0, ["cat"]], [3, ["chmod", "+x", "run.sh"]]] },
    { name: "a heredoc fed to a shell runs", script: "bash <<EOF\nsep queue add -- x\nEOF", commands: [[0, ["bash"]], [1, ["sep", "queue", "add", "--", "x"]]] },
    { name: "<<- strips tabs before the delimiter", script: "cat <<-END\n\tsep queue add\n\tEND\nls", commands: [[0, ["cat"]], [3, ["ls"]]] },
    { name: "command substitution runs its commands", script: "ID=$(sep queue add -- x)", commands: [[0, ["sep", "queue", "add", "--", "x"]], [0, ["ID=$(…)"]]] },
    { name: "sh -c runs its script", script: "bash -ec 'sep queue add -- x; sep queue start'", commands: [[0, ["bash", "-ec", "sep queue add -- x; sep queue start"]], [0, ["sep", "queue", "add", "--", "x"]], [0, ["sep", "queue", "start"]]] },
    { name: "redirections name files, not arguments", script: "sep -- make 2>&1 >log.txt </dev/null", commands: [[0, ["sep", "--", "make"]]] },
    { name: "GitHub expressions and arithmetic are skipped whole", script: "echo ${{ matrix.cmd }} $((1 << 2))", commands: [[0, ["echo", "${{ matrix.cmd }}", "$((1 << 2))"]]] },
    { name: "CRLF line ends", script: "sep queue add -- x\r\nsep queue start\r\n", commands: [[0, ["sep", "queue", "add", "--", "x"]], [1, ["sep", "queue", "start"]]] },
  ];
  for (const c of cases) {
    test(c.name, () => {
      expect(shellCommands(c.script).map((command) => [command.line, command.words])).toEqual(c.commands);
    });
  }
});
