/**
 * Reader and writer for the safetensors format (the Hugging Face weight format).
 *
 * Layout: an 8-byte little-endian u64 header length N, then N bytes of UTF-8 JSON
 * `{ name: { dtype, shape, data_offsets: [begin, end] }, "__metadata__"?: { key: value } }`,
 * then the raw little-endian data section; offsets are relative to the start of that section.
 *
 * The parser validates the whole header (the same rules as the Python library: known dtypes,
 * sizes that match the shapes, offsets that cover the data section exactly once, with no holes
 * or overlaps) before anything is allocated from it, so a corrupt or truncated download gives
 * one clear BertuneError instead of a crash or garbage weights.
 */
import { readFileSync } from "node:fs";
import { BertuneError } from "../errors.js";
import { writeFileAtomic } from "../util/atomic.js";

export type DType = "F32" | "F16" | "BF16" | "F64" | "I64" | "I32" | "I16" | "I8" | "U8" | "BOOL";

export interface TensorInfo {
  dtype: DType;
  shape: number[];
  /** [begin, end) byte offsets into the data section. */
  dataOffsets: [number, number];
}

export interface SafetensorsFile {
  metadata: Record<string, string>;
  tensors: Map<string, TensorInfo>;
  /** The data section (a view into the bytes that were parsed, not a copy). */
  buffer: Uint8Array;
  /** Where the file came from, for error messages. */
  source?: string;
}

export interface TensorToWrite {
  dtype: "F32";
  shape: number[];
  data: Float32Array;
}

/** Bytes per element of each dtype. */
export const DTYPE_SIZES: Readonly<Record<DType, number>> = Object.freeze({
  F64: 8,
  I64: 8,
  F32: 4,
  I32: 4,
  F16: 2,
  BF16: 2,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
});

/** Headers larger than this are rejected as corrupt (the Python library uses the same limit). */
export const MAX_HEADER_BYTES = 100_000_000;

const METADATA_KEY = "__metadata__";
const CORRUPT_HINT = "The file is corrupt or truncated; delete it and download it again.";
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function corrupt(source: string, what: string): BertuneError {
  return new BertuneError(`${source}: not a valid safetensors file: ${what}`, CORRUPT_HINT);
}

function isDType(s: unknown): s is DType {
  return typeof s === "string" && Object.prototype.hasOwnProperty.call(DTYPE_SIZES, s);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isNonNegativeSafeInteger(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

function describe(v: unknown): string {
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function shapeString(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

/** Parse and validate a safetensors file held in memory. The returned buffer is a view into `bytes`. */
export function parseSafetensors(bytes: Uint8Array, source = "<safetensors buffer>"): SafetensorsFile {
  if (bytes.length < 8) {
    throw corrupt(source, `the file is ${bytes.length} bytes long, shorter than the 8-byte header length`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen64 = view.getBigUint64(0, true);
  if (headerLen64 > BigInt(MAX_HEADER_BYTES)) {
    throw corrupt(source, `the header claims to be ${headerLen64} bytes (more than the ${MAX_HEADER_BYTES}-byte limit)`);
  }
  const headerLen = Number(headerLen64);
  if (headerLen > bytes.length - 8) {
    throw corrupt(source, `the header claims to be ${headerLen} bytes but only ${bytes.length - 8} bytes follow the header length`);
  }
  if (headerLen < 2) {
    throw corrupt(source, `the header is ${headerLen} bytes long, too short to hold a JSON object`);
  }

  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, 8 + headerLen));
  } catch {
    throw corrupt(source, "the header is not valid UTF-8");
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    throw corrupt(source, `the header is not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!isPlainObject(header)) {
    throw corrupt(source, "the header is not a JSON object");
  }

  const buffer = bytes.subarray(8 + headerLen);
  const dataLen = buffer.length;
  const metadata: Record<string, string> = {};
  const tensors = new Map<string, TensorInfo>();

  for (const [name, entry] of Object.entries(header)) {
    if (name === METADATA_KEY) {
      if (entry === null) continue;
      if (!isPlainObject(entry)) throw corrupt(source, `"${METADATA_KEY}" is not an object`);
      for (const [k, v] of Object.entries(entry)) {
        if (typeof v !== "string") {
          throw corrupt(source, `metadata value "${k}" is not a string (${describe(v)})`);
        }
        Object.defineProperty(metadata, k, { value: v, enumerable: true, writable: true, configurable: true });
      }
      continue;
    }
    if (!isPlainObject(entry)) throw corrupt(source, `tensor "${name}": entry is not an object`);
    const { dtype, shape, data_offsets: offsets } = entry;
    if (!isDType(dtype)) throw corrupt(source, `tensor "${name}": unknown dtype ${describe(dtype)}`);
    if (!Array.isArray(shape) || !shape.every(isNonNegativeSafeInteger)) {
      throw corrupt(source, `tensor "${name}": shape ${describe(shape)} is not a list of non-negative integers`);
    }
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !isNonNegativeSafeInteger(offsets[0]) ||
      !isNonNegativeSafeInteger(offsets[1])
    ) {
      throw corrupt(source, `tensor "${name}": data_offsets ${describe(offsets)} is not a pair of non-negative integers`);
    }
    const [begin, end] = offsets as [number, number];
    if (begin > end) throw corrupt(source, `tensor "${name}": data_offsets [${begin}, ${end}] begin after end`);
    if (end > dataLen) {
      throw corrupt(source, `tensor "${name}": data_offsets [${begin}, ${end}] run past the end of the ${dataLen}-byte data section`);
    }
    // Exact arithmetic: a shape like [1e12, 1e12] must not overflow into a false match.
    let bytesNeeded = BigInt(DTYPE_SIZES[dtype]);
    for (const d of shape as number[]) bytesNeeded *= BigInt(d);
    if (bytesNeeded !== BigInt(end - begin)) {
      throw corrupt(
        source,
        `tensor "${name}": shape ${shapeString(shape as number[])} of ${dtype} needs ${bytesNeeded} bytes but data_offsets [${begin}, ${end}] hold ${end - begin}`,
      );
    }
    tensors.set(name, { dtype, shape: (shape as number[]).slice(), dataOffsets: [begin, end] });
  }

  // The data section must be covered exactly: sorted by offset, each tensor starts where the previous ended.
  const ordered = [...tensors.entries()].sort(
    (a, b) => a[1].dataOffsets[0] - b[1].dataOffsets[0] || a[1].dataOffsets[1] - b[1].dataOffsets[1],
  );
  let cursor = 0;
  let prevName = "";
  for (const [name, info] of ordered) {
    const [begin, end] = info.dataOffsets;
    if (begin < cursor) {
      throw corrupt(source, `tensor "${name}" (bytes ${begin}..${end}) overlaps tensor "${prevName}" (ending at ${cursor})`);
    }
    if (begin > cursor) {
      throw corrupt(source, `the data section has a gap at bytes ${cursor}..${begin} not covered by any tensor`);
    }
    cursor = end;
    prevName = name;
  }
  if (cursor !== dataLen) {
    throw corrupt(source, `the tensors cover ${cursor} bytes but the data section is ${dataLen} bytes long`);
  }

  return { metadata, tensors, buffer, source };
}

/** Read and validate a safetensors file from disk. */
export function readSafetensors(path: string): SafetensorsFile {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new BertuneError(`${path}: file not found`, "Check the model path, or download the model again.");
    if (code === "EISDIR") throw new BertuneError(`${path}: is a folder, not a safetensors file`);
    if (code === "EACCES" || code === "EPERM") throw new BertuneError(`${path}: permission denied`);
    throw e;
  }
  return parseSafetensors(bytes, path);
}

function fileName(file: SafetensorsFile): string {
  return file.source ?? "<safetensors buffer>";
}

function getInfo(file: SafetensorsFile, name: string): TensorInfo {
  const info = file.tensors.get(name);
  if (!info) {
    const names = [...file.tensors.keys()];
    const some = names.slice(0, 5).join(", ");
    throw new BertuneError(
      `${fileName(file)}: tensor "${name}" not found (the file has ${names.length} tensors${names.length ? `, e.g. ${some}` : ""})`,
      "The checkpoint does not match the expected model architecture.",
    );
  }
  return info;
}

let f16Table: Float32Array | undefined;

/** Exact IEEE 754 binary16 → number conversion (subnormals, infinities and NaN included). */
export function f16ToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const frac = bits & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1024 + frac) * 2 ** (exp - 25);
}

/** Exact bfloat16 → number conversion: bfloat16 is the upper half of a float32. */
export function bf16ToNumber(bits: number): number {
  const u = new Uint32Array([(bits & 0xffff) << 16]);
  return new Float32Array(u.buffer)[0];
}

function f16Lookup(): Float32Array {
  if (!f16Table) {
    const t = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) t[i] = f16ToNumber(i);
    f16Table = t;
  }
  return f16Table;
}

/**
 * A floating-point tensor as Float32Array. F32 data that is 4-byte aligned is returned as a view
 * that shares memory with the file buffer (copy it before mutating if the file is reused);
 * otherwise, and for F16/BF16/F64, a new array is returned. F64 is rounded to float32.
 */
export function tensorToFloat32(file: SafetensorsFile, name: string): Float32Array {
  const info = getInfo(file, name);
  const [begin, end] = info.dataOffsets;
  const bytes = file.buffer.subarray(begin, end);
  const n = (end - begin) / DTYPE_SIZES[info.dtype];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (info.dtype) {
    case "F32": {
      if (LITTLE_ENDIAN && bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, n);
      const out = new Float32Array(n);
      if (LITTLE_ENDIAN) new Uint8Array(out.buffer).set(bytes);
      else for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
      return out;
    }
    case "F16": {
      const table = f16Lookup();
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = table[view.getUint16(i * 2, true)];
      return out;
    }
    case "BF16": {
      const out = new Float32Array(n);
      const u32 = new Uint32Array(out.buffer);
      // Typed arrays share the host byte order, so this is correct on any platform.
      for (let i = 0; i < n; i++) u32[i] = view.getUint16(i * 2, true) << 16;
      return out;
    }
    case "F64": {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(i * 8, true);
      return out;
    }
    default:
      throw new BertuneError(
        `${fileName(file)}: tensor "${name}" has dtype ${info.dtype}, which cannot be read as floating point`,
        "Expected a floating-point weight (F32, F16, BF16 or F64); the checkpoint does not match the expected model.",
      );
  }
}

/** Throw a BertuneError unless the tensor exists with exactly this shape. */
export function expectTensor(file: SafetensorsFile, name: string, shape: number[]): void {
  const info = getInfo(file, name);
  const same = info.shape.length === shape.length && info.shape.every((d, i) => d === shape[i]);
  if (!same) {
    throw new BertuneError(
      `${fileName(file)}: tensor "${name}" has shape ${shapeString(info.shape)}, expected ${shapeString(shape)}`,
      "The checkpoint does not match the model configuration (config.json); check that they come from the same model.",
    );
  }
}

/**
 * Serialize float32 tensors to safetensors bytes, as the Python library does: tensors in
 * sorted-name order, packed contiguously, the JSON header padded with spaces to a multiple of 8
 * so the data section (and every float32 in it) is aligned.
 */
export function serializeSafetensors(
  tensors: Record<string, TensorToWrite>,
  metadata?: Record<string, string>,
): Uint8Array {
  const names = Object.keys(tensors).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== "string") throw new TypeError(`safetensors metadata "${k}" must be a string`);
    }
    header[METADATA_KEY] = { ...metadata };
  }
  let offset = 0;
  for (const name of names) {
    if (name === METADATA_KEY) throw new TypeError(`"${METADATA_KEY}" cannot be used as a tensor name`);
    const t = tensors[name];
    if (t.dtype !== "F32") throw new TypeError(`tensor "${name}": only F32 can be written, got ${String(t.dtype)}`);
    if (!Array.isArray(t.shape) || !t.shape.every(isNonNegativeSafeInteger)) {
      throw new TypeError(`tensor "${name}": shape ${describe(t.shape)} is not a list of non-negative integers`);
    }
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) {
      throw new TypeError(`tensor "${name}": shape ${shapeString(t.shape)} holds ${count} values but data has ${t.data.length}`);
    }
    const size = count * 4;
    // Build the entry with defineProperty so a name like "__proto__" is an ordinary key.
    Object.defineProperty(header, name, {
      value: { dtype: "F32", shape: t.shape.slice(), data_offsets: [offset, offset + size] },
      enumerable: true,
      writable: true,
      configurable: true,
    });
    offset += size;
  }

  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerLen = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLen + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerLen), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLen);

  let pos = 8 + headerLen;
  for (const name of names) {
    const data = tensors[name].data;
    if (LITTLE_ENDIAN) {
      out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), pos);
    } else {
      for (let i = 0; i < data.length; i++) view.setFloat32(pos + i * 4, data[i], true);
    }
    pos += data.byteLength;
  }
  return out;
}

/** Write float32 tensors to a safetensors file atomically (readers never see a torn file). */
export function writeSafetensors(
  path: string,
  tensors: Record<string, TensorToWrite>,
  metadata?: Record<string, string>,
): void {
  writeFileAtomic(path, serializeSafetensors(tensors, metadata));
}
