import { BertuneError } from "../errors.js";
import { nonBlankLines, type Table, type TableRow } from "./table.js";

/** Whitespace as Python's str.split() / str.strip() see it (U+0085 and U+00A0 included). */
const WS = "\\t\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const LINE = new RegExp(`^[${WS}]*([^${WS}]+)(?:[${WS}]+(.*?))?[${WS}]*$`, "s");

/**
 * The `LABEL SENTENCE` text format (one example a line, the label is the first whitespace-separated
 * token), as the classic sentence-classification corpora ship. Columns are `label` and `text`. Whitespace
 * is what Python's str.split() splits on, so the text is what `line.strip().split(None, 1)` gives.
 */
export function parseLabeledLines(text: string, file: string): Table {
  const rows: TableRow[] = [];
  for (const { text: s, line } of nonBlankLines(text)) {
    const m = LINE.exec(s);
    if (m === null) continue; // only whitespace
    if (m[2] === undefined || m[2] === "") {
      throw new BertuneError(
        `${file}, line ${line}: expected "LABEL SENTENCE", found only "${m[1].slice(0, 40)}".`,
        "In a .txt data file each line is a label, a space, then the text.",
      );
    }
    rows.push({ values: { label: m[1], text: m[2] }, line });
  }
  return { file, unit: "line", columns: ["label", "text"], rows };
}
