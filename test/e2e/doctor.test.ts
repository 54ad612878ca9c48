// `sep doctor` as a user runs it: exit codes, the text report, --json, and GitHub annotations.
import { afterEach, beforeAll, expect, test } from "bun:test";
import { lstatSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cleanupAll, ensureBinary, runSep, sepEnv, tempProject } from "./helpers.ts";

beforeAll(() => ensureBinary(), 300_000);
afterEach(() => cleanupAll());

interface Finding {
  check: string;
  status: "ok" | "warn" | "fail";
  message: string;
  file?: string;
  line?: number;
  fix?: string;
}

/** The seed's broken lint workflow: the batch script is queued, the queue never started. */
const SEED_BROKEN = `name: Lint
on: [push, pull_request]
jobs:
  lint:
    runs-on: ubuntu-latest
    steps:
    - uses: actions/checkout@v4
    - name: Run all lints sequentially
      run: |
        cat > lint_all.sh << 'EOF'
        uv run ruff check
        EOF
        chmod +x lint_all.sh
        ./scripts/sep_queue.sh -- ./lint_all.sh
`;

function write(root: string, path: string, text: string): void {
  mkdirSync(join(root, path, ".."), { recursive: true });
  writeFileSync(join(root, path), text);
}

function tree(dir: string): string[] {
  return readdirSync(dir, { recursive: true }).map(String).sort().map((path) => `${path} ${lstatSync(join(dir, path)).mtimeMs}`);
}

test("a project set up with sep init: every check passes, exit 0, one line per finding", async () => {
  const dir = tempProject();
  expect((await runSep(["init"], { cwd: dir })).exitCode).toBe(0);
  const result = await runSep(["doctor"], { cwd: dir });
  expect(result.stderr).toBe("");
  expect(result.exitCode).toBe(0);
  const lines = result.stdoutText.trimEnd().split("\n");
  expect(lines.at(-1)).toMatch(/^sep doctor: 0 failed, \d+ warnings?, \d+ ok$/);
  for (const line of lines.slice(0, -1)) expect(line).toMatch(/^(ok  |warn)  \S+ +\S/);
  expect(lines.some((line) => /^ok {4}config {2,}configuration is valid/.test(line))).toBe(true);
}, 30_000);

test("--json prints the findings array", async () => {
  const dir = tempProject();
  const result = await runSep(["doctor", "--json"], { cwd: dir });
  expect(result.exitCode).toBe(0);
  const findings = JSON.parse(result.stdoutText) as Finding[];
  expect(findings.map((finding) => finding.check)).toEqual(["config", "lock-dir", "log-dir", "proc", "flock", "governor", "version", "workflows", "makefiles", "package-json", "pre-commit"]);
  for (const finding of findings) expect(["ok", "warn"]).toContain(finding.status);
}, 30_000);

test("the seed's broken workflow: exit 1, the file and line, the fix; GitHub annotations under Actions", async () => {
  const dir = tempProject();
  write(dir, ".github/workflows/lint.yml", SEED_BROKEN);
  const text = await runSep(["doctor"], { cwd: dir });
  expect(text.exitCode).toBe(1);
  const failure = text.stdoutText.split("\n").find((line) => line.startsWith("fail"));
  expect(failure).toStartWith("fail  workflows     .github/workflows/lint.yml:14: job \"lint\" queues `./scripts/sep_queue.sh -- ./lint_all.sh` but never runs");
  expect(failure).toContain("— fix: ");
  expect(text.stdoutText).toContain("warn  workflows     .github/workflows/lint.yml:14: calls the old sep_queue.sh");

  const json = await runSep(["doctor", "--json"], { cwd: dir });
  expect(json.exitCode).toBe(1);
  const findings = JSON.parse(json.stdoutText) as Finding[];
  expect(findings.filter((finding) => finding.status !== "ok").map((f) => [f.check, f.status, f.file, f.line])).toEqual([
    ["workflows", "fail", ".github/workflows/lint.yml", 14],
    ["workflows", "warn", ".github/workflows/lint.yml", 14],
  ]);

  const actions = await runSep(["doctor"], { cwd: dir, env: sepEnv({ CI: "true", GITHUB_ACTIONS: "true" }) });
  expect(actions.exitCode).toBe(1);
  expect(actions.stderr).toContain("::error title=sep doctor%3A workflows,file=.github/workflows/lint.yml,line=14::job \"lint\" queues");
  expect(actions.stderr).toContain("::warning title=sep doctor%3A workflows,file=.github/workflows/lint.yml,line=14::calls the old sep_queue.sh");
}, 30_000);

test("the workflow sep init --ci prints passes sep doctor", async () => {
  const dir = tempProject();
  const init = await runSep(["init", "--ci"], { cwd: dir });
  expect(init.exitCode).toBe(0);
  write(dir, ".github/workflows/checks.yml", init.stdoutText);
  const result = await runSep(["doctor"], { cwd: dir });
  expect(result.stdoutText).toMatch(/^ok {4}workflows {5}GitHub workflows: \.github\/workflows\/checks\.yml, 1 job;/m);
  expect(result.exitCode).toBe(0);
}, 30_000);

test("a bad configuration is reported, exit 1 (not 2), and doctor creates nothing", async () => {
  const dir = tempProject();
  write(dir, ".env.development", "MEMORY_LIMIT_MB=lots\n");
  const before = tree(dir);
  const result = await runSep(["doctor"], { cwd: dir });
  expect(result.exitCode).toBe(1);
  expect(result.stdoutText).toContain('fail  config        .env.development:1: MEMORY_LIMIT_MB must be a whole number ≥ 0 (got "lots"');
  expect(result.stdoutText).toMatch(/^sep doctor: 1 failed, /m);
  expect(tree(dir)).toEqual(before);
}, 30_000);

test("an unknown flag is a usage error (exit 2)", async () => {
  const dir = tempProject();
  const result = await runSep(["doctor", "--fix"], { cwd: dir });
  expect(result.exitCode).toBe(2);
  expect(result.stderr).toContain("unknown option --fix for sep doctor");
}, 30_000);
