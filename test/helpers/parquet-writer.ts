/**
 * A minimal Parquet writer for test fixtures (hyparquet only reads, and hyparquet-writer is not installed).
 *
 * What it writes: "PAR1", then one row group with one data page (v1) per column, then the FileMetaData footer in
 * Thrift's compact protocol, its 4-byte little-endian length and "PAR1". Columns are REQUIRED (no nulls, so no
 * definition or repetition levels), PLAIN-encoded:
 *   - "string": BYTE_ARRAY with the UTF8 converted type (4-byte LE length + bytes per value)
 *   - "int64":  INT64 (8 bytes LE per value)
 * Pages are uncompressed, or gzip-compressed (codec GZIP) to exercise hyparquet-compressors.
 * Optional key-value metadata goes into the footer, e.g. the "huggingface" DatasetInfo JSON that `datasets` writes.
 *
 * Reference: the Parquet format spec (parquet.thrift) and Thrift's compact protocol spec.
 */
import { gzipSync } from "node:zlib";

export type ParquetColumn = { name: string; type: "string"; values: string[] } | { name: string; type: "int64"; values: (number | bigint)[] };

export interface ParquetWriteOptions {
  keyValueMetadata?: Record<string, string>;
  codec?: "uncompressed" | "gzip";
}

// --- Thrift compact protocol ------------------------------------------------------------------------------------
// Each encoder returns the compact type id and the bytes of the value (field headers are written by struct()).

interface Encoded {
  type: number;
  bytes: number[];
}

const T = { I32: 5, I64: 6, BINARY: 8, LIST: 9, STRUCT: 12 } as const;

function varint(n: bigint): number[] {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}

const zigzag = (n: bigint): bigint => (n << 1n) ^ (n >> 63n);
const i32 = (v: number): Encoded => ({ type: T.I32, bytes: varint(zigzag(BigInt(v)) & 0xffffffffn) });
const i64 = (v: number | bigint): Encoded => ({ type: T.I64, bytes: varint(BigInt.asUintN(64, zigzag(BigInt(v)))) });
function bin(v: string | Uint8Array): Encoded {
  const b = typeof v === "string" ? Buffer.from(v, "utf8") : v;
  return { type: T.BINARY, bytes: [...varint(BigInt(b.length)), ...b] };
}
function list(elemType: number, items: Encoded[]): Encoded {
  const head = items.length < 15 ? [(items.length << 4) | elemType] : [0xf0 | elemType, ...varint(BigInt(items.length))];
  return { type: T.LIST, bytes: [...head, ...items.flatMap((i) => i.bytes)] };
}
/** Fields in increasing id order; undefined fields are left out (optional fields). Ends with the stop byte. */
function struct(fields: [number, Encoded | undefined][]): Encoded {
  const bytes: number[] = [];
  let last = 0;
  for (const [id, f] of fields) {
    if (!f) continue;
    const delta = id - last;
    if (delta > 0 && delta <= 15) bytes.push((delta << 4) | f.type);
    else bytes.push(f.type, ...varint(zigzag(BigInt(id))));
    bytes.push(...f.bytes);
    last = id;
  }
  bytes.push(0);
  return { type: T.STRUCT, bytes };
}

// --- Parquet ---------------------------------------------------------------------------------------------------

const PARQUET_TYPE = { int64: 2, string: 6 } as const; // Type: INT64, BYTE_ARRAY
const UTF8 = 0; // ConvertedType
const REQUIRED = 0; // FieldRepetitionType
const PLAIN = 0; // Encoding
const RLE = 3;
const DATA_PAGE = 0; // PageType
const CODEC = { uncompressed: 0, gzip: 2 } as const;

function plainValues(col: ParquetColumn): Buffer {
  if (col.type === "int64") {
    const b = Buffer.alloc(8 * col.values.length);
    col.values.forEach((v, k) => b.writeBigInt64LE(BigInt(v), 8 * k));
    return b;
  }
  return Buffer.concat(
    col.values.map((s) => {
      const data = Buffer.from(s, "utf8");
      const len = Buffer.alloc(4);
      len.writeUInt32LE(data.length);
      return Buffer.concat([len, data]);
    }),
  );
}

/** The bytes of a Parquet file holding `columns` (all of the same length) as one row group. */
export function writeParquet(columns: ParquetColumn[], options: ParquetWriteOptions = {}): Buffer {
  const numRows = columns[0]?.values.length ?? 0;
  if (columns.some((c) => c.values.length !== numRows)) throw new Error("all columns need the same number of values");
  const codec = options.codec ?? "uncompressed";
  const parts: Buffer[] = [Buffer.from("PAR1")];
  let offset = 4;
  const chunks: Encoded[] = [];
  for (const col of columns) {
    const raw = plainValues(col);
    const data = codec === "gzip" ? gzipSync(raw) : raw;
    const header = struct([
      [1, i32(DATA_PAGE)],
      [2, i32(raw.length)], // uncompressed_page_size
      [3, i32(data.length)], // compressed_page_size
      [5, struct([[1, i32(numRows)], [2, i32(PLAIN)], [3, i32(RLE)], [4, i32(RLE)]])], // data_page_header
    ]);
    const page = Buffer.concat([Buffer.from(header.bytes), data]);
    const meta = struct([
      [1, i32(PARQUET_TYPE[col.type])],
      [2, list(T.I32, [i32(PLAIN), i32(RLE)])], // encodings
      [3, list(T.BINARY, [bin(col.name)])], // path_in_schema
      [4, i32(CODEC[codec])],
      [5, i64(numRows)], // num_values
      [6, i64(header.bytes.length + raw.length)], // total_uncompressed_size
      [7, i64(page.length)], // total_compressed_size
      [9, i64(offset)], // data_page_offset
    ]);
    chunks.push(struct([[2, i64(offset)], [3, meta]])); // ColumnChunk: file_offset, meta_data
    parts.push(page);
    offset += page.length;
  }
  const schema = [
    struct([[4, bin("schema")], [5, i32(columns.length)]]),
    ...columns.map((c) => struct([[1, i32(PARQUET_TYPE[c.type])], [3, i32(REQUIRED)], [4, bin(c.name)], [6, c.type === "string" ? i32(UTF8) : undefined]])),
  ];
  const totalBytes = parts.slice(1).reduce((n, p) => n + p.length, 0);
  const rowGroup = struct([[1, list(T.STRUCT, chunks)], [2, i64(totalBytes)], [3, i64(numRows)]]);
  const kv = Object.entries(options.keyValueMetadata ?? {}).map(([k, v]) => struct([[1, bin(k)], [2, bin(v)]]));
  const footer = struct([
    [1, i32(1)], // version
    [2, list(T.STRUCT, schema)],
    [3, i64(numRows)],
    [4, list(T.STRUCT, [rowGroup])],
    [5, kv.length > 0 ? list(T.STRUCT, kv) : undefined],
    [6, bin("bertune test parquet writer")], // created_by
  ]);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(footer.bytes.length);
  return Buffer.concat([...parts, Buffer.from(footer.bytes), len, Buffer.from("PAR1")]);
}

/** The "huggingface" metadata `datasets` writes: a text column and a ClassLabel column with these names. */
export function hfFeaturesMetadata(features: Record<string, { names: string[] } | "string" | "int64">): Record<string, string> {
  const f = Object.fromEntries(
    Object.entries(features).map(([name, t]) => [name, typeof t === "string" ? { dtype: t, _type: "Value" } : { names: t.names, _type: "ClassLabel" }]),
  );
  return { huggingface: JSON.stringify({ info: { features: f } }) };
}
