// What the `sep agent` commands share: the one agent sep knows, checked like any other argument.
import { UsageError } from "../../errors.ts";

export const AGENTS = ["claude"] as const;
export type AgentName = (typeof AGENTS)[number];

export const agentArg = { agent: { type: "positional", description: "the coding agent: claude (Claude Code)", required: false } } as const;

export function agentName(value: unknown, where: string): AgentName {
  if (value === undefined || value === "") throw new UsageError(`${where} needs the agent's name`, `e.g. \`${where} claude\``);
  if (!(AGENTS as readonly unknown[]).includes(value)) {
    throw new UsageError(`${where}: unknown agent ${JSON.stringify(value)}`, `sep knows ${AGENTS.join(", ")}: \`${where} claude\``);
  }
  return value as AgentName;
}
