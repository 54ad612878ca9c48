// install.sh end to end: a release directory served over HTTP on 127.0.0.1 (the real dist/sep
// packed as this machine's archive, plus SHA256SUMS), the real `curl -fsSL …/install.sh | dash`
// in a fresh HOME with a minimal environment, then the installed sep is run.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, copyFileSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync, realpathSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join, normalize, resolve } from "node:path";
import { ensureBinary, SEP } from "./e2e/helpers.ts";
import { tempDir, waitFor } from "./helpers.ts";

const REPO = resolve(import.meta.dir, "..");
const INSTALL_SH = join(REPO, "install.sh");
const DASH = Bun.which("dash");
const SHELLCHECK = Bun.which("shellcheck");
const NO_DASH = DASH ? "" : "dash is not installed (apt-get install dash): install.sh must run under dash, as `curl | sh` does on Debian and Ubuntu";
const IS_ROOT = process.getuid?.() === 0;

/** What install.sh computes from uname and the C library, on this machine. */
function hostPlatform(): string {
  const os = process.platform === "darwin" ? "darwin" : "linux";
  const cpu = process.arch === "arm64" ? "arm64" : "x64";
  const glibc = os !== "linux" || Bun.spawnSync(["getconf", "GNU_LIBC_VERSION"], { stdout: "ignore", stderr: "ignore" }).exitCode === 0;
  return `${os}-${cpu}${glibc ? "" : "-musl"}`;
}

const PLATFORM = hostPlatform();
/** The release the server offers as pinned and as latest. */
const GOOD = "1.2.3";
/** SHA256SUMS lists the good archive's hash, but the archive is another one. */
const TAMPERED = "6.6.6";
/** SHA256SUMS lists an archive the server does not have. */
const MISSING_ARCHIVE = "7.7.7";
/** The archive download starts and then stalls, until the installer is interrupted. */
const STALLS = "8.8.8";

const archiveName = (version: string) => `sep-${version}-${PLATFORM}.tar.gz`;
const sha256 = (path: string) => new Bun.CryptoHasher("sha256").update(readFileSync(path)).digest("hex");

const root = tempDir("sep-install-test-");
let server: ReturnType<typeof Bun.serve> | undefined;
let BASE = "";
/** A copy of dist/sep taken once, so a rebuild during the run cannot change what is compared. */
let snapshot = "";
let snapshotHash = "";
let snapshotVersion = "";
/** URL paths the server was asked for, in order. */
const requests: string[] = [];

/** A gzipped tar holding `sep` (level 0: the test needs the format, not the compression). */
function packArchive(binary: string, archive: string): void {
  const dir = join(root.path, "pack");
  mkdirSync(dir, { recursive: true });
  copyFileSync(binary, join(dir, "sep"));
  chmodSync(join(dir, "sep"), 0o755);
  const tar = Bun.spawnSync(["tar", "-cf", "-", "-C", dir, "sep"], { stderr: "pipe" });
  if (tar.exitCode !== 0) throw new Error(`tar failed: ${tar.stderr.toString()}`);
  writeFileSync(archive, Bun.gzipSync(new Uint8Array(tar.stdout), { level: 0 }));
}

function writeRelease(version: string, files: Record<string, string>): void {
  const dir = join(root.path, "www", version);
  mkdirSync(dir, { recursive: true });
  for (const [name, from] of Object.entries(files)) linkSync(from, join(dir, name));
}

beforeAll(async () => {
  await ensureBinary();
  mkdirSync(join(root.path, "snapshot"));
  snapshot = join(root.path, "snapshot", "sep");
  copyFileSync(SEP, snapshot);
  chmodSync(snapshot, 0o755);
  snapshotHash = sha256(snapshot);
  snapshotVersion = Bun.spawnSync([snapshot, "--version"]).stdout.toString().trim();

  const www = join(root.path, "www");
  mkdirSync(www);
  copyFileSync(INSTALL_SH, join(www, "install.sh"));
  // Cut inside a function: a download that stops early must run nothing.
  writeFileSync(join(www, "install-truncated.sh"), readFileSync(INSTALL_SH, "utf8").slice(0, Math.floor(statSync(INSTALL_SH).size * 0.7)));

  const good = join(root.path, "good.tar.gz");
  packArchive(snapshot, good);
  const goodSums = join(root.path, "good.sums");
  // Another platform's line too, as a real SHA256SUMS has: install.sh must pick its own.
  writeFileSync(goodSums, `${"ab".repeat(32)}  sep-${GOOD}-plan9-x64.tar.gz\n${sha256(good)}  ${archiveName(GOOD)}\n`);
  writeRelease(GOOD, { [archiveName(GOOD)]: good, SHA256SUMS: goodSums });
  writeRelease("latest", { [archiveName(GOOD)]: good, SHA256SUMS: goodSums });

  // The tampered sep would leave a marker if it ever ran; it must not even be unpacked.
  const evilScript = join(root.path, "evil-sep");
  writeFileSync(evilScript, '#!/bin/sh\ntouch "$HOME/tampered-sep-ran"\necho 6.6.6\n', { mode: 0o755 });
  const evil = join(root.path, "evil.tar.gz");
  packArchive(evilScript, evil);
  const evilSums = join(root.path, "evil.sums");
  writeFileSync(evilSums, `${sha256(good)}  ${archiveName(TAMPERED)}\n`);
  writeRelease(TAMPERED, { [archiveName(TAMPERED)]: evil, SHA256SUMS: evilSums });

  const missingSums = join(root.path, "missing.sums");
  writeFileSync(missingSums, `${sha256(good)}  ${archiveName(MISSING_ARCHIVE)}\n`);
  writeRelease(MISSING_ARCHIVE, { SHA256SUMS: missingSums });
  const stallSums = join(root.path, "stall.sums");
  writeFileSync(stallSums, `${sha256(good)}  ${archiveName(STALLS)}\n`);
  writeRelease(STALLS, { SHA256SUMS: stallSums });

  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(request) {
      const path = decodeURIComponent(new URL(request.url).pathname);
      requests.push(path);
      if (path === `/${STALLS}/${archiveName(STALLS)}`) {
        // a first chunk, then nothing: the download is in progress when the test interrupts it
        const stream = new ReadableStream({ start: (controller) => controller.enqueue(new Uint8Array(4096)) });
        return new Response(stream, { headers: { "content-length": "100000000" } });
      }
      const file = join(www, normalize(path));
      if (!file.startsWith(`${www}/`) || !existsSync(file) || !statSync(file).isFile()) return new Response("not found\n", { status: 404 });
      return new Response(Bun.file(file));
    },
  });
  BASE = `http://127.0.0.1:${server.port}`;
}, 60_000);

afterAll(() => {
  server?.stop(true);
  root.cleanup();
});

interface Run {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** server requests made during this run, install.sh itself excluded */
  fetched: string[];
}

interface Sandbox {
  home: string;
  /** the default install dir, ~/.local/bin */
  bin: string;
  /** a dir for fake programs, first on PATH */
  fakeBin: string;
  dir: string;
  /** TMPDIR: install.sh's mktemp -d goes here, and must be gone when it exits */
  tmp: string;
}

let sandboxes = 0;
/** A fresh HOME and scratch dir for one test, under the suite's temp root. */
function sandbox(): Sandbox {
  const dir = join(root.path, `sandbox-${++sandboxes}`);
  const home = join(dir, "home");
  const fakeBin = join(dir, "fake-bin");
  mkdirSync(home, { recursive: true });
  mkdirSync(fakeBin);
  mkdirSync(join(dir, "tmp"));
  return { home, bin: join(home, ".local/bin"), fakeBin, dir: realpathSync(dir), tmp: join(realpathSync(dir), "tmp") };
}

/** A minimal environment: nothing inherited from CI, the user, or GitHub Actions. */
function cleanEnv(box: Sandbox, extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: `${box.fakeBin}:${process.env.PATH ?? "/usr/bin:/bin"}`, HOME: box.home, TMPDIR: box.tmp, LANG: "C", ...extra };
}

async function collect(argv: string[], env: Record<string, string>, cwd: string): Promise<Omit<Run, "fetched">> {
  const child = Bun.spawn(argv, { env, cwd, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [exitCode, stdout, stderr] = await Promise.all([child.exited, new Response(child.stdout).text(), new Response(child.stderr).text()]);
  return { exitCode, stdout, stderr };
}

/** `curl -fsSL BASE/<script> | dash [-s -- ARGS]`, the way a CI step runs it. */
async function curlPipeDash(box: Sandbox, env: Record<string, string>, args: string[] = [], script = "install.sh", wrap: string[] = []): Promise<Run> {
  const before = requests.length;
  const pipe = args.length > 0 ? 'curl -fsSL "$INSTALL_SH_URL" | dash -s -- "$@"' : 'curl -fsSL "$INSTALL_SH_URL" | dash';
  const result = await collect([...wrap, "dash", "-c", pipe, "install", ...args], { ...cleanEnv(box, env), INSTALL_SH_URL: `${BASE}/${script}` }, box.dir);
  return { ...result, fetched: requests.slice(before).filter((path) => !path.endsWith(".sh")) };
}

/** The files in a dir (none if it does not exist). */
function listing(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

/** A fake program first on PATH. */
function fakeProgram(box: Sandbox, name: string, body: string): void {
  writeFileSync(join(box.fakeBin, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
}

function fakeUname(box: Sandbox, os: string, cpu: string): void {
  fakeProgram(box, "uname", `case "$1" in -s) echo '${os}' ;; -m) echo '${cpu}' ;; *) echo '${os}' ;; esac`);
}

/** An "old" sep already installed, to show a failed install leaves it alone. */
function oldSep(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, "sep");
  writeFileSync(path, "#!/bin/sh\necho old-sep\n", { mode: 0o755 });
  return readFileSync(path, "utf8");
}

test("dash is installed (the tests below run install.sh under it)", () => {
  if (NO_DASH) throw new Error(NO_DASH);
  expect(DASH).toBeTruthy();
});

test.skipIf(!SHELLCHECK)(`install.sh is clean under shellcheck -s sh${SHELLCHECK ? "" : " (skipped: shellcheck is not installed; apt-get install shellcheck)"}`, () => {
  const result = Bun.spawnSync(["shellcheck", "-s", "sh", INSTALL_SH], { stdout: "pipe", stderr: "pipe" });
  expect(result.stdout.toString() + result.stderr.toString()).toBe("");
  expect(result.exitCode).toBe(0);
});

describe.skipIf(!!NO_DASH)("install.sh over HTTP, piped into dash", () => {
  test("installs the pinned SEP_VERSION into ~/.local/bin after checking its SHA-256, and the installed sep runs", async () => {
    const box = sandbox();
    const run = await curlPipeDash(box, { SEP_DOWNLOAD_BASE: BASE, SEP_VERSION: GOOD });
    expect(run.stderr).toContain(`SHA-256 verified: `);
    expect(run.exitCode).toBe(0);
    expect(run.fetched).toEqual([`/${GOOD}/SHA256SUMS`, `/${GOOD}/${archiveName(GOOD)}`]);
    expect(run.stderr).toContain(`installed sep ${snapshotVersion} to ${box.bin}/sep`);
    expect(run.stderr).toContain("is not on your PATH");
    expect(listing(box.bin)).toEqual(["sep"]);
    expect(listing(box.tmp)).toEqual([]);
    expect(statSync(join(box.bin, "sep")).mode & 0o777).toBe(0o755);
    expect(sha256(join(box.bin, "sep"))).toBe(snapshotHash);

    const project = join(box.dir, "project");
    mkdirSync(join(project, ".git"), { recursive: true });
    const env = cleanEnv(box, { PATH: `${box.bin}:${process.env.PATH}`, NO_COLOR: "1" });
    const version = await collect(["sep", "--version"], env, project);
    expect(version).toMatchObject({ exitCode: 0, stdout: `${snapshotVersion}\n` });
    const ran = await collect(["sep", "--", "true"], env, project);
    expect(ran.stderr).not.toContain("error");
    expect(ran.exitCode).toBe(0);
  }, 30_000);

  test("without SEP_VERSION it installs latest into SEP_INSTALL_DIR, and inside GitHub Actions appends that dir to $GITHUB_PATH", async () => {
    const box = sandbox();
    const githubPath = join(box.dir, "github_path");
    writeFileSync(githubPath, "/opt/earlier/step\n");
    const installDir = join(box.dir, "tools", "bin");
    const run = await curlPipeDash(box, { SEP_DOWNLOAD_BASE: `${BASE}/`, SEP_INSTALL_DIR: installDir, GITHUB_ACTIONS: "true", GITHUB_PATH: githubPath });
    expect(run.stderr).toContain("added");
    expect(run.exitCode).toBe(0);
    expect(run.fetched).toEqual(["/latest/SHA256SUMS", `/latest/${archiveName(GOOD)}`]);
    expect(readFileSync(githubPath, "utf8")).toBe(`/opt/earlier/step\n${installDir}\n`);
    expect(sha256(join(installDir, "sep"))).toBe(snapshotHash);
    expect(listing(box.bin)).toEqual([]);
  }, 30_000);

  test("a v-prefixed SEP_VERSION means the same release; $GITHUB_PATH is left alone outside GitHub Actions", async () => {
    const box = sandbox();
    const githubPath = join(box.dir, "github_path");
    writeFileSync(githubPath, "");
    const run = await curlPipeDash(box, { SEP_DOWNLOAD_BASE: BASE, SEP_VERSION: `v${GOOD}`, GITHUB_PATH: githubPath });
    expect(run.exitCode).toBe(0);
    expect(run.fetched).toEqual([`/${GOOD}/SHA256SUMS`, `/${GOOD}/${archiveName(GOOD)}`]);
    expect(readFileSync(githubPath, "utf8")).toBe("");
  }, 30_000);

  test("a checksum mismatch installs nothing: the old sep stays, no temp file is left, the download is never unpacked or run", async () => {
    const box = sandbox();
    const before = oldSep(box.bin);
    const run = await curlPipeDash(box, { SEP_DOWNLOAD_BASE: BASE, SEP_VERSION: TAMPERED });
    expect(run.stderr).toContain(`checksum mismatch for ${archiveName(TAMPERED)}`);
    expect(run.stderr).toContain("nothing was installed");
    expect(run.exitCode).not.toBe(0);
    expect(listing(box.bin)).toEqual(["sep"]);
    expect(readFileSync(join(box.bin, "sep"), "utf8")).toBe(before);
    expect(existsSync(join(box.home, "tampered-sep-ran"))).toBe(false);
    expect(listing(box.tmp)).toEqual([]);
  }, 30_000);

  test("a version the server does not have (404) fails and names the URL", async () => {
    const box = sandbox();
    const run = await curlPipeDash(box, { SEP_DOWNLOAD_BASE: BASE, SEP_VERSION: "0.0.404" });
    expect(run.stderr).toContain("404");
    expect(run.stderr).toContain(`could not download ${BASE}/0.0.404/SHA256SUMS`);
    expect(run.stderr).toContain("is 0.0.404 a released version?");
    expect(run.exitCode).not.toBe(0);
    expect(existsSync(box.bin)).toBe(false);
  }, 30_000);

  test("an archive listed in SHA256SUMS but missing on the server (404) fails and installs nothing", async () => {
    const box = sandbox();
    const run = await curlPipeDash(box, { SEP_DOWNLOAD_BASE: BASE, SEP_VERSION: MISSING_ARCHIVE });
    expect(run.stderr).toContain(`could not download ${BASE}/${MISSING_ARCHIVE}/${archiveName(MISSING_ARCHIVE)}`);
    expect(run.exitCode).not.toBe(0);
    expect(existsSync(box.bin)).toBe(false);
  }, 30_000);

  test("Ctrl-C during the download: exit 130, the temp dir is removed, nothing is installed", async () => {
    const box = sandbox();
    // detached: its own process group, which is what a terminal's Ctrl-C signals
    const child = Bun.spawn(["dash", INSTALL_SH], {
      env: cleanEnv(box, { SEP_DOWNLOAD_BASE: BASE, SEP_VERSION: STALLS }),
      cwd: box.dir,
      detached: true,
      stdin: "ignore",
      stdout: "ignore",
      stderr: "pipe",
    });
    try {
      await waitFor(() => requests.includes(`/${STALLS}/${archiveName(STALLS)}`) && listing(box.tmp).length === 1, 10_000, "the stalled download");
      process.kill(-child.pid, "SIGINT");
      expect(await child.exited).toBe(130);
    } finally {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // gone, as it should be
      }
    }
    expect(await new Response(child.stderr).text()).toContain(`downloading ${BASE}/${STALLS}/${archiveName(STALLS)}`);
    expect(listing(box.tmp)).toEqual([]);
    expect(existsSync(box.bin)).toBe(false);
  }, 30_000);

  test("an install.sh cut short in transfer runs nothing", async () => {
    const box = sandbox();
    const run = await curlPipeDash(box, { SEP_DOWNLOAD_BASE: BASE, SEP_VERSION: GOOD }, [], "install-truncated.sh");
    expect(run.exitCode).not.toBe(0);
    expect(run.fetched).toEqual([]);
    expect(existsSync(box.bin)).toBe(false);
  }, 30_000);

  test.each([
    ["FreeBSD", "amd64", "unsupported OS: FreeBSD"],
    ["MINGW64_NT-10.0-19045", "x86_64", "unsupported OS: MINGW64_NT-10.0-19045"],
    ["Linux", "riscv64", "unsupported CPU: riscv64"],
    ["Darwin", "i386", "unsupported CPU: i386"],
  ])("uname %s %s: refused before any download (%s)", async (os, cpu, message) => {
    const box = sandbox();
    fakeUname(box, os, cpu);
    const run = await curlPipeDash(box, { SEP_DOWNLOAD_BASE: BASE, SEP_VERSION: GOOD });
    expect(run.stderr).toContain(`install.sh: error: ${message}`);
    expect(run.exitCode).not.toBe(0);
    expect(run.fetched).toEqual([]);
    expect(existsSync(box.bin)).toBe(false);
  }, 30_000);

  test.each([
    ["Darwin", "arm64", "", "darwin-arm64"],
    ["Darwin", "x86_64", "", "darwin-x64"],
    ["Linux", "aarch64", "", "linux-arm64"],
    ["Linux", "arm64", "musl", "linux-arm64-musl"],
    ["Linux", "amd64", "musl", "linux-x64-musl"],
  ])("uname %s %s %s asks for %s, which this release lacks: a clear refusal", async (os, cpu, libc, platform) => {
    const box = sandbox();
    fakeUname(box, os, cpu);
    if (libc === "musl") {
      // What Alpine answers: no GNU_LIBC_VERSION, and an ldd that names musl.
      fakeProgram(box, "getconf", "exit 1");
      fakeProgram(box, "ldd", 'echo "musl libc (x86_64)" >&2; exit 1');
    }
    const run = await curlPipeDash(box, { SEP_DOWNLOAD_BASE: BASE, SEP_VERSION: GOOD });
    expect(run.stderr).toContain(`SHA256SUMS lists no single archive for ${platform} named sep-${GOOD}-${platform}.tar.gz`);
    expect(run.exitCode).not.toBe(0);
    expect(run.fetched).toEqual([`/${GOOD}/SHA256SUMS`]);
    expect(existsSync(box.bin)).toBe(false);
  }, 30_000);

  test("with neither SEP_DOWNLOAD_BASE nor SEP_REPO, an install.sh not stamped by a release says what to set", async () => {
    const box = sandbox();
    const run = await curlPipeDash(box, {});
    expect(run.stderr).toContain("no download location: set SEP_REPO=owner/name (GitHub releases) or SEP_DOWNLOAD_BASE");
    expect(run.exitCode).not.toBe(0);
    expect(existsSync(box.bin)).toBe(false);
  }, 30_000);

  // GitHub itself is out of reach here: a fake curl maps GitHub's release URLs onto the served
  // directory, so the whole download, check and install runs on GitHub's layout.
  test.each([
    [GOOD, [`download/v${GOOD}/SHA256SUMS`, `download/v${GOOD}/${archiveName(GOOD)}`]],
    ["", ["latest/download/SHA256SUMS", `latest/download/${archiveName(GOOD)}`]],
  ])("SEP_REPO with SEP_VERSION=%p downloads from GitHub's release layout", async (version, paths) => {
    const box = sandbox();
    const log = join(box.dir, "curl.log");
    const www = join(root.path, "www");
    const prefix = "https://github.com/acme/sep/releases/";
    fakeProgram(
      box,
      "curl",
      [
        'out=""; url=""',
        'while [ $# -gt 0 ]; do case $1 in --output) out=$2; shift ;; *) url=$1 ;; esac; shift; done',
        `echo "$url" >> '${log}'`,
        "case $url in",
        `  ${prefix}download/v*) rest=\${url#${prefix}download/v}; path=\${rest%%/*}/\${rest#*/} ;;`,
        `  ${prefix}latest/download/*) path=latest/\${url#${prefix}latest/download/} ;;`,
        "  *) path=/nothing ;;",
        "esac",
        `if [ -f '${www}'/"$path" ]; then cp '${www}'/"$path" "$out"; else echo "curl: (22) The requested URL returned error: 404" >&2; exit 22; fi`,
      ].join("\n"),
    );
    const env = cleanEnv(box, { SEP_REPO: "acme/sep", ...(version ? { SEP_VERSION: version } : {}) });
    const result = await collect(["dash", INSTALL_SH], env, box.dir);
    expect(result.stderr).toContain("installed sep");
    expect(result.exitCode).toBe(0);
    expect(readFileSync(log, "utf8")).toBe(paths.map((path) => `${prefix}${path}\n`).join(""));
    expect(sha256(join(box.bin, "sep"))).toBe(snapshotHash);
  }, 30_000);

  // Only the programs install.sh needs, so that curl can be left out.
  const BASE_TOOLS = ["uname", "getconf", "ldd", "grep", "mkdir", "awk", "sha256sum", "cut", "tar", "gzip", "cp", "chmod", "mv", "rm", "mktemp", "cat", "dirname", "dash"];
  function minimalPath(box: Sandbox, tools: string[]): string {
    const dir = join(box.dir, "minimal-bin");
    mkdirSync(dir);
    for (const tool of tools) {
      const path = Bun.which(tool);
      if (path) symlinkSync(path, join(dir, tool));
    }
    return dir;
  }

  const WGET = Bun.which("wget");
  test.skipIf(!WGET)(`without curl it downloads with wget${WGET ? "" : " (skipped: wget is not installed)"}`, async () => {
    const box = sandbox();
    const env = { ...cleanEnv(box), PATH: minimalPath(box, [...BASE_TOOLS, "wget"]), SEP_DOWNLOAD_BASE: BASE, SEP_VERSION: GOOD };
    const before = requests.length;
    const result = await collect(["dash", INSTALL_SH], env, box.dir);
    expect(result.stderr).toContain("SHA-256 verified");
    expect(result.exitCode).toBe(0);
    expect(requests.slice(before)).toEqual([`/${GOOD}/SHA256SUMS`, `/${GOOD}/${archiveName(GOOD)}`]);
    expect(sha256(join(box.bin, "sep"))).toBe(snapshotHash);
  }, 30_000);

  test("with neither curl nor wget it says so and installs nothing", async () => {
    const box = sandbox();
    const env = { ...cleanEnv(box), PATH: minimalPath(box, BASE_TOOLS), SEP_DOWNLOAD_BASE: BASE, SEP_VERSION: GOOD };
    const result = await collect(["dash", INSTALL_SH], env, box.dir);
    expect(result.stderr).toContain("install.sh: error: need curl or wget to download sep");
    expect(result.exitCode).not.toBe(0);
    expect(existsSync(box.bin)).toBe(false);
  }, 30_000);

  test("an install dir that cannot be created (a path under a regular file) fails after the checks and leaves nothing", async () => {
    const box = sandbox();
    writeFileSync(join(box.dir, "a-file"), "");
    const installDir = join(box.dir, "a-file", "bin");
    const run = await curlPipeDash(box, { SEP_DOWNLOAD_BASE: BASE, SEP_VERSION: GOOD, SEP_INSTALL_DIR: installDir });
    expect(run.stderr).toContain(`cannot create the install dir ${installDir}`);
    expect(run.exitCode).not.toBe(0);
    expect(readFileSync(join(box.dir, "a-file"), "utf8")).toBe("");
  }, 30_000);

  // root writes through mode bits, so for root the dir is a read-only tmpfs in a private mount
  // namespace (gone when the command exits); a non-root user gets a mode 0555 dir.
  const readOnlyWrap = IS_ROOT ? ["unshare", "--mount", "sh", "-c", 'mount -t tmpfs -o ro,size=1m tmpfs "$RO_DIR" && exec "$@"', "wrap"] : [];
  const NO_READ_ONLY =
    IS_ROOT && Bun.spawnSync(["unshare", "--mount", "sh", "-c", `mount -t tmpfs -o ro,size=1m tmpfs "${root.path}"`], { stderr: "ignore" }).exitCode !== 0
      ? "running as root without the right to mount a read-only tmpfs (unshare --mount), so no dir here is read-only to this user"
      : "";
  test.skipIf(!!NO_READ_ONLY)(`an existing install dir that is read-only fails with a clear message and leaves nothing${NO_READ_ONLY ? ` (skipped: ${NO_READ_ONLY})` : ""}`, async () => {
    const box = sandbox();
    const installDir = join(box.dir, "read-only");
    mkdirSync(installDir);
    if (!IS_ROOT) chmodSync(installDir, 0o555);
    const run = await curlPipeDash(box, { SEP_DOWNLOAD_BASE: BASE, SEP_VERSION: GOOD, SEP_INSTALL_DIR: installDir, RO_DIR: installDir }, [], "install.sh", readOnlyWrap);
    expect(run.stderr).toContain(`cannot write to the install dir ${installDir}`);
    expect(run.exitCode).not.toBe(0);
    expect(listing(installDir)).toEqual([]);
  }, 30_000);

  test("--binary FILE installs that file (no download), and it runs", async () => {
    const box = sandbox();
    const run = await curlPipeDash(box, { SEP_DOWNLOAD_BASE: BASE }, ["--binary", snapshot]);
    expect(run.exitCode).toBe(0);
    expect(run.fetched).toEqual([]);
    expect(sha256(join(box.bin, "sep"))).toBe(snapshotHash);
    const version = await collect([join(box.bin, "sep"), "--version"], cleanEnv(box), box.dir);
    expect(version.stdout).toBe(`${snapshotVersion}\n`);
  }, 30_000);

  test("--binary FILE that does not run on this machine is refused, and the old sep stays", async () => {
    const box = sandbox();
    const before = oldSep(box.bin);
    const broken = join(box.dir, "broken-sep");
    writeFileSync(broken, "#!/bin/sh\necho 'cannot execute binary file' >&2\nexit 126\n", { mode: 0o755 });
    const run = await curlPipeDash(box, {}, [`--binary=${broken}`]);
    expect(run.stderr).toContain("the new sep does not run on this machine, so nothing was installed: cannot execute binary file");
    expect(run.exitCode).not.toBe(0);
    expect(listing(box.bin)).toEqual(["sep"]);
    expect(readFileSync(join(box.bin, "sep"), "utf8")).toBe(before);
  }, 30_000);

  test.each([
    [["--binary", "/no/such/sep"], "--binary /no/such/sep: no such file"],
    [["--binary"], "--binary needs a FILE"],
    [["--binary", "x", "--from-source"], "use one of --from-source and --binary"],
    [["--frm-source"], "unknown option: --frm-source"],
  ])("install.sh %p fails: %s", async (args, message) => {
    const box = sandbox();
    const run = await curlPipeDash(box, {}, args);
    expect(run.stderr).toContain(`install.sh: error: ${message}`);
    expect(run.exitCode).not.toBe(0);
    expect(existsSync(box.bin)).toBe(false);
  }, 30_000);

  test("--help prints the usage and installs nothing", async () => {
    const box = sandbox();
    const run = await curlPipeDash(box, {}, ["--help"]);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain("--from-source");
    expect(run.stdout).toContain("SEP_DOWNLOAD_BASE");
    expect(existsSync(box.bin)).toBe(false);
  }, 30_000);

  test("--from-source runs npm ci and npm run build in the checkout it lives in, then installs dist/sep", async () => {
    const box = sandbox();
    const checkout = join(box.dir, "checkout");
    mkdirSync(checkout);
    copyFileSync(INSTALL_SH, join(checkout, "install.sh"));
    writeFileSync(join(checkout, "package.json"), "{}\n");
    writeFileSync(join(checkout, "build.ts"), "");
    // A fake npm: the real one would need the network and minutes; what matters here is where
    // and what install.sh asks it to do.
    const log = join(box.dir, "npm.log");
    fakeProgram(box, "npm", `echo "$PWD $*" >> '${log}'\nif [ "$1 $2" = "run build" ]; then mkdir -p dist && cp '${snapshot}' dist/sep; fi`);
    const result = await collect(["dash", join(checkout, "install.sh"), "--from-source"], cleanEnv(box), box.dir);
    expect(result.stderr).toContain(`building sep in ${checkout}`);
    expect(result.exitCode).toBe(0);
    expect(readFileSync(log, "utf8")).toBe(`${checkout} ci\n${checkout} run build\n`);
    expect(sha256(join(box.bin, "sep"))).toBe(snapshotHash);
  }, 30_000);

  test("--from-source through a pipe has no checkout to build, and says how to run it", async () => {
    const box = sandbox();
    const run = await curlPipeDash(box, {}, ["--from-source"]);
    expect(run.stderr).toContain("--from-source needs install.sh run from a checkout");
    expect(run.exitCode).not.toBe(0);
    expect(existsSync(box.bin)).toBe(false);
  }, 30_000);

  test("a failing build (--from-source) installs nothing", async () => {
    const box = sandbox();
    const checkout = join(box.dir, "checkout");
    mkdirSync(checkout);
    copyFileSync(INSTALL_SH, join(checkout, "install.sh"));
    writeFileSync(join(checkout, "package.json"), "{}\n");
    writeFileSync(join(checkout, "build.ts"), "");
    fakeProgram(box, "npm", 'if [ "$1" = ci ]; then exit 0; fi\necho "error: build broke" >&2\nexit 1');
    const result = await collect(["dash", join(checkout, "install.sh"), "--from-source"], cleanEnv(box), box.dir);
    expect(result.stderr).toContain(`building sep in ${checkout} failed`);
    expect(result.exitCode).not.toBe(0);
    expect(existsSync(box.bin)).toBe(false);
  }, 30_000);
});
