// The layout tells the architecture, and imports never run back up: the core knows nothing of the
// command line, GitHub output or terminal wording; the edges word what the core emits.
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const SRC = resolve(import.meta.dir, "../src");

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(join(dir, entry.name)) : entry.name.endsWith(".ts") ? [join(dir, entry.name)] : [],
  );
}

/** Every relative import of a file (static and dynamic), as paths relative to src/. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const found: string[] = [];
  for (const match of text.matchAll(/(?:from|import)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g)) {
    found.push(relative(SRC, resolve(dirname(file), match[1]!)));
  }
  return found;
}

const files = sources(SRC).map((path) => ({ path: relative(SRC, path), imports: importsOf(path), text: readFileSync(path, "utf8") }));
const core = files.filter((file) => file.path.startsWith("core/"));

describe("the core imports nothing above it", () => {
  test.each(["commands/", "ci/", "atomify/", "doctor/", "agent/", "top/", "logger.ts", "cli.ts", "main.ts", "describe.ts", "output.ts", "memory-chart.ts"])("no core file imports %s", (edge) => {
    const offenders = core.flatMap((file) => file.imports.filter((target) => target.startsWith(edge)).map((target) => `${file.path} → ${target}`));
    expect(offenders).toEqual([]);
  });

  test("the core throws SepErrors, never the edge's UsageError", () => {
    expect(core.filter((file) => /\bUsageError\b/.test(file.text)).map((file) => file.path)).toEqual([]);
  });

  test("the core never writes to the terminal itself", () => {
    const offenders = core.filter((file) => /console\.(log|error|warn)|process\.std(out|err)\.write/.test(file.text)).map((file) => file.path);
    expect(offenders).toEqual([]);
  });
});

test("config.ts and core/paths.ts do not depend on each other both ways", () => {
  const paths = files.find((file) => file.path === "core/paths.ts")!;
  expect(paths.imports.filter((target) => target === "config.ts")).toEqual([]);
});

test("ci/ is GitHub Actions output only", () => {
  expect(files.filter((file) => file.path.startsWith("ci/")).map((file) => file.path)).toEqual(["ci/github.ts"]);
});

test("commands are thin: no spawning, no /proc, no file layout of their own", () => {
  const commands = files.filter((file) => file.path.startsWith("commands/"));
  const offenders = commands.filter((file) => /Bun\.spawn|["']\/proc\//.test(file.text)).map((file) => file.path);
  expect(offenders).toEqual([]);
});

test("no import cycle between the core's rooms", () => {
  // A room is a folder of core/; a file directly in core/ (executor.ts, run-now.ts, …) is a room of its own.
  const roomOf = (path: string) => (path.startsWith("core/") ? path.split("/").slice(0, 2).join("/") : undefined);
  const edges = new Map<string, Set<string>>();
  for (const file of core) {
    const from = roomOf(file.path)!;
    for (const target of file.imports) {
      const to = roomOf(target);
      if (!to || to === from) continue;
      if (!edges.has(from)) edges.set(from, new Set());
      edges.get(from)!.add(to);
    }
  }
  const cycles: string[] = [];
  const visit = (room: string, path: string[]) => {
    for (const next of edges.get(room) ?? []) {
      if (path.includes(next)) cycles.push([...path.slice(path.indexOf(next)), next].join(" → "));
      else visit(next, [...path, next]);
    }
  };
  for (const room of edges.keys()) visit(room, [room]);
  expect(cycles).toEqual([]);
});

test("no test runs a job in the test runner's own process (runJob would make the runner every later test's subreaper)", () => {
  const tests = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory() ? tests(join(dir, entry.name)) : entry.name.endsWith(".test.ts") ? [join(dir, entry.name)] : [],
    );
  const offenders = tests(import.meta.dir).filter((file) => /^import\b[^;]*?(\b(runJob|becomeSubreaper)\b|core\/(executor|run-now|job\/in-turn|queue\/drain)\.ts)[^;]*;/ms.test(readFileSync(file, "utf8")));
  expect(offenders.map((file) => relative(import.meta.dir, file))).toEqual([]);
});

test("every relative import names a file that exists (so the rules above see every edge)", () => {
  const missing = files.flatMap((file) => file.imports.filter((target) => !existsSync(join(SRC, target))).map((target) => `${file.path} → ${target}`));
  expect(missing).toEqual([]);
});
