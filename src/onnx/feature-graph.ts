/**
 * The frozen path's encoder graphs, written by bertune from the checkpoint's model.safetensors
 * (so they never depend on which outputs a third-party export has), each built once and kept in
 * the bertune cache under a key of the weights' sha256, the config fields the graph uses and
 * which tokens it outputs: every position (for mean pooling) or [CLS] alone (pooler and cls
 * pooling), whose last layer then does 1/seq of its work.
 */
import { existsSync, realpathSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import type { BertConfig } from "../bert/config.js";
import { OnnxEncoder, type FeatureEncoder, type OnnxEncoderOptions, type Pooling } from "../bert/onnx-encoder.js";
import type { EncodedBatch } from "../tokenizer/tokenizer.js";
import { readBertWeights } from "../bert/weights.js";
import { readSafetensors } from "../formats/safetensors.js";
import { writeFileAtomic } from "../util/atomic.js";
import { bertuneCacheDir } from "../util/cache-dir.js";
import { sha256, sha256File } from "../util/hash.js";
import { writeBertOnnx } from "./bert-graph.js";

/** Bumped whenever the written graph changes, so old cached graphs are not reused. */
export const GRAPH_VERSION = 1;

/** The config fields that shape the graph (everything else in config.json does not change it). */
const GRAPH_FIELDS = [
  "vocab_size",
  "hidden_size",
  "num_hidden_layers",
  "num_attention_heads",
  "intermediate_size",
  "hidden_act",
  "max_position_embeddings",
  "type_vocab_size",
  "layer_norm_eps",
] as const;

/**
 * The sha256 of a weights file. A Hugging Face cache snapshot links to a blob named by the LFS
 * file's sha256, so no bytes need reading; any other file is hashed, so a local edit always
 * gives a new key.
 */
export async function weightsSha256(path: string): Promise<string> {
  const real = realpathSync(path);
  const blob = basename(real);
  if (real !== path && /^[0-9a-f]{64}$/.test(blob)) return blob;
  return sha256File(path);
}

/** Which positions a feature graph outputs: every one (last_hidden_state), or [CLS] alone. */
export type GraphTokens = "all" | "first";

/** The graph each pooling needs: mean reads every position, pooler and cls only [CLS]. */
export function graphTokensFor(pooling: Pooling): GraphTokens {
  return pooling === "mean" ? "all" : "first";
}

export interface FeatureGraph {
  path: string;
  /** Changes whenever the graph would (weights, graph fields, writer version, tokens). */
  key: string;
  built: boolean;
}

/** A key of what every feature graph of these weights computes (weights, graph fields, writer version). */
export async function encoderKey(config: BertConfig, weightsPath: string): Promise<string> {
  const fields = Object.fromEntries(GRAPH_FIELDS.map((f) => [f, config[f]]));
  return sha256(JSON.stringify([GRAPH_VERSION, await weightsSha256(weightsPath), statSync(weightsPath).size, fields])).slice(0, 32);
}

/**
 * The cached feature graph for these weights, written first when absent: with `tokens: "all"`
 * (the default) transformers.js's feature-extraction outputs, last_hidden_state and
 * pooler_output; with "first", cls_hidden_state and pooler_output.
 */
export async function featureGraph(
  config: BertConfig,
  weightsPath: string,
  o: {
    cacheDir?: string;
    log?: (line: string) => void;
    tokens?: GraphTokens;
    /** encoderKey's value, when the caller has it (computing it may hash the weights). */
    encoderKey?: string;
  } = {},
): Promise<FeatureGraph> {
  const tokens = o.tokens ?? "all";
  const key = sha256(JSON.stringify([o.encoderKey ?? (await encoderKey(config, weightsPath)), tokens])).slice(0, 32);
  const path = join(o.cacheDir ?? bertuneCacheDir(), "onnx", `features-${key}.onnx`);
  if (existsSync(path)) return { path, key, built: false };
  const started = Date.now();
  const weights = readBertWeights(readSafetensors(weightsPath), config);
  const head = tokens === "all" ? "features" : "first-token-features";
  writeFileAtomic(path, writeBertOnnx(config, weights, { head, metadata: { bertune_graph: head, weights: basename(weightsPath) } }));
  o.log?.(`wrote the encoder's ONNX graph (${tokens === "all" ? "every token" : "[CLS] output"}) from ${basename(weightsPath)} in ${((Date.now() - started) / 1000).toFixed(1)} s (cached: ${path})`);
  return { path, key, built: true };
}

/**
 * The frozen encoder over bertune's own graphs: each pooling runs on the graph it needs
 * (graphTokensFor), written or read from the cache and opened on first use.
 */
export class FeatureGraphEncoder implements FeatureEncoder {
  private readonly opened = new Map<GraphTokens, Promise<OnnxEncoder>>();
  private keyOnce?: Promise<string>;

  constructor(
    private readonly config: BertConfig,
    private readonly weightsPath: string,
    private readonly o: { cacheDir?: string; log?: (line: string) => void; session?: OnnxEncoderOptions } = {},
  ) {}

  get hiddenSize(): number {
    return this.config.hidden_size;
  }

  /** encoderKey of these weights, computed once (a local weights file is hashed): the encoder's identity for the feature cache. */
  key(): Promise<string> {
    return (this.keyOnce ??= encoderKey(this.config, this.weightsPath));
  }

  /** Every pooling has a graph. */
  checkPooling(_pooling: Pooling): void {}

  /** The encoder for a pooling, opened now (so that a missing device or a broken file shows at load). */
  open(pooling: Pooling): Promise<OnnxEncoder> {
    const tokens = graphTokensFor(pooling);
    let encoder = this.opened.get(tokens);
    if (!encoder) {
      encoder = this.key()
        .then((key) => featureGraph(this.config, this.weightsPath, { cacheDir: this.o.cacheDir, log: this.o.log, tokens, encoderKey: key }))
        .then((g) => OnnxEncoder.load(g.path, this.config.hidden_size, this.o.session));
      this.opened.set(tokens, encoder);
    }
    return encoder;
  }

  async encode(batch: EncodedBatch, pooling: Pooling): Promise<Float32Array> {
    return (await this.open(pooling)).encode(batch, pooling);
  }

  async close(): Promise<void> {
    const encoders = await Promise.allSettled(this.opened.values());
    this.opened.clear();
    for (const e of encoders) if (e.status === "fulfilled") await e.value.close();
  }
}
