/** What every reader produces: named columns and rows that remember where they came from. */
export interface TableRow {
  values: Record<string, unknown>;
  /** 1-based line (or, for a JSON array, 1-based item) the row starts on. */
  line: number;
}

export interface Table {
  /** The file's name as shown in messages. */
  file: string;
  /** "line" for line-based formats, "item" for the elements of a JSON array. */
  unit: "line" | "item";
  columns: string[];
  rows: TableRow[];
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
