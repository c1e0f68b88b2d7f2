/**
 * The frozen path's graphs in the bertune cache: which pooling runs on which graph, each written
 * once and reused, and the numbers of both against Hugging Face's PyTorch outputs.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readBertConfig } from "../src/bert/config.js";
import { encoderKey, featureGraph, FeatureGraphEncoder, graphTokensFor } from "../src/onnx/feature-graph.js";
import { TINY_MODEL, tempDir } from "./helpers/fixtures.js";
import { maxAbsDiff } from "./helpers/numbers.js";

const ref = JSON.parse(readFileSync(join(TINY_MODEL, "reference.json"), "utf8"));
const enc = ref.encoder;
const batch = { inputIds: enc.input_ids, attentionMask: enc.attention_mask, tokenTypeIds: enc.token_type_ids, seqLen: enc.input_ids[0].length };
const config = readBertConfig(join(TINY_MODEL, "config.json"));
const weights = join(TINY_MODEL, "model.safetensors");

const graphs = (cache: string) => readdirSync(join(cache, "onnx")).filter((f) => f.endsWith(".onnx")).sort();

describe("FeatureGraphEncoder", () => {
  it("runs pooler and cls on the [CLS] graph and mean on the every-token graph, each written once, all within 1e-5 of PyTorch", async () => {
    const cache = tempDir("bertune-graphs-");
    const lines: string[] = [];
    const encoder = new FeatureGraphEncoder(config, weights, { cacheDir: cache, log: (l) => lines.push(l), session: { threads: 1 } });
    try {
      expect(maxAbsDiff(await encoder.encode(batch, "pooler"), enc.pooler_output.flat())).toBeLessThan(1e-5);
      expect(maxAbsDiff(await encoder.encode(batch, "cls"), enc.cls_hidden.flat())).toBeLessThan(1e-5);
      const first = await featureGraph(config, weights, { cacheDir: cache, tokens: "first" });
      expect(first.built).toBe(false);
      expect(graphs(cache)).toEqual([`features-${first.key}.onnx`]);
      expect(maxAbsDiff(await encoder.encode(batch, "mean"), enc.mean_pooled.flat())).toBeLessThan(1e-5);
      expect(graphs(cache)).toHaveLength(2);
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatch(/\[CLS\] output/);
      expect(lines[1]).toMatch(/every token/);
      // The feature cache's identity: the weights' key, shared by both graphs.
      expect(await encoder.key()).toBe(await encoderKey(config, weights));
    } finally {
      await encoder.close();
    }
    // A second encoder over the same cache writes nothing.
    const again = new FeatureGraphEncoder(config, weights, { cacheDir: cache, log: (l) => lines.push(l) });
    await again.encode(batch, "mean");
    await again.encode(batch, "pooler");
    await again.close();
    expect(lines).toHaveLength(2);
  });

  it("keys each graph by its tokens, and the encoder's identity by the weights alone", async () => {
    const cache = tempDir("bertune-graphs-");
    const all = await featureGraph(config, weights, { cacheDir: cache });
    const first = await featureGraph(config, weights, { cacheDir: cache, tokens: "first" });
    expect(all.key).not.toBe(first.key);
    expect(await encoderKey(config, weights)).toBe(await encoderKey(config, weights));
    expect(await encoderKey({ ...config, layer_norm_eps: 1e-6 }, weights)).not.toBe(await encoderKey(config, weights));
    expect(graphTokensFor("pooler")).toBe("first");
    expect(graphTokensFor("cls")).toBe("first");
    expect(graphTokensFor("mean")).toBe("all");
  });
});
