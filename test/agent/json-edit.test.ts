// Text edits of JSON: strict parsing with positions, and an append or insert that a removal undoes
// byte for byte, whatever the file's indentation, line ends and spacing.
import { describe, expect, test } from "bun:test";
import {
  appendItem, insertMember, type JsonArray, type JsonObject, JsonSyntaxError, jsonValue, memberOf, parseJsonNodes, removeItem,
  removeMember, replaceNode,
} from "../../src/agent/json-edit.ts";

const root = (text: string) => parseJsonNodes(text) as JsonObject;

describe("parseJsonNodes", () => {
  test.each([
    '{"a": 1, "b": [true, false, null, "x\\"y\\u00e9", -1.5e3], "c": {}}',
    "[]",
    '"just a string"',
    '\uFEFF{"bom": 1}',
    '{\r\n\t"tabs": "and CRLF"\r\n}\r\n',
  ])("%p parses to what JSON.parse says", (text) => {
    expect(jsonValue(parseJsonNodes(text))).toEqual(JSON.parse(text.replace(/^\uFEFF/, "")));
  });

  test.each([
    ['{"a": 1,}', "expected a key in double quotes", 1],
    ['{"a": 1}\n{"b": 2}', "unexpected text after the JSON value", 2],
    ['{\n  "a": 1,\n  "a": 2\n}', 'duplicate key "a"', 3],
    ["{'a': 1}", "expected a key in double quotes", 1],
    ['{"a": tru}', "unexpected", 1],
    ['{"a": "x', "unterminated string", 1],
    ['{"a": "\\q"}', "bad escape in a string", 1],
    ["", "unexpected end of the text", 1],
    ['{"a": 01}', "expected ',' or '}'", 1],
    ['{"a": "tab\there"}', "control character in a string", 1],
  ] as const)("%p is refused: %p on line %p", (text, message, line) => {
    let error: unknown;
    try {
      parseJsonNodes(text);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(JsonSyntaxError);
    expect((error as JsonSyntaxError).message).toContain(message);
    expect((error as JsonSyntaxError).line).toBe(line);
  });

  test("positions point at the value's text", () => {
    const text = '{ "k" : [ 1 , {"x": "y"} ] }';
    const node = memberOf(root(text), "k")!.value as JsonArray;
    expect(text.slice(node.start, node.end)).toBe('[ 1 , {"x": "y"} ]');
    expect(text.slice(node.items[1]!.start, node.items[1]!.end)).toBe('{"x": "y"}');
  });
});

describe("insert or append, then remove: the original text exactly", () => {
  const group = { matcher: "Bash", hooks: [{ type: "command", command: "sep 'x' # y" }] };
  const files: Record<string, string> = {
    "two spaces": '{\n  "model": "opus",\n  "hooks": {\n    "PreToolUse": [\n      {\n        "matcher": "Edit"\n      }\n    ]\n  }\n}\n',
    "four spaces, no final newline": '{\n    "hooks": {\n        "PreToolUse": [\n            {"matcher": "Edit", "hooks": []}\n        ]\n    }\n}',
    "tabs and CRLF": '{\r\n\t"hooks": {\r\n\t\t"PreToolUse": [\r\n\t\t\t{ "matcher": "Write" }\r\n\t\t]\r\n\t}\r\n}\r\n',
    "one line": '{"hooks":{"PreToolUse":[{"matcher":"Read"}]}}',
    "empty list": '{\n  "hooks": {\n    "PreToolUse": []\n  }\n}\n',
  };
  test.each(Object.keys(files))("append to hooks.PreToolUse: %s", (name) => {
    const text = files[name]!;
    const list = () => memberOf(memberOf(root(next ?? text), "hooks")!.value as JsonObject, "PreToolUse")!.value as JsonArray;
    let next: string | undefined;
    next = appendItem(text, list(), group);
    const value = jsonValue(parseJsonNodes(next)) as any;
    expect(value.hooks.PreToolUse.at(-1)).toEqual(group);
    expect(value.hooks.PreToolUse.slice(0, -1)).toEqual(JSON.parse(text).hooks.PreToolUse);
    const items = list();
    expect(removeItem(next, items, items.items.length - 1)).toBe(text);
  });

  test("the appended group is indented like its neighbours", () => {
    const next = appendItem(files["tabs and CRLF"]!, memberOf(memberOf(root(files["tabs and CRLF"]!), "hooks")!.value as JsonObject, "PreToolUse")!.value as JsonArray, { a: 1 });
    expect(next).toContain('\t\t\t{ "matcher": "Write" },\r\n\t\t\t{\r\n\t\t\t\t"a": 1\r\n\t\t\t}\r\n\t\t]');
  });

  test.each([
    ['{\n  "model": "opus"\n}\n', '{\n  "model": "opus",\n  "hooks": {\n    "on": true\n  }\n}\n'],
    ['{"model":"opus"}', '{"model":"opus","hooks":{"on":true}}'],
    ['{"model": "opus"}', '{"model": "opus", "hooks": {"on":true}}'],
    ["{}\n", '{\n  "hooks": {\n    "on": true\n  }\n}\n'],
    ["{\n}\n", '{\n  "hooks": {\n    "on": true\n  }\n}\n'],
  ])("insert a member into %p", (text, expected) => {
    const next = insertMember(text, root(text), "hooks", { on: true });
    expect(next).toBe(expected);
    const after = root(next);
    const back = removeMember(next, after, after.members.length - 1);
    expect(back).toBe(text === "{\n}\n" ? "{}\n" : text);
  });

  test("removing the first of several items takes its comma along", () => {
    const text = '[\n  1,\n  2,\n  3\n]';
    expect(removeItem(text, parseJsonNodes(text) as JsonArray, 0)).toBe("[\n  2,\n  3\n]");
    expect(removeItem(text, parseJsonNodes(text) as JsonArray, 1)).toBe("[\n  1,\n  3\n]");
  });

  test("replaceNode swaps one value, nothing else", () => {
    const text = '{\n  "a": "old",  "b": 2\n}';
    expect(replaceNode(text, memberOf(root(text), "a")!.value, "new \"one\"")).toBe('{\n  "a": "new \\"one\\"",  "b": 2\n}');
  });
});
