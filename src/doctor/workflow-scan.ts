// Finds the seed's CI failure in a project's files: a `sep queue add` (or the old
// `sep_queue.sh -- CMD`) with no later `sep queue start` in the same workflow job, make target,
// npm script or pre-commit hook, which stores commands, runs none and shows green. Also finds calls
// of the old bash scripts. Pure functions over file text, plus a reader for discovery.
//
// The shell text is read by a small lexer, not by running it: quotes, comments, line continuations,
// heredocs, `$(…)`, `sh -c '…'` and redirections are understood; variables, functions, aliases and
// scripts called by path are not followed. docs/ci.md lists what that misses.
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node, type Scalar, type YAMLMap } from "yaml";

export type ScanStatus = "ok" | "warn" | "fail";

/** One problem found in one place. Paths are relative to the scanned root. */
export interface ScanProblem {
  status: Exclude<ScanStatus, "ok">;
  kind: "queue-not-started" | "old-script" | "parse-error";
  file: string;
  /** 1-based */
  line?: number;
  message: string;
  fix?: string;
}

/** What one kind of file contributed: how much was read, and what was wrong. */
export interface ScanSection {
  kind: "workflows" | "makefiles" | "package-json" | "pre-commit";
  files: string[];
  /** jobs, targets, scripts or hooks read */
  units: number;
  problems: ScanProblem[];
}

// ---------------------------------------------------------------------------------------------
// Shell text → simple commands

/** One simple command: its words with quotes removed, and the 0-based line its first word is on. */
export interface ShellCommand {
  words: string[];
  line: number;
}

const SHELLS = new Set(["sh", "bash", "dash", "zsh", "ksh", "ash", "mksh"]);

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
    const shell = _shellScriptOperand(words);
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
      const shell = _shellScriptOperand(doc.owner);
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
function _shellScriptOperand(words: string[]): { script?: string; file?: string; rest: string[] } | undefined {
  const start = _skipPrefixes(words);
  if (start >= words.length || !SHELLS.has(_basename(words[start]!))) return undefined;
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

function _basename(word: string): string {
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
function _skipPrefixes(words: string[]): number {
  let i = 0;
  while (i < words.length) {
    const word = words[i]!;
    if (_KEYWORDS.has(word) || /^[A-Za-z_][A-Za-z0-9_]*(\[[^\]]*\])?\+?=/.test(word)) {
      i++;
      continue;
    }
    const valued = _WRAPPERS[_basename(word)];
    if (!valued) return i;
    const wrapper = _basename(word);
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

// ---------------------------------------------------------------------------------------------
// What a command means for sep

/** sep's own queue, or the bash original's (they are different queues: one never drains the other). */
export type QueueFamily = "sep" | "legacy";

export type SepCall =
  | { kind: "add"; family: QueueFamily; text: string }
  | { kind: "start"; family: QueueFamily; text: string }
  | { kind: "make"; targets: string[] }
  | { kind: "npm"; script: string }
  | { kind: "other" };

export interface OldScriptCall {
  script: string;
  /** what to write instead */
  migration: string;
}

export interface ClassifiedCommand {
  call: SepCall;
  oldScript?: OldScriptCall;
}

/** The bash original's sep_queue.sh flags that take a value (ORIGINAL §2.1). */
const _LEGACY_VALUED = new Set(["--timeout", "--pipeline-timeout", "--memory-limit", "--log-dir"]);
const _LEGACY_BOOLEAN = new Set(["--verbose", "--no-atomify", "--dont_enforce_runners", "--only_verified", "--enable-second-tier"]);
const _LEGACY_MANAGEMENT: Record<string, string> = {
  "--queue-start": "sep queue start",
  "--queue-status": "sep queue status",
  "--queue-pause": "sep queue pause",
  "--queue-resume": "sep queue resume",
  "--queue-stop": "sep queue stop",
  "--clear-queue": "sep queue clear",
  "--close-queue": "sep queue pause",
  "--reopen-queue": "sep queue resume",
  "--help": "sep --help",
  "-h": "sep --help",
  "--version": "sep --version",
};

const _DIRECT_RUNNERS = new Set(["sep.sh", "wait_all.sh", "sep_wait_all.sh", "sequential-executor.sh", "sequential_queue.sh"]);
const _OTHER_SCRIPTS: Record<string, string> = {
  "sep_memory_monitor.sh": "remove it: every sep job has a memory limit for its whole process tree (`-m MB`, MEMORY_LIMIT_MB)",
  "sep_kill_orphans.sh": "remove it: sep kills a job's leftover processes itself, before the next job starts",
  "sep_monitor_queue.sh": "use `sep queue status` or `sep run watch`",
  "sep_installer.sh": "install sep with `curl -fsSL …/install.sh | sh`, then run `sep init` (`sep init --ci` in CI)",
  "install_sequential.sh": "install sep with `curl -fsSL …/install.sh | sh`, then run `sep init` (`sep init --ci` in CI)",
};

/** What a simple command does with sep's queue, whether it runs make or npm, and old-script use. */
export function classifyCommand(words: string[]): ClassifiedCommand {
  let start = _skipPrefixes(words);
  if (start >= words.length) return { call: { kind: "other" } };
  let name = _basename(words[start]!);
  // `bash scripts/sep_queue.sh -- x`, `. scripts/sep_common.sh`: the script is the command
  if (SHELLS.has(name) || name === "." || name === "source") {
    const shell = SHELLS.has(name) ? _shellScriptOperand(words.slice(start)) : { file: words[start + 1], rest: words.slice(start + 2) };
    if (shell?.file === undefined) return { call: { kind: "other" } };
    words = [shell.file, ...shell.rest];
    start = 0;
    name = _basename(shell.file);
  }
  const args = words.slice(start + 1);
  const text = words.slice(start).join(" ");

  if (name === "sep") return { call: _sepCall(args, text) };
  if (name === "make" || name === "gmake") return { call: _makeCall(args) };
  const npm = _npmScript(name, args);
  if (npm !== undefined) return { call: { kind: "npm", script: npm } };

  if (name === "sep_queue.sh") {
    const legacy = _legacyQueueCall(args, text);
    return { call: legacy.call, oldScript: { script: words[start]!, migration: legacy.migration } };
  }
  if (_DIRECT_RUNNERS.has(name)) {
    return {
      call: { kind: "other" },
      oldScript: { script: words[start]!, migration: "use `sep [OPTIONS] -- CMD`: like this script, it runs CMD at once (in its turn, inside sep's limits)" },
    };
  }
  const other = _OTHER_SCRIPTS[name];
  if (other || /^sep[_-][\w.-]*\.sh$/.test(name)) {
    return { call: { kind: "other" }, oldScript: { script: words[start]!, migration: other ?? "remove it: it belongs to the old bash scripts, and sep needs none of them" } };
  }
  return { call: { kind: "other" } };
}

/** `sep …`: queue add, queue start (also the legacy `--queue-start`), or anything else. */
function _sepCall(args: string[], text: string): SepCall {
  const dashes = args.indexOf("--");
  const head = dashes < 0 ? args : args.slice(0, dashes);
  if (head.includes("--help") || head.includes("-h")) return { kind: "other" };
  if (head.includes("--queue-start")) return { kind: "start", family: "sep", text };
  if (head[0] === "queue" && head[1] === "add") return { kind: "add", family: "sep", text };
  if (head[0] === "queue" && head[1] === "start") return { kind: "start", family: "sep", text };
  return { kind: "other" };
}

/**
 * `sep_queue.sh …` as the bash original parsed it: options, then the command (with or without
 * `--`), which it only *queued*; or one of its management flags.
 */
function _legacyQueueCall(args: string[], text: string): { call: SepCall; migration: string } {
  for (let i = 0; i < args.length; i++) {
    const word = args[i]!;
    const management = _LEGACY_MANAGEMENT[word];
    if (management) {
      const call: SepCall = word === "--queue-start" ? { kind: "start", family: "legacy", text } : { kind: "other" };
      const also = word === "--queue-start" ? " (sep also accepts `sep --queue-start`); it returns when the queue is empty" : "";
      return { call, migration: `use \`${management}\`${also}` };
    }
    if (_LEGACY_VALUED.has(word)) {
      i++;
      continue;
    }
    if (_LEGACY_BOOLEAN.has(word) || /^--(timeout|pipeline-timeout|memory-limit|log-dir)=/.test(word)) continue;
    if (word === "run") return { call: { kind: "other" }, migration: `use \`sep ${args.slice(i).join(" ")}\`` };
    // `--`, or the first word it did not recognise: the rest was queued
    return {
      call: { kind: "add", family: "legacy", text },
      migration:
        "use `sep [OPTIONS] -- CMD`, which runs CMD at once (sep_queue.sh only queued it, and ran it at `--queue-start`), " +
        "or `sep queue add -- CMD` followed by `sep queue start` in the same job",
    };
  }
  return { call: { kind: "other" }, migration: "use `sep --help`" };
}

/** `make a b`, `$(MAKE) -s a`: the targets, unless another directory or Makefile is named. */
function _makeCall(args: string[]): SepCall {
  const targets: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (/^(-C|-f|--directory|--file|--makefile)$/.test(arg) || /^(-C|-f)./.test(arg) || /^--(directory|file|makefile)=/.test(arg)) {
      return { kind: "other" };
    }
    if (/^(-I|-j|-l|-o|-W)$/.test(arg)) {
      i++;
      continue;
    }
    if (arg.startsWith("-") || arg.includes("=")) continue;
    targets.push(arg);
  }
  return { kind: "make", targets };
}

const _NPM_ALIASES: Record<string, string> = { test: "test", t: "test", tst: "test", start: "start", stop: "stop", restart: "restart" };

/** The package.json script an npm/yarn/pnpm/bun command runs, if any. */
function _npmScript(name: string, args: string[]): string | undefined {
  const positional = args.filter((arg) => !arg.startsWith("-"));
  const [first, second] = positional;
  if (first === undefined) return undefined;
  if (name === "npm") {
    if (first === "run" || first === "run-script" || first === "rum" || first === "urn") return second;
    return _NPM_ALIASES[first];
  }
  if (name === "yarn" || name === "pnpm") return first === "run" ? second : first;
  if (name === "bun") return first === "run" ? second : undefined;
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Units (jobs, targets, scripts, hooks) and what they leave unstarted

/** Something that happens, in order, when a unit runs. */
type _Event =
  | { type: "queue"; kind: "add" | "start"; family: QueueFamily; text: string; file: string; line: number }
  | { type: "call"; unit: string; line: number };

interface _Unit {
  /** key within its group: "job:lint", "target:test", "script:lint", "action:./x" */
  key: string;
  /** how a person says it: `job "lint"`, `make test`, `npm run lint` */
  label: string;
  file: string;
  line: number;
  /** can be run on its own (a job, a target), as opposed to only through another unit */
  entry: boolean;
  events: _Event[];
}

/** Units read from the files of one kind; calls between them resolve within the group. */
interface _Group {
  kind: ScanSection["kind"];
  /** "all": every entry runs (workflow jobs, hooks); "any": a person picks one (make, npm) */
  entries: "all" | "any";
  units: Map<string, _Unit>;
  oldScripts: { file: string; line: number; call: OldScriptCall }[];
}

function _newGroup(kind: ScanSection["kind"], entries: _Group["entries"]): _Group {
  return { kind, entries, units: new Map(), oldScripts: [] };
}

/** Append the events of a piece of shell text to a unit; lineOf maps the text's lines to the file's. */
function _addScript(group: _Group, unit: _Unit, script: string, lineOf: (index: number) => number, resolveCall: (call: SepCall) => string[]): void {
  for (const command of shellCommands(script)) {
    const line = lineOf(command.line);
    const { call, oldScript } = classifyCommand(command.words);
    if (oldScript) group.oldScripts.push({ file: unit.file, line, call: oldScript });
    if (call.kind === "add" || call.kind === "start") {
      unit.events.push({ type: "queue", kind: call.kind, family: call.family, text: call.text, file: unit.file, line });
    }
    for (const key of resolveCall(call)) unit.events.push({ type: "call", unit: key, line });
  }
}

interface _PendingAdd {
  event: Extract<_Event, { type: "queue" }>;
  /** a start of the other family came later (it drains a different queue) */
  otherStartLater?: string;
}

/** Run a unit in the mind: its events with calls inlined; the adds no start of their family followed. */
function _pendingAdds(group: _Group, unit: _Unit): _PendingAdd[] {
  const pending: Record<QueueFamily, _PendingAdd[]> = { sep: [], legacy: [] };
  const walk = (current: _Unit, stack: string[]) => {
    for (const event of current.events) {
      if (event.type === "call") {
        const callee = group.units.get(event.unit);
        if (callee && !stack.includes(callee.key)) walk(callee, [...stack, callee.key]);
        continue;
      }
      if (event.kind === "add") {
        pending[event.family].push({ event });
        continue;
      }
      pending[event.family] = [];
      const other: QueueFamily = event.family === "sep" ? "legacy" : "sep";
      for (const add of pending[other]) add.otherStartLater ??= event.text;
    }
  };
  walk(unit, [unit.key]);
  return [...pending.sep, ...pending.legacy].sort((a, b) => (a.event.file === b.event.file ? a.event.line - b.event.line : a.event.file < b.event.file ? -1 : 1));
}

const _addId = (event: _PendingAdd["event"]) => `${event.file}:${event.line}:${event.text}`;

/** The problems of one group: unstarted adds per entry unit, and old-script calls per file and script. */
function _groupProblems(group: _Group): ScanProblem[] {
  const problems: ScanProblem[] = [];
  const entries = [...group.units.values()].filter((unit) => unit.entry);
  const pendingByEntry = new Map(entries.map((unit) => [unit.key, _pendingAdds(group, unit)]));
  // In "any" groups an add another entry starts (`make ci` runs lint's queued jobs) is a warning.
  const startedSomewhere = new Map<string, string>();
  if (group.entries === "any") {
    for (const unit of entries) {
      const pendingIds = new Set((pendingByEntry.get(unit.key) ?? []).map((p) => _addId(p.event)));
      for (const add of _allAdds(group, unit)) {
        if (!pendingIds.has(_addId(add))) startedSomewhere.set(_addId(add), unit.label);
      }
    }
  }
  for (const unit of entries) {
    const pending = pendingByEntry.get(unit.key) ?? [];
    if (pending.length === 0) continue;
    const first = pending[0]!.event;
    const startedBy = pending.map((p) => startedSomewhere.get(_addId(p.event))).find((label) => label !== undefined);
    const warn = startedBy !== undefined && pending.every((p) => startedSomewhere.has(_addId(p.event)));
    const sameFile = pending.every((p) => p.event.file === first.file);
    const where = sameFile ? `lines ${pending.map((p) => p.event.line).join(", ")}` : pending.map((p) => `${p.event.file}:${p.event.line}`).join(", ");
    const family = first.family;
    const startWord = family === "sep" ? "`sep queue start`" : "`sep_queue.sh --queue-start`";
    const queued = pending.length === 1 ? `queues \`${_short(first.text)}\`` : `queues ${pending.length} commands (${where})`;
    const mismatch = pending.find((p) => p.otherStartLater)?.otherStartLater;
    let message = `${unit.label}${unit.file === first.file ? "" : ` (${unit.file}:${unit.line})`} ${queued} but never runs ${startWord} after it`;
    if (mismatch) message += `; the later \`${_short(mismatch)}\` drains ${family === "sep" ? "the old script's queue" : "sep's queue"}, not this one`;
    message += warn ? ` when run on its own (${startedBy} starts them)` : group.kind === "workflows" ? ": nothing queued runs, and the job still passes" : ": nothing queued runs";
    problems.push({
      status: warn ? "warn" : "fail",
      kind: "queue-not-started",
      file: first.file,
      line: first.line,
      message,
      fix:
        family === "legacy"
          ? "run each command with `sep -- CMD` instead of `sep_queue.sh -- CMD` (sep runs it at once), or queue with `sep queue add -- CMD` and run `sep queue start` after the last one" +
            (group.kind === "workflows" ? " in this job" : ` in ${unit.label}`)
          : group.kind === "workflows"
            ? "add `sep queue start` after the last `queue add` in this job (each job is a fresh runner), or run the command directly with `sep -- …`"
            : `add \`sep queue start\` after the last \`queue add\` in ${unit.label}, or run the command directly with \`sep -- …\``,
    });
  }
  problems.push(..._oldScriptProblems(group));
  return _byPlace(problems);
}

/** Problems in file and line order (stable: at one place, the failure before the warning). */
function _byPlace(problems: ScanProblem[]): ScanProblem[] {
  return problems.sort((a, b) => (a.file === b.file ? (a.line ?? 0) - (b.line ?? 0) : a.file < b.file ? -1 : 1));
}

function _allAdds(group: _Group, unit: _Unit): _PendingAdd["event"][] {
  const adds: _PendingAdd["event"][] = [];
  const walk = (current: _Unit, stack: string[]) => {
    for (const event of current.events) {
      if (event.type === "queue" && event.kind === "add") adds.push(event);
      if (event.type !== "call") continue;
      const callee = group.units.get(event.unit);
      if (callee && !stack.includes(callee.key)) walk(callee, [...stack, callee.key]);
    }
  };
  walk(unit, [unit.key]);
  return adds;
}

/** One warning per file and script, listing its lines. */
function _oldScriptProblems(group: _Group): ScanProblem[] {
  const byKey = new Map<string, { file: string; script: string; lines: number[]; migrations: string[] }>();
  for (const { file, line, call } of group.oldScripts) {
    const key = `${file}\0${_basename(call.script)}`;
    const entry = byKey.get(key) ?? { file, script: _basename(call.script), lines: [], migrations: [] };
    if (!entry.lines.includes(line)) entry.lines.push(line);
    if (!entry.migrations.includes(call.migration)) entry.migrations.push(call.migration);
    byKey.set(key, entry);
  }
  return [...byKey.values()].map((entry) => ({
    status: "warn" as const,
    kind: "old-script" as const,
    file: entry.file,
    line: entry.lines[0],
    message: `calls the old ${entry.script}${entry.lines.length > 1 ? ` (lines ${entry.lines.join(", ")})` : ""}`,
    fix: entry.migrations.join("; "),
  }));
}

function _short(text: string): string {
  const flat = text.replace(/\s+/g, " ");
  return flat.length > 60 ? `${flat.slice(0, 59)}…` : flat;
}

// ---------------------------------------------------------------------------------------------
// Reading files

/** Read access to a project, by paths relative to its root ("" is the root). */
export interface ProjectReader {
  /** the entries of a directory, or [] when it is missing or unreadable */
  list(dir: string): { name: string; isDir: boolean }[];
  /** a file's text, or undefined when it is missing, unreadable or not a regular file */
  read(path: string): string | undefined;
}

function _join(dir: string, name: string): string {
  return dir === "" ? name : `${dir}/${name}`;
}

/** The first line of a parser message, without the code excerpt `yaml` appends. */
function _firstLine(message: string): string {
  return message.split("\n")[0]!.trim();
}

function _parseYaml(file: string, text: string, refusedBy: string): { doc: Document.Parsed; lines: LineCounter } | ScanProblem {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false, merge: true });
  const error = doc.errors[0];
  if (error) {
    return {
      status: "fail",
      kind: "parse-error",
      file,
      line: lines.linePos(error.pos[0]).line,
      message: `is not valid YAML: ${_firstLine(error.message)}`,
      fix: `fix the YAML: as it is, ${refusedBy}`,
    };
  }
  return { doc, lines };
}

function _resolve(doc: Document.Parsed, node: unknown): unknown {
  return isAlias(node) ? node.resolve(doc) : node;
}

/** map[key], following aliases and `<<: *anchor` merge keys (a job may borrow another's steps). */
function _get(doc: Document.Parsed, map: unknown, key: string, depth = 0): unknown {
  const resolved = _resolve(doc, map);
  if (!isMap(resolved)) return undefined;
  const direct = resolved.get(key, true);
  if (direct !== undefined || depth > 8) return _resolve(doc, direct);
  for (const pair of resolved.items) {
    // with `merge: true` the parser keys a merge with a symbol described "<<"
    const mergeKey = isScalar(pair.key) && (pair.key.value === "<<" || (typeof pair.key.value === "symbol" && pair.key.value.description === "<<"));
    if (!mergeKey) continue;
    const source = _resolve(doc, pair.value);
    for (const item of isSeq(source) ? source.items : [source]) {
      const found = _get(doc, item, key, depth + 1);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

function _lineOfNode(lines: LineCounter, node: unknown): number {
  const range = (node as Node | undefined)?.range;
  return range ? lines.linePos(range[0]).line : 1;
}

/**
 * A scalar holding shell text, and where each of its lines is in the file: a literal block (`|`)
 * keeps one line per line, starting below its header; any other scalar maps to the line it starts on.
 */
function _scriptOf(lines: LineCounter, node: unknown): { text: string; lineOf: (index: number) => number } | undefined {
  if (!isScalar(node) || node.value === null || node.value === undefined) return undefined;
  const text = String(node.value);
  const start = _lineOfNode(lines, node);
  if ((node as Scalar).type === "BLOCK_LITERAL") return { text, lineOf: (index) => start + 1 + index };
  // a folded block (`>`) joins its lines, so only its first line is known
  if ((node as Scalar).type === "BLOCK_FOLDED") return { text, lineOf: () => start + 1 };
  return { text, lineOf: () => start };
}

// Workflows and local composite actions -------------------------------------------------------

const _WORKFLOW_DIR = ".github/workflows";

export function scanWorkflows(reader: ProjectReader): ScanSection {
  const group = _newGroup("workflows", "all");
  const problems: ScanProblem[] = [];
  const files = reader
    .list(_WORKFLOW_DIR)
    .filter((entry) => !entry.isDir && /\.ya?ml$/.test(entry.name))
    .map((entry) => _join(_WORKFLOW_DIR, entry.name))
    .sort();
  const read: string[] = [];
  for (const file of files) {
    const text = reader.read(file);
    if (text === undefined) continue;
    read.push(file);
    const parsed = _parseYaml(file, text, "GitHub will not run this workflow");
    if ("kind" in parsed) {
      problems.push(parsed);
      continue;
    }
    const { doc, lines } = parsed;
    const jobs = _get(doc, doc.contents, "jobs");
    if (!isMap(jobs)) continue;
    const workflowShell = _get(doc, _get(doc, _get(doc, doc.contents, "defaults"), "run"), "shell");
    for (const pair of (jobs as YAMLMap).items) {
      const id = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      const job = _resolve(doc, pair.value);
      const unit: _Unit = { key: `job:${file}:${id}`, label: `job "${id}"`, file, line: _lineOfNode(lines, pair.key), entry: true, events: [] };
      const jobShell = _get(doc, _get(doc, _get(doc, job, "defaults"), "run"), "shell") ?? workflowShell;
      _addSteps(group, unit, reader, doc, lines, _get(doc, job, "steps"), jobShell, [file]);
      group.units.set(unit.key, unit);
    }
  }
  problems.push(..._groupProblems(group));
  return { kind: "workflows", files: read, units: [...group.units.values()].filter((u) => u.entry).length, problems: _byPlace(problems) };
}

/** Each step's `run:` in order; a step that uses a local composite action inlines that action's steps. */
function _addSteps(group: _Group, unit: _Unit, reader: ProjectReader, doc: Document.Parsed, lines: LineCounter, steps: unknown, inheritedShell: unknown, seen: string[]): void {
  if (!isSeq(steps)) return;
  for (const item of steps.items) {
    const step = _resolve(doc, item);
    const shell = _get(doc, step, "shell") ?? inheritedShell;
    // Only shell text is read: a `shell: python` step's script is Python.
    const shellName = isScalar(shell) ? String(shell.value) : "bash";
    const script = _scriptOf(lines, _get(doc, step, "run"));
    if (script && !/^(python|pwsh|powershell|cmd)\b/.test(shellName)) {
      _addScript(group, unit, script.text, script.lineOf, () => []);
    }
    const uses = _get(doc, step, "uses");
    if (isScalar(uses) && typeof uses.value === "string" && uses.value.startsWith("./")) {
      const key = _addLocalAction(group, reader, uses.value.slice(2).replace(/\/+$/, ""), seen);
      if (key) unit.events.push({ type: "call", unit: key, line: _lineOfNode(lines, uses) });
    }
  }
}

/** Read `./path/action.yml` as a unit (not an entry: it runs only inside the jobs that use it). */
function _addLocalAction(group: _Group, reader: ProjectReader, dir: string, seen: string[]): string | undefined {
  const key = `action:${dir}`;
  if (group.units.has(key)) return key;
  if (seen.includes(key)) return undefined;
  for (const name of ["action.yml", "action.yaml"]) {
    const file = _join(dir, name);
    const text = reader.read(file);
    if (text === undefined) continue;
    const parsed = _parseYaml(file, text, "GitHub cannot use this action");
    if ("kind" in parsed) return undefined;
    const { doc, lines } = parsed;
    const unit: _Unit = { key, label: `action ./${dir}`, file, line: 1, entry: false, events: [] };
    const runs = _get(doc, doc.contents, "runs");
    _addSteps(group, unit, reader, doc, lines, _get(doc, runs, "steps"), undefined, [...seen, key]);
    group.units.set(key, unit);
    return key;
  }
  return undefined;
}

// Makefiles -------------------------------------------------------------------------------------

const _SKIP_DIRS = new Set(["node_modules", ".git", "dist", "build", "target", "vendor", "venv", ".venv", "logs", ".sequential-locks", "__pycache__", "coverage"]);
const _MAX_DEPTH = 3;
/** Directories listed at most: doctor run in a home directory must not walk all of it. */
const _MAX_DIRS = 2000;

/** Files whose name passes the test, from the root down a few levels, skipping dependencies and builds. */
function _findFiles(reader: ProjectReader, test: (name: string) => boolean): string[] {
  const found: string[] = [];
  let listed = 0;
  const walk = (dir: string, depth: number) => {
    if (++listed > _MAX_DIRS) return;
    for (const entry of reader.list(dir).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const path = _join(dir, entry.name);
      if (entry.isDir) {
        if (depth < _MAX_DEPTH && !_SKIP_DIRS.has(entry.name) && !entry.name.startsWith(".")) walk(path, depth + 1);
      } else if (test(entry.name)) {
        found.push(path);
      }
    }
  };
  walk("", 0);
  return found;
}

const _isMakefile = (name: string) => name === "Makefile" || name === "makefile" || name === "GNUmakefile" || name.endsWith(".mk");

export function scanMakefiles(reader: ProjectReader): ScanSection {
  const files = _findFiles(reader, _isMakefile);
  // A directory's Makefile and its *.mk includes share one set of targets.
  const byDir = new Map<string, string[]>();
  for (const file of files) {
    const dir = file.includes("/") ? file.slice(0, file.lastIndexOf("/")) : "";
    byDir.set(dir, [...(byDir.get(dir) ?? []), file]);
  }
  const problems: ScanProblem[] = [];
  const read: string[] = [];
  let units = 0;
  for (const dirFiles of byDir.values()) {
    const group = _newGroup("makefiles", "any");
    const parsed = dirFiles.flatMap((file) => {
      const text = reader.read(file);
      if (text === undefined) return [];
      read.push(file);
      return [{ file, make: parseMakefile(text) }];
    });
    const variables = new Map<string, string>();
    for (const { make } of parsed) for (const [name, value] of make.variables) variables.set(name, value);
    for (const { file, make } of parsed) {
      for (const target of make.targets) {
        const key = `target:${target.name}`;
        const unit = group.units.get(key) ?? { key, label: `make ${target.name}`, file, line: target.line, entry: true, events: [] };
        for (const prerequisite of target.prerequisites) unit.events.push({ type: "call", unit: `target:${prerequisite}`, line: target.line });
        const script = target.recipe.map((line) => _expandMake(line.text, variables)).join("\n");
        _addScript(group, unit, script, (index) => target.recipe[index]?.line ?? target.line, (call) =>
          call.kind === "make" ? call.targets.map((name) => `target:${name}`) : [],
        );
        group.units.set(key, unit);
      }
    }
    units += group.units.size;
    problems.push(..._groupProblems(group));
  }
  return { kind: "makefiles", files: read, units, problems: _byPlace(problems) };
}

export interface MakeTarget {
  name: string;
  line: number;
  prerequisites: string[];
  /** one entry per physical recipe line (recipe prefix and leading @, -, + removed) */
  recipe: { text: string; line: number }[];
}

/** Targets, their prerequisites and recipes, and simple variable assignments, from Makefile text. */
export function parseMakefile(text: string): { targets: MakeTarget[]; variables: Map<string, string> } {
  const lines = text.split(/\r?\n/);
  const targets: MakeTarget[] = [];
  const variables = new Map<string, string>();
  let current: MakeTarget[] = [];
  let continuing = false;
  let inDefine = false;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    // A multi-line variable (define … endef) holds text, not rules.
    if (inDefine) {
      if (/^\s*endef\b/.test(raw)) inDefine = false;
      continue;
    }
    if (/^\s*(?:export\s+|override\s+)?define\s/.test(raw)) {
      inDefine = true;
      continue;
    }
    // Conditionals may sit between recipe lines without ending the recipe.
    if (/^\s*(ifeq|ifneq|ifdef|ifndef|else|endif)\b/.test(raw)) continue;
    if (raw.startsWith("\t") && (current.length > 0 || continuing)) {
      // A recipe line (or the continuation of one): make strips the tab, and @ - + at its start.
      const body = continuing ? raw.slice(1) : raw.slice(1).replace(/^[@+\- \t]+/, "");
      for (const target of current) target.recipe.push({ text: body, line: i + 1 });
      continuing = /(^|[^\\])(\\\\)*\\$/.test(raw);
      continue;
    }
    continuing = false;
    // Non-recipe lines may continue with a backslash too.
    let logical = raw;
    const start = i;
    while (/\\$/.test(logical) && i + 1 < lines.length) logical = `${logical.slice(0, -1)} ${lines[++i]!}`;
    const stripped = logical.replace(/(^|[^\\])#.*$/, "$1");
    if (stripped.trim() === "") continue;
    const assignment = /^\s*(?:export\s+|override\s+)?([A-Za-z_][\w.-]*)\s*(:{1,3}=|\?=|\+=|!=|=)\s*(.*)$/.exec(stripped);
    if (assignment) {
      const [, name, op, value] = assignment as unknown as [string, string, string, string];
      variables.set(name, op === "+=" ? `${variables.get(name) ?? ""} ${value}`.trim() : value.trim());
      current = [];
      continue;
    }
    const rule = /^([^:=#\t][^:=#]*?)\s*(::?)(?!=)\s*(.*)$/.exec(stripped);
    if (!rule || stripped.startsWith("\t")) {
      current = [];
      continue;
    }
    const [, names, , rest] = rule as unknown as [string, string, string, string];
    const semicolon = rest.indexOf(";");
    const prerequisites = (semicolon < 0 ? rest : rest.slice(0, semicolon))
      .split(/\s+/)
      .filter((word) => word !== "" && word !== "|" && !word.includes("="));
    current = names
      .split(/\s+/)
      .filter((name) => name !== "" && !name.startsWith("."))
      .map((name) => ({ name, line: start + 1, prerequisites, recipe: [] }));
    if (semicolon >= 0) for (const target of current) target.recipe.push({ text: rest.slice(semicolon + 1), line: start + 1 });
    targets.push(...current);
  }
  return { targets, variables };
}

/** Expand $(VAR) and ${VAR} from the file's own assignments; $$ is a shell $; the rest becomes a word. */
function _expandMake(text: string, variables: Map<string, string>, depth = 0): string {
  return text.replace(/\$\$|\$\(([^()]*)\)|\$\{([^{}]*)\}|\$[@<^?*%+|]/g, (match, paren?: string, brace?: string) => {
    if (match === "$$") return "$";
    const name = (paren ?? brace ?? "").trim();
    if (name === "MAKE") return "make";
    const value = variables.get(name);
    if (value !== undefined && depth < 5) return _expandMake(value, variables, depth + 1);
    return "MAKEVAR";
  });
}

// package.json scripts -------------------------------------------------------------------------

const _isPackageJson = (name: string) => name === "package.json";

export function scanPackageJson(reader: ProjectReader): ScanSection {
  const problems: ScanProblem[] = [];
  const read: string[] = [];
  let units = 0;
  for (const file of _findFiles(reader, _isPackageJson)) {
    const text = reader.read(file);
    if (text === undefined) continue;
    read.push(file);
    let scripts: unknown;
    try {
      scripts = (JSON.parse(text) as { scripts?: unknown }).scripts;
    } catch (error) {
      problems.push({ status: "fail", kind: "parse-error", file, message: `is not valid JSON: ${_firstLine((error as Error).message)}`, fix: "fix the JSON (npm refuses the file as it is)" });
      continue;
    }
    if (typeof scripts !== "object" || scripts === null) continue;
    // JSON is YAML too: its node ranges give each script's line.
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: false });
    const scriptsNode = doc.errors.length === 0 ? _get(doc, doc.contents, "scripts") : undefined;
    const lineOfScript = (name: string) => {
      if (!isMap(scriptsNode)) return 1;
      const pair = scriptsNode.items.find((item) => isScalar(item.key) && item.key.value === name);
      return pair ? _lineOfNode(lines, pair.key) : 1;
    };
    const group = _newGroup("package-json", "any");
    const names = Object.keys(scripts);
    for (const [name, script] of Object.entries(scripts as Record<string, unknown>)) {
      if (typeof script !== "string") continue;
      const line = lineOfScript(name);
      // npm runs preX before X and postX after it; they are not run on their own.
      const hook = /^(pre|post)(.+)$/.exec(name);
      const unit: _Unit = { key: `script:${name}`, label: `npm run ${name}`, file, line, entry: !(hook && names.includes(hook[2]!)), events: [] };
      if (names.includes(`pre${name}`)) unit.events.push({ type: "call", unit: `script:pre${name}`, line });
      _addScript(group, unit, script, () => line, (call) => (call.kind === "npm" ? [`script:${call.script}`] : []));
      if (names.includes(`post${name}`)) unit.events.push({ type: "call", unit: `script:post${name}`, line });
      group.units.set(unit.key, unit);
    }
    units += group.units.size;
    problems.push(..._groupProblems(group));
  }
  return { kind: "package-json", files: read, units, problems: _byPlace(problems) };
}

// pre-commit hooks ------------------------------------------------------------------------------

const _PRE_COMMIT = ".pre-commit-config.yaml";

export function scanPreCommit(reader: ProjectReader): ScanSection {
  const text = reader.read(_PRE_COMMIT);
  if (text === undefined) return { kind: "pre-commit", files: [], units: 0, problems: [] };
  const parsed = _parseYaml(_PRE_COMMIT, text, "pre-commit refuses to run any hook");
  if ("kind" in parsed) return { kind: "pre-commit", files: [_PRE_COMMIT], units: 0, problems: [parsed] };
  const { doc, lines } = parsed;
  const group = _newGroup("pre-commit", "all");
  const repos = _get(doc, doc.contents, "repos");
  let n = 0;
  for (const repo of isSeq(repos) ? repos.items : []) {
    const hooks = _get(doc, repo, "hooks");
    for (const item of isSeq(hooks) ? hooks.items : []) {
      const hook = _resolve(doc, item);
      const entry = _get(doc, hook, "entry");
      if (!isScalar(entry) || typeof entry.value !== "string") continue;
      const id = _get(doc, hook, "id");
      const name = isScalar(id) ? String(id.value) : `#${++n}`;
      const line = _lineOfNode(lines, entry);
      // pre-commit runs entry (split like a shell would), then args, then the file names.
      const argsNode = _get(doc, hook, "args");
      const args = isSeq(argsNode) ? argsNode.items.map((arg) => (isScalar(arg) ? `'${String(arg.value).replace(/'/g, "'\\''")}'` : "")) : [];
      const unit: _Unit = { key: `hook:${name}:${line}`, label: `hook "${name}"`, file: _PRE_COMMIT, line, entry: true, events: [] };
      _addScript(group, unit, [entry.value.replace(/\n/g, " "), ...args].join(" "), () => line, () => []);
      group.units.set(unit.key, unit);
    }
  }
  return { kind: "pre-commit", files: [_PRE_COMMIT], units: group.units.size, problems: _groupProblems(group) };
}

/** Every scan, in the order doctor reports them. */
export const SCANS: readonly { kind: ScanSection["kind"]; scan: (reader: ProjectReader) => ScanSection }[] = [
  { kind: "workflows", scan: scanWorkflows },
  { kind: "makefiles", scan: scanMakefiles },
  { kind: "package-json", scan: scanPackageJson },
  { kind: "pre-commit", scan: scanPreCommit },
];
