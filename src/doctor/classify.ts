// What a simple command means for sep: a queue add or start (sep's, or the old sep_queue.sh's), a
// make or npm/yarn/pnpm/bun call, or a call of one of the old bash scripts (with its migration).
import { basename, SHELLS, shellScriptOperand, skipPrefixes } from "../shell.ts";

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
  let start = skipPrefixes(words);
  if (start >= words.length) return { call: { kind: "other" } };
  let name = basename(words[start]!);
  // `bash scripts/sep_queue.sh -- x`, `. scripts/sep_common.sh`: the script is the command
  if (SHELLS.has(name) || name === "." || name === "source") {
    const shell = SHELLS.has(name) ? shellScriptOperand(words.slice(start)) : { file: words[start + 1], rest: words.slice(start + 2) };
    if (shell?.file === undefined) return { call: { kind: "other" } };
    words = [shell.file, ...shell.rest];
    start = 0;
    name = basename(shell.file);
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
