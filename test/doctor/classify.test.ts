// What a simple command means for sep: queue add / start (sep's or the old script's), make, npm, old scripts.
import { describe, expect, test } from "bun:test";
import { classifyCommand } from "../../src/doctor/classify.ts";

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
