import { BertuneError } from "../errors.js";
import { sha256 } from "../util/hash.js";
import { checkColumns, resolveColumns, type ColumnChoice, type ColumnRequest } from "./columns.js";
import { normalizeEncoding } from "./decode.js";
import type { RawLabel } from "./labels.js";
import { encodeTargets } from "./targets.js";
import { readTable } from "./readers.js";
import { selectFirst } from "./select.js";
import { resolveSource } from "./sources.js";
import { carveValidation, checkRatio, checkSeed } from "./split.js";
import { concatTables, where, type Table } from "./table.js";
import type { Example, LoadDatasetOptions, LoadedDataset, SplitName } from "./types.js";

interface RawExample {
  text: string;
  textPair?: string;
  label: RawLabel;
}

function textValue(table: Table, value: unknown, line: number, column: string): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  throw new BertuneError(
    `${where(table, line)}: the text column "${column}" is ${value === null || value === undefined ? "missing" : "not a string"}.`,
    "Every example needs its text; remove incomplete rows or pick another column with --text-column.",
  );
}

function rawExamples(table: Table, columns: ColumnChoice): RawExample[] {
  return table.rows.map(({ values, line }) => {
    const ex: RawExample = {
      text: textValue(table, values[columns.text], line, columns.text),
      label: { value: columns.labelColumns ? columns.labelColumns.map((c) => values[c]) : values[columns.label], where: where(table, line) },
    };
    if (columns.textPair !== undefined) ex.textPair = textValue(table, values[columns.textPair], line, columns.textPair);
    return ex;
  });
}

/** True when a split's label column holds only -1 or nothing (as GLUE's hidden test labels on the Hub). */
function unlabeled(table: Table, column: string): boolean {
  if (!table.columns.includes(column)) return false; // a misnamed column is an error, reported by checkColumns
  return table.rows.every(({ values }) => {
    const v = values[column];
    return v === null || v === undefined || v === -1 || (typeof v === "string" && (v.trim() === "" || v.trim() === "-1"));
  });
}

/**
 * Loads a data set for text classification: a built-in name (see datasets/registry.json), a data file
 * (.tsv, .csv, .jsonl, .json, .txt, .parquet; loaded as train), a folder of split files, or a Hub data set
 * (`hub:org/name[:config][@revision]`, or an `org/name` that is no local path). Validation is carved
 * from train (seeded) when the data has none; a test split without labels is left out.
 */
export async function loadDataset(spec: string, options: LoadDatasetOptions = {}): Promise<LoadedDataset> {
  const encoding = normalizeEncoding(options.encoding);
  const ratio = options.validationRatio ?? 0.1;
  const seed = options.seed ?? 42;
  checkRatio(ratio);
  checkSeed(seed);

  const src = await resolveSource(spec, options.hub);
  const parts: Partial<Record<SplitName, { table: Table; group?: string }[]>> = {};
  const fileHashes: { split: SplitName; sha256: string }[] = [];
  for (const file of src.files) {
    const { bytes, table } = await readTable(file.path, file.display, encoding);
    if (table.rows.length === 0 && file.group === undefined) {
      throw new BertuneError(`${file.display} holds no examples.`, "A data file needs at least one example (after the header line, for CSV/TSV).");
    }
    (parts[file.split] ??= []).push({ table, group: file.group });
    fileHashes.push({ split: file.split, sha256: sha256(bytes) });
  }
  // A split read from several files (a Hub data set's shards) is one table, named after the split.
  const tables: Partial<Record<SplitName, Table>> = {};
  for (const [split, list] of Object.entries(parts) as [SplitName, { table: Table; group?: string }[]][]) {
    const group = list[0].group;
    tables[split] = group === undefined ? list[0].table : concatTables(list.map((p) => p.table), group);
    if (tables[split]!.rows.length === 0) {
      throw new BertuneError(`${tables[split]!.file} holds no examples.`, "Every split needs at least one example.");
    }
  }
  const train = tables.train!;

  const request: ColumnRequest = { ...(src.builtin?.entry.columns ?? src.columns) };
  if (options.textColumn !== undefined) {
    request.text = options.textColumn;
    if (options.textPairColumn === undefined) delete request.textPair;
  }
  if (options.textPairColumn !== undefined) request.textPair = options.textPairColumn;
  if (options.labelColumn !== undefined) request.label = options.labelColumn;
  if (options.labelColumns !== undefined) {
    if (options.labelColumns.length === 1) request.label = options.labelColumns[0];
    else request.labelColumns = options.labelColumns;
  }
  const columns = resolveColumns(train, request);
  if (tables.test !== undefined && unlabeled(tables.test, columns.labelColumns?.[0] ?? columns.label)) delete tables.test;
  for (const split of ["validation", "test"] as const) {
    const t = tables[split];
    if (t !== undefined) checkColumns(t, columns, train.file);
  }

  const raw = {
    train: rawExamples(train, columns),
    validation: tables.validation && rawExamples(tables.validation, columns),
    test: tables.test && rawExamples(tables.test, columns),
  };
  // The registry's names and task describe its own label column; a Parquet file's ClassLabel names, their
  // column; any other column gets its labels (and problem type) inferred.
  const ownLabels = src.builtin !== undefined && columns.label === src.builtin.entry.columns.label && columns.labelColumns === undefined;
  const labels = encodeTargets(
    src.name,
    {
      train: raw.train.map((e) => e.label),
      validation: raw.validation?.map((e) => e.label),
      test: raw.test?.map((e) => e.label),
    },
    {
      problemType: options.problemType,
      knownProblemType: ownLabels ? (src.builtin!.entry.problemType ?? "single_label_classification") : undefined,
      known:
        src.builtin !== undefined
          ? ownLabels && src.builtin.entry.problemType !== "regression"
            ? src.builtin.entry.id2label
            : undefined
          : (train.labelNames?.[columns.label] ?? src.labelNames?.[columns.label]),
      separator: options.labelSeparator ?? ",",
      labelColumns: columns.labelColumns,
    },
  );
  const toExamples = (rows: RawExample[], ids: (number | number[])[]): Example[] =>
    rows.map((r, k) => (r.textPair !== undefined ? { text: r.text, textPair: r.textPair, label: ids[k] } : { text: r.text, label: ids[k] }));

  const trainAll = toExamples(raw.train, labels.targets.train);
  const carved = raw.validation === undefined;
  const { train: trainSplit, validation } = carved
    ? carveValidation(trainAll, ratio, seed)
    : { train: trainAll, validation: toExamples(raw.validation!, labels.targets.validation!) };
  const test = raw.test && toExamples(raw.test, labels.targets.test!);

  const contentHash = sha256(
    JSON.stringify({
      v: 1,
      files: fileHashes,
      encoding,
      columns,
      id2label: labels.id2label,
      // v1 keys stay valid for single-label data; other problem types read the same files differently.
      ...(labels.problemType === "single_label_classification" ? {} : { problemType: labels.problemType, separator: options.labelSeparator ?? "," }),
      carve: carved ? { ratio, seed } : null,
    }),
  );

  // --max-train-samples / --max-eval-samples: the first N of each split, once the splits are final.
  return selectFirst(
    {
      name: src.name,
      source: src.source,
      contentHash,
      splits: test !== undefined ? { train: trainSplit, validation, test } : { train: trainSplit, validation },
      validationSource: carved ? "carved" : "file",
      id2label: labels.id2label,
      problemType: labels.problemType,
      problemTypeReason: labels.reason,
      columns,
    },
    options,
  );
}
