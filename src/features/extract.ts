import type { FeatureEncoder, Pooling } from "../bert/onnx-encoder.js";
import type { EncodedBatch, Tokenizer } from "../tokenizer/tokenizer.js";

export interface TextInput {
  text: string;
  textPair?: string;
}

export interface ExtractOptions {
  maxLength: number;
  pooling: Pooling;
  batchSize?: number;
  /** Called after each batch with the number of examples and tokens it held. */
  onBatch?: (examples: number, tokens: number) => void;
}

/**
 * Run `perBatch` over tokenized inputs in batches ordered by length, so each batch pads only to
 * its own longest sequence; its `width` values per example come back in the input order.
 */
export async function mapSortedBatches(
  tokenizer: Tokenizer,
  inputs: readonly TextInput[],
  width: number,
  o: { maxLength: number; batchSize?: number; onBatch?: (examples: number, tokens: number) => void },
  perBatch: (batch: EncodedBatch) => Promise<Float32Array>,
): Promise<Float32Array> {
  const batchSize = o.batchSize ?? 32;
  const encoded = inputs.map((x) => tokenizer.encodeOne(x.text, x.textPair, o.maxLength));
  const order = inputs.map((_, i) => i).sort((a, b) => encoded[a].ids.length - encoded[b].ids.length || a - b);
  const out = new Float32Array(inputs.length * width);
  for (let start = 0; start < order.length; start += batchSize) {
    const idx = order.slice(start, start + batchSize);
    const batch = tokenizer.padBatch(idx.map((i) => encoded[i]));
    const rows = await perBatch(batch);
    idx.forEach((row, k) => out.set(rows.subarray(k * width, (k + 1) * width), row * width));
    o.onBatch?.(idx.length, idx.length * batch.seqLen);
  }
  return out;
}

/** Run the frozen encoder over every example once: one pooled vector per example, in input order. */
export function extractFeatures(encoder: FeatureEncoder, tokenizer: Tokenizer, inputs: readonly TextInput[], options: ExtractOptions): Promise<Float32Array> {
  encoder.checkPooling(options.pooling);
  return mapSortedBatches(tokenizer, inputs, encoder.hiddenSize, options, (batch) => encoder.encode(batch, options.pooling));
}
