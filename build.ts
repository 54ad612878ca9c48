// Builds the standalone executable dist/sep with Bun.build({ compile }).
// Bytecode needs ESM (with CJS Bun prints "Failed to generate bytecode" yet exits 0, and the
// binary then fails at run time), and a compiled binary would otherwise load the user's .env and
// bunfig.toml into sep's own environment, and from there into every command it runs.
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import pkg from "./package.json" with { type: "json" };

interface Target {
  /** Bun's compile target, e.g. "bun-linux-x64"; undefined = this machine */
  bunTarget?: Bun.Build.CompileTarget;
  outfile: string;
}

const HOST: Target = { outfile: "dist/sep" };

function gitRevision(): string {
  const git = Bun.spawnSync(["git", "rev-parse", "--short", "HEAD"], { stderr: "ignore" });
  return git.exitCode === 0 ? git.stdout.toString().trim() : "";
}

async function build(target: Target, version: string): Promise<void> {
  const result = await Bun.build({
    entrypoints: ["src/cli.ts"],
    compile: {
      ...(target.bunTarget ? { target: target.bunTarget } : {}),
      outfile: target.outfile,
      autoloadDotenv: false,
      autoloadBunfig: false,
    },
    format: "esm",
    bytecode: true,
    minify: true,
    sourcemap: "linked",
    define: { SEP_VERSION: JSON.stringify(version) },
  });
  for (const log of result.logs) console.error(log);
  if (!result.success) throw new Error(`build of ${target.outfile} failed`);
}

function writeChecksums(files: string[]): void {
  const lines = files.map((file) => `${createHash("sha256").update(readFileSync(file)).digest("hex")}  ${file.split("/").pop()}`);
  writeFileSync("dist/SHA256SUMS", `${lines.join("\n")}\n`);
}

const revision = gitRevision();
const version = revision ? `${pkg.version}+${revision}` : pkg.version;
mkdirSync("dist", { recursive: true });
await build(HOST, version);
writeChecksums([HOST.outfile]);
console.error(`built ${HOST.outfile} (sep ${version})`);
