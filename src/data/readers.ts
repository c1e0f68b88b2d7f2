import { readFile } from "node:fs/promises";
import { extname } from "node:path";
import { BertuneError } from "../errors.js";
import { decodeText, type TextEncoding } from "./decode.js";
import { parseDelimited } from "./delimited.js";
import { parseJson, parseJsonLines } from "./jsonl.js";
import { parseLabeledLines } from "./labeled-lines.js";
import { parseParquet } from "./parquet.js";
import type { Table, TableRow } from "./table.js";

export type DataFormat = "tsv" | "csv" | "jsonl" | "json" | "txt" | "parquet";
/** The formats that are text (decoded with an encoding, parsed synchronously). */
export type TextFormat = Exclude<DataFormat, "parquet">;

const EXTENSIONS: Record<string, DataFormat> = {
  ".tsv": "tsv",
  ".csv": "csv",
  ".jsonl": "jsonl",
  ".ndjson": "jsonl",
  ".json": "json",
  ".txt": "txt",
  ".parquet": "parquet",
};

export const DATA_EXTENSIONS: readonly string[] = Object.keys(EXTENSIONS);

/** The format a file name's extension says, or undefined. */
export function formatOf(path: string): DataFormat | undefined {
  return EXTENSIONS[extname(path).toLowerCase()];
}

/** Decodes and parses one text data file already read into memory. */
export function parseTable(bytes: Uint8Array, file: string, format: TextFormat, encoding: TextEncoding): Table {
  const text = decodeText(bytes, encoding, file);
  switch (format) {
    case "tsv":
      return delimitedTable(text, file, "\t", null);
    case "csv":
      return delimitedTable(text, file, ",", '"');
    case "jsonl":
      return parseJsonLines(text, file);
    case "json":
      return parseJson(text, file);
    case "txt":
      return parseLabeledLines(text, file);
  }
}

/** Reads a data file: its raw bytes (for hashing) and its table. */
export async function readTable(
  path: string,
  file: string,
  encoding: TextEncoding,
): Promise<{ bytes: Uint8Array; table: Table }> {
  const format = formatOf(path);
  if (format === undefined) {
    throw new BertuneError(
      `${file}: unsupported file type "${extname(path) || "(none)"}".`,
      `Use one of ${DATA_EXTENSIONS.join(", ")}.`,
    );
  }
  const bytes = new Uint8Array(await readFile(path));
  // Parquet is binary and self-describing: the text encoding does not apply.
  if (format === "parquet") return { bytes, table: await parseParquet(bytes, file) };
  return { bytes, table: parseTable(bytes, file, format, encoding) };
}

function delimitedTable(text: string, file: string, delimiter: string, quote: string | null): Table {
  const records = parseDelimited(text, { delimiter, quote, file });
  if (records.length === 0) {
    throw new BertuneError(`${file} is empty.`, "A data file needs a header line and at least one example.");
  }
  const [header, ...body] = records;
  const columns = header.fields.map((name, k) => name.trim() || `column_${k + 1}`);
  const seen = new Set<string>();
  for (const c of columns) {
    if (seen.has(c)) {
      throw new BertuneError(
        `${file}, line ${header.line}: the header names the column "${c}" twice.`,
        "Give every column in the header line a different name.",
      );
    }
    seen.add(c);
  }
  const what = delimiter === "\t" ? "tab-separated" : "comma-separated";
  const rows: TableRow[] = body.map(({ fields, line }) => {
    if (fields.length !== columns.length) {
      throw new BertuneError(
        `${file}, line ${line}: expected ${columns.length} ${what} fields (as in the header) but found ${fields.length}.`,
        delimiter === "\t"
          ? "Each line needs exactly one tab between fields (TSV has no quoting): remove tabs inside the text, or save the file as CSV with quoted fields."
          : 'Quote fields that contain commas, quotes or line breaks with double quotes ("a, b"), doubling quotes inside them ("say ""hi""").',
      );
    }
    const values: Record<string, unknown> = {};
    for (let k = 0; k < columns.length; k++) values[columns[k]] = fields[k];
    return { values, line };
  });
  return { file, unit: "line", columns, rows };
}
