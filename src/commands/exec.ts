// `sep [OPTIONS] -- COMMAND [ARGS...]`: run one command when its turn comes.
import { UsageError } from "../errors.ts";
import { installInterruptHandlers } from "../core/interrupts.ts";
import { runNow } from "../core/run-now.ts";
import { parseFlags, parseMegabytes, parseSeconds } from "./args.ts";
import { loadConfig, planJobs, runReporter } from "./context.ts";
import { runOptions } from "./run-options.ts";

/** Parses the run options in head and runs command; resolves to sep's exit code. */
export async function runFromCli(head: string[], command: string[] | undefined): Promise<number> {
  const { values: args, positionals } = parseFlags(head, runOptions, "sep");
  if (command === undefined) {
    const guess = positionals.length > 0 ? positionals.join(" ") : "COMMAND";
    throw new UsageError(`missing "--" before the command`, `write it as: sep [OPTIONS] -- ${guess}`);
  }
  if (positionals.length > 0) {
    throw new UsageError(`unexpected ${JSON.stringify(positionals[0])} before "--"`, `options go before "--", the command after it: sep [OPTIONS] -- COMMAND`);
  }
  if (command.length === 0) throw new UsageError(`no command after "--"`, "write it as: sep [OPTIONS] -- COMMAND [ARGS...]");

  // Signals must be caught before anything waits or runs: an un-handled SIGINT would kill sep and
  // leave its detached job running.
  installInterruptHandlers();
  const config = await loadConfig(args);
  return runNow(config, {
    jobs: await planJobs(command, args, config, "run"),
    command,
    cwd: process.cwd(),
    name: typeof args.name === "string" ? args.name : undefined,
    waitTimeoutMs: parseSeconds(args["wait-timeout"], "--wait-timeout"),
    reserveMb: parseMegabytes(args.reserve, "--reserve"),
    reportPath: typeof args.report === "string" ? args.report : undefined,
    reporter: await runReporter(config),
  });
}
