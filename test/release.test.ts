// Release builds: the typed target list and its naming (checked against install.sh itself), the
// header reader that proves an archive holds what its name says, and a real `build.ts --release`
// of this machine's target. The build of all six targets (~100 MB each, about a minute) runs only
// with SEP_TEST_RELEASE_ALL=1.
import { describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { archiveName, BUNDLE, describeExecutable, findBuildErrors, platformName, RELEASE_TARGETS } from "../build.ts";
import pkg from "../package.json" with { type: "json" };
import { tempDir } from "./helpers.ts";

const REPO = resolve(import.meta.dir, "..");
const BUN = process.execPath;
const DASH = Bun.which("dash");
const ALL = process.env.SEP_TEST_RELEASE_ALL === "1";

function runBuild(args: string[]): { exitCode: number | null; output: string } {
  const result = Bun.spawnSync([BUN, "build.ts", ...args], { cwd: REPO, stdout: "pipe", stderr: "pipe" });
  return { exitCode: result.exitCode, output: result.stdout.toString() + result.stderr.toString() };
}

/** Unpack an archive into dir; returns its listing as `tar -tv` prints it. */
function unpack(archive: string, dir: string): string {
  mkdirSync(dir, { recursive: true });
  const listing = Bun.spawnSync(["tar", "-tvzf", archive], { stdout: "pipe" });
  expect(listing.exitCode).toBe(0);
  expect(Bun.spawnSync(["tar", "-xzf", archive, "-C", dir]).exitCode).toBe(0);
  return listing.stdout.toString();
}

/** Each archive is named for what its sep is built for, SHA256SUMS matches, and it holds only sep. */
function checkReleaseDir(outdir: string, platforms: string[]): void {
  const names = platforms.map((platform) => `sep-${pkg.version}-${platform}.tar.gz`);
  expect(readdirSync(outdir).filter((name) => name !== "notes.txt").sort()).toEqual([...names, "SHA256SUMS"].sort());
  const sums = readFileSync(join(outdir, "SHA256SUMS"), "utf8");
  expect(sums.trim().split("\n").map((line) => line.split("  ")[1]).sort()).toEqual([...names].sort());
  const check = Bun.spawnSync(["sha256sum", "-c", "SHA256SUMS"], { cwd: outdir, stdout: "pipe", stderr: "pipe" });
  expect(check.stdout.toString() + check.stderr.toString()).not.toContain("FAILED");
  expect(check.exitCode).toBe(0);
  for (const [i, name] of names.entries()) {
    const dir = join(outdir, "..", "unpacked", platforms[i]!);
    const listing = unpack(join(outdir, name), dir);
    // one entry: sep, rwxr-xr-x, owned by 0/0
    expect(listing.trim().split("\n")).toHaveLength(1);
    expect(listing).toMatch(/^-rwxr-xr-x 0\/0 .* sep$/m);
    const built = describeExecutable(join(dir, "sep"));
    expect(built && platformName(built)).toBe(platforms[i]!);
  }
}

describe("the target list", () => {
  test("covers linux x64/arm64 with glibc and musl, and darwin x64/arm64, once each", () => {
    expect(RELEASE_TARGETS.map(platformName).sort()).toEqual(
      ["darwin-arm64", "darwin-x64", "linux-arm64", "linux-arm64-musl", "linux-x64", "linux-x64-musl"].sort(),
    );
  });

  test.each(RELEASE_TARGETS.map((target) => [platformName(target), target] as const))("%s: Bun target and npm runtime package agree", (_, target) => {
    const bunCpu = target.cpu === "arm64" ? "aarch64" : "x64";
    const baseline = target.cpu === "x64" ? "-baseline" : "";
    const musl = target.libc === "musl" ? "-musl" : "";
    // npm spells it bun-linux-x64-musl-baseline; Bun's compile target bun-linux-x64-baseline-musl
    expect(target.runtimePackage).toBe(`@oven/bun-${target.os}-${bunCpu}${musl}${baseline}`);
    expect(target.bunTarget as string).toBe(`bun-${target.os}-${target.cpu}${baseline}${musl}`);
    expect(target.os === "linux").toBe(target.libc !== undefined);
  });

  test("archive names: sep-<version>-<os>-<cpu>[-musl].tar.gz", () => {
    expect(archiveName("1.2.3", { os: "linux", cpu: "x64", libc: "glibc" })).toBe("sep-1.2.3-linux-x64.tar.gz");
    expect(archiveName("1.2.3", { os: "linux", cpu: "arm64", libc: "musl" })).toBe("sep-1.2.3-linux-arm64-musl.tar.gz");
    expect(archiveName("1.2.3-rc.1", { os: "darwin", cpu: "arm64" })).toBe("sep-1.2.3-rc.1-darwin-arm64.tar.gz");
  });

  // install.sh picks "latest" by matching SHA256SUMS lines against its own platform name; here
  // it runs for real on each target's uname/libc, against a SHA256SUMS listing all six archives.
  test.skipIf(!DASH).each(RELEASE_TARGETS.map((target) => [platformName(target), target] as const))(
    `install.sh on %s picks exactly that archive from a full SHA256SUMS${DASH ? "" : " (skipped: dash is not installed)"}`,
    (platform, target) => {
      using dir = tempDir("sep-release-names-");
      const latest = join(dir.path, "mirror", "latest");
      mkdirSync(latest, { recursive: true });
      writeFileSync(join(latest, "SHA256SUMS"), RELEASE_TARGETS.map((t, i) => `${String(i).repeat(64)}  ${archiveName("9.8.7", t)}\n`).join(""));
      const fakeBin = join(dir.path, "bin");
      mkdirSync(fakeBin);
      const fake = (name: string, body: string) => writeFileSync(join(fakeBin, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
      fake("uname", `case "$1" in -m) echo ${target.cpu === "arm64" ? "aarch64" : "x86_64"} ;; *) echo ${target.os === "darwin" ? "Darwin" : "Linux"} ;; esac`);
      fake("getconf", target.libc === "musl" ? "exit 1" : "echo glibc 2.36");
      fake("ldd", target.libc === "musl" ? 'echo "musl libc" >&2; exit 1' : 'echo "ldd (GNU libc) 2.36"');
      fake("sysctl", "exit 1");
      const result = Bun.spawnSync(["dash", join(REPO, "install.sh")], {
        env: { PATH: `${fakeBin}:${process.env.PATH}`, HOME: dir.path, SEP_DOWNLOAD_BASE: `file://${join(dir.path, "mirror")}` },
        stdout: "pipe",
        stderr: "pipe",
      });
      // The archive itself is not there: the point is which one it asked for.
      expect(result.stderr.toString()).toContain(`could not download file://${latest}/${archiveName("9.8.7", target)}`);
      expect(result.exitCode).not.toBe(0);
      expect(platform).toBe(platformName(target));
    },
  );
});

describe("describeExecutable", () => {
  test("reads the Bun running this test as built for this machine", () => {
    const host = describeExecutable(BUN);
    expect(host?.os).toBe(process.platform as "linux" | "darwin");
    expect(host?.cpu).toBe(process.arch as "x64" | "arm64");
  });

  test("says nothing about a file that is no executable", () => {
    expect(describeExecutable(join(REPO, "package.json"))).toBeUndefined();
  });
});

describe("findBuildErrors", () => {
  test.each([
    ["error: Failed to generate bytecode", true],
    ["  [4ms]  bundle  1 modules\nerror: Failed to generate bytecode\n", true],
    ["\u001b[31merror\u001b[0m: Could not resolve: \"x\"", true],
    ["error TS2304: Cannot find name", true],
    ["warn: a warning that mentions error: in passing", false],
    ["built dist/sep (sep 0.1.0)\nerrors: 0", false],
    ["", false],
  ])("%p -> %p", (output, found) => {
    expect(findBuildErrors(output).length > 0).toBe(found);
  });
});

describe("build.ts arguments", () => {
  test("an unknown target fails and lists the known ones", () => {
    const { exitCode, output } = runBuild(["--release", "--only", "plan9-x64", "--outdir", "/nonexistent/never-created"]);
    expect(output).toContain("--only plan9-x64: unknown target (known: linux-x64, linux-x64-musl, linux-arm64, linux-arm64-musl, darwin-x64, darwin-arm64)");
    expect(exitCode).toBe(1);
  });

  test("--only without --release fails", () => {
    const { exitCode, output } = runBuild(["--only", "linux-x64"]);
    expect(output).toContain("--only and --outdir need --release");
    expect(exitCode).toBe(1);
  });
});

const HOST = describeExecutable(BUN);
const HOST_PLATFORM = HOST ? platformName(HOST) : "";
const HOST_TARGET = RELEASE_TARGETS.some((target) => platformName(target) === HOST_PLATFORM) ? HOST_PLATFORM : "";

test.skipIf(!HOST_TARGET)(
  `build.ts --release --only ${HOST_TARGET || "(this machine)"}: a real archive, checksummed, whose sep runs here${HOST_TARGET ? "" : " (skipped: this machine is no release target)"}`,
  () => {
    using dir = tempDir("sep-release-one-");
    const outdir = join(dir.path, "release");
    mkdirSync(outdir);
    // A stale archive from an older build goes; a file that is not ours stays.
    writeFileSync(join(outdir, `sep-0.0.1-${HOST_TARGET}.tar.gz`), "stale");
    writeFileSync(join(outdir, "notes.txt"), "keep me");
    const { exitCode, output } = runBuild(["--release", "--only", HOST_TARGET, "--outdir", outdir]);
    expect({ exitCode, output }).toEqual({ exitCode: 0, output: expect.not.stringMatching(/^error/m) });
    // The version the build embedded (HEAD may move while it runs, in a busy checkout).
    const built = output.match(/\(1 archive, sep (\S+)\)/)?.[1];
    expect(built).toMatch(new RegExp(`^${pkg.version.replaceAll(".", "\\.")}(\\+[0-9a-f]+)?$`));
    checkReleaseDir(outdir, [HOST_TARGET]);
    expect(readFileSync(join(outdir, "notes.txt"), "utf8")).toBe("keep me");
    const sep = join(dir.path, "unpacked", HOST_TARGET, "sep");
    const version = Bun.spawnSync([sep, "--version"], { stdout: "pipe" });
    expect(version.stdout.toString().trim()).toBe(built!);
    const run = Bun.spawnSync([sep, "--", "true"], { cwd: dir.path, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir.path, NO_COLOR: "1" } });
    expect(run.exitCode).toBe(0);
  },
  180_000,
);

test.skipIf(!ALL)(
  `build.ts --release: all six targets${ALL ? "" : " (skipped: slow, ~600 MB; run with SEP_TEST_RELEASE_ALL=1)"}`,
  () => {
    using dir = tempDir("sep-release-all-");
    const outdir = join(dir.path, "release");
    const started = performance.now();
    const { exitCode, output } = runBuild(["--release", "--outdir", outdir]);
    const seconds = (performance.now() - started) / 1000;
    expect(exitCode).toBe(0);
    checkReleaseDir(outdir, RELEASE_TARGETS.map(platformName));
    console.error(`${output}\nfull release build: ${seconds.toFixed(1)} s`);
  },
  900_000,
);

// A bundle loads every Node builtin it imports as it starts, whether the code that imports it
// runs or not; these cost a millisecond or more each at every start of sep (node:zlib ~6 ms).
describe("what every start of sep loads", () => {
  // One bundle, built with build.ts's own options, for both checks below.
  let bundled: Promise<string> | undefined;
  const bundle = () =>
    (bundled ??= (async () => {
      using out = tempDir("sep-bundle-");
      const result = await Bun.build({ ...BUNDLE, target: "bun", outdir: out.path });
      expect(result.success).toBe(true);
      return readFileSync(join(out.path, "cli.js"), "utf8");
    })());

  test("the bundle imports none of node:zlib, node:crypto, node:child_process, node:readline, node:assert, node:process", async () => {
    const code = await bundle();
    const builtins = new Set([...code.matchAll(/^import [^;\n]*from "(?:node:)?([a-z_/]+)";$/gm)].map((m) => m[1]));
    expect(builtins.has("fs")).toBe(true); // the pattern does find the imports
    for (const heavy of ["zlib", "crypto", "child_process", "readline", "assert", "process"]) expect(builtins.has(heavy)).toBe(false);
  });

  test("c12 finds the config file through sep's resolver, not exsolve (util.inspect, assert, url, process at every start)", async () => {
    const code = await bundle();
    expect(code).toContain("// src/config-resolve.ts");
    expect(code).not.toContain("node_modules/exsolve/");
    expect(code).not.toContain("node_modules/pkg-types/");
    expect(code).not.toMatch(/^import [^;\n]*\binspect\b[^;\n]*from "(?:node:)?util";$/m);
  });
});

