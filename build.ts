// Builds sep as standalone executables with Bun.build({ compile }).
//
//   bun build.ts                       dist/sep for this machine, and dist/SHA256SUMS
//   bun build.ts --release             dist/release/sep-<version>-<platform>.tar.gz for every
//                                      target below, and dist/release/SHA256SUMS over them
//   bun build.ts --release --only linux-x64,darwin-arm64 [--outdir DIR]
//                                      some targets only; another output dir (emptied first)
//
// Bytecode needs ESM (with CJS Bun prints "Failed to generate bytecode" yet exits 0, and the
// binary then fails at run time), and a compiled binary would otherwise load the user's .env and
// bunfig.toml into sep's own environment, and from there into every command it runs.
import { createHash } from "node:crypto";
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import pkg from "./package.json" with { type: "json" };

interface Target {
  /** Bun's compile target, e.g. "bun-linux-x64"; undefined = this machine */
  bunTarget?: Bun.Build.CompileTarget;
  /** The Bun runtime to embed; undefined = the one running this script */
  executablePath?: string;
  outfile: string;
}

export type Os = "linux" | "darwin";
export type Cpu = "x64" | "arm64";
export type Libc = "glibc" | "musl";

/** One release archive: what it runs on, and which Bun runtime from npm it is built on. */
export interface ReleaseTarget {
  os: Os;
  cpu: Cpu;
  /** Linux only */
  libc?: Libc;
  bunTarget: Bun.Build.CompileTarget;
  /** npm package holding that runtime as package/bin/bun, fetched with `npm pack` */
  runtimePackage: `@oven/bun-${string}`;
}

// x64 builds embed Bun's "baseline" runtime (no AVX2 needed): sep mostly waits on its job, so
// the faster runtime buys nothing, and one archive then runs on every x86-64 CPU.
export const RELEASE_TARGETS: readonly ReleaseTarget[] = [
  { os: "linux", cpu: "x64", libc: "glibc", bunTarget: "bun-linux-x64-baseline", runtimePackage: "@oven/bun-linux-x64-baseline" },
  { os: "linux", cpu: "x64", libc: "musl", bunTarget: "bun-linux-x64-baseline-musl", runtimePackage: "@oven/bun-linux-x64-musl-baseline" },
  { os: "linux", cpu: "arm64", libc: "glibc", bunTarget: "bun-linux-arm64", runtimePackage: "@oven/bun-linux-aarch64" },
  { os: "linux", cpu: "arm64", libc: "musl", bunTarget: "bun-linux-arm64-musl", runtimePackage: "@oven/bun-linux-aarch64-musl" },
  { os: "darwin", cpu: "x64", bunTarget: "bun-darwin-x64-baseline", runtimePackage: "@oven/bun-darwin-x64-baseline" },
  { os: "darwin", cpu: "arm64", bunTarget: "bun-darwin-arm64", runtimePackage: "@oven/bun-darwin-aarch64" },
];

/** "linux-x64", "linux-arm64-musl", "darwin-arm64": the name install.sh computes from uname. */
export function platformName(target: Pick<ReleaseTarget, "os" | "cpu" | "libc">): string {
  return `${target.os}-${target.cpu}${target.libc === "musl" ? "-musl" : ""}`;
}

/** sep-0.1.0-linux-x64.tar.gz: one `sep` executable at the top of a gzipped tar. */
export function archiveName(version: string, target: Pick<ReleaseTarget, "os" | "cpu" | "libc">): string {
  return `sep-${version}-${platformName(target)}.tar.gz`;
}

const RUNTIME_CACHE = "node_modules/.cache/sep-runtimes";
const RELEASE_DIR = "dist/release";

/** Lines where Bun (or anything in the build) reported an error, even if it then exited 0. */
export function findBuildErrors(output: string): string[] {
  const plain = output.replace(/\u001b\[[0-9;]*m/g, ""); // colour codes, when Bun thinks it has a terminal
  return plain.split("\n").filter((line) => /^\s*error\b[^:]*:/i.test(line));
}

/** What an executable file is built for, read from its ELF or Mach-O header. */
export function describeExecutable(path: string): { os: Os; cpu: Cpu; libc?: Libc } | undefined {
  const head = Buffer.alloc(64 * 1024);
  const fd = openSync(path, "r");
  const length = readSync(fd, head, 0, head.length, 0);
  closeSync(fd);
  const bytes = head.subarray(0, length);
  if (bytes.readUInt32BE(0) === 0x7f454c46) {
    // ELF64 little-endian; the libc shows in the program interpreter (PT_INTERP) it asks for
    const cpu = ({ 0x3e: "x64", 0xb7: "arm64" } as const)[bytes.readUInt16LE(18) as 0x3e | 0xb7];
    const phoff = Number(bytes.readBigUInt64LE(32));
    const phentsize = bytes.readUInt16LE(54);
    let interp = "";
    for (let i = 0; i < bytes.readUInt16LE(56); i++) {
      const ph = phoff + i * phentsize;
      if (bytes.readUInt32LE(ph) !== 3) continue;
      const offset = Number(bytes.readBigUInt64LE(ph + 8));
      interp = bytes.toString("latin1", offset, offset + Number(bytes.readBigUInt64LE(ph + 32))).replace(/\0+$/, "");
    }
    if (!cpu || !interp) return undefined;
    return { os: "linux", cpu, libc: interp.includes("ld-musl") ? "musl" : "glibc" };
  }
  if (bytes.readUInt32LE(0) === 0xfeedfacf) {
    const cpu = ({ 0x01000007: "x64", 0x0100000c: "arm64" } as const)[bytes.readUInt32LE(4) as 0x01000007 | 0x0100000c];
    return cpu ? { os: "darwin", cpu } : undefined;
  }
  return undefined;
}

function gitRevision(): string {
  const git = Bun.spawnSync(["git", "rev-parse", "--short", "HEAD"], { stderr: "ignore" });
  return git.exitCode === 0 ? git.stdout.toString().trim() : "";
}

/** Run a program to completion; throw with its output when it fails. Returns stdout. */
function run(argv: string[], what: string, cwd?: string): string {
  const result = Bun.spawnSync(argv, { cwd, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  if (result.exitCode !== 0) {
    throw new Error(`${what} failed (${argv.join(" ")} exited ${result.exitCode ?? result.signalCode}):\n${result.stderr.toString()}`);
  }
  return result.stdout.toString();
}

/** The same, without blocking: used for archiving, which overlaps the next target's compile. */
async function runAsync(argv: string[], what: string): Promise<void> {
  const child = Bun.spawn(argv, { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [code, stderr] = await Promise.all([child.exited, new Response(child.stderr).text()]);
  if (code !== 0) throw new Error(`${what} failed (${argv.join(" ")} exited ${code}):\n${stderr}`);
}

/**
 * Modules c12 imports for features sep turns off (config/load: `giget: false`, no watching, its own
 * loader instead of jiti), replaced by stubs that say so if ever called. A bundle loads every Node
 * builtin it imports when it starts, lazily used or not: these brought node:zlib, node:crypto,
 * node:readline, node:child_process, node:assert, node:util and node:module into every start of
 * sep, for ~3 ms of its ~15. pkg-types serves c12's packageJson and globalRc (both off); exsolve,
 * which c12 does call, is swapped for src/config-resolve.ts (its builtins cost ~0.7 ms a start).
 */
const UNUSED_CONFIG_MODULES = ["giget", "chokidar", "ohash", "ohash/utils", "jiti", "pkg-types"];
const unusedConfigFeatures: Bun.BunPlugin = {
  name: "sep-unused-config-features",
  setup(builder) {
    const filter = new RegExp(`^(${UNUSED_CONFIG_MODULES.map((name) => name.replace("/", "\\/")).join("|")})$`);
    builder.onResolve({ filter }, (args) => ({ path: args.path, namespace: "sep-unused" }));
    // exsolve is used (c12 finds the config file with it), but its one call needs far less than it loads.
    builder.onResolve({ filter: /^exsolve$/ }, () => ({ path: join(import.meta.dir, "src/config-resolve.ts") }));
    builder.onLoad({ filter: /.*/, namespace: "sep-unused" }, (args) => {
      const fail = `() => { throw new Error(${JSON.stringify(`${args.path} is not part of sep (a config feature sep does not use)`)}); }`;
      const names = ["downloadTemplate", "digest", "diff", "watch", "createJiti", "findWorkspaceDir", "readPackageJSON"];
      return { contents: `${names.map((name) => `export const ${name} = ${fail};`).join("\n")}\nexport default { watch };\n`, loader: "js" };
    });
  },
};

/** What goes into the bundle, as every build makes it (the release test bundles with these too). */
export const BUNDLE = { entrypoints: [join(import.meta.dir, "src/cli.ts")], format: "esm", plugins: [unusedConfigFeatures] } satisfies Partial<Bun.BuildConfig>;

/**
 * How every executable starts. No .env or bunfig.toml of the user's is read into sep's own
 * environment (and from there into every command it runs). The JIT starts held back 100-fold: a
 * sep invocation is mostly code that runs once, which the JIT would compile on its helper threads
 * for nothing (`sep --version` 8.4 -> 7.2 ms, `sep -- true` 18.4 -> 16.5 ms, `run list --json` of
 * 400 runs 18.5 -> 15.6 ms, same-minute A/B); src/core/jit.ts restores the normal policy once sep
 * has supervised a job or watched something for 100 ms.
 */
export const COMPILE_OPTIONS = { autoloadDotenv: false, autoloadBunfig: false, jitPolicy: 100 } as const satisfies Partial<Bun.CompileBuildOptions>;

async function build(target: Target, version: string): Promise<void> {
  const result = await Bun.build({
    ...BUNDLE,
    compile: {
      ...(target.bunTarget ? { target: target.bunTarget } : {}),
      ...(target.executablePath ? { executablePath: target.executablePath } : {}),
      outfile: target.outfile,
      ...COMPILE_OPTIONS,
    },
    bytecode: true,
    minify: true,
    sourcemap: "linked",
    define: { SEP_VERSION: JSON.stringify(version) },
  });
  for (const log of result.logs) console.error(log);
  if (!result.success) throw new Error(`build of ${target.outfile} failed`);
}

/** The binary must start and report the version it was built with (catches the bytecode quirk). */
function smokeTest(binary: string, version: string): void {
  const reported = run([binary, "--version"], `smoke test of ${binary}`).trim();
  if (reported !== version) throw new Error(`${binary} --version printed "${reported}", expected "${version}"`);
}

function writeChecksums(files: string[], sumsFile: string): void {
  const lines = files.map((file) => `${createHash("sha256").update(readFileSync(file)).digest("hex")}  ${basename(file)}`);
  writeFileSync(sumsFile, `${lines.join("\n")}\n`);
}

/** The Bun version to embed: the exact `bun` devDependency, which must be the Bun running this. */
function pinnedBunVersion(): string {
  const wanted = pkg.devDependencies.bun;
  if (!/^\d+\.\d+\.\d+$/.test(wanted)) throw new Error(`package.json must pin devDependencies.bun to an exact version (got "${wanted}")`);
  // Bytecode is tied to the Bun version that made it, so the embedded runtime must match.
  if (wanted !== Bun.version) throw new Error(`package.json pins bun ${wanted} but this is bun ${Bun.version}: run node_modules/.bin/bun build.ts`);
  return wanted;
}

/**
 * The Bun runtime for one target, as package/bin/bun of `npm pack <runtimePackage>@<version>`
 * (npm checks the tarball against the registry's integrity hash), cached under node_modules/.cache.
 * Passing it as compile.executablePath keeps Bun from downloading anything at build time.
 */
function fetchRuntime(target: ReleaseTarget, bunVersion: string): string {
  const spec = `${target.runtimePackage}@${bunVersion}`;
  const dir = join(RUNTIME_CACHE, spec.replace("/", "+"));
  const runtime = join(dir, "bin/bun");
  if (existsSync(runtime)) return runtime;
  mkdirSync(RUNTIME_CACHE, { recursive: true });
  const work = mkdtempSync(join(RUNTIME_CACHE, ".fetch-"));
  try {
    console.error(`fetching ${spec} with npm pack`);
    const packed = JSON.parse(run(["npm", "pack", spec, "--json", "--pack-destination", work], `npm pack ${spec}`)) as { filename: string }[];
    const tarball = packed[0]?.filename;
    if (!tarball) throw new Error(`npm pack ${spec} named no tarball`);
    run(["tar", "-xzf", join(work, tarball), "-C", work], `unpacking ${tarball}`);
    const manifest = JSON.parse(readFileSync(join(work, "package/package.json"), "utf8")) as { name?: string; version?: string };
    if (manifest.name !== target.runtimePackage || manifest.version !== bunVersion) {
      throw new Error(`${tarball} holds ${manifest.name}@${manifest.version}, expected ${spec}`);
    }
    if (!existsSync(join(work, "package/bin/bun"))) throw new Error(`${tarball} has no bin/bun`);
    // Renamed into place last, so a cache entry is always complete. Another build may have
    // put the same runtime there meanwhile; then that one is used.
    try {
      renameSync(join(work, "package"), dir);
    } catch (error) {
      if (!existsSync(runtime)) throw error;
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return runtime;
}

/** tar + gzip with one entry, `sep`, owned by 0:0 whoever built it (GNU tar or bsdtar). */
function writeArchive(binaryDir: string, archive: string): Promise<void> {
  const gnu = run(["tar", "--version"], "tar --version").includes("GNU tar");
  const owner = gnu ? ["--owner=0", "--group=0", "--numeric-owner"] : ["--uid", "0", "--gid", "0"];
  return runAsync(["tar", "-czf", archive, ...owner, "-C", binaryDir, "sep"], `writing ${archive}`);
}

function formatMB(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

function selectTargets(only: string | undefined): ReleaseTarget[] {
  if (only === undefined) return [...RELEASE_TARGETS];
  const names = only.split(",").filter(Boolean);
  const known = RELEASE_TARGETS.map(platformName);
  const unknown = names.filter((name) => !known.includes(name));
  if (unknown.length > 0 || names.length === 0) throw new Error(`--only ${only}: unknown target (known: ${known.join(", ")})`);
  return RELEASE_TARGETS.filter((target) => names.includes(platformName(target)));
}

async function buildRelease(version: string, targets: ReleaseTarget[], outdir: string): Promise<void> {
  const bunVersion = pinnedBunVersion();
  // Start from no archives, so SHA256SUMS and the uploaded assets never include a stale one;
  // only our own names are removed, whatever directory --outdir names.
  mkdirSync(outdir, { recursive: true });
  for (const name of readdirSync(outdir)) {
    if (/^sep-.+\.tar\.gz$|^SHA256SUMS$|^\.stage$/.test(name)) rmSync(join(outdir, name), { recursive: true, force: true });
  }
  const stage = join(outdir, ".stage");
  mkdirSync(stage, { recursive: true });
  const host = describeExecutable(process.execPath);
  const archives: Promise<string>[] = [];
  try {
    for (const target of targets) {
      const started = performance.now();
      const platform = platformName(target);
      const binaryDir = join(stage, platform);
      const outfile = join(binaryDir, "sep");
      const executablePath = fetchRuntime(target, bunVersion);
      await build({ bunTarget: target.bunTarget, executablePath, outfile }, version);
      const built = describeExecutable(outfile);
      if (!built || platformName(built) !== platform) {
        throw new Error(`${outfile} is built for ${built ? platformName(built) : "nothing known"}, not ${platform}`);
      }
      if (host && platformName(host) === platform) smokeTest(outfile, version);
      const size = statSync(outfile).size;
      console.error(`built ${platform} (sep ${formatMB(size)}, ${((performance.now() - started) / 1000).toFixed(1)} s)`);
      // gzip takes longer than the compile; let it run while the next target builds.
      const archive = join(outdir, archiveName(pkg.version, target));
      const written = writeArchive(binaryDir, archive).then(() => {
        rmSync(binaryDir, { recursive: true, force: true });
        console.error(`wrote ${archive} (${formatMB(statSync(archive).size)})`);
        return archive;
      });
      written.catch(() => {}); // handled below; not an unhandled rejection while the loop goes on
      archives.push(written);
    }
  } finally {
    // Even when a target failed, wait for the archives already started before reporting.
    await Promise.allSettled(archives);
  }
  const written = await Promise.all(archives);
  rmSync(stage, { recursive: true, force: true });
  writeChecksums(written, join(outdir, "SHA256SUMS"));
  console.error(`wrote ${join(outdir, "SHA256SUMS")} (${written.length} archive${written.length === 1 ? "" : "s"}, sep ${version})`);
}

async function buildHost(version: string): Promise<void> {
  const host: Target = { outfile: "dist/sep" };
  mkdirSync("dist", { recursive: true });
  await build(host, version);
  smokeTest(host.outfile, version);
  writeChecksums([host.outfile], "dist/SHA256SUMS");
  console.error(`built ${host.outfile} (sep ${version})`);
}

interface Options {
  release: boolean;
  /** --only: comma-separated platform names */
  only?: string;
  outdir: string;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { release: false, outdir: RELEASE_DIR };
  const usage = "usage: bun build.ts [--release [--only PLATFORM,...] [--outdir DIR]]";
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = (argv[i] ?? "").split(/=(.*)/s, 2) as [string, string | undefined];
    const value = (): string => {
      const next = inline ?? argv[++i];
      if (next === undefined || next === "") throw new Error(`${flag} needs a value (${usage})`);
      return next;
    };
    if (flag === "--release" && inline === undefined) options.release = true;
    else if (flag === "--only") options.only = value();
    else if (flag === "--outdir") options.outdir = value();
    else throw new Error(`unknown argument "${argv[i]}" (${usage})`);
  }
  if (!options.release && (options.only !== undefined || options.outdir !== RELEASE_DIR)) throw new Error(`--only and --outdir need --release (${usage})`);
  return options;
}

async function main(): Promise<void> {
  const options = parseArgs(Bun.argv.slice(2));
  const revision = gitRevision();
  const version = revision ? `${pkg.version}+${revision}` : pkg.version;
  if (options.release) await buildRelease(version, selectTargets(options.only), options.outdir);
  else await buildHost(version);
}

/**
 * Run the build in a child and read everything it prints: Bun can report `error:` and still
 * exit 0 (see the bytecode note above), and that must fail the build too.
 */
async function supervise(): Promise<number> {
  const child = Bun.spawn([process.execPath, import.meta.path, ...Bun.argv.slice(2)], {
    env: { ...process.env, SEP_BUILD_SUPERVISED: "1" },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const forward = async (stream: ReadableStream<Uint8Array>, sink: NodeJS.WriteStream): Promise<string> => {
    const decoder = new TextDecoder();
    let text = "";
    for await (const chunk of stream) {
      sink.write(chunk);
      text += decoder.decode(chunk, { stream: true });
    }
    return text;
  };
  const [code, out, err] = await Promise.all([child.exited, forward(child.stdout, process.stdout), forward(child.stderr, process.stderr)]);
  if (code !== 0) return code;
  const errors = findBuildErrors(`${out}\n${err}`);
  if (errors.length > 0) {
    console.error(`build.ts: the build reported errors but exited 0; treating it as failed:\n${errors.join("\n")}`);
    return 1;
  }
  return 0;
}

if (import.meta.main) {
  if (process.env.SEP_BUILD_SUPERVISED === "1") {
    try {
      await main();
    } catch (error) {
      console.error(`build.ts: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    }
  } else {
    process.exit(await supervise());
  }
}
