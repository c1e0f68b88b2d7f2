/**
 * The frozen path's encoder graph, written by bertune from the checkpoint's model.safetensors
 * (so it never depends on which outputs a third-party export has), built once and kept in the
 * bertune cache under a key of the weights' sha256 and the config fields the graph uses.
 */
import { existsSync, realpathSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import type { BertConfig } from "../bert/config.js";
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

export interface FeatureGraph {
  path: string;
  /** Changes whenever the graph would (weights, graph fields, writer version). */
  key: string;
  built: boolean;
}

/** The cached feature graph for these weights, written first when absent. */
export async function featureGraph(
  config: BertConfig,
  weightsPath: string,
  o: { cacheDir?: string; log?: (line: string) => void } = {},
): Promise<FeatureGraph> {
  const fields = Object.fromEntries(GRAPH_FIELDS.map((f) => [f, config[f]]));
  const key = sha256(JSON.stringify([GRAPH_VERSION, await weightsSha256(weightsPath), statSync(weightsPath).size, fields])).slice(0, 32);
  const path = join(o.cacheDir ?? bertuneCacheDir(), "onnx", `features-${key}.onnx`);
  if (existsSync(path)) return { path, key, built: false };
  const started = Date.now();
  const weights = readBertWeights(readSafetensors(weightsPath), config);
  writeFileAtomic(path, writeBertOnnx(config, weights, { head: "features", metadata: { bertune_graph: "features", weights: basename(weightsPath) } }));
  o.log?.(`wrote the encoder's ONNX graph from ${basename(weightsPath)} in ${((Date.now() - started) / 1000).toFixed(1)} s (cached: ${path})`);
  return { path, key, built: true };
}
