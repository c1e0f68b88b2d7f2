/**
 * Parquet data files, read with hyparquet (+ hyparquet-compressors for gzip, zstd, brotli, lz4; snappy is built in).
 * Rows become a Table like the text readers' ones. Files written by Hugging Face `datasets` carry their
 * DatasetInfo in the key-value metadata under "huggingface": its ClassLabel features give the label names.
 */
import { parquetMetadata, parquetReadObjects, parquetSchema, type FileMetaData } from "hyparquet";
import { compressors } from "hyparquet-compressors";
import { BertuneError } from "../errors.js";
import type { Table, TableRow } from "./table.js";

function unreadable(file: string, e: unknown): BertuneError {
  const why = e instanceof Error ? e.message : String(e);
  return new BertuneError(
    `${file} is not a readable Parquet file (${why}).`,
    "Check that the file is complete (a download cut short is not); for a Hub data set, delete it from the cache with `bertune cache rm` and load it again.",
  );
}

/** ClassLabel names per column from the "huggingface" metadata that `datasets` writes, if any. */
export function classLabelsOf(metadata: Pick<FileMetaData, "key_value_metadata">): Record<string, string[]> {
  const raw = metadata.key_value_metadata?.find((kv) => kv.key === "huggingface")?.value;
  if (!raw) return {};
  let info: unknown;
  try {
    info = JSON.parse(raw);
  } catch {
    return {}; // foreign metadata: labels are then inferred
  }
  const features = (info as { info?: { features?: unknown } } | null)?.info?.features;
  const out: Record<string, string[]> = {};
  if (!features || typeof features !== "object") return out;
  for (const [column, feature] of Object.entries(features as Record<string, unknown>)) {
    const f = feature as { _type?: unknown; names?: unknown } | null;
    if (f?._type === "ClassLabel" && Array.isArray(f.names) && f.names.every((n) => typeof n === "string")) out[column] = f.names as string[];
  }
  return out;
}

/** Plain JS values for the readers downstream: safe bigints as numbers, dates as ISO strings. */
function plain(v: unknown): unknown {
  if (typeof v === "bigint") return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (v instanceof Date) return v.toISOString();
  return v;
}

/** Parses a Parquet file already read into memory. `file` names it in messages; rows are numbered from 1. */
export async function parseParquet(bytes: Uint8Array, file: string): Promise<Table> {
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  let metadata: FileMetaData;
  let rows: Record<string, unknown>[];
  try {
    metadata = parquetMetadata(buffer);
    rows = await parquetReadObjects({ file: buffer, metadata, compressors });
  } catch (e) {
    throw unreadable(file, e);
  }
  const columns = parquetSchema(metadata).children.map((c) => c.element.name);
  const tableRows: TableRow[] = rows.map((r, k) => {
    const values: Record<string, unknown> = {};
    for (const c of columns) values[c] = plain(r[c]);
    return { values, line: k + 1 };
  });
  const table: Table = { file, unit: "row", columns, rows: tableRows };
  const labelNames = classLabelsOf(metadata);
  if (Object.keys(labelNames).length > 0) table.labelNames = labelNames;
  return table;
}
