import { describe, expect, test } from "bun:test";
import { childrenByParent, parseAuxvPageSize, parsePss, parseStat, parseStatm, type ProcStat } from "../../../src/core/proc/parse.ts";

describe("parseStat", () => {
  const tail = "S 1 100 100 0 -1 4194560 1 0 0 0 2 3 0 0 20 0 1 0 987654 1000 200 18446744073709551615";
  const cases: Array<[label: string, text: string, comm: string]> = [
    ["plain comm", `4321 (sleep) ${tail}`, "sleep"],
    ["comm with spaces", `4321 (Web Content) ${tail}`, "Web Content"],
    ["comm with ')' inside", `4321 (a) b) ${tail}`, "a) b"],
    ["comm that looks like fields", `4321 (x) S 9 9 9 (y) ${tail}`, "x) S 9 9 9 (y"],
    ["empty comm", `4321 () ${tail}`, ""],
  ];
  test.each(cases)("%s", (_label, text, comm) => {
    expect(parseStat(`${text}\n`)).toEqual({ pid: 4321, comm, state: "S", ppid: 1, pgrp: 100, session: 100, startTime: 987654 });
  });

  test.each([["empty", ""], ["no parens", "4321 sleep S 1"], ["truncated", "4321 (sleep) S 1 2"], ["bad pid", "abc (x) " + tail]])(
    "malformed (%s) is null",
    (_label, text) => {
      expect(parseStat(text)).toBeNull();
    },
  );
});

describe("parseStat, table of edge cases", () => {
  /** Fields 3..22 (state .. starttime), the fewest a stat line may have after comm; `set` replaces field N. */
  const fields = (set: Record<number, string> = {}) => {
    const words = ["S", "1", "100", "100", ...Array<string>(15).fill("0"), "987654"];
    for (const [field, word] of Object.entries(set)) words[Number(field) - 3] = word;
    return words.join(" ");
  };
  const parsed = (comm: string, more: Partial<ProcStat> = {}): ProcStat => ({
    pid: 4321,
    comm,
    state: "S",
    ppid: 1,
    pgrp: 100,
    session: 100,
    startTime: 987654,
    ...more,
  });
  const cases: Array<[label: string, text: string, expected: ProcStat | null]> = [
    // comm: anything up to the LAST ')', spaces and parentheses included
    ["comm in parentheses", `4321 ((sd-pam)) ${fields()}`, parsed("(sd-pam)")],
    ["comm ending in ') '", `4321 (a) ) ${fields()}`, parsed("a) ")],
    ["comm with spaces and ')'", `4321 (my prog) (2) ${fields()}`, parsed("my prog) (2")],
    ["comm with a tab", `4321 (a\tb) ${fields()}`, parsed("a\tb")],
    ["exactly 20 fields after comm", `4321 (x) ${fields()}`, parsed("x")],
    ["trailing newline", `4321 (x) ${fields()}\n`, parsed("x")],
    ["zombie state", `4321 (x) ${fields({ 3: "Z" })}`, parsed("x", { state: "Z" })],
    ["a field the parser does not read is not numeric", `4321 (x) ${fields({ 7: "tty?" })}`, parsed("x")],
    ["leading spaces before the pid", `  4321 (x) ${fields()}`, parsed("x")],
    // truncated
    ["only pid and comm", "4321 (sleep)", null],
    ["pid, comm and a space", "4321 (sleep) ", null],
    ["19 fields after comm (no starttime)", `4321 (x) ${fields().split(" ").slice(0, 19).join(" ")}`, null],
    ["no closing parenthesis", `4321 (sleep ${fields()}`, null],
    ["no pid before comm", `(sleep) ${fields()}`, null],
    ["')' before '('", `4321 )x( ${fields()}`, null],
    // non-numeric where a number is read
    ["pid not a number", `12a (x) ${fields()}`, null],
    ["pid fractional", `43.5 (x) ${fields()}`, null],
    ["ppid not a number", `4321 (x) ${fields({ 4: "one" })}`, null],
    ["pgrp not a number", `4321 (x) ${fields({ 5: "-" })}`, null],
    ["session not a number", `4321 (x) ${fields({ 6: "0x" })}`, null],
    ["starttime not a number", `4321 (x) ${fields({ 22: "soon" })}`, null],
    ["state missing (two spaces)", `4321 (x)  ${fields().slice(2)}`, null],
  ];
  test.each(cases)("%s", (_label, text, expected) => {
    expect(parseStat(text)).toEqual(expected);
  });
});

describe("parseStatm", () => {
  test.each([
    ["1000 25 10 5 0 50 0", 4096, 25 * 4096],
    ["1000 25 10 5 0 50 0\n", 16384, 25 * 16384],
    ["0 0 0 0 0 0 0", 4096, 0],
    ["", 4096, 0],
    ["garbage", 4096, 0],
    ["1000", 4096, 0],
    ["1000 many 10 5 0 50 0", 4096, 0],
  ] as const)("%j × %d", (text, page, bytes) => {
    expect(parseStatm(text, page)).toBe(bytes);
  });
});

describe("parsePss", () => {
  const rollup = (pssLine: string) =>
    [
      "55a4c6e6b000-7ffd5e1f5000 ---p 00000000 00:00 0                          [rollup]",
      "Rss:              163404 kB",
      pssLine,
      "Pss_Dirty:         20500 kB",
      "Pss_Anon:          20480 kB",
      "Pss_File:           3388 kB",
      "Shared_Clean:       3448 kB",
    ].join("\n");
  test.each([
    ["Pss line", rollup("Pss:               23876 kB"), 23876 * 1024],
    ["zero", rollup("Pss:                   0 kB"), 0],
    ["no Pss line (only Pss_*)", rollup("Swap: 0 kB"), 0],
    ["empty", "", 0],
  ])("%s", (_label, text, bytes) => {
    expect(parsePss(text)).toBe(bytes);
  });
});

describe("parseAuxvPageSize", () => {
  const AT_PAGESZ = 6;
  const auxv = (word: 4 | 8, pairs: Array<[type: number, value: number]>) => {
    const buffer = Buffer.alloc(pairs.length * 2 * word);
    pairs.forEach(([type, value], i) => {
      if (word === 8) {
        buffer.writeBigUInt64LE(BigInt(type), i * 16);
        buffer.writeBigUInt64LE(BigInt(value), i * 16 + 8);
      } else {
        buffer.writeUInt32LE(type, i * 8);
        buffer.writeUInt32LE(value, i * 8 + 4);
      }
    });
    return buffer;
  };
  test.each([
    [
      "64-bit, after other entries",
      8,
      auxv(8, [
        [33, 0x7fff0000],
        [16, 0xbfebfbff],
        [AT_PAGESZ, 16384],
        [0, 0],
      ]),
      16384,
    ],
    [
      "32-bit",
      4,
      auxv(4, [
        [16, 1],
        [AT_PAGESZ, 4096],
        [0, 0],
      ]),
      4096,
    ],
    [
      "AT_NULL before AT_PAGESZ",
      8,
      auxv(8, [
        [16, 1],
        [0, 0],
        [AT_PAGESZ, 65536],
      ]),
      null,
    ],
    [
      "no AT_PAGESZ",
      8,
      auxv(8, [
        [16, 1],
        [0, 0],
      ]),
      null,
    ],
    [
      "AT_PAGESZ of 0",
      8,
      auxv(8, [
        [AT_PAGESZ, 0],
        [0, 0],
      ]),
      null,
    ],
    ["empty", 8, Buffer.alloc(0), null],
    [
      "a truncated last pair is not read",
      8,
      auxv(8, [
        [16, 1],
        [AT_PAGESZ, 4096],
      ]).subarray(0, 24),
      null,
    ],
  ] as const)("%s", (_label, word, buffer, expected) => {
    expect(parseAuxvPageSize(buffer, word)).toBe(expected);
  });
});

describe("childrenByParent", () => {
  test("groups pids under their parent; an unknown parent has none", () => {
    const childrenOf = childrenByParent([
      [10, 1],
      [11, 10],
      [12, 10],
      [13, 11],
    ]);
    expect(childrenOf(10)).toEqual([11, 12]);
    expect(childrenOf(11)).toEqual([13]);
    expect(childrenOf(13)).toEqual([]);
    expect(childrenOf(99)).toEqual([]);
  });
});
