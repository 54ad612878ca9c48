// The workflow scan for the seed's failure (queue add with no later queue start in the same job)
// and for old-script calls, over real files in temp projects; and docs/ci.md's workflows.
import { afterAll, describe, expect, test } from "bun:test";
import { GITHUB_WORKFLOW_SNIPPET } from "../../src/commands/init.ts";
import { fsReader } from "../../src/doctor/reader.ts";
import { scanWorkflows } from "../../src/doctor/scan-workflows.ts";
import { brief, cleanupTempDirs, docsYamlBlocks, project, WF, workflow } from "./helpers.ts";

afterAll(cleanupTempDirs);

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

describe("docs/ci.md", () => {
  const blocks = docsYamlBlocks();

  test("every complete workflow in it passes the scan", () => {
    const workflows = blocks.filter((block) => block.startsWith("# .github/workflows/"));
    expect(workflows.length).toBeGreaterThanOrEqual(3);
    for (const text of workflows) {
      const section = scanWorkflows(fsReader(project({ [WF]: text })));
      expect({ text, problems: section.problems }).toEqual({ text, problems: [] });
      expect(section.units).toBe(1);
    }
  });
});
