// Entry point: split argv at the first "--", dispatch, and turn every SepError into a message on
// stderr (and, under --json, an error object on stdout) and its exit code. Everything after "--" is
// the command's argv, byte for byte.
import type { CommandDef } from "citty";
import { writeStdout } from "./output.ts";
import { VERSION } from "./version.ts";

const HELP_FLAGS = new Set(["--help", "-h"]);

/** How a failure is reported, learnt while dispatching: under --json, also as JSON on stdout. */
const failureOutput = { json: false, where: "sep" };

async function cli(raw: string[]): Promise<number> {
  const split = raw.indexOf("--");
  const head = split < 0 ? raw : raw.slice(0, split);
  const command = split < 0 ? undefined : raw.slice(split + 1);

  if (head.length === 1 && (head[0] === "--version" || head[0] === "-V")) {
    await writeStdout(`${VERSION}\n`);
    return 0;
  }

  // Claude Code runs the agent hook before every Bash call: straight to it, past citty and the logger.
  if (command === undefined && head.length === 3 && head[0] === "agent" && head[1] === "hook" && head[2] === "claude") {
    failureOutput.where = "sep agent hook";
    return (await import("./commands/agent/hook.ts")).runClaudeHook();
  }

  // The logger is where the core's notices are worded: loaded before anything can emit one.
  await import("./logger.ts");
  // One job waits at a time here, with nothing else to do meanwhile: its waits may sleep in the kernel.
  (await import("./core/turn/waker.ts")).letWaitsBlock();
  const { main, subCommands } = await import("./main.ts");
  const words = legacySpelling(head);
  const first = words[0];
  if (first && Object.hasOwn(subCommands, first)) {
    return runSubcommand(main, await subCommands[first]!(), words.slice(1), command, `sep ${first}`);
  }

  if (head.some((t) => HELP_FLAGS.has(t)) || (head.length === 0 && command === undefined)) {
    const { renderUsage } = await import("citty");
    // citty colours its usage even into a pipe; keep escapes for terminals only.
    const toStdout = head.length > 0;
    const usage = (toStdout ? process.stdout : process.stderr).isTTY ? await renderUsage(main) : stripAnsi(await renderUsage(main));
    if (toStdout) await writeStdout(`${usage}\n`);
    else (await import("./logger.ts")).writeStderr(`${usage}\n`);
    return toStdout ? 0 : 2;
  }

  const exec = await import("./commands/exec.ts");
  return exec.runFromCli(head, command);
}

/**
 * The bash original's flags, so old workflows migrate by renaming the script. (There,
 * `sep_queue.sh -- CMD` only queued; `sep -- CMD` runs it at once, so a trailing `--queue-start`
 * finds nothing left to do: correct either way, never green without running anything.)
 */
const LEGACY: Record<string, string[]> = {
  "--queue-start": ["queue", "start"],
  "--queue-status": ["queue", "status"],
  "--queue-pause": ["queue", "pause"],
  "--queue-resume": ["queue", "resume"],
  "--queue-stop": ["queue", "stop"],
  "--clear-queue": ["queue", "clear"],
};

/** The subcommands that take a command after "--"; any other refuses one rather than drop it. */
const TAKES_COMMAND = new Set(["sep queue add", "sep plan"]);

function legacySpelling(head: string[]): string[] {
  const index = head.findIndex((word) => Object.hasOwn(LEGACY, word));
  if (index < 0) return head;
  return [...LEGACY[head[index]!]!, ...head.slice(0, index), ...head.slice(index + 1)];
}

/**
 * Walk down nested subcommands (`queue add`, `run view`), check the leaf's flags strictly, and run
 * it with the command after "--" as data. The leaf's return value is sep's exit code.
 */
async function runSubcommand(main: CommandDef<any>, group: CommandDef<any>, words: string[], command: string[] | undefined, path: string): Promise<number> {
  const { renderUsage, runCommand } = await import("citty");
  let parent: CommandDef<any> = main;
  let leaf: CommandDef<any> = group;
  let rest = words;
  for (;;) {
    const children = (await resolve(leaf.subCommands)) as Record<string, Resolvable<CommandDef>> | undefined;
    const name = rest[0];
    if (!children) break;
    if (!name || !Object.hasOwn(children, name)) {
      const usage = `${stripAnsi(await renderUsage(leaf, parent))}\n`;
      if (rest.some((t) => HELP_FLAGS.has(t))) {
        await writeStdout(usage);
        return 0;
      }
      (await import("./logger.ts")).writeStderr(usage);
      const { UsageError } = await import("./errors.ts");
      throw new UsageError(name ? `unknown command ${path} ${name}` : `${path} needs a subcommand`, `see \`${path} --help\``);
    }
    parent = leaf;
    leaf = await resolve(children[name]!);
    path = `${path} ${name}`;
    rest = rest.slice(1);
  }
  failureOutput.where = path;
  const leafArgs = (await resolve(leaf.args)) ?? {};
  // Before the flags are checked, so a bad flag next to --json is answered in JSON too.
  failureOutput.json = Object.hasOwn(leafArgs, "json") && rest.includes("--json");
  if (rest.some((t) => HELP_FLAGS.has(t))) {
    const usage = await renderUsage(leaf, parent);
    await writeStdout(`${process.stdout.isTTY ? usage : stripAnsi(usage)}\n`);
    return 0;
  }
  if (command !== undefined && !TAKES_COMMAND.has(path)) {
    const { UsageError } = await import("./errors.ts");
    throw new UsageError(`${path} takes no command after "--"`, `to run it: sep [OPTIONS] -- ${command.join(" ")}; to store it: sep queue add -- …`);
  }
  const { parseFlags } = await import("./commands/args.ts");
  failureOutput.json = parseFlags(rest, leafArgs, path).values.json === true;
  const result = await runCommand(leaf, { rawArgs: rest, data: { command, path } });
  return typeof result.result === "number" ? result.result : 0;
}

type Resolvable<T> = T | Promise<T> | (() => T) | (() => Promise<T>);

async function resolve<T>(value: Resolvable<T>): Promise<T> {
  return typeof value === "function" ? await (value as () => T | Promise<T>)() : await value;
}

function stripAnsi(text: string): string {
  return text.replace(/\x1b\[[0-9;]*m/g, "");
}

async function run(): Promise<void> {
  let code: number;
  try {
    code = await cli(process.argv.slice(2));
  } catch (error) {
    code = await report(error);
  }
  process.exit(code);
}

/** The one place a failure is worded: the error line and its hint (never hidden by -q), its exit code. */
async function report(error: unknown): Promise<number> {
  const { errorJson, errorReport, formatError, UsageError } = await import("./errors.ts");
  const { writeStderr } = await import("./logger.ts");
  const { CLIError } = (await import("citty")) as { CLIError?: new () => Error };
  const { where } = failureOutput;
  const failure = errorReport(CLIError && error instanceof CLIError ? new UsageError((error as Error).message, `see \`${where} --help\``) : error);
  // Exit 2 from a PreToolUse hook blocks the agent's tool call: a broken hook command must not.
  if (where === "sep agent hook" && failure.exitCode === 2) failure.exitCode = 1;
  writeStderr(formatError(failure, { colour: process.stderr.isTTY === true && !process.env.NO_COLOR }));
  if (failureOutput.json) {
    const { tryWriteStdout } = await import("./output.ts");
    // A reader that went away gets nothing; the exit code still tells the failure.
    await tryWriteStdout(errorJson(failure));
  }
  return failure.exitCode;
}

await run();
