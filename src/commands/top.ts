// `sep top [--interval S] [--json]`: the machine live, full-screen: the memory budget, and every
// running, paused and waiting sep job of every project with its memory over the last minute.
// Without a terminal on stdout, one plain snapshot; with --json, one JSON object per refresh. It
// writes no state: what it remembers between refreshes stays in its own memory.
import { defineCommand } from "citty";
import { MachineViewer } from "../core/governor/view.ts";
import { UsageError } from "../errors.ts";
import { writeStdout } from "../output.ts";
import { parseSeconds } from "./args.ts";
import { loadConfig } from "./context.ts";
import { strictArgs } from "./run/shared.ts";

/** Refreshes: once a second by default, at most 4 times a second, at least once an hour. */
const DEFAULT_INTERVAL_MS = 1000;
const MIN_INTERVAL_MS = 250;
const MAX_INTERVAL_MS = 3_600_000;

const args = {
  interval: { type: "string", description: "Seconds between refreshes, 0.25 to 3600 (default 1)", valueHint: "SECONDS" },
  json: { type: "boolean", description: "Print the view as one JSON object per refresh, one per line, until stopped (docs/governor.md)" },
} as const;

export default defineCommand({
  meta: {
    name: "top",
    description: "Watch the machine live: the memory budget, and every running, paused and waiting sep job of every project (q quits)",
  },
  args,
  async run({ rawArgs }) {
    const { values } = strictArgs(rawArgs, args, "sep top", 0);
    const intervalMs = parseInterval(values.interval);
    const config = await loadConfig();
    const viewer = new MachineViewer(config);
    const live = await import("../top/live.ts");
    if (values.json) return live.streamJson(viewer, intervalMs);
    if (process.stdout.isTTY) return live.runLive(viewer, intervalMs);
    const [{ renderFrame }, { MemoryHistory }] = await Promise.all([import("../top/render.ts"), import("../top/history.ts")]);
    const nowMs = Date.now();
    const lines = renderFrame(viewer.read(nowMs), new MemoryHistory(), { width: Infinity, height: Infinity, nowMs, intervalMs, live: false });
    await writeStdout(`${lines.join("\n")}\n`);
    return 0;
  },
});

function parseInterval(value: unknown): number {
  const ms = parseSeconds(value, "--interval") ?? DEFAULT_INTERVAL_MS;
  if (ms < MIN_INTERVAL_MS || ms > MAX_INTERVAL_MS) {
    throw new UsageError(
      `--interval must be between 0.25 and 3600 seconds (got ${JSON.stringify(value)} on the command line)`,
      "sep top redraws at most 4 times a second: e.g. --interval 0.5",
    );
  }
  return ms;
}
