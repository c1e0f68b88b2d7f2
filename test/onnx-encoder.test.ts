import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { OnnxEncoder } from "../src/bert/onnx-encoder.js";
import { Tokenizer } from "../src/tokenizer/tokenizer.js";
import { TINY_MODEL } from "./helpers/fixtures.js";

const ref = JSON.parse(readFileSync(join(TINY_MODEL, "reference.json"), "utf8"));

function maxAbsDiff(actual: Float32Array, expected: number[][]): number {
  const h = expected[0].length;
  let m = 0;
  expected.forEach((row, i) => row.forEach((v, j) => (m = Math.max(m, Math.abs(actual[i * h + j] - v)))));
  return m;
}

describe("ONNX encoder on bert-random-tiny", async () => {
  const encoder = await OnnxEncoder.load(join(TINY_MODEL, "onnx/model.onnx"), 32, { threads: 1 });
  const tok = Tokenizer.fromFiles({ tokenizer: join(TINY_MODEL, "tokenizer.json") });
  const batch = tok.encodeBatch(ref.sentences, undefined, ref.encoder.max_length);
  afterAll(() => encoder.close());

  it.each([
    ["pooler", "pooler_output"],
    ["cls", "cls_hidden"],
    ["mean", "mean_pooled"],
  ] as const)("%s pooling matches PyTorch's %s within 1e-5", async (pooling, key) => {
    const out = await encoder.encode(batch, pooling);
    expect(out.length).toBe(5 * 32);
    expect(maxAbsDiff(out, ref.encoder[key])).toBeLessThan(1e-5);
  });

  it("gives each example the same vector alone as in a padded batch", async () => {
    const alone = await encoder.encode(tok.encodeBatch([ref.sentences[0]], undefined, 32), "mean");
    expect(maxAbsDiff(alone, [ref.encoder.mean_pooled[0]])).toBeLessThan(1e-5);
  });
});
