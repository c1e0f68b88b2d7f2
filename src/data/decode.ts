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

/**
 * Decodes a text file's bytes. UTF-8 is decoded strictly: the first invalid byte is a BertuneError naming
 * the file and its line. Latin-1 is ISO-8859-1 (every byte is the code point of the same value, as Python's
 * "latin-1" codec), not the WHATWG "latin1" label, which means windows-1252. A UTF-8 byte order mark is
 * dropped either way.
 */
export function decodeText(bytes: Uint8Array, encoding: TextEncoding, file: string): string {
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    throw new BertuneError(
      `${file} looks like UTF-16 (it starts with a UTF-16 byte order mark).`,
      "Re-save the file as UTF-8.",
    );
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
