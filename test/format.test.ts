// The human formatting helpers: durations, sizes, ages and tables, table-tested.
import { describe, expect, test } from "bun:test";
import { formatAbout, formatAge, formatBytes, formatDuration, renderTable, singleLine } from "../src/format.ts";

describe("formatAbout: an estimate, rounded as far as it can be trusted", () => {
  const cases: [number, string][] = [
    [0, "under a second"],
    [999, "under a second"],
    [1000, "about 1 s"],
    [4400, "about 4 s"],
    [9499, "about 9 s"],
    [9500, "about 10 s"],
    [41_000, "about 40 s"],
    [43_000, "about 45 s"],
    [57_499, "about 55 s"],
    [57_500, "about 1 min"],
    [150_000, "about 3 min"],
    [569_000, "about 9 min"],
    [25 * 60_000 + 20_000, "about 25 min"],
    [58 * 60_000, "about 1 h"],
    [2.4 * 3_600_000, "about 2 h"],
    [23.5 * 3_600_000, "about 1 day"],
    [3 * 86_400_000, "about 3 days"],
    [Number.POSITIVE_INFINITY, "-"],
    [-1, "-"],
  ];
  for (const [ms, text] of cases) test(`${ms} -> ${text}`, () => expect(formatAbout(ms)).toBe(text));
});

describe("formatDuration", () => {
  const cases: [number | null | undefined, string][] = [
    [0, "0ms"],
    [7, "7ms"],
    [999, "999ms"],
    [1000, "1.0s"],
    [3250, "3.2s"],
    [9999, "9.9s"],
    [10_000, "10s"],
    [59_999, "59s"],
    [60_000, "1m00s"],
    [62_000, "1m02s"],
    [3_599_999, "59m59s"],
    [3_600_000, "1h00m"],
    [3_720_000, "1h02m"],
    [86_399_999, "23h59m"],
    [86_400_000, "1d00h"],
    [2 * 86_400_000 + 3 * 3_600_000, "2d03h"],
    [null, "-"],
    [undefined, "-"],
    [-5, "-"],
    [Number.NaN, "-"],
    [Number.POSITIVE_INFINITY, "-"],
  ];
  for (const [ms, text] of cases) test(`${ms} -> ${text}`, () => expect(formatDuration(ms)).toBe(text));
});

describe("formatBytes", () => {
  const KB = 1024;
  const MB = KB * 1024;
  const GB = MB * 1024;
  const cases: [number | null | undefined, string][] = [
    [0, "0 B"],
    [512, "512 B"],
    [1023, "1023 B"],
    [1024, "1.0 KB"],
    [1536, "1.5 KB"],
    [10 * KB, "10 KB"],
    [1023 * KB, "1023 KB"],
    [1023.7 * KB, "1.0 MB"],
    [312 * MB, "312 MB"],
    [2 * GB, "2.0 GB"],
    [1.25 * GB, "1.3 GB"],
    [5 * 1024 * GB, "5.0 TB"],
    [null, "-"],
    [undefined, "-"],
    [-1, "-"],
    [Number.NaN, "-"],
  ];
  for (const [bytes, text] of cases) test(`${bytes} -> ${text}`, () => expect(formatBytes(bytes)).toBe(text));
});

describe("formatAge", () => {
  const now = Date.parse("2025-06-15T12:00:00.000Z");
  const before = (ms: number) => new Date(now - ms).toISOString();
  const cases: [string | null | undefined, string][] = [
    [before(0), "just now"],
    [before(999), "just now"],
    [before(-60_000), "just now"], // in the future: clock skew
    [before(1000), "1s ago"],
    [before(59_000), "59s ago"],
    [before(60_000), "1m ago"],
    [before(3 * 60_000 + 59_000), "3m ago"],
    [before(3_600_000), "1h ago"],
    [before(23 * 3_600_000), "23h ago"],
    [before(86_400_000), "1d ago"],
    [before(29 * 86_400_000), "29d ago"],
    [before(30 * 86_400_000), "2025-05-16"],
    ["not a date", "-"],
    ["", "-"],
    [null, "-"],
    [undefined, "-"],
  ];
  for (const [iso, text] of cases) test(`${iso} -> ${text}`, () => expect(formatAge(iso, now)).toBe(text));

  test("now may be a Date", () => expect(formatAge(before(120_000), new Date(now))).toBe("2m ago"));
});

describe("renderTable", () => {
  type Row = { name: string; n: number };
  const columns = [
    { header: "NAME", value: (row: Row) => row.name },
    { header: "COUNT", value: (row: Row) => String(row.n), align: "right" as const },
    { header: "NOTE", value: (row: Row) => (row.n > 1 ? "many" : "") },
  ];

  test("aligns columns two spaces apart; numbers right; no trailing blanks", () => {
    const text = renderTable<Row>([{ name: "a", n: 1 }, { name: "longer", n: 123 }], columns);
    expect(text).toBe("NAME    COUNT  NOTE\na           1\nlonger    123  many\n");
  });

  test("no rows: the header line alone", () => {
    expect(renderTable<Row>([], columns)).toBe("NAME  COUNT  NOTE\n");
  });

  test("control characters and escape sequences never reach the terminal", () => {
    const text = renderTable([{ v: "a\nb\tc\x1b[31mred\x07" }], [{ header: "V", value: (row: { v: string }) => row.v }]);
    expect(text).toBe("V\na b c?[31mred?\n");
    expect(text).not.toContain("\x1b");
  });

  test("maxWidth cuts a cell with an ellipsis, counting terminal columns", () => {
    const col = [{ header: "T", value: (row: { v: string }) => row.v, maxWidth: 6 }];
    expect(renderTable([{ v: "abcdefghij" }], col)).toBe("T\nabcde…\n");
    expect(renderTable([{ v: "abcdef" }], col)).toBe("T\nabcdef\n");
    // wide characters count two columns each
    expect(renderTable([{ v: "日本語テキスト" }], col)).toBe("T\n日本…\n");
  });

  test("wide characters are padded by their width", () => {
    const text = renderTable([{ a: "日本", b: "x" }, { a: "ab", b: "y" }], [
      { header: "A", value: (row: { a: string; b: string }) => row.a },
      { header: "B", value: (row: { a: string; b: string }) => row.b },
    ]);
    expect(text).toBe("A     B\n日本  x\nab    y\n");
  });
});

test("singleLine", () => {
  expect(singleLine("a\r\nb")).toBe("a b");
  expect(singleLine("plain")).toBe("plain");
  expect(singleLine("\u009b2J")).toBe("?2J");
});
