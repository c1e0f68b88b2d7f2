import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Tokenizer } from "../src/tokenizer/tokenizer.js";
import { TINY_MODEL, tempDir } from "./helpers/fixtures.js";
import { BertuneError } from "../src/errors.js";
import { writeFileSync } from "node:fs";

const ref = JSON.parse(readFileSync(join(TINY_MODEL, "reference.json"), "utf8"));
const tok = Tokenizer.fromFiles({
  tokenizer: join(TINY_MODEL, "tokenizer.json"),
  tokenizerConfig: join(TINY_MODEL, "tokenizer_config.json"),
});

describe("tokenizer", () => {
  it("matches the ids and tokens of Python's BertTokenizerFast for every reference sentence", () => {
    for (const sentence of ref.sentences as string[]) {
      expect(tok.encode(sentence)).toEqual(ref.tokenizer[sentence].input_ids);
      expect(tok.tokens(sentence)).toEqual(ref.tokenizer[sentence].tokens);
    }
  });

  it("truncates a sentence pair to max length like Python (ids and token types)", () => {
    const p = ref.tokenizer_pair_max16;
    const enc = tok.encodeBatch([p.text], [p.text_pair], 16);
    expect(enc.inputIds[0]).toEqual(p.input_ids);
    expect(enc.tokenTypeIds[0]).toEqual(p.token_type_ids);
  });

  it("pads per batch to the longest sequence, not to max length, as the reference batch", () => {
    const enc = tok.encodeBatch(ref.sentences, undefined, 128);
    expect(enc.seqLen).toBe(23);
    expect(enc.inputIds).toEqual(ref.encoder.input_ids);
    expect(enc.attentionMask).toEqual(ref.encoder.attention_mask);
    expect(enc.tokenTypeIds).toEqual(ref.encoder.token_type_ids);
  });

  it("refuses a malformed tokenizer.json with a clear error", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "tokenizer.json"), "{ not json");
    expect(() => Tokenizer.fromFiles({ tokenizer: join(dir, "tokenizer.json") })).toThrow(BertuneError);
    expect(() => Tokenizer.fromFiles({ tokenizer: join(dir, "missing.json") })).toThrow(/cannot read tokenizer.json/);
  });
});

describe("longest_first truncation", () => {
  it("follows the Rust tokenizers rule", async () => {
    const { longestFirstLengths } = await import("../src/tokenizer/tokenizer.js");
    expect(longestFirstLengths(7, 9, 13)).toEqual([6, 7]);
    expect(longestFirstLengths(3, 20, 13)).toEqual([3, 10]);
    expect(longestFirstLengths(20, 3, 13)).toEqual([10, 3]);
    expect(longestFirstLengths(2, 2, 13)).toEqual([2, 2]);
  });

  it("keeps [CLS] and [SEP] when a long single text is truncated", () => {
    const enc = tok.encodeBatch(["word ".repeat(300)], undefined, 10);
    expect(enc.inputIds[0].length).toBe(10);
    expect(enc.inputIds[0][0]).toBe(101);
    expect(enc.inputIds[0][9]).toBe(102);
  });
});
