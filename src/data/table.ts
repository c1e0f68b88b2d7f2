import { BertuneError } from "../errors.js";

/** What every reader produces: named columns and rows that remember where they came from. */
export interface TableRow {
  values: Record<string, unknown>;
  /** 1-based line (or, for a JSON array, 1-based item) the row starts on. */
  line: number;
}

export interface Table {
  /** The file's name as shown in messages. */
  file: string;
  /** "line" for line-based formats, "item" for the elements of a JSON array, "row" for Parquet rows. */
  unit: "line" | "item" | "row";
  columns: string[];
  rows: TableRow[];
  /** Class names by column, from the file's own metadata (Parquet written by `datasets`: ClassLabel features). */
  labelNames?: Record<string, string[]>;
}

/**
 * One table from several files of the same split (a Hub data set's shards): rows are numbered on across the
 * files, so messages name the row of the split. Every file must have the first one's columns.
 */
export function concatTables(tables: Table[], file: string): Table {
  const [first] = tables;
  const rows: TableRow[] = [];
  for (const t of tables) {
    const same = t.columns.length === first.columns.length && t.columns.every((c) => first.columns.includes(c));
    if (!same) {
      throw new BertuneError(
        `${t.file} has the columns ${t.columns.join(", ")} but ${first.file} has ${first.columns.join(", ")}.`,
        "Every file of a split needs the same columns.",
      );
    }
    for (const r of t.rows) rows.push({ values: r.values, line: rows.length + 1 });
  }
  const table: Table = { file, unit: first.unit, columns: first.columns, rows };
  if (first.labelNames) table.labelNames = first.labelNames;
  return table;
}

/** "train.csv, line 12" */
export function where(table: Pick<Table, "file" | "unit">, line: number): string {
  return `${table.file}, ${table.unit} ${line}`;
}

/** Splits text into lines at LF or CRLF, keeping 1-based numbers and dropping blank lines. */
export function nonBlankLines(text: string): { text: string; line: number }[] {
  const out: { text: string; line: number }[] = [];
  const parts = text.split("\n");
  for (let k = 0; k < parts.length; k++) {
    let s = parts[k];
    if (s.endsWith("\r")) s = s.slice(0, -1);
    if (/^[ \t]*$/.test(s)) continue;
    out.push({ text: s, line: k + 1 });
  }
  return out;
}
