// src/config-resolve.ts: what the built binary uses in exsolve's place when c12 finds sep.config.*.
import { describe, expect, test } from "bun:test";
import { mkdirSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { resolveModulePath } from "../src/config-resolve.ts";
import { tempDir } from "./helpers.ts";

describe("resolveModulePath (exsolve's rule for an absolute path, in the binary)", () => {
  test("the file itself, through its realpath; else each suffix and extension; else undefined or a throw", () => {
    using dir = tempDir("sep-resolve-");
    writeFileSync(join(dir.path, "sep.config.ts"), "export default {}\n");
    mkdirSync(join(dir.path, "pkg"));
    writeFileSync(join(dir.path, "pkg", "index.js"), "");
    symlinkSync(join(dir.path, "sep.config.ts"), join(dir.path, "link.ts"));
    const real = realpathSync(join(dir.path, "sep.config.ts"));
    expect(resolveModulePath(join(dir.path, "sep.config.ts"), { try: true })).toBe(real);
    expect(resolveModulePath(join(dir.path, "link.ts"), { try: true })).toBe(real);
    expect(resolveModulePath(join(dir.path, "link.ts"), { try: true, preserveSymlinks: true })).toBe(join(dir.path, "link.ts"));
    expect(resolveModulePath(join(dir.path, "sep.config"), { try: true, extensions: [".js", ".ts"] })).toBe(real);
    expect(resolveModulePath(join(dir.path, "pkg"), { try: true, suffixes: ["", "/index"], extensions: [".ts", ".js"] })).toBe(realpathSync(join(dir.path, "pkg", "index.js")));
    expect(resolveModulePath(join(dir.path, "missing"), { try: true, extensions: [".ts"] })).toBeUndefined();
    expect(() => resolveModulePath(join(dir.path, "missing"))).toThrow(/Cannot resolve module/);
    expect(resolveModulePath("some-package", { try: true })).toBeUndefined();
    expect(() => resolveModulePath("some-package")).toThrow(/only file paths/);
  });
});
