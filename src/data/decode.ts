import { BertuneError } from "../errors.js";

export type TextEncoding = "utf8" | "latin1";

/** Accepts the spellings a user might type; anything else is a BertuneError. */
export function normalizeEncoding(encoding: string | undefined): TextEncoding {
  if (encoding === undefined) return "utf8";
  const e = encoding.toLowerCase().replace(/[-_ ]/g, "");
  if (e === "utf8") return "utf8";
  if (e === "latin1" || e === "iso88591") return "latin1";
  throw new BertuneError(`Unsupported encoding "${encoding}".`, "Use --encoding utf8 (the default) or --encoding latin1.");
}

const startsWith = (bytes: Uint8Array, sig: readonly number[], at = 0) => sig.every((b, k) => bytes[at + k] === b);
const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));

/** Whether an ASCII name occurs in the first `within` bytes (a ZIP's first file names are near its start). */
function mentions(bytes: Uint8Array, name: string, within = 65536): boolean {
  return Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, within)).includes(name, 0, "latin1");
}

/**
 * What a file that is not text is, from its first bytes: a spreadsheet or archive renamed `.csv`, a
 * compressed file, a PDF, a UTF-16/UTF-32 text. Undefined for anything that may be text. The message
 * says what the file is, and the hint how to turn it into a data file bertune reads.
 */
export function binarySignature(bytes: Uint8Array): { what: string; hint: string } | undefined {
  const b = bytes;
  // UTF-32 before UTF-16: FF FE 00 00 also starts with the UTF-16 LE mark.
  if (startsWith(b, [0xff, 0xfe, 0x00, 0x00]) || startsWith(b, [0x00, 0x00, 0xfe, 0xff])) {
    return { what: "a UTF-32 text file (it starts with a UTF-32 byte order mark)", hint: "Re-save the file as UTF-8." };
  }
  if (startsWith(b, [0xff, 0xfe]) || startsWith(b, [0xfe, 0xff])) {
    return { what: `a UTF-16 ${b[0] === 0xff ? "LE" : "BE"} text file (it starts with a UTF-16 byte order mark)`, hint: "Re-save the file as UTF-8 (in Excel: CSV UTF-8; elsewhere: iconv -f UTF-16 -t UTF-8)." };
  }
  if (startsWith(b, [0x50, 0x4b]) && (startsWith(b, [3, 4], 2) || startsWith(b, [5, 6], 2) || startsWith(b, [7, 8], 2))) {
    if (mentions(b, "xl/")) return { what: "an Excel workbook (.xlsx, a ZIP archive), not a text file", hint: "Save the sheet as CSV (Excel: File > Save As > CSV UTF-8) and pass that file." };
    if (mentions(b, "content.xml") && mentions(b, "opendocument.spreadsheet")) return { what: "an OpenDocument spreadsheet (.ods, a ZIP archive), not a text file", hint: "Save the sheet as CSV (UTF-8) and pass that file." };
    if (mentions(b, "word/")) return { what: "a Word document (.docx, a ZIP archive), not a data file", hint: "Put the examples into a .csv, .tsv or .jsonl file." };
    return { what: "a ZIP archive, not a text file", hint: "Unzip it and pass the data file (or the folder) inside." };
  }
  if (startsWith(b, [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1])) {
    return { what: "an old-style Office file (.xls or .doc), not a text file", hint: "Save the sheet as CSV (Excel: File > Save As > CSV UTF-8) and pass that file." };
  }
  if (startsWith(b, ascii("%PDF-"))) return { what: "a PDF document, not a text file", hint: "Put the examples into a .csv, .tsv or .jsonl file." };
  if (startsWith(b, [0x1f, 0x8b])) return { what: "gzip-compressed", hint: "Decompress it first (gunzip -k FILE) and pass the file inside." };
  if (startsWith(b, ascii("BZh"))) return { what: "bzip2-compressed", hint: "Decompress it first (bunzip2 -k FILE)." };
  if (startsWith(b, [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])) return { what: "xz-compressed", hint: "Decompress it first (unxz -k FILE)." };
  if (startsWith(b, [0x28, 0xb5, 0x2f, 0xfd])) return { what: "zstd-compressed", hint: "Decompress it first (unzstd FILE)." };
  if (startsWith(b, ascii("PAR1"))) return { what: "a Parquet file, not a text file", hint: "Give it the .parquet extension: bertune reads Parquet files by their name." };
  // UTF-16 without a mark: ASCII text in it has a NUL in every other byte.
  const n = Math.min(b.length, 256) & ~1;
  if (n >= 8) {
    let even = 0;
    let odd = 0;
    for (let i = 0; i < n; i += 2) {
      if (b[i] === 0) even++;
      if (b[i + 1] === 0) odd++;
    }
    const half = n / 2;
    if ((odd >= 0.6 * half && even === 0) || (even >= 0.6 * half && odd === 0)) {
      return { what: `a UTF-16 ${odd > even ? "LE" : "BE"} text file (every other byte is 0)`, hint: "Re-save the file as UTF-8 (in Excel: CSV UTF-8; elsewhere: iconv -f UTF-16 -t UTF-8)." };
    }
  }
  return undefined;
}

/**
 * Decodes a text file's bytes. A file that is not text (a spreadsheet, an archive, a PDF, compressed,
 * UTF-16) is a BertuneError saying what it is, whatever the encoding asked for. UTF-8 is decoded
 * strictly: the first invalid byte is a BertuneError naming the file and its line. Latin-1 is ISO-8859-1
 * (every byte is the code point of the same value, as Python's "latin-1" codec), not the WHATWG "latin1"
 * label, which means windows-1252. A UTF-8 byte order mark is dropped either way.
 */
export function decodeText(bytes: Uint8Array, encoding: TextEncoding, file: string): string {
  const binary = binarySignature(bytes);
  if (binary) {
    throw new BertuneError(`${file} is ${binary.what}.`, binary.hint);
  }
  const start = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  const body = bytes.subarray(start);
  if (encoding === "latin1") {
    return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("latin1");
  }
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(body);
  } catch {
    const offset = firstInvalidUtf8(bytes, start);
    const at = offset < 0 ? 0 : offset;
    const line = lineOfByte(bytes, at);
    const byte = bytes[at] ?? 0;
    throw new BertuneError(
      `${file} is not valid UTF-8: line ${line} has the invalid byte 0x${byte.toString(16).padStart(2, "0")}.`,
      "If the file is Latin-1 (ISO-8859-1), pass --encoding latin1; otherwise re-save it as UTF-8.",
    );
  }
}

/** 1-based line number of the byte at `offset` (lines end at LF). */
export function lineOfByte(bytes: Uint8Array, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < bytes.length; i++) if (bytes[i] === 0x0a) line++;
  return line;
}

/** Offset of the first byte that starts an invalid UTF-8 sequence, or -1 when all is valid. */
export function firstInvalidUtf8(bytes: Uint8Array, start = 0): number {
  let i = start;
  const n = bytes.length;
  while (i < n) {
    const b = bytes[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lower = 0x80;
    let upper = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lower = 0xa0; // no overlong forms
      if (b === 0xed) upper = 0x9f; // no surrogates
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lower = 0x90; // no overlong forms
      if (b === 0xf4) upper = 0x8f; // nothing above U+10FFFF
    } else return i;
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      const lo = k === 1 ? lower : 0x80;
      const hi = k === 1 ? upper : 0xbf;
      if (c === undefined || c < lo || c > hi) return i;
    }
    i += need + 1;
  }
  return -1;
}
