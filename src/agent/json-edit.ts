// Editing a JSON file in place: a strict parser that keeps every value's position, and edits that
// insert or remove one member or item as text, so the rest of the file (other keys, their order,
// indentation, line ends, a final newline) stays byte for byte as it was. An item appended and
// then removed again gives back the text exactly.

export type JsonNode = JsonObject | JsonArray | JsonScalar;

export interface JsonObject {
  kind: "object";
  /** offset of `{`; end is just past `}` */
  start: number;
  end: number;
  members: JsonMember[];
}

export interface JsonMember {
  key: string;
  /** offset of the key's opening quote */
  keyStart: number;
  value: JsonNode;
}

export interface JsonArray {
  kind: "array";
  start: number;
  end: number;
  items: JsonNode[];
}

export interface JsonScalar {
  kind: "scalar";
  start: number;
  end: number;
  value: string | number | boolean | null;
}

export class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`${message} at line ${line}, column ${column}`);
  }
}

/** Parse JSON text (RFC 8259; a leading byte order mark allowed) into positioned nodes. Throws JsonSyntaxError. */
export function parseJsonNodes(text: string): JsonNode {
  return new _Parser(text).document();
}

/** The plain value of a node. */
export function jsonValue(node: JsonNode): unknown {
  if (node.kind === "scalar") return node.value;
  if (node.kind === "array") return node.items.map(jsonValue);
  return Object.fromEntries(node.members.map((member) => [member.key, jsonValue(member.value)]));
}

export function memberOf(node: JsonObject, key: string): JsonMember | undefined {
  return node.members.find((member) => member.key === key);
}

// ---------------------------------------------------------------------------------------------
// Edits: each returns the whole new text

/** Add `"key": value` as the object's last member. */
export function insertMember(text: string, object: JsonObject, key: string, value: unknown): string {
  const style = _style(text);
  return _insertLast(text, object, object.members.at(-1)?.value.end, `${JSON.stringify(key)}:${style.colonSpace ? " " : ""}`, value, style);
}

/** Add value as the array's last item. */
export function appendItem(text: string, array: JsonArray, value: unknown): string {
  return _insertLast(text, array, array.items.at(-1)?.end, "", value, _style(text));
}

/** Take member `index` out of the object, with the comma and line break that went with it. */
export function removeMember(text: string, object: JsonObject, index: number): string {
  const starts = object.members.map((member) => member.keyStart);
  return _removeAt(text, object, starts, object.members.map((member) => member.value.end), index);
}

/** Take item `index` out of the array, with the comma and line break that went with it. */
export function removeItem(text: string, array: JsonArray, index: number): string {
  return _removeAt(text, array, array.items.map((item) => item.start), array.items.map((item) => item.end), index);
}

/** Put value where node is. */
export function replaceNode(text: string, node: JsonNode, value: unknown): string {
  const style = _style(text);
  return text.slice(0, node.start) + _render(value, _lineIndent(text, node.start), style, !_isOneLine(text, node)) + text.slice(node.end);
}

interface _Style {
  /** one level of indentation: two spaces unless the file says otherwise */
  unit: string;
  eol: string;
  /** `"key": value` rather than `"key":value` */
  colonSpace: boolean;
}

function _style(text: string): _Style {
  const indented = /\n([ \t]+)\S/.exec(text);
  return {
    unit: indented ? (indented[1]!.startsWith("\t") ? "\t" : " ".repeat(Math.min(indented[1]!.length, 8))) : "  ",
    eol: text.includes("\r\n") ? "\r\n" : "\n",
    colonSpace: !/":\S/.test(text) || /":\s/.test(text),
  };
}

/** Insert after the last entry (at `lastEnd`), or into an empty container. */
function _insertLast(text: string, container: JsonObject | JsonArray, lastEnd: number | undefined, prefix: string, value: unknown, style: _Style): string {
  const oneLine = _isOneLine(text, container) && !(_empty(container) && text.includes("\n"));
  const base = _lineIndent(text, container.start);
  if (lastEnd !== undefined) {
    const entries = container.kind === "object" ? container.members.map((m) => m.keyStart) : container.items.map((i) => i.start);
    const indent = oneLine ? "" : (_indentBefore(text, entries.at(-1)!) ?? base + style.unit);
    const entry = `,${oneLine ? (style.colonSpace ? " " : "") : style.eol + indent}${prefix}${_render(value, indent, style, !oneLine)}`;
    return text.slice(0, lastEnd) + entry + text.slice(lastEnd);
  }
  const inner = text.slice(container.start + 1, container.end - 1);
  if (oneLine) return `${text.slice(0, container.start + 1)}${prefix}${_render(value, base, style, false)}${inner}${text.slice(container.end - 1)}`;
  const indent = base + style.unit;
  // Keep a line break that is already inside (`{\n}`); else close on a line of its own.
  const closing = /\n[ \t]*$/.test(inner) ? inner : `${inner}${style.eol}${base}`;
  return `${text.slice(0, container.start + 1)}${style.eol}${indent}${prefix}${_render(value, indent, style, true)}${closing}${text.slice(container.end - 1)}`;
}

function _removeAt(text: string, container: JsonObject | JsonArray, starts: number[], ends: number[], index: number): string {
  if (starts.length === 1) {
    // The last entry: an empty container, written as {} or [].
    return text.slice(0, container.start + 1) + text.slice(container.end - 1);
  }
  if (index > 0) return text.slice(0, ends[index - 1]!) + text.slice(ends[index]!);
  return text.slice(0, starts[0]!) + text.slice(starts[1]!);
}

function _empty(container: JsonObject | JsonArray): boolean {
  return container.kind === "object" ? container.members.length === 0 : container.items.length === 0;
}

function _isOneLine(text: string, node: JsonNode): boolean {
  return !text.slice(node.start, node.end).includes("\n");
}

/** The blanks that start the line offset is on. */
function _lineIndent(text: string, offset: number): string {
  const lineStart = text.lastIndexOf("\n", offset - 1) + 1;
  return /^[ \t]*/.exec(text.slice(lineStart, offset))![0];
}

/** The blanks before offset when only blanks stand between it and the start of its line. */
function _indentBefore(text: string, offset: number): string | undefined {
  const lineStart = text.lastIndexOf("\n", offset - 1) + 1;
  const before = text.slice(lineStart, offset);
  return /^[ \t]*$/.test(before) ? before : undefined;
}

function _render(value: unknown, indent: string, style: _Style, multiLine: boolean): string {
  if (!multiLine) return JSON.stringify(value);
  return JSON.stringify(value, null, style.unit).split("\n").join(style.eol + indent);
}

// ---------------------------------------------------------------------------------------------
// Parser

class _Parser {
  private i = 0;

  constructor(private readonly s: string) {
    if (s.startsWith("\uFEFF")) this.i = 1;
  }

  document(): JsonNode {
    const node = this.value();
    this.blank();
    if (this.i < this.s.length) this.fail("unexpected text after the JSON value");
    return node;
  }

  private value(): JsonNode {
    this.blank();
    const c = this.s[this.i];
    if (c === "{") return this.object();
    if (c === "[") return this.array();
    const start = this.i;
    if (c === '"') {
      const value = this.string();
      return { kind: "scalar", start, end: this.i, value };
    }
    for (const [word, value] of [["true", true], ["false", false], ["null", null]] as const) {
      if (this.s.startsWith(word, this.i)) {
        this.i += word.length;
        return { kind: "scalar", start, end: this.i, value };
      }
    }
    const number = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(this.s.slice(this.i, this.i + 400));
    if (!number) this.fail(c === undefined ? "unexpected end of the text" : `unexpected ${JSON.stringify(c)}`);
    this.i += number![0].length;
    return { kind: "scalar", start, end: this.i, value: Number(number![0]) };
  }

  private object(): JsonObject {
    const start = this.i++;
    const members: JsonMember[] = [];
    this.blank();
    if (this.s[this.i] === "}") return { kind: "object", start, end: ++this.i, members };
    for (;;) {
      this.blank();
      if (this.s[this.i] !== '"') this.fail("expected a key in double quotes");
      const keyStart = this.i;
      const key = this.string();
      if (members.some((member) => member.key === key)) this.fail(`duplicate key ${JSON.stringify(key)}`, keyStart);
      this.blank();
      if (this.s[this.i] !== ":") this.fail("expected ':' after the key");
      this.i++;
      members.push({ key, keyStart, value: this.value() });
      this.blank();
      const c = this.s[this.i++];
      if (c === "}") return { kind: "object", start, end: this.i, members };
      if (c !== ",") this.fail("expected ',' or '}'", this.i - 1);
    }
  }

  private array(): JsonArray {
    const start = this.i++;
    const items: JsonNode[] = [];
    this.blank();
    if (this.s[this.i] === "]") return { kind: "array", start, end: ++this.i, items };
    for (;;) {
      items.push(this.value());
      this.blank();
      const c = this.s[this.i++];
      if (c === "]") return { kind: "array", start, end: this.i, items };
      if (c !== ",") this.fail("expected ',' or ']'", this.i - 1);
    }
  }

  /** A string token, decoded by JSON.parse once its extent is known. */
  private string(): string {
    const start = this.i++;
    for (;;) {
      const c = this.s[this.i];
      if (c === undefined) this.fail("unterminated string", start);
      if (c === '"') break;
      if (c === "\\") this.i++;
      else if (c! < " ") this.fail("control character in a string");
      this.i++;
    }
    this.i++;
    try {
      return JSON.parse(this.s.slice(start, this.i)) as string;
    } catch {
      return this.fail("bad escape in a string", start);
    }
  }

  private blank(): void {
    while (this.i < this.s.length && " \t\n\r".includes(this.s[this.i]!)) this.i++;
  }

  private fail(message: string, at = this.i): never {
    const before = this.s.slice(0, at);
    const line = before.split("\n").length;
    throw new JsonSyntaxError(message, line, at - before.lastIndexOf("\n"));
  }
}
