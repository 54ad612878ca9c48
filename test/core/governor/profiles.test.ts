// Learned profiles on real files: repository keys for real git worktrees (made with git, read
// without it), bounded atomic writes, files that must not be trusted; the reservation arithmetic.
import { afterEach, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MB } from "../../../src/core/governor/budget.ts";
import { etaReader, planReservation, recordFinishedRun } from "../../../src/core/governor/index.ts";
import {
  commandKey,
  expectedDurationMs,
  MAX_RUNS,
  type ProfileRun,
  profilesDir,
  readProfileRuns,
  recordProfileRun,
  relativeCwd,
  repositoryKey,
  reservationFor,
} from "../../../src/core/governor/profiles.ts";
import { type TempDir, tempDir } from "../../helpers.ts";

const dirs: TempDir[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) dir.cleanup();
});
function temp(): string {
  const dir = tempDir("sep-profiles-");
  dirs.push(dir);
  return dir.path;
}
const run = (peakMb: number, durationMs = 1000): ProfileRun => ({ peakBytes: peakMb * MB, durationMs, finishedAt: new Date().toISOString() });

function git(cwd: string, ...args: string[]): void {
  const result = Bun.spawnSync(["git", ...args], {
    cwd,
    env: { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@t", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@t" },
    stderr: "pipe",
  });
  if (result.exitCode !== 0) throw new Error(`git ${args.join(" ")}: ${result.stderr.toString()}`);
}

describe.if(Bun.which("git") !== null)("repositoryKey", () => {
  test("a repository and its linked worktrees share one key; another clone does not", () => {
    const base = temp();
    const main = join(base, "main");
    mkdirSync(main);
    git(main, "init", "-q");
    git(main, "commit", "-q", "--allow-empty", "-m", "first");
    git(main, "worktree", "add", "-q", join(base, "wt-a"));
    git(main, "worktree", "add", "-q", join(base, "wt-b"));
    const other = join(base, "other");
    mkdirSync(other);
    git(other, "init", "-q");

    const key = repositoryKey(main);
    expect(key.startsWith("git:")).toBe(true);
    expect(repositoryKey(join(base, "wt-a"))).toBe(key);
    expect(repositoryKey(join(base, "wt-b"))).toBe(key);
    expect(repositoryKey(other)).not.toBe(key);
  });

  test("a package below the top of a worktree keeps its path; matching across worktrees", () => {
    const base = temp();
    const main = join(base, "main");
    mkdirSync(join(main, "pkg"), { recursive: true });
    git(main, "init", "-q");
    writeFileSync(join(main, "pkg", "x"), "");
    git(main, "add", ".");
    git(main, "commit", "-q", "-m", "first");
    git(main, "worktree", "add", "-q", join(base, "wt"));
    expect(repositoryKey(join(main, "pkg"))).toBe(repositoryKey(join(base, "wt", "pkg")));
    expect(repositoryKey(join(main, "pkg"))).not.toBe(repositoryKey(main));
  });

  test("a `.git` file without commondir (a submodule's): its gitdir is the repository", () => {
    const base = temp();
    mkdirSync(join(base, "modules", "sub"), { recursive: true });
    mkdirSync(join(base, "checkout"));
    writeFileSync(join(base, "checkout", ".git"), "gitdir: ../modules/sub\n");
    expect(repositoryKey(join(base, "checkout"))).toBe(`git:${join(base, "modules", "sub")}`);
  });

  test("no git anywhere: the project root itself", () => {
    const base = temp();
    // /tmp has no .git above it on a sane machine; if it does, the key still names this dir.
    expect(repositoryKey(base)).toMatch(new RegExp(`^(dir:${base}|git:.*:.*)$`));
  });
});

describe("commandKey and relativeCwd", () => {
  test("same repository, argv and cwd: same key; any difference: another", () => {
    const key = commandKey("git:/r/.git", ["pytest", "-x"], "tests");
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(commandKey("git:/r/.git", ["pytest", "-x"], "tests")).toBe(key);
    expect(commandKey("git:/r/.git", ["pytest", "-x"], ".")).not.toBe(key);
    expect(commandKey("git:/r/.git", ["pytest -x"], "tests")).not.toBe(key);
    expect(commandKey("git:/s/.git", ["pytest", "-x"], "tests")).not.toBe(key);
    expect(commandKey("k", ["a"], "")).toBe(commandKey("k", ["a"], "."));
  });
  test("relativeCwd", () => {
    const base = temp();
    mkdirSync(join(base, "a", "b"), { recursive: true });
    expect(relativeCwd(base, base)).toBe(".");
    expect(relativeCwd(base, join(base, "a", "b"))).toBe("a/b");
  });
});

describe("profile files", () => {
  test("record then read; at most MAX_RUNS kept, newest last; written 0600 in 0700 dirs", () => {
    const stateDir = join(temp(), "state");
    const key = commandKey("k", ["make"], ".");
    for (let i = 1; i <= MAX_RUNS + 3; i++) recordProfileRun({ stateDir, key, repositoryKey: "k", argv: ["make"], cwd: ".", run: run(i) });
    const runs = readProfileRuns(key, { stateDir });
    expect(runs.length).toBe(MAX_RUNS);
    expect(runs.map((r) => r.peakBytes / MB)).toEqual([4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    const file = join(profilesDir(stateDir), `${key}.json`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(profilesDir(stateDir)).mode & 0o777).toBe(0o700);
    expect(statSync(stateDir).mode & 0o777).toBe(0o700);
    expect(JSON.parse(readFileSync(file, "utf8"))).toMatchObject({ argv: ["make"], cwd: ".", repositoryKey: "k" });
    expect(readdirSync(profilesDir(stateDir)).filter((name) => name.endsWith(".tmp"))).toEqual([]);
  });

  test("reading creates nothing", () => {
    const stateDir = join(temp(), "state");
    expect(readProfileRuns("abc", { stateDir })).toEqual([]);
    expect(existsSync(stateDir)).toBe(false);
  });

  test("at most maxProfiles files: the least recently written go", () => {
    const stateDir = join(temp(), "state");
    for (let i = 0; i < 5; i++) {
      recordProfileRun({ stateDir, key: `k${i}`, repositoryKey: "r", argv: [String(i)], cwd: ".", run: run(1), maxProfiles: 100 });
      // mtimes a second apart, so the order does not depend on the file system's resolution
      const when = new Date(Date.now() - (10 - i) * 1000);
      utimesSync(join(profilesDir(stateDir), `k${i}.json`), when, when);
    }
    recordProfileRun({ stateDir, key: "k5", repositoryKey: "r", argv: ["5"], cwd: ".", run: run(1), maxProfiles: 3 });
    expect(readdirSync(profilesDir(stateDir)).sort()).toEqual(["k3.json", "k4.json", "k5.json"]);
  });

  test("corrupt, symlinked, foreign-owned: ignored with a warning, never trusted; the next write replaces it", () => {
    const stateDir = join(temp(), "state");
    recordProfileRun({ stateDir, key: "seed", repositoryKey: "r", argv: ["x"], cwd: ".", run: run(1) });
    const dir = profilesDir(stateDir);
    const warnings: string[] = [];
    const onWarning = (message: string) => warnings.push(message);

    writeFileSync(join(dir, "corrupt.json"), "{ not json", { mode: 0o600 });
    expect(readProfileRuns("corrupt", { stateDir, onWarning })).toEqual([]);
    expect(warnings.pop()).toContain("not valid JSON");

    const elsewhere = join(temp(), "planted.json");
    writeFileSync(elsewhere, JSON.stringify({ runs: [run(999)] }));
    symlinkSync(elsewhere, join(dir, "link.json"));
    expect(readProfileRuns("link", { stateDir, onWarning })).toEqual([]);
    expect(warnings.pop()).toContain("symlink");

    if (process.getuid?.() === 0) {
      writeFileSync(join(dir, "foreign.json"), JSON.stringify({ runs: [run(999)] }), { mode: 0o600 });
      chownSync(join(dir, "foreign.json"), 12345, 12345);
      expect(readProfileRuns("foreign", { stateDir, onWarning })).toEqual([]);
      expect(warnings.pop()).toContain("uid 12345");
    }

    recordProfileRun({ stateDir, key: "link", repositoryKey: "r", argv: ["x"], cwd: ".", run: run(7) });
    expect(readProfileRuns("link", { stateDir }).map((r) => r.peakBytes)).toEqual([7 * MB]);
    expect(JSON.parse(readFileSync(elsewhere, "utf8")).runs[0].peakBytes).toBe(999 * MB); // never written through
  });

  test("a symlinked or foreign state dir: writing is refused, reading ignores it", () => {
    const base = temp();
    const real = join(base, "real");
    mkdirSync(join(real, "governor", "profiles"), { recursive: true, mode: 0o700 });
    symlinkSync(real, join(base, "state"));
    const stateDir = join(base, "state");
    expect(() => recordProfileRun({ stateDir, key: "k", repositoryKey: "r", argv: ["x"], cwd: ".", run: run(1) })).toThrow(/symlink/);
    const link = join(base, "state2");
    mkdirSync(join(link, "governor"), { recursive: true, mode: 0o700 });
    symlinkSync(join(real, "governor", "profiles"), join(link, "governor", "profiles"));
    const warnings: string[] = [];
    expect(readProfileRuns("k", { stateDir: link, onWarning: (m) => warnings.push(m) })).toEqual([]);
    expect(warnings[0]).toContain("is a symlink");
    chmodSync(real, 0o700);
  });

  test("planReservation + recordFinishedRun: the second run of a command learns from the first", () => {
    const stateDir = join(temp(), "state");
    const projectRoot = temp();
    const common = { stateDir, projectRoot, argv: ["pytest"], cwd: projectRoot, memoryLimitBytes: 2048 * MB, budgetBytes: 8192 * MB };
    const first = planReservation(common);
    expect(first.reservation).toEqual({ bytes: 2048 * MB, source: "limit" });
    recordFinishedRun(first, { peakBytes: 300 * MB, durationMs: 4000 });
    const second = planReservation(common);
    expect(second.reservation).toEqual({ bytes: Math.ceil(300 * MB * 1.2), source: "learned" });
    expect(etaReader({ stateDir }).expectedDurationMs({ argv: ["pytest"], cwd: projectRoot, projectRoot })).toBe(4000);
    expect(planReservation({ ...common, flagBytes: 100 * MB }).reservation).toEqual({ bytes: 100 * MB, source: "flag" });
  });
});

describe("reservationFor", () => {
  const cases: Array<[label: string, input: Parameters<typeof reservationFor>[0], bytes: number, source: string]> = [
    ["flag wins over history", { flagBytes: 100 * MB, runs: [run(500)], memoryLimitBytes: 2048 * MB, budgetBytes: 8192 * MB }, 100 * MB, "flag"],
    ["flag, capped by the limit", { flagBytes: 4096 * MB, runs: [], memoryLimitBytes: 2048 * MB, budgetBytes: 8192 * MB }, 2048 * MB, "flag"],
    ["learned: highest peak + 20 %", { runs: [run(100), run(500), run(200)], memoryLimitBytes: 2048 * MB, budgetBytes: 8192 * MB }, Math.ceil(500 * MB * 1.2), "learned"],
    ["learned: at least 64 MB", { runs: [run(10)], memoryLimitBytes: 2048 * MB, budgetBytes: 8192 * MB }, 64 * MB, "learned"],
    ["learned: never above the limit", { runs: [run(1900)], memoryLimitBytes: 2048 * MB, budgetBytes: 8192 * MB }, 2048 * MB, "learned"],
    ["learned with no limit", { runs: [run(1900)], memoryLimitBytes: 0, budgetBytes: 8192 * MB }, Math.ceil(1900 * MB * 1.2), "learned"],
    ["no history: the limit", { runs: [], memoryLimitBytes: 2048 * MB, budgetBytes: 8192 * MB }, 2048 * MB, "limit"],
    ["no history, no limit: the whole budget", { runs: [], memoryLimitBytes: 0, budgetBytes: 8192 * MB }, 8192 * MB, "limit"],
    ["runs with no measured peak are no history", { runs: [run(0)], memoryLimitBytes: 1024 * MB, budgetBytes: 8192 * MB }, 1024 * MB, "limit"],
  ];
  test.each(cases)("%s", (_label, input, bytes, source) => {
    expect(reservationFor(input)).toEqual({ bytes, source: source as "flag" });
  });
});

describe("expectedDurationMs", () => {
  test.each([
    [[], undefined],
    [[5], 5],
    [[9, 1, 5], 5],
    [[1, 2, 3, 10], 2.5],
  ] as const)("%j → %j", (durations, expected) => {
    expect(expectedDurationMs(durations.map((d) => ({ peakBytes: 1, durationMs: d, finishedAt: "" })))).toBe(expected);
  });
});
