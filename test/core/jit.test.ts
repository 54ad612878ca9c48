// The JIT held back at start, and given back to the loops that may run for hours.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { COMPILE_OPTIONS } from "../../build.ts";

const SRC = join(import.meta.dir, "../../src");

test("every executable starts with the JIT held back, and every loop that may run for hours asks for it back", () => {
  expect(COMPILE_OPTIONS.jitPolicy).toBeGreaterThan(1);
  expect(readFileSync(join(import.meta.dir, "../../build.ts"), "utf8")).toContain("      ...COMPILE_OPTIONS,\n");
  for (const file of ["core/executor.ts", "top/live.ts", "agent/follow.ts", "commands/run/watch.ts"]) {
    expect(readFileSync(join(SRC, file), "utf8")).toContain("compileHotLoopsSoon();");
  }
});

test("the normal policy comes back once, 100 ms after the first ask, and not before", () => {
  // In a process of its own: the module arms its timer once per process, and other test files
  // in this one may have asked already.
  const script = `
    const calls = [];
    const original = Bun.unsafe.setJITPolicy;
    Bun.unsafe.setJITPolicy = (scale) => { calls.push(scale); original(scale); };
    const { compileHotLoopsSoon } = await import(${JSON.stringify(join(SRC, "core/jit.ts"))});
    compileHotLoopsSoon();
    compileHotLoopsSoon();
    await Bun.sleep(30);
    const early = [...calls];
    await Bun.sleep(150);
    const after = [...calls];
    compileHotLoopsSoon();
    await Bun.sleep(150);
    console.log(JSON.stringify({ early, after, end: calls }));
  `;
  const run = Bun.spawnSync([process.execPath, "-e", script], { stderr: "pipe" });
  expect(run.stderr.toString()).toBe("");
  expect(JSON.parse(run.stdout.toString())).toEqual({ early: [], after: [1], end: [1] });
});
