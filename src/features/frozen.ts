import type { Pooling } from "../bert/onnx-encoder.js";
import type { Example } from "../data/types.js";
import type { LoadedModel } from "../model.js";
import { silentProgress, type ProgressFactory } from "../util/progress.js";
import { FeatureCache, type FeatureKey } from "./cache.js";
import { extractFeatures } from "./extract.js";

export interface FrozenFeatureOptions {
  datasetHash: string;
  split: string;
  maxLength: number;
  pooling: Pooling;
  /** A cache to read and fill, or false to always run the encoder. */
  cache: FeatureCache | false;
  batchSize?: number;
  progress?: ProgressFactory;
}

export interface FrozenFeatures {
  data: Float32Array;
  rows: number;
  hiddenSize: number;
  fromCache: boolean;
}

/** The frozen encoder's pooled vectors for a split: from the cache when the key matches, else computed once and stored. */
export async function frozenFeatures(model: LoadedModel, examples: readonly Example[], o: FrozenFeatureOptions): Promise<FrozenFeatures> {
  const hiddenSize = model.config.hidden_size;
  const key: FeatureKey = {
    model: model.id,
    revision: model.revision,
    encoder: await model.encoderIdentity(),
    dataset: o.datasetHash,
    split: o.split,
    maxLength: o.maxLength,
    pooling: o.pooling,
  };
  const hit = o.cache ? o.cache.get(key) : undefined;
  if (hit && hit.rows === examples.length && hit.hiddenSize === hiddenSize) {
    return { data: hit.data, rows: hit.rows, hiddenSize, fromCache: true };
  }
  const bar = (o.progress ?? silentProgress)(`encoding ${o.split}`, examples.length, "ex");
  let tokens = 0;
  const data = await extractFeatures(model.encoder, model.tokenizer, examples, {
    maxLength: o.maxLength,
    pooling: o.pooling,
    batchSize: o.batchSize,
    onBatch: (n, t) => {
      tokens += t;
      bar.tick(n);
    },
  });
  bar.done({ tokens });
  if (o.cache) o.cache.put(key, { rows: examples.length, hiddenSize, data });
  return { data, rows: examples.length, hiddenSize, fromCache: false };
}
