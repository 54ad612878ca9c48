import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { COMPILE_OPTIONS } from "../../build.ts";
import { compileHotLoopsSoon } from "../../src/core/jit.ts";

test("the executable starts with the JIT held back", () => {
  expect(COMPILE_OPTIONS.jitPolicy).toBeGreaterThan(1);
});

test("sep's hot loops get the normal JIT policy back once, after it has run for 100 ms", async () => {
  const calls: number[] = [];
  const original = Bun.unsafe.setJITPolicy;
  Bun.unsafe.setJITPolicy = (scale: number) => {
    calls.push(scale);
    original(scale);
  };
  try {
    compileHotLoopsSoon();
    compileHotLoopsSoon();
    await Bun.sleep(30);
    expect(calls).toEqual([]); // an invocation over by now never paid for compiling
    await Bun.sleep(150);
    expect(calls).toEqual([1]);
    compileHotLoopsSoon();
    await Bun.sleep(150);
    expect(calls).toEqual([1]);
  } finally {
    Bun.unsafe.setJITPolicy = original;
  }
});

test("every loop that may run for hours asks for its hot paths to be compiled", () => {
  const callers = ["core/executor.ts", "top/live.ts", "agent/follow.ts", "commands/run/watch.ts"];
  for (const file of callers) expect(readFileSync(join(import.meta.dir, "../../src", file), "utf8")).toContain("compileHotLoopsSoon();");
  // and the build starts every executable with the JIT held back
  expect(readFileSync(join(import.meta.dir, "../../build.ts"), "utf8")).toContain("      ...COMPILE_OPTIONS,\n");
});
