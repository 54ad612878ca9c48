// Entry point: split argv at the first "--", dispatch, and turn every SepError into a message on
// stderr and its exit code. Everything after "--" is the command's argv, byte for byte.
import { VERSION } from "./version.ts";

const HELP_FLAGS = new Set(["--help", "-h"]);

async function cli(raw: string[]): Promise<number> {
  const split = raw.indexOf("--");
  const head = split < 0 ? raw : raw.slice(0, split);
  const command = split < 0 ? undefined : raw.slice(split + 1);

  if (head.length === 1 && (head[0] === "--version" || head[0] === "-V")) {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }

  const { main, subCommands } = await import("./main.ts");
  const first = head[0];
  if (first && Object.hasOwn(subCommands, first)) {
    const { runCommand, renderUsage } = await import("citty");
    const sub = await subCommands[first]!();
    if (head.slice(1).some((t) => HELP_FLAGS.has(t))) {
      const usage = await renderUsage(sub, main);
      process.stdout.write(`${process.stdout.isTTY ? usage : stripAnsi(usage)}\n`);
      return 0;
    }
    const result = await runCommand(sub, { rawArgs: head.slice(1), data: { command } });
    return typeof result.result === "number" ? result.result : 0;
  }

  if (head.some((t) => HELP_FLAGS.has(t)) || (head.length === 0 && command === undefined)) {
    const { renderUsage } = await import("citty");
    // citty colours its usage even into a pipe; keep escapes for terminals only.
    const stream = head.length === 0 ? process.stderr : process.stdout;
    const usage = stream.isTTY ? await renderUsage(main) : stripAnsi(await renderUsage(main));
    stream.write(`${usage}\n`);
    return head.length === 0 ? 2 : 0;
  }

  const exec = await import("./commands/exec.ts");
  return exec.runFromCli(head, command);
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

async function report(error: unknown): Promise<number> {
  const { SepError } = await import("./errors.ts");
  const { logger } = await import("./logger.ts");
  if (error instanceof SepError) {
    logger.error(error.message);
    if (error.hint) logger.info(error.hint);
    return error.exitCode;
  }
  const { CLIError } = (await import("citty")) as { CLIError?: new () => Error };
  if (CLIError && error instanceof CLIError) {
    logger.error((error as Error).message);
    return 2;
  }
  logger.error(`internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  return 1;
}

await run();
