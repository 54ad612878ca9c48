// Shell scripts: shellcheck, per file. shellcheck takes files only (a directory is an error it
// reports itself), so only the files a command names one by one are split.
import { type OptionSpec, words } from "./argv.ts";
import { splitPerFile, type WholeOption } from "./per-file.ts";
import type { ToolRule } from "./types.ts";

const SHELLCHECK_OPTIONS: OptionSpec = {
  value: words("-e --exclude -f --format -i --include -o --enable -P --source-path -s --shell -S --severity -W --wiki-link-count --rcfile"),
  flag: words("-a --check-sourced -C --color -x --external-sources --norc --list-optional -V --version -h --help"),
};

const SHELLCHECK_WHOLE: readonly WholeOption[] = [
  { names: ["-f", "--format"], why: "prints one document for all files", when: (v) => v === "checkstyle" || v === "json" || v === "json1" },
  { names: ["--list-optional", "-V", "--version", "-h", "--help"], why: "checks nothing" },
];

export const SHELL_RULES: readonly ToolRule[] = [
  {
    name: "shellcheck", rule: "per file (files named on the command line; shellcheck takes no directories)",
    split: (command, context) =>
      splitPerFile(command, context, { options: SHELLCHECK_OPTIONS, whole: SHELLCHECK_WHOLE, directories: false, select: (found) => found }),
  },
];
