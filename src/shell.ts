// Shell text → simple commands, by a small lexer, not by running it: quotes, comments, line
// continuations, heredocs, `$(…)`, `sh -c '…'` and redirections are understood; variables,
// functions, aliases and scripts called by path are not followed. docs/ci.md lists what that misses.
// Shared by sep doctor's scanners (doctor/) and the agent hook's heavy-command detection (agent/).

/** One simple command: its words with quotes removed, and the 0-based line its first word is on. */
export interface ShellCommand {
  words: string[];
  line: number;
}

export const SHELLS = new Set(["sh", "bash", "dash", "zsh", "ksh", "ash", "mksh"]);

/**
 * Split shell text into simple commands, in the order they appear. Comments are dropped; quoted
 * text stays inside its word (so `echo "sep queue add"` is an echo); `\`-newline joins lines;
 * heredoc bodies are data, except when fed to a shell (`bash <<EOF`); the commands inside `$(…)`,
 * backticks, `<(…)` and `sh -c '…'` are commands too. Never throws: unbalanced text ends a word.
 */
export function shellCommands(text: string): ShellCommand[] {
  return new _Lexer(text).run();
}

interface _Heredoc {
  delimiter: string;
  stripTabs: boolean;
  /** the command the heredoc feeds (its words may still grow until the line ends) */
  owner: string[];
  ownerLine: number;
}

class _Lexer {
  private i = 0;
  private line = 0;
  private readonly out: ShellCommand[] = [];
  private readonly heredocs: _Heredoc[] = [];

  constructor(private readonly s: string) {}

  run(): ShellCommand[] {
    this.list(null);
    return this.out;
  }

  /** Commands until `stop` (")" or "`") at this nesting level, or the end of the text. */
  private list(stop: ")" | "`" | null): void {
    const s = this.s;
    let words: string[] = [];
    let commandLine = this.line;
    let word: string | null = null;
    let wordLine = this.line;
    let parens = 0;
    let redirectTarget = false;
    let heredocNext: { stripTabs: boolean } | null = null;

    const append = (text: string) => {
      if (word === null) {
        word = "";
        wordLine = this.line;
      }
      word += text;
    };
    const endWord = () => {
      if (word === null) return;
      if (heredocNext) {
        this.heredocs.push({ delimiter: word, stripTabs: heredocNext.stripTabs, owner: words, ownerLine: commandLine });
        heredocNext = null;
      } else if (redirectTarget) {
        redirectTarget = false;
      } else {
        if (words.length === 0) commandLine = wordLine;
        words.push(word);
      }
      word = null;
    };
    const endCommand = () => {
      endWord();
      if (words.length > 0) this.emit(words, commandLine);
      words = [];
    };

    while (this.i < s.length) {
      const c = s[this.i]!;
      const next = s[this.i + 1];
      if (stop !== null && c === stop && (stop === "`" || parens === 0)) {
        this.i++;
        endCommand();
        return;
      }
      if (c === "\\") {
        if (next === "\n") {
          this.i += 2;
          this.line++;
        } else if (next === "\r" && s[this.i + 2] === "\n") {
          this.i += 3;
          this.line++;
        } else {
          append(next ?? "");
          this.i += 2;
        }
        continue;
      }
      if (c === "\n") {
        this.i++;
        endCommand();
        this.line++;
        this.readHeredocBodies();
        continue;
      }
      if (c === " " || c === "\t" || c === "\r") {
        endWord();
        this.i++;
        continue;
      }
      if (c === "#" && word === null) {
        while (this.i < s.length && s[this.i] !== "\n") this.i++;
        continue;
      }
      if (c === "'") {
        append(this.singleQuoted());
        continue;
      }
      if (c === '"') {
        append(this.doubleQuoted());
        continue;
      }
      if (c === "$") {
        append(this.dollar());
        continue;
      }
      if (c === "`") {
        this.i++;
        this.list("`");
        append("$(…)");
        continue;
      }
      if (c === ";" || c === "|" || (c === "&" && next !== ">")) {
        endCommand();
        this.i++;
        continue;
      }
      if (c === "(") {
        endCommand();
        parens++;
        this.i++;
        continue;
      }
      if (c === ")") {
        endCommand();
        if (parens > 0) parens--;
        this.i++;
        continue;
      }
      if (c === "<" || c === ">" || c === "&") {
        // A word of digits right before the operator is a file descriptor (2>file), not an argument.
        if (word !== null && /^\d+$/.test(word)) word = null;
        endWord();
        if ((c === "<" || c === ">") && next === "(") {
          this.i += 2;
          this.list(")");
          append("<(…)");
          continue;
        }
        if (c === "<" && next === "<" && s[this.i + 2] === "<") {
          this.i += 3;
          redirectTarget = true;
          continue;
        }
        if (c === "<" && next === "<") {
          this.i += 2;
          const stripTabs = s[this.i] === "-";
          if (stripTabs) this.i++;
          heredocNext = { stripTabs };
          continue;
        }
        // >, >>, >|, >&, <, <&, <>, &>, &>>; then `2>&1` / `>&-` name no file
        this.i++;
        while (this.i < s.length && /[<>&|]/.test(s[this.i]!)) this.i++;
        if (s[this.i - 1] === "&" && /^(\d+|-)(?![\w.])/.test(s.slice(this.i, this.i + 12))) {
          while (this.i < s.length && /[\d-]/.test(s[this.i]!)) this.i++;
          continue;
        }
        redirectTarget = true;
        continue;
      }
      append(c);
      this.i++;
    }
    endCommand();
  }

  private emit(words: string[], line: number): void {
    this.out.push({ words, line });
    // `sh -c 'script'`: the script's commands run too (lines counted from the shell's line).
    const shell = shellScriptOperand(words);
    if (shell?.script !== undefined) {
      for (const inner of shellCommands(shell.script)) this.out.push({ words: inner.words, line: line + inner.line });
    }
  }

  private singleQuoted(): string {
    const s = this.s;
    const start = ++this.i;
    while (this.i < s.length && s[this.i] !== "'") {
      if (s[this.i] === "\n") this.line++;
      this.i++;
    }
    const text = s.slice(start, this.i);
    this.i++;
    return text;
  }

  private doubleQuoted(): string {
    const s = this.s;
    this.i++;
    let text = "";
    while (this.i < s.length && s[this.i] !== '"') {
      const c = s[this.i]!;
      if (c === "\\") {
        const next = s[this.i + 1];
        if (next === "\n") this.line++;
        else if (next !== undefined && '"\\$`'.includes(next)) text += next;
        else text += c + (next ?? "");
        this.i += 2;
      } else if (c === "$") {
        text += this.dollar();
      } else if (c === "`") {
        this.i++;
        this.list("`");
        text += "$(…)";
      } else {
        if (c === "\n") this.line++;
        text += c;
        this.i++;
      }
    }
    this.i++;
    return text;
  }

  /** At a `$`: `$(…)` is lexed for its commands, `$((…))` and `${…}` skipped, `$'…'` read. */
  private dollar(): string {
    const s = this.s;
    const next = s[this.i + 1];
    if (next === "(" && s[this.i + 2] === "(") {
      return this.skipBalanced("(", ")", 2);
    }
    if (next === "(") {
      this.i += 2;
      this.list(")");
      return "$(…)";
    }
    if (next === "{") return this.skipBalanced("{", "}", 1);
    if (next === "'") {
      this.i++;
      const start = ++this.i;
      while (this.i < s.length && s[this.i] !== "'") this.i += s[this.i] === "\\" ? 2 : 1;
      const text = s.slice(start, this.i);
      this.i++;
      return text;
    }
    this.i++;
    return "$";
  }

  /** Skip from the `$` through the bracket that balances the first `open`; returns the text. */
  private skipBalanced(open: string, close: string, opens: number): string {
    const s = this.s;
    const start = this.i;
    this.i += 1 + opens;
    let depth = opens;
    while (this.i < s.length && depth > 0) {
      const c = s[this.i]!;
      if (c === open) depth++;
      else if (c === close) depth--;
      else if (c === "\n") this.line++;
      this.i++;
    }
    return s.slice(start, this.i);
  }

  /** After a newline: consume the bodies of the heredocs opened on the line that just ended. */
  private readHeredocBodies(): void {
    const s = this.s;
    while (this.heredocs.length > 0) {
      const doc = this.heredocs.shift()!;
      const bodyLine = this.line;
      const body: string[] = [];
      while (this.i < s.length) {
        let end = s.indexOf("\n", this.i);
        if (end < 0) end = s.length;
        const raw = s.slice(this.i, end).replace(/\r$/, "");
        this.i = Math.min(end + 1, s.length);
        this.line++;
        const text = doc.stripTabs ? raw.replace(/^\t+/, "") : raw;
        if (text === doc.delimiter) break;
        body.push(text);
      }
      // `bash <<EOF` runs its body; `cat > run_all.sh <<EOF` only writes text.
      const shell = shellScriptOperand(doc.owner);
      if (shell && shell.script === undefined && shell.file === undefined) {
        for (const inner of shellCommands(body.join("\n"))) this.out.push({ words: inner.words, line: bodyLine + inner.line });
      }
    }
  }
}

/**
 * For a command that is a shell (`bash -e -c '…'`, `sh script.sh`, `bash -s`): the `-c` script or
 * the script file it runs. undefined when the command is not a shell.
 */
export function shellScriptOperand(words: string[]): { script?: string; file?: string; rest: string[] } | undefined {
  const start = skipPrefixes(words);
  if (start >= words.length || !SHELLS.has(basename(words[start]!))) return undefined;
  for (let i = start + 1; i < words.length; i++) {
    const word = words[i]!;
    if (word === "-c" || (/^-[a-z]+$/.test(word) && word.includes("c") && !word.startsWith("--"))) {
      return { script: words[i + 1] ?? "", rest: [] };
    }
    if (word === "-o" || word === "+o") {
      i++;
      continue;
    }
    if (word.startsWith("-") || word.startsWith("+")) continue;
    return { file: word, rest: words.slice(i + 1) };
  }
  return { rest: [] };
}

export function basename(word: string): string {
  const slash = word.lastIndexOf("/");
  return slash < 0 ? word : word.slice(slash + 1);
}

/** Flags that take a value, for the wrappers whose own flags come before the command. */
const _WRAPPERS: Record<string, Set<string>> = {
  env: new Set(["-u", "--unset", "-C", "--chdir", "-S", "--split-string"]),
  sudo: new Set(["-u", "-g", "-h", "-p", "-C", "-D", "-r", "-t", "-U", "-T"]),
  nohup: new Set(),
  nice: new Set(["-n", "--adjustment"]),
  time: new Set(["-f", "-o", "--format", "--output"]),
  exec: new Set(["-a"]),
  command: new Set(),
  builtin: new Set(),
  stdbuf: new Set(["-i", "-o", "-e"]),
  xargs: new Set(["-n", "-I", "-P", "-L", "-d", "-s", "-a", "-E", "--max-args", "--max-procs", "--delimiter", "--arg-file"]),
  timeout: new Set(["-s", "-k", "--signal", "--kill-after"]),
};
/** Shell words that may stand before a command without being it. */
const _KEYWORDS = new Set(["!", "{", "}", "if", "then", "else", "elif", "do", "while", "until", "fi", "done"]);

/** Index of the command word: past assignments, keywords and wrappers such as env, sudo, time. */
export function skipPrefixes(words: string[]): number {
  let i = 0;
  while (i < words.length) {
    const word = words[i]!;
    if (_KEYWORDS.has(word) || /^[A-Za-z_][A-Za-z0-9_]*(\[[^\]]*\])?\+?=/.test(word)) {
      i++;
      continue;
    }
    const valued = _WRAPPERS[basename(word)];
    if (!valued) return i;
    const wrapper = basename(word);
    i++;
    while (i < words.length) {
      const flag = words[i]!;
      if (wrapper === "env" && /^[A-Za-z_][A-Za-z0-9_]*=/.test(flag)) i++;
      else if (flag === "--") {
        i++;
        break;
      } else if (flag.startsWith("-")) i += valued.has(flag) ? 2 : 1;
      else break;
    }
    // `timeout 60 cmd`: the duration comes before the command
    if (wrapper === "timeout" && i < words.length && /^\d/.test(words[i]!)) i++;
  }
  return i;
}
