// Reading YAML the way the scanners need it: parse errors as problems, aliases and `<<` merge keys
// followed, each node's line, and a `run:` scalar's lines mapped back to the file's.
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node, type Scalar } from "yaml";
import type { ScanProblem } from "./types.ts";

/** The first line of a parser message, without the code excerpt `yaml` appends. */
export function firstLine(message: string): string {
  return message.split("\n")[0]!.trim();
}

export function parseYaml(file: string, text: string, refusedBy: string): { doc: Document.Parsed; lines: LineCounter } | ScanProblem {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false, merge: true });
  const error = doc.errors[0];
  if (error) {
    return {
      status: "fail",
      kind: "parse-error",
      file,
      line: lines.linePos(error.pos[0]).line,
      message: `is not valid YAML: ${firstLine(error.message)}`,
      fix: `fix the YAML: as it is, ${refusedBy}`,
    };
  }
  return { doc, lines };
}

export function resolve(doc: Document.Parsed, node: unknown): unknown {
  return isAlias(node) ? node.resolve(doc) : node;
}

/** map[key], following aliases and `<<: *anchor` merge keys (a job may borrow another's steps). */
export function get(doc: Document.Parsed, map: unknown, key: string, depth = 0): unknown {
  const resolved = resolve(doc, map);
  if (!isMap(resolved)) return undefined;
  const direct = resolved.get(key, true);
  if (direct !== undefined || depth > 8) return resolve(doc, direct);
  for (const pair of resolved.items) {
    // with `merge: true` the parser keys a merge with a symbol described "<<"
    const mergeKey = isScalar(pair.key) && (pair.key.value === "<<" || (typeof pair.key.value === "symbol" && pair.key.value.description === "<<"));
    if (!mergeKey) continue;
    const source = resolve(doc, pair.value);
    for (const item of isSeq(source) ? source.items : [source]) {
      const found = get(doc, item, key, depth + 1);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

export function lineOfNode(lines: LineCounter, node: unknown): number {
  const range = (node as Node | undefined)?.range;
  return range ? lines.linePos(range[0]).line : 1;
}

/**
 * A scalar holding shell text, and where each of its lines is in the file: a literal block (`|`)
 * keeps one line per line, starting below its header; any other scalar maps to the line it starts on.
 */
export function scriptOf(lines: LineCounter, node: unknown): { text: string; lineOf: (index: number) => number } | undefined {
  if (!isScalar(node) || node.value === null || node.value === undefined) return undefined;
  const text = String(node.value);
  const start = lineOfNode(lines, node);
  if ((node as Scalar).type === "BLOCK_LITERAL") return { text, lineOf: (index) => start + 1 + index };
  // a folded block (`>`) joins its lines, so only its first line is known
  if ((node as Scalar).type === "BLOCK_FOLDED") return { text, lineOf: () => start + 1 };
  return { text, lineOf: () => start };
}
