import { expect, test } from "bun:test";
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
