// `sep doctor [--json]`: health checks, one line per finding; exit 1 when any check failed.
import { defineCommand } from "citty";
import { escapeData, escapeProperty } from "../ci/github.ts";
import { doctorExitCode, type Finding, type FindingStatus, runDoctor } from "../doctor/index.ts";
import { singleLine } from "../format.ts";
import { writeStdout } from "../output.ts";

const MARKS: Record<FindingStatus, { symbol: string; word: string; colour: string }> = {
  ok: { symbol: "✓", word: "ok  ", colour: "\x1b[32m" },
  warn: { symbol: "!", word: "warn", colour: "\x1b[33m" },
  fail: { symbol: "✗", word: "fail", colour: "\x1b[31m" },
};

export interface RenderOptions {
  /** ✓ ! ✗ instead of ok/warn/fail (a terminal, not CI) */
  symbols: boolean;
  colour: boolean;
}

/** One line per finding: mark, check, file:line, message, fix; then a summary line. */
export function renderFindings(findings: readonly Finding[], options: RenderOptions): string {
  const width = Math.max(...findings.map((finding) => finding.check.length));
  let out = "";
  for (const finding of findings) {
    const mark = MARKS[finding.status];
    let text = options.symbols ? mark.symbol : mark.word;
    if (options.colour) text = `${mark.colour}${text}\x1b[0m`;
    const where = finding.file === undefined ? "" : `${finding.file}${finding.line === undefined ? "" : `:${finding.line}`}: `;
    const fix = finding.fix && finding.status !== "ok" ? ` — fix: ${finding.fix}` : "";
    out += `${text}  ${finding.check.padEnd(width)}  ${singleLine(`${where}${finding.message}${fix}`)}\n`;
  }
  return out + `${summaryLine(findings)}\n`;
}

export function summaryLine(findings: readonly Finding[]): string {
  const count = (status: FindingStatus) => findings.filter((finding) => finding.status === status).length;
  const failed = count("fail");
  const warnings = count("warn");
  const parts = [`${failed} failed`, `${warnings} warning${warnings === 1 ? "" : "s"}`, `${count("ok")} ok`];
  return `sep doctor: ${parts.join(", ")}${failed > 0 ? " (exit 1)" : ""}`;
}

/**
 * GitHub Actions workflow commands for the warn and fail findings, so they show as annotations on
 * the file and line (in the run's summary and on a pull request's diff).
 */
export function githubAnnotations(findings: readonly Finding[]): string {
  let out = "";
  for (const finding of findings) {
    if (finding.status === "ok") continue;
    const props = [`title=${escapeProperty(`sep doctor: ${finding.check}`)}`];
    if (finding.file !== undefined) props.push(`file=${escapeProperty(finding.file)}`);
    if (finding.line !== undefined) props.push(`line=${finding.line}`);
    const message = `${finding.message}${finding.fix ? ` — fix: ${finding.fix}` : ""}`;
    out += `::${finding.status === "fail" ? "error" : "warning"} ${props.join(",")}::${escapeData(message)}\n`;
  }
  return out;
}

function _isCi(env: NodeJS.ProcessEnv): boolean {
  const ci = env.CI?.trim().toLowerCase();
  return (ci !== undefined && ci !== "" && ci !== "0" && ci !== "false" && ci !== "no") || env.GITHUB_ACTIONS === "true";
}

export default defineCommand({
  meta: { name: "doctor", description: "Check sep's setup, and find workflows, Makefiles, npm scripts and hooks that queue commands but never start the queue" },
  args: {
    json: { type: "boolean", description: "Print the findings as a JSON array of { check, status, message, file?, line?, fix? }" },
  },
  async run({ args }) {
    const { findings } = await runDoctor({ cwd: process.cwd() });
    if (args.json) {
      await writeStdout(`${JSON.stringify(findings, null, 2)}\n`);
    } else {
      const terminal = process.stdout.isTTY === true && !_isCi(process.env);
      await writeStdout(renderFindings(findings, { symbols: terminal, colour: terminal && !process.env.NO_COLOR }));
      // Annotations go to stderr, like sep's other workflow commands: stdout stays the report.
      if (process.env.GITHUB_ACTIONS === "true") process.stderr.write(githubAnnotations(findings));
    }
    return doctorExitCode(findings);
  },
});
