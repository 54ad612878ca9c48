// Reading a tool's arguments without running it: which words are options (and which option
// swallows the next word as its value), which are positional. When sep cannot tell — an option it
// does not know, directly before a positional word — the caller keeps the command whole.

/** What sep knows about a tool's options. */
export interface OptionSpec {
  /** options that take a value: "--tb", "-k" (also written --tb=short, -kfoo) */
  value: ReadonlySet<string>;
  /** options known to take no value */
  flag: ReadonlySet<string>;
  /** options whose value is optional (argparse nargs="?"): they take the next word unless it starts with "-" */
  optional?: ReadonlySet<string>;
}

export interface ScannedOption {
  /** as written, without an inline value: "--tb", "-n" (from "-n4"), "-x" */
  name: string;
  /** index in args of the word holding the option */
  index: number;
  value?: string;
  /** index of the word holding the value, when it is the next word */
  valueIndex?: number;
}

export interface Scanned {
  /** indices of the positional words (after "--" every word is positional) */
  positionals: number[];
  options: ScannedOption[];
  /** index of "--", if present */
  dashdash?: number;
  /** an unknown option directly before a positional word: sep cannot tell whether it is its value */
  ambiguous?: string;
}

/** Scan args against spec. Never throws; unknown options are reported through `ambiguous`. */
export function scanArgs(args: readonly string[], spec: OptionSpec): Scanned {
  const scanned: Scanned = { positionals: [], options: [] };
  const isPositional = (word: string | undefined) => word !== undefined && (!word.startsWith("-") || word === "-");
  for (let i = 0; i < args.length; i++) {
    const word = args[i] as string;
    if (scanned.dashdash !== undefined) {
      scanned.positionals.push(i);
      continue;
    }
    if (word === "--") {
      scanned.dashdash = i;
      continue;
    }
    if (isPositional(word)) {
      scanned.positionals.push(i);
      continue;
    }
    if (word.startsWith("--")) {
      const eq = word.indexOf("=");
      const name = eq < 0 ? word : word.slice(0, eq);
      if (eq >= 0) {
        scanned.options.push({ name, index: i, value: word.slice(eq + 1) });
        continue;
      }
      if (spec.value.has(name) && i + 1 < args.length) {
        scanned.options.push({ name, index: i, value: args[i + 1], valueIndex: i + 1 });
        i++;
      } else if (spec.optional?.has(name) && isPositional(args[i + 1]) && args[i + 1] !== "-") {
        scanned.options.push({ name, index: i, value: args[i + 1], valueIndex: i + 1 });
        i++;
      } else {
        if (!spec.flag.has(name) && !spec.value.has(name) && !spec.optional?.has(name) && isPositional(args[i + 1])) {
          scanned.ambiguous ??= name;
        }
        scanned.options.push({ name, index: i });
      }
      continue;
    }
    // A short option, or a cluster of them: -x, -n4, -n 4, -vx, -vvs
    if (spec.value.has(word) || spec.flag.has(word)) {
      if (spec.value.has(word) && i + 1 < args.length) {
        scanned.options.push({ name: word, index: i, value: args[i + 1], valueIndex: i + 1 });
        i++;
      } else {
        scanned.options.push({ name: word, index: i });
      }
      continue;
    }
    let consumedNext = false;
    for (let c = 1; c < word.length; c++) {
      const name = `-${word[c]}`;
      if (spec.flag.has(name)) {
        scanned.options.push({ name, index: i });
        continue;
      }
      if (spec.value.has(name)) {
        const inline = word.slice(c + 1);
        if (inline !== "") scanned.options.push({ name, index: i, value: inline });
        else if (i + 1 < args.length) {
          scanned.options.push({ name, index: i, value: args[i + 1], valueIndex: i + 1 });
          consumedNext = true;
        } else scanned.options.push({ name, index: i });
        break;
      }
      // Unknown: the rest of the word may be its value, or more flags; either way it ends here.
      if (c === word.length - 1 && isPositional(args[i + 1])) scanned.ambiguous ??= name;
      scanned.options.push({ name, index: i });
      break;
    }
    if (consumedNext) i++;
  }
  return scanned;
}

/** The first option named any of names, if present. */
export function findOption(scanned: Scanned, names: Iterable<string>): ScannedOption | undefined {
  const set = new Set(names);
  return scanned.options.find((option) => set.has(option.name));
}

/** Every value given to any of names, in order. */
export function optionValues(scanned: Scanned, names: Iterable<string>): string[] {
  const set = new Set(names);
  return scanned.options.filter((o) => set.has(o.name) && o.value !== undefined).map((o) => o.value as string);
}

/**
 * args with the words at `replace` taken out and `items` put where the first of them stood (or,
 * when replace is empty, right at the start, so no option before them can swallow one as its value).
 * Every other word keeps its place.
 */
export function withItems(args: readonly string[], replace: readonly number[], items: readonly string[]): string[] {
  if (replace.length === 0) return [...items, ...args];
  const first = Math.min(...replace);
  const drop = new Set(replace);
  const out: string[] = [];
  args.forEach((word, i) => {
    if (i === first) out.push(...items);
    else if (!drop.has(i)) out.push(word);
  });
  return out;
}

/** items in groups of size, in order. */
export function batches<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Sets from word lists, for option specs. */
export function words(...lists: string[]): ReadonlySet<string> {
  return new Set(lists.flatMap((list) => list.split(/\s+/).filter(Boolean)));
}

/** One argv word as a POSIX shell would need it, for display only (`sep plan`, notes). */
export function shellQuote(word: string): string {
  if (word !== "" && /^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** An argv for display: `uv run pytest 'tests/test_a.py::test_p[a b]'`. */
export function formatArgv(argv: readonly string[]): string {
  return argv.map(shellQuote).join(" ");
}
