/**
 * Fuzzing the data set readers: random and mutated CSV / TSV / JSONL / JSON / TXT bytes must
 * either load or fail with a BertuneError (one clear line for the user), never with another
 * exception. Seeded, and bounded in time as well as in iterations.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadDataset } from "../src/data/dataset.js";
import { parseTable, type TextFormat } from "../src/data/readers.js";
import { isBertuneError } from "../src/errors.js";
import { Rng } from "../src/util/rng.js";
import { tempDir } from "./helpers/fixtures.js";

const enc = (s: string) => new TextEncoder().encode(s);

const SEEDS: Record<TextFormat, string> = {
  csv: 'text,label\n"a, quoted\nline",pos\nplain,neg\n"say ""hi""",pos\nlast one,neg\n',
  tsv: "sentence\tlabel\nit 's good\t1\nbad film\t0\nfine\t1\nawful\t0\n",
  jsonl: '{"text": "good", "label": 1}\n{"text": "bad", "label": 0}\n\n{"text": "ok", "label": "1"}\n{"text": "meh", "label": 0, "extra": [1]}\n',
  json: '[{"sentence": "good", "label": "pos"}, {"sentence": "bad", "label": "neg"}, {"sentence": "ok", "label": "pos"}]',
  txt: "1 a good film\n0 a bad film\n1 fine\n0 dull\n",
};
// Bytes and snippets that tend to break parsers: quotes, separators, line ends, brackets, a BOM,
// UTF-16 marks, broken UTF-8, NUL, odd keys (__proto__), huge numbers.
const SNIPPETS = ['"', ",", "\t", "\n", "\r", "\r\n", "{", "}", "[", "]", ":", "\\", "\uFEFF", "null", "true", "1e999", "-0", "3.5", "__proto__", "constructor", "label", "text", "sentence", '""', "0", "1", " "].map(enc);
const RAW = [[0xef, 0xbb, 0xbf], [0xff, 0xfe], [0xfe, 0xff], [0xc3], [0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0x00], [0xe9]].map((b) => new Uint8Array(b));

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function mutate(rng: Rng, bytes: Uint8Array): Uint8Array {
  let b = bytes;
  const n = 1 + rng.int(4);
  for (let m = 0; m < n; m++) {
    const at = rng.int(b.length + 1);
    switch (rng.int(7)) {
      case 0:
        if (b.length) (b = b.slice())[rng.int(b.length)] ^= 1 << rng.int(8); // flip a bit
        break;
      case 1:
        b = concat(b.subarray(0, at), SNIPPETS[rng.int(SNIPPETS.length)], b.subarray(at)); // insert a snippet
        break;
      case 2:
        b = concat(b.subarray(0, at), RAW[rng.int(RAW.length)], b.subarray(at)); // insert raw bytes
        break;
      case 3:
        b = concat(b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + rng.int(6)))); // delete a few bytes
        break;
      case 4:
        b = b.subarray(0, at); // truncate
        break;
      case 5: {
        const from = rng.int(b.length + 1);
        b = concat(b.subarray(0, at), b.subarray(from, from + rng.int(20)), b.subarray(at)); // duplicate a piece
        break;
      }
      default:
        b = concat(b.subarray(0, at), Uint8Array.from({ length: rng.int(8) }, () => rng.int(256)), b.subarray(at)); // random bytes
    }
  }
  return b;
}

function randomBytes(rng: Rng): Uint8Array {
  // Mostly printable ASCII and separators, so some of it parses far enough to reach the later checks.
  const alphabet = enc('ab01 ,\t\n\r"{}[]:label text');
  return Uint8Array.from({ length: rng.int(80) }, () => (rng.int(5) === 0 ? rng.int(256) : alphabet[rng.int(alphabet.length)]));
}

/** Run f; a BertuneError counts as a rejection, anything else fails the test with the input shown. */
async function expectParseOrBertuneError(f: () => unknown, input: Uint8Array, format: string): Promise<"ok" | "rejected"> {
  try {
    await f();
    return "ok";
  } catch (e) {
    if (isBertuneError(e)) {
      expect(e.message.length).toBeGreaterThan(0);
      expect(e.message).not.toContain("\n" + "    at ");
      return "rejected";
    }
    throw new Error(`${format} input ${JSON.stringify(Buffer.from(input).toString("latin1"))} threw ${(e as Error)?.stack ?? String(e)}`);
  }
}

const FORMATS = Object.keys(SEEDS) as TextFormat[];

describe("fuzzing the data set readers", () => {
  it("parseTable: mutated and random bytes of every format parse or give a BertuneError", async () => {
    const rng = new Rng(20240611);
    const deadline = performance.now() + 10_000;
    const tally = { ok: 0, rejected: 0 };
    let i = 0;
    for (; i < 6000 && performance.now() < deadline; i++) {
      const format = FORMATS[i % FORMATS.length];
      const input = rng.int(4) === 0 ? randomBytes(rng) : mutate(rng, enc(SEEDS[format]));
      const encoding = rng.int(3) === 0 ? "latin1" : "utf8";
      tally[await expectParseOrBertuneError(() => parseTable(input, `fuzz.${format}`, format, encoding), input, format)]++;
    }
    // Both outcomes occur: the mutations neither always break nor never break the files.
    expect(tally.ok).toBeGreaterThan(i / 10);
    expect(tally.rejected).toBeGreaterThan(i / 10);
  });

  it("loadDataset: mutated files load (with consistent examples) or give a BertuneError", async () => {
    const rng = new Rng(7);
    const dir = tempDir("bertune-fuzz-");
    const deadline = performance.now() + 10_000;
    let loaded = 0;
    let i = 0;
    for (; i < 600 && performance.now() < deadline; i++) {
      const format = FORMATS[i % FORMATS.length];
      const input = mutate(rng, enc(SEEDS[format]));
      const path = join(dir, `f${i}.${format}`);
      writeFileSync(path, input);
      const outcome = await expectParseOrBertuneError(
        async () => {
          const d = await loadDataset(path, { validationRatio: 0.25, encoding: rng.int(3) === 0 ? "latin1" : "utf8" });
          const all = [...d.splits.train, ...d.splits.validation];
          expect(d.splits.train.length).toBeGreaterThan(0);
          expect(d.splits.validation.length).toBeGreaterThan(0);
          for (const e of all) expect(typeof e.text).toBe("string");
          if (d.problemType === "single_label_classification") {
            expect(new Set(d.splits.train.map((e) => e.label)).size + new Set(d.splits.validation.map((e) => e.label)).size).toBeGreaterThan(1);
            for (const e of all) expect(Number.isInteger(e.label) && (e.label as number) >= 0 && (e.label as number) < d.id2label.length).toBe(true);
          } else {
            // A mutated label that reads as a fraction (or a list) makes the file a regression (or multi-label) one.
            for (const e of all) {
              expect(Array.isArray(e.label) && (e.label as number[]).length === d.id2label.length).toBe(true);
              for (const y of e.label as number[]) expect(Number.isFinite(y)).toBe(true);
            }
          }
        },
        input,
        format,
      );
      if (outcome === "ok") loaded++;
    }
    expect(loaded).toBeGreaterThan(i / 20);
  });
});
