// Units (jobs, targets, scripts, hooks) and what they leave unstarted: each unit's queue events and
// calls in order, walked with the calls inlined, into queue-not-started and old-script problems.
import { classifyCommand, type OldScriptCall, type QueueFamily, type SepCall } from "./classify.ts";
import { basename, shellCommands } from "../shell.ts";
import type { ScanProblem, ScanSection } from "./types.ts";

/** Something that happens, in order, when a unit runs. */
type _Event =
  | { type: "queue"; kind: "add" | "start"; family: QueueFamily; text: string; file: string; line: number }
  | { type: "call"; unit: string; line: number };

export interface Unit {
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
export interface Group {
  kind: ScanSection["kind"];
  /** "all": every entry runs (workflow jobs, hooks); "any": a person picks one (make, npm) */
  entries: "all" | "any";
  units: Map<string, Unit>;
  oldScripts: { file: string; line: number; call: OldScriptCall }[];
}

export function newGroup(kind: ScanSection["kind"], entries: Group["entries"]): Group {
  return { kind, entries, units: new Map(), oldScripts: [] };
}

/** Append the events of a piece of shell text to a unit; lineOf maps the text's lines to the file's. */
export function addScript(group: Group, unit: Unit, script: string, lineOf: (index: number) => number, resolveCall: (call: SepCall) => string[]): void {
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
function _pendingAdds(group: Group, unit: Unit): _PendingAdd[] {
  const pending: Record<QueueFamily, _PendingAdd[]> = { sep: [], legacy: [] };
  const walk = (current: Unit, stack: string[]) => {
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
export function groupProblems(group: Group): ScanProblem[] {
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
  return byPlace(problems);
}

/** Problems in file and line order (stable: at one place, the failure before the warning). */
export function byPlace(problems: ScanProblem[]): ScanProblem[] {
  return problems.sort((a, b) => (a.file === b.file ? (a.line ?? 0) - (b.line ?? 0) : a.file < b.file ? -1 : 1));
}

function _allAdds(group: Group, unit: Unit): _PendingAdd["event"][] {
  const adds: _PendingAdd["event"][] = [];
  const walk = (current: Unit, stack: string[]) => {
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
function _oldScriptProblems(group: Group): ScanProblem[] {
  const byKey = new Map<string, { file: string; script: string; lines: number[]; migrations: string[] }>();
  for (const { file, line, call } of group.oldScripts) {
    const key = `${file}\0${basename(call.script)}`;
    const entry = byKey.get(key) ?? { file, script: basename(call.script), lines: [], migrations: [] };
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
