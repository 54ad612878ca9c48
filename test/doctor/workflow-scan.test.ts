// The scan for the seed's failure (queue add with no later queue start in the same job, target,
// script or hook) and for old-script calls, over real files in temp projects.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { classifyCommand, type ScanProblem, scanMakefiles, scanPackageJson, scanPreCommit, scanWorkflows, shellCommands } from "../../src/doctor/workflow-scan.ts";
import { GITHUB_WORKFLOW_SNIPPET } from "../../src/commands/init.ts";
import { fsReader } from "../../src/doctor/checks.ts";
import { tempDir, type TempDir } from "../helpers.ts";

const dirs: TempDir[] = [];
afterAll(() => {
  for (const dir of dirs) dir.cleanup();
});

/** A temp project holding the given files (paths relative to its root). */
function project(files: Record<string, string>): string {
  const dir = tempDir("sep-scan-");
  dirs.push(dir);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir.path, path)), { recursive: true });
    writeFileSync(join(dir.path, path), text);
  }
  return dir.path;
}

/** The problems as compact tuples: [status, kind, file:line]. */
function brief(problems: ScanProblem[]): string[][] {
  return problems.map((p) => [p.status, p.kind, `${p.file}${p.line === undefined ? "" : `:${p.line}`}`]);
}

/** A workflow file from job bodies; each job gets `runs-on` and its steps. */
function workflow(jobs: Record<string, string>): string {
  let text = "name: ci\non: [push, pull_request]\njobs:\n";
  for (const [name, steps] of Object.entries(jobs)) text += `  ${name}:\n    runs-on: ubuntu-latest\n    steps:\n${steps}`;
  return text;
}

const WF = ".github/workflows/ci.yml";

describe("shellCommands", () => {
  const cases: { name: string; script: string; commands: [number, string[]][] }[] = [
    { name: "a comment is not a command", script: "# sep queue add -- x\necho hi # sep queue add", commands: [[1, ["echo", "hi"]]] },
    { name: "quoted text stays one word of the echo", script: `echo "sep queue add -- y" 'sep queue start'`, commands: [[0, ["echo", "sep queue add -- y", "sep queue start"]]] },
    { name: "a continuation joins lines; the command is on its first word's line", script: "true\nsep queue add \\\n  --name x \\\n  -- pytest\nls", commands: [[0, ["true"]], [1, ["sep", "queue", "add", "--name", "x", "--", "pytest"]], [4, ["ls"]]] },
    { name: "operators split commands", script: "a && b || c; d | e & f", commands: [[0, ["a"]], [0, ["b"]], [0, ["c"]], [0, ["d"]], [0, ["e"]], [0, ["f"]]] },
    { name: "a heredoc body written to a file is data", script: "cat > run.sh << 'EOF'\nsep queue add -- x\nEOF\nchmod +x run.sh", commands: [[0, ["cat"]], [3, ["chmod", "+x", "run.sh"]]] },
    { name: "a heredoc fed to a shell runs", script: "bash <<EOF\nsep queue add -- x\nEOF", commands: [[0, ["bash"]], [1, ["sep", "queue", "add", "--", "x"]]] },
    { name: "<<- strips tabs before the delimiter", script: "cat <<-END\n\tsep queue add\n\tEND\nls", commands: [[0, ["cat"]], [3, ["ls"]]] },
    { name: "command substitution runs its commands", script: "ID=$(sep queue add -- x)", commands: [[0, ["sep", "queue", "add", "--", "x"]], [0, ["ID=$(…)"]]] },
    { name: "sh -c runs its script", script: "bash -ec 'sep queue add -- x; sep queue start'", commands: [[0, ["bash", "-ec", "sep queue add -- x; sep queue start"]], [0, ["sep", "queue", "add", "--", "x"]], [0, ["sep", "queue", "start"]]] },
    { name: "redirections name files, not arguments", script: "sep -- make 2>&1 >log.txt </dev/null", commands: [[0, ["sep", "--", "make"]]] },
    { name: "GitHub expressions and arithmetic are skipped whole", script: "echo ${{ matrix.cmd }} $((1 << 2))", commands: [[0, ["echo", "${{ matrix.cmd }}", "$((1 << 2))"]]] },
    { name: "CRLF line ends", script: "sep queue add -- x\r\nsep queue start\r\n", commands: [[0, ["sep", "queue", "add", "--", "x"]], [1, ["sep", "queue", "start"]]] },
  ];
  for (const c of cases) {
    test(c.name, () => {
      expect(shellCommands(c.script).map((command) => [command.line, command.words])).toEqual(c.commands);
    });
  }
});

describe("classifyCommand", () => {
  const cases: { words: string; call: string; old?: boolean }[] = [
    { words: "sep queue add -- pytest", call: "add sep" },
    { words: "sep queue add --name x -t 5 -- pytest", call: "add sep" },
    { words: "sep queue start --fail-fast", call: "start sep" },
    { words: "sep --queue-start", call: "start sep" },
    { words: "sep -- pytest", call: "other" },
    { words: "sep -- sep queue add -- x", call: "other" },
    { words: "sep queue add --help", call: "other" },
    { words: "/home/u/.local/bin/sep queue add -- x", call: "add sep" },
    { words: "env A=1 sudo -u ci time sep queue add -- x", call: "add sep" },
    { words: "if ! sep queue start", call: "start sep" },
    { words: "./scripts/sep_queue.sh -- pytest", call: "add legacy", old: true },
    { words: "./scripts/sep_queue.sh --timeout 7200 -- ./run_all.sh", call: "add legacy", old: true },
    { words: "scripts/sep_queue.sh --no-atomify pytest tests/", call: "add legacy", old: true },
    { words: "bash scripts/sep_queue.sh -- pytest", call: "add legacy", old: true },
    { words: "./scripts/sep_queue.sh --queue-start", call: "start legacy", old: true },
    { words: "./scripts/sep_queue.sh --queue-status", call: "other", old: true },
    { words: "./scripts/sep_queue.sh run list", call: "other", old: true },
    { words: "./scripts/sep.sh -- uv run pytest", call: "other", old: true },
    { words: "wait_all.sh -- make", call: "other", old: true },
    { words: "scripts/sep_kill_orphans.sh --dry-run", call: "other", old: true },
    { words: "source scripts/sep_common.sh", call: "other", old: true },
    { words: "chmod +x scripts/sep_queue.sh", call: "other" },
    { words: "echo sep queue add", call: "other" },
    { words: "make -s lint test", call: "make lint,test" },
    { words: "make -C sub lint", call: "other" },
    { words: "npm run lint -- --fix", call: "npm lint" },
    { words: "npm test", call: "npm test" },
    { words: "pnpm lint", call: "npm lint" },
  ];
  for (const c of cases) {
    test(c.words, () => {
      const { call, oldScript } = classifyCommand(c.words.split(" "));
      const got =
        call.kind === "add" || call.kind === "start"
          ? `${call.kind} ${call.family}`
          : call.kind === "make"
            ? `make ${call.targets.join(",")}`
            : call.kind === "npm"
              ? `npm ${call.script}`
              : "other";
      expect({ call: got, old: oldScript !== undefined }).toEqual({ call: c.call, old: c.old ?? false });
    });
  }
});

describe("workflows", () => {
  const cases: { name: string; files: Record<string, string>; problems: string[][] }[] = [
    {
      name: "the seed's broken workflow (b7a7671): queued with sep_queue.sh, never started",
      files: {
        [WF]: workflow({
          lint: [
            "    - uses: actions/checkout@v4",
            "    - name: Setup SEP",
            "      run: |",
            "        mkdir -p logs .sequential-locks",
            "        chmod +x scripts/sep*.sh",
            "    - name: Run all lints sequentially",
            "      run: |",
            "        cat > lint_all.sh << 'EOF'",
            "        #!/usr/bin/env bash",
            "        uv run ruff check",
            "        EOF",
            "        ./scripts/sep_queue.sh -- ./lint_all.sh",
            "",
          ].join("\n"),
        }),
      },
      problems: [["fail", "queue-not-started", `${WF}:18`], ["warn", "old-script", `${WF}:18`]],
    },
    {
      name: "the seed's option 1 (queue, then --queue-start in the same step): only the old script is flagged",
      files: { [WF]: workflow({ lint: "    - run: |\n        ./scripts/sep_queue.sh --timeout 7200 -- ./run_all.sh\n        ./scripts/sep_queue.sh --queue-start\n" }) },
      problems: [["warn", "old-script", `${WF}:8`]],
    },
    {
      name: "sep queue add in one step and sep queue start in a later step of the same job: ok",
      files: { [WF]: workflow({ test: "      - run: |\n          sep queue add -- pytest -x\n          sep queue add -- ruff check\n      - name: run\n        run: sep queue start\n" }) },
      problems: [],
    },
    {
      name: "queued in one job, started in another: each job is a fresh runner",
      files: { [WF]: workflow({ queue: "      - run: sep queue add -- pytest\n", run: "      - run: sep queue start\n" }) },
      problems: [["fail", "queue-not-started", `${WF}:7`]],
    },
    {
      name: "a queue add after the last queue start is never run",
      files: { [WF]: workflow({ test: "      - run: |\n          sep queue add -- a\n          sep queue start\n          sep queue add -- b\n" }) },
      problems: [["fail", "queue-not-started", `${WF}:10`]],
    },
    {
      name: "comments, echo and heredocs that mention queue add are not queue adds",
      files: {
        [WF]: workflow({
          test: [
            "      # - run: sep queue add -- commented out",
            "      - run: |",
            "          # sep queue add -- pytest",
            "          echo \"next: sep queue add -- pytest\"",
            "          cat > later.sh <<'EOF'",
            "          sep queue add -- pytest",
            "          EOF",
            "          sep -- pytest",
            "",
          ].join("\n"),
        }),
      },
      problems: [],
    },
    {
      name: "a heredoc fed to bash runs its queue add",
      files: { [WF]: workflow({ test: "      - run: |\n          bash <<'EOF'\n          sep queue add -- pytest\n          EOF\n" }) },
      problems: [["fail", "queue-not-started", `${WF}:9`]],
    },
    {
      name: "a continued line is reported where the command starts",
      files: { [WF]: workflow({ test: "      - run: |\n          echo start\n          sep queue add \\\n            --name tests \\\n            -- pytest\n" }) },
      problems: [["fail", "queue-not-started", `${WF}:9`]],
    },
    {
      name: "a one-line run: is reported on its own line",
      files: { [WF]: workflow({ test: "      - uses: actions/checkout@v4\n      - run: sep queue add -- pytest\n" }) },
      problems: [["fail", "queue-not-started", `${WF}:8`]],
    },
    {
      name: "queued with the old script, started with sep: different queues",
      files: { [WF]: workflow({ test: "      - run: ./scripts/sep_queue.sh -- pytest\n      - run: sep queue start\n" }) },
      problems: [["fail", "queue-not-started", `${WF}:7`], ["warn", "old-script", `${WF}:7`]],
    },
    {
      name: "sep --queue-start (the legacy spelling) starts sep's queue",
      files: { [WF]: workflow({ test: "      - run: sep queue add -- pytest\n      - run: sep --queue-start\n" }) },
      problems: [],
    },
    {
      name: "sh -c with both, and $(…) capturing the id",
      files: { [WF]: workflow({ a: "      - run: sh -c 'sep queue add -- x && sep queue start'\n", b: "      - run: ID=$(sep queue add -- x) && echo $ID\n" }) },
      problems: [["fail", "queue-not-started", `${WF}:11`]],
    },
    {
      name: "a python step is not shell",
      files: { [WF]: workflow({ test: "      - shell: python\n        run: |\n          print('sep queue add -- x')\n          sep = 1\n" }) },
      problems: [],
    },
    {
      name: "a local composite action that queues, started by the job after it: ok",
      files: {
        ".github/actions/queue-lints/action.yml": "name: q\nruns:\n  using: composite\n  steps:\n    - shell: bash\n      run: sep queue add -- ruff check\n",
        [WF]: workflow({ lint: "      - uses: ./.github/actions/queue-lints\n      - run: sep queue start\n" }),
      },
      problems: [],
    },
    {
      name: "a local composite action that queues, never started: reported in the action, naming the job",
      files: {
        ".github/actions/queue-lints/action.yaml": "name: q\nruns:\n  using: composite\n  steps:\n    - shell: bash\n      run: sep queue add -- ruff check\n",
        [WF]: workflow({ lint: "      - uses: ./.github/actions/queue-lints\n" }),
      },
      problems: [["fail", "queue-not-started", ".github/actions/queue-lints/action.yaml:6"]],
    },
    {
      name: "steps shared through YAML anchors and merge keys are read in each job",
      files: { [WF]: "on: push\njobs:\n  base: &base\n    runs-on: x\n    steps:\n      - run: sep queue add -- pytest\n  derived:\n    <<: *base\n  fixed:\n    <<: *base\n    steps:\n      - run: sep -- pytest\n" },
      problems: [["fail", "queue-not-started", `${WF}:6`], ["fail", "queue-not-started", `${WF}:6`]],
    },
    {
      name: "a file that is not YAML is a finding, not a crash; the other files are still read",
      files: {
        ".github/workflows/broken.yaml": "name: broken\njobs: [\n  x: {\n",
        [WF]: workflow({ test: "      - run: sep queue add -- pytest\n" }),
      },
      problems: [["fail", "parse-error", ".github/workflows/broken.yaml:4"], ["fail", "queue-not-started", `${WF}:7`]],
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const section = scanWorkflows(fsReader(project(c.files)));
      expect(brief(section.problems)).toEqual(c.problems);
    });
  }

  test("a failure says which job, what was queued, and the fix", () => {
    const root = project({ [WF]: workflow({ lint: "      - run: |\n          sep queue add -- ruff check\n          sep queue add -- mypy\n" }) });
    const [problem] = scanWorkflows(fsReader(root)).problems;
    expect(problem?.message).toContain('job "lint" queues 2 commands (lines 8, 9) but never runs `sep queue start`');
    expect(problem?.fix).toContain("add `sep queue start` after the last `queue add` in this job");
    expect(problem?.fix).toContain("`sep -- …`");
  });

  test("the old-script warning gives the migration and lists every line", () => {
    const root = project({ [WF]: workflow({ a: "      - run: ./scripts/sep.sh -- uv run pytest\n      - run: ./scripts/sep.sh -- ruff\n" }) });
    const problems = scanWorkflows(fsReader(root)).problems;
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ status: "warn", kind: "old-script", line: 7, message: "calls the old sep.sh (lines 7, 8)" });
    expect(problems[0]?.fix).toContain("sep [OPTIONS] -- CMD");
  });

  test("a legacy queue add says that sep -- CMD runs at once", () => {
    const root = project({ [WF]: workflow({ a: "      - run: ./scripts/sep_queue.sh -- pytest\n" }) });
    const problems = scanWorkflows(fsReader(root)).problems;
    expect(problems[0]?.fix).toContain("`sep -- CMD` instead of `sep_queue.sh -- CMD` (sep runs it at once)");
    expect(problems[1]?.fix).toContain("which runs CMD at once (sep_queue.sh only queued it");
  });

  test("sep init --ci's workflow, and its queue variant, are clean", () => {
    const queued = GITHUB_WORKFLOW_SNIPPET.replace(
      "sep -- npm run lint\n          sep -- npm test\n",
      "sep queue add -- npm run lint\n          sep queue add -- npm test\n          sep queue start\n",
    );
    expect(queued).not.toBe(GITHUB_WORKFLOW_SNIPPET);
    for (const text of [GITHUB_WORKFLOW_SNIPPET, queued]) {
      const section = scanWorkflows(fsReader(project({ [WF]: text })));
      expect(section).toMatchObject({ files: [WF], units: 1, problems: [] });
    }
    // and with the start line dropped, the queue variant fails
    const broken = queued.replace(/^ *sep queue start\n/m, "");
    expect(brief(scanWorkflows(fsReader(project({ [WF]: broken }))).problems)[0]?.[0]).toBe("fail");
  });

  test("no workflows: nothing read, nothing wrong", () => {
    expect(scanWorkflows(fsReader(project({ "README.md": "hi" })))).toEqual({ kind: "workflows", files: [], units: 0, problems: [] });
  });
});

describe("Makefiles", () => {
  const cases: { name: string; files: Record<string, string>; problems: string[][] }[] = [
    { name: "a target that queues and never starts", files: { Makefile: "lint:\n\tsep queue add -- ruff check\n\tsep queue add -- mypy\n" }, problems: [["fail", "queue-not-started", "Makefile:2"]] },
    { name: "queue and start in one recipe", files: { Makefile: "check:\n\t@sep queue add -- ruff check\n\t-sep queue add -- mypy\n\tsep queue start\n" }, problems: [] },
    {
      name: "a prerequisite queues, the target starts: the prerequisite alone warns",
      files: { Makefile: ".PHONY: lint ci\nlint:\n\tsep queue add -- ruff\n\nci: lint\n\tsep queue start\n" },
      problems: [["warn", "queue-not-started", "Makefile:3"]],
    },
    { name: "$(MAKE) target inside a recipe, then start", files: { Makefile: "lint:\n\tsep queue add -- ruff\nci:\n\t$(MAKE) lint\n\tsep queue start\n" }, problems: [["warn", "queue-not-started", "Makefile:2"]] },
    {
      name: "the old script through a variable",
      files: { Makefile: "SEP_QUEUE := ./scripts/sep_queue.sh\n\ntest:\n\t$(SEP_QUEUE) -- pytest\n" },
      problems: [["fail", "queue-not-started", "Makefile:4"], ["warn", "old-script", "Makefile:4"]],
    },
    { name: "a continued recipe line", files: { Makefile: "test:\n\tsep queue add \\\n\t  -- pytest && \\\n\tsep queue start\n" }, problems: [] },
    { name: "targets in an included .mk share the Makefile's names", files: { Makefile: "include ci.mk\nlint:\n\tsep queue add -- ruff\n", "ci.mk": "ci: lint\n\tsep queue start\n" }, problems: [["warn", "queue-not-started", "Makefile:3"]] },
    { name: "a define block is text", files: { Makefile: "define HELP\nlint:\n\tsep queue add -- x\nendef\nall:\n\tsep -- true\n" }, problems: [] },
    { name: "$$ in a recipe is the shell's $", files: { Makefile: "ids:\n\tid=$$(sep queue add -- x); sep queue start\n" }, problems: [] },
  ];
  for (const c of cases) {
    test(c.name, () => {
      expect(brief(scanMakefiles(fsReader(project(c.files))).problems)).toEqual(c.problems);
    });
  }

  test("the message names the make command, and who starts it when someone does", () => {
    const root = project({ Makefile: "lint:\n\tsep queue add -- ruff\nci: lint\n\tsep queue start\n" });
    const [problem] = scanMakefiles(fsReader(root)).problems;
    expect(problem?.message).toBe("make lint queues `sep queue add -- ruff` but never runs `sep queue start` after it when run on its own (make ci starts them)");
  });
});

describe("package.json scripts", () => {
  const json = (scripts: Record<string, string>) => `${JSON.stringify({ name: "x", scripts }, null, 2)}\n`;
  const cases: { name: string; files: Record<string, string>; problems: string[][] }[] = [
    { name: "a script that only queues", files: { "package.json": json({ build: "tsc", lint: "sep queue add -- eslint ." }) }, problems: [["fail", "queue-not-started", "package.json:5"]] },
    { name: "queue then start in one script", files: { "package.json": json({ check: "sep queue add -- eslint . && sep queue add -- tsc && sep queue start" }) }, problems: [] },
    {
      name: "another script starts it after npm run",
      files: { "package.json": json({ lint: "sep queue add -- eslint .", ci: "npm run lint && sep queue start" }) },
      problems: [["warn", "queue-not-started", "package.json:4"]],
    },
    { name: "pre and post scripts run around their script", files: { "package.json": json({ pretest: "sep queue add -- tsc", test: "sep queue add -- jest", posttest: "sep queue start" }) }, problems: [] },
    { name: "a package.json in a subdirectory; node_modules is skipped", files: { "pkg/a/package.json": json({ t: "sep queue add -- x" }), "node_modules/x/package.json": json({ t: "sep queue add -- x" }) }, problems: [["fail", "queue-not-started", "pkg/a/package.json:4"]] },
    { name: "not JSON", files: { "package.json": "{ nope" }, problems: [["fail", "parse-error", "package.json"]] },
  ];
  for (const c of cases) {
    test(c.name, () => {
      expect(brief(scanPackageJson(fsReader(project(c.files))).problems)).toEqual(c.problems);
    });
  }
});

describe("pre-commit hooks", () => {
  const config = (hooks: string) => `repos:\n  - repo: local\n    hooks:\n${hooks}`;
  const cases: { name: string; text: string; problems: string[][] }[] = [
    { name: "a hook that only queues passes without checking anything", text: config("      - id: ruff\n        name: ruff\n        entry: sep queue add -- ruff check\n        language: system\n"), problems: [["fail", "queue-not-started", ".pre-commit-config.yaml:6"]] },
    { name: "a hook that runs through sep", text: config("      - id: ruff\n        entry: sep -- ruff check\n        language: system\n"), problems: [] },
    { name: "the old executor with args", text: config("      - id: mypy\n        entry: ./scripts/sep.sh\n        args: [--, mypy]\n        language: script\n"), problems: [["warn", "old-script", ".pre-commit-config.yaml:5"]] },
    { name: "the old queue: queued, never run", text: config("      - id: t\n        entry: scripts/sep_queue.sh -- pytest\n        language: system\n"), problems: [["fail", "queue-not-started", ".pre-commit-config.yaml:5"], ["warn", "old-script", ".pre-commit-config.yaml:5"]] },
    { name: "a bash -c entry that queues and starts", text: config("      - id: all\n        entry: bash -c 'sep queue add -- a && sep queue start'\n        language: system\n"), problems: [] },
    { name: "not YAML", text: "repos: [\n", problems: [["fail", "parse-error", ".pre-commit-config.yaml:2"]] },
  ];
  for (const c of cases) {
    test(c.name, () => {
      expect(brief(scanPreCommit(fsReader(project({ ".pre-commit-config.yaml": c.text }))).problems)).toEqual(c.problems);
    });
  }
});

describe("docs/ci.md", () => {
  const doc = readFileSync(join(import.meta.dir, "../../docs/ci.md"), "utf8");
  const blocks = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((match) => match[1]!);

  test("every complete workflow in it passes the scan", () => {
    const workflows = blocks.filter((block) => block.startsWith("# .github/workflows/"));
    expect(workflows.length).toBeGreaterThanOrEqual(3);
    for (const text of workflows) {
      const section = scanWorkflows(fsReader(project({ [WF]: text })));
      expect({ text, problems: section.problems }).toEqual({ text, problems: [] });
      expect(section.units).toBe(1);
    }
  });

  test("its pre-commit hook passes the scan", () => {
    const hook = blocks.find((block) => block.startsWith("# .pre-commit-config.yaml"));
    expect(scanPreCommit(fsReader(project({ ".pre-commit-config.yaml": hook ?? "" })))).toMatchObject({ units: 1, problems: [] });
  });
});
