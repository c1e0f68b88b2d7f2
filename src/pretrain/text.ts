import { readdir, readFile, stat } from "node:fs/promises";
import { basename, extname, join, resolve } from "node:path";
import { BertuneError } from "../errors.js";
import { findColumn, TEXT_COLUMNS } from "../data/columns.js";
import { decodeText, normalizeEncoding } from "../data/decode.js";
import { readTable } from "../data/readers.js";
import { resolveSource } from "../data/sources.js";
import { nonBlankLines, type Table } from "../data/table.js";
import type { HubDatasetOptions } from "../data/types.js";
import { sha256 } from "../util/hash.js";

/** Raw text for masked-LM pretraining: documents (one per line of a .txt file, or one per row's text). */
export interface PretrainText {
  name: string;
  /** What was read, for logs. */
  source: string;
  train: string[];
  validation: string[];
  /** Validation from the data's own split, carved from the start of train (run_mlm.py's validation_split_percentage), or none. */
  validationSource: "file" | "carved" | "none";
  /** The text column, for tabular data. */
  column?: string;
  /** sha256 over the bytes read and the options that decide the splits. */
  contentHash: string;
}

export interface PretrainTextOptions {
  /** Tabular data: the column holding the text (default: detected as for training: sentence, text, review, ...). */
  textColumn?: string;
  /** Without a validation split in the data: this percentage of the documents, from the start, is held out (default 5, as run_mlm.py). */
  validationSplitPercentage?: number;
  encoding?: "utf8" | "latin1";
  hub?: HubDatasetOptions;
}

const VALIDATION_STEMS = ["validation", "valid", "val", "dev"];

function textLines(bytes: Uint8Array, file: string, encoding: "utf8" | "latin1"): string[] {
  return nonBlankLines(decodeText(bytes, encoding, file)).map((l) => l.text.trim()).filter((t) => t !== "");
}

/** The text column of a table: the one asked for, a known text column name, or the first column of strings. */
function textColumnOf(table: Table, asked: string | undefined): string {
  if (asked !== undefined) {
    const c = findColumn(table.columns, asked);
    if (c === undefined) throw new BertuneError(`${table.file} has no column "${asked}" (--text-column); its columns are ${table.columns.join(", ")}.`, "Pass --text-column with one of those names.");
    return c;
  }
  for (const name of TEXT_COLUMNS) {
    const c = findColumn(table.columns, name);
    if (c !== undefined) return c;
  }
  const sample = table.rows.slice(0, 100);
  const c = table.columns.find((col) => {
    const vs = sample.map((r) => r.values[col]).filter((v) => v !== undefined && v !== null);
    return vs.length > 0 && vs.every((v) => typeof v === "string" && !/^\s*[+-]?\d+(\.\d+)?\s*$/.test(v));
  });
  if (c === undefined) throw new BertuneError(`${table.file}: found no text column among ${table.columns.join(", ")}.`, "Pass --text-column with the name of the column that holds the text.");
  return c;
}

function columnTexts(table: Table, column: string): string[] {
  return table.rows.map((r) => r.values[column]).filter((v): v is string | number => typeof v === "string" || typeof v === "number").map((v) => String(v).trim()).filter((t) => t !== "");
}

/**
 * Read text for pretraining. A `.txt` file is raw text, one document a line (blank lines skipped); a
 * folder of `.txt` files is all of them in name order (or, when it holds train.txt and
 * validation.txt/dev.txt, those two splits). Anything else goes through bertune's data set sources
 * (built-in names, .tsv/.csv/.jsonl/.json/.parquet files and folders, hub:org/name): the text column
 * of each row, labels ignored; the data's validation split is used when it has one. Without one,
 * the first `validationSplitPercentage`% of the documents are held out, as run_mlm.py's
 * `train[:5%]`.
 */
export async function loadPretrainText(spec: string, o: PretrainTextOptions = {}): Promise<PretrainText> {
  const encoding = normalizeEncoding(o.encoding);
  const pct = o.validationSplitPercentage ?? 5;
  if (!(pct >= 0 && pct < 100)) throw new BertuneError(`--validation-split-percentage must be in [0, 100), got ${pct}`, "for example --validation-split-percentage 5");
  const hashes: string[] = [];
  let train: string[] = [];
  let validation: string[] | undefined;
  let column: string | undefined;
  let name: string;
  let source: string;

  const path = resolve(spec);
  const info = await stat(path).catch(() => undefined);
  const txtFolder = info?.isDirectory() ? (await readdir(path, { withFileTypes: true })).filter((e) => e.isFile() && !e.name.startsWith(".") && extname(e.name).toLowerCase() === ".txt").map((e) => e.name).sort() : [];
  if (info?.isFile() && extname(path).toLowerCase() === ".txt") {
    const bytes = new Uint8Array(await readFile(path));
    hashes.push(sha256(bytes));
    train = textLines(bytes, spec, encoding);
    name = basename(path, extname(path));
    source = path;
  } else if (info?.isDirectory() && txtFolder.length > 0) {
    const stem = (f: string) => basename(f, extname(f)).toLowerCase();
    const trainFile = txtFolder.find((f) => stem(f) === "train");
    const validFile = txtFolder.find((f) => VALIDATION_STEMS.includes(stem(f)));
    const files = trainFile && validFile ? [trainFile] : txtFolder;
    for (const f of files) {
      const bytes = new Uint8Array(await readFile(join(path, f)));
      hashes.push(sha256(bytes));
      train.push(...textLines(bytes, join(spec, f), encoding));
    }
    if (trainFile && validFile) {
      const bytes = new Uint8Array(await readFile(join(path, validFile)));
      hashes.push(`validation:${sha256(bytes)}`);
      validation = textLines(bytes, join(spec, validFile), encoding);
    }
    name = basename(path);
    source = `${path} (${files.length === 1 ? files[0] : `${files.length} .txt files`}${validFile && trainFile ? ` + ${validFile}` : ""})`;
  } else {
    const src = await resolveSource(spec, o.hub);
    name = src.name;
    source = src.source;
    for (const file of src.files) {
      if (file.split === "test") continue;
      const { bytes, table } = await readTable(file.path, file.display, encoding);
      hashes.push(`${file.split}:${sha256(bytes)}`);
      column ??= textColumnOf(table, o.textColumn ?? src.builtin?.entry.columns.text ?? src.columns?.text);
      if (!table.columns.includes(column)) throw new BertuneError(`${file.display} has no column "${column}" (found in the train file).`, "Every split needs the same text column.");
      const texts = columnTexts(table, column);
      if (file.split === "train") train.push(...texts);
      else (validation ??= []).push(...texts);
    }
  }
  if (train.length === 0) throw new BertuneError(`${spec} holds no text.`, "Give a .txt file with one document a line, or a data set with a text column.");
  let validationSource: PretrainText["validationSource"] = "file";
  if (validation === undefined) {
    // datasets' percent slicing rounds to the closest whole example.
    const n = Math.round((train.length * pct) / 100);
    validationSource = n > 0 ? "carved" : "none";
    validation = train.slice(0, n);
    train = train.slice(n);
    if (train.length === 0) throw new BertuneError(`holding out ${pct}% of ${spec} for validation leaves nothing to train on`, "lower --validation-split-percentage, or add text");
  }
  const contentHash = sha256(JSON.stringify({ v: 1, files: hashes, encoding, column: column ?? null, carve: validationSource === "carved" ? pct : null }));
  return { name, source, train, validation, validationSource, ...(column !== undefined ? { column } : {}), contentHash };
}
