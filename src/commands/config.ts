// `sep config [--json]`: every resolved setting, its value and where it came from. Reads only.
import { defineCommand } from "citty";
import { CONFIG_KEYS, type ConfigSource, formatValue, resolveConfig, type ResolvedConfig } from "../config.ts";
import { resolveBudget } from "../core/governor/index.ts";
import { formatBytes, singleLine } from "../format.ts";
import { writeStdout } from "../output.ts";

/**
 * The `--json` shape (stable; fields may be added, never renamed):
 * {
 *   "root": "/p",                               // absolute project root
 *   "configFile": "/p/sep.config.ts" | null,    // the sep.config.* that was loaded
 *   "dotenvFile": "/p/.env.development" | null, // the .env.development that was read
 *   "values": {
 *     "<key>": {                                // every key of SepConfig, in DESIGN §4 order
 *       "value": 2048,                          // resolved: numbers, booleans, absolute paths
 *       "source": "flag" | "env" | "dotenv" | "config" | "default",
 *       "origin": "--timeout" | "TIMEOUT" | "/p/.env.development" | "/p/sep.config.ts" | "default",
 *       "env": "MEMORY_LIMIT_MB"                // the variable that sets it
 *     }
 *   },
 *   "governor": {                               // the machine governor's budget as resolved now
 *     "budgetBytes": 22748464742,               // 0 = off
 *     "reserveBytes": 2527607193,
 *     "availableBytes": 23000000000,            // free for jobs right now
 *     "why": "auto: MemTotal 23.5 GB − reserve 2.4 GB"
 *   },
 *   "ci": false,                                // CI detected in the environment
 *   "githubActions": false                      // GITHUB_ACTIONS=true in the environment
 * }
 */
export interface ConfigReport {
  root: string;
  configFile: string | null;
  dotenvFile: string | null;
  values: Record<string, { value: unknown; source: ConfigSource["kind"]; origin: string; env: string }>;
  governor: { budgetBytes: number; reserveBytes: number; availableBytes: number; why: string };
  ci: boolean;
  githubActions: boolean;
}

export function configReport(config: ResolvedConfig): ConfigReport {
  const values: ConfigReport["values"] = {};
  for (const info of CONFIG_KEYS) {
    const source = config.sources[info.key];
    values[info.key] = { value: config[info.key], source: source.kind, origin: source.origin, env: info.env };
  }
  return {
    root: config.root,
    configFile: config.configFile ?? null,
    dotenvFile: config.dotenvFile ?? null,
    values,
    governor: _governor(config),
    ci: config.ci,
    githubActions: config.githubActions,
  };
}

function _governor(config: ResolvedConfig): ConfigReport["governor"] {
  const budget = resolveBudget(config);
  return { budgetBytes: budget.budgetBytes, reserveBytes: budget.reserveBytes, availableBytes: budget.availableBytes, why: budget.why };
}

/** The report as an aligned text table. */
export function formatConfigTable(report: ConfigReport): string {
  const rows: string[][] = [["KEY", "VARIABLE", "VALUE", "SOURCE"]];
  for (const [key, entry] of Object.entries(report.values)) {
    const source = entry.source === "default" ? entry.origin : `${entry.source} ${entry.origin}`;
    rows.push([key, entry.env, singleLine(formatValue(entry.value)), source]);
  }
  rows.push(["ci", "CI", formatValue(report.ci), "detected from the environment"]);
  rows.push(["githubActions", "GITHUB_ACTIONS", formatValue(report.githubActions), "detected from the environment"]);
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  const table = rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  "));
  return [
    `root         ${report.root}`,
    `config file  ${report.configFile ?? "(none)"}`,
    `dotenv file  ${report.dotenvFile ?? "(none)"}`,
    "",
    ...table,
    "",
    report.governor.budgetBytes > 0
      ? `memory budget  ${formatBytes(report.governor.budgetBytes)} for all sep jobs on this machine, reserve ${formatBytes(report.governor.reserveBytes)} (${report.governor.why})`
      : `memory budget  ${report.governor.why}: no machine governor`,
    "",
  ].join("\n");
}

export default defineCommand({
  meta: { name: "config", description: "Show the resolved configuration and where each value came from" },
  args: {
    json: { type: "boolean", description: "Print JSON: { root, configFile, dotenvFile, values: { key: { value, source, origin, env } }, ci, githubActions }" },
  },
  async run({ args }) {
    const report = configReport(await resolveConfig({ cwd: process.cwd() }));
    await writeStdout(args.json ? `${JSON.stringify(report, null, 2)}\n` : formatConfigTable(report));
  },
});
