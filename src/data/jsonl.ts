import { BertuneError } from "../errors.js";
import { nonBlankLines, type Table, type TableRow } from "./table.js";

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function columnsOf(rows: TableRow[]): string[] {
  const seen = new Set<string>();
  for (const r of rows) for (const k of Object.keys(r.values)) seen.add(k);
  return [...seen];
}

/** JSON Lines: one object a line; columns are the keys in order of first appearance. */
export function parseJsonLines(text: string, file: string): Table {
  const rows: TableRow[] = [];
  for (const { text: s, line } of nonBlankLines(text)) {
    let value: unknown;
    try {
      value = JSON.parse(s);
    } catch (e) {
      throw new BertuneError(
        `${file}, line ${line}: not valid JSON (${(e as Error).message}).`,
        "A .jsonl file needs one complete JSON object on each line.",
      );
    }
    if (!isRecord(value)) {
      throw new BertuneError(
        `${file}, line ${line}: expected a JSON object, found ${Array.isArray(value) ? "an array" : typeof value}.`,
        'Each line must be an object such as {"text": "...", "label": 0}.',
      );
    }
    rows.push({ values: value, line });
  }
  return { file, unit: "line", columns: columnsOf(rows), rows };
}

/**
 * A .json file: a JSON array of objects, an object holding one such array (e.g. {"data": [...]}), or else
 * JSON Lines (which is what many .json data files really are).
 */
export function parseJson(text: string, file: string): Table {
  const trimmed = text.trimStart();
  if (!trimmed.startsWith("[") && !trimmed.startsWith("{")) return parseJsonLines(text, file);
  let whole: unknown;
  try {
    whole = JSON.parse(text);
  } catch {
    // Several objects, one a line: JSON Lines.
    return parseJsonLines(text, file);
  }
  let items: unknown = whole;
  if (isRecord(whole)) {
    const arrays = Object.values(whole).filter(Array.isArray);
    if (arrays.length === 1) items = arrays[0];
    else return parseJsonLines(text, file);
  }
  if (!Array.isArray(items)) throw new BertuneError(`${file}: expected a JSON array of objects.`);
  const rows: TableRow[] = items.map((value, k) => {
    if (!isRecord(value)) {
      throw new BertuneError(
        `${file}, item ${k + 1}: expected a JSON object.`,
        'Each element must be an object such as {"text": "...", "label": 0}.',
      );
    }
    return { values: value, line: k + 1 };
  });
  return { file, unit: "item", columns: columnsOf(rows), rows };
}
