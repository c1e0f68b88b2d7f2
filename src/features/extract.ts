import type { OnnxEncoder, Pooling } from "../bert/onnx-encoder.js";
import type { Tokenizer } from "../tokenizer/tokenizer.js";

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
 * Run the frozen encoder over every example once. Examples are batched in order of length so
 * each batch pads only to its own longest sequence; the rows come back in the input order.
 */
export async function extractFeatures(
  encoder: OnnxEncoder,
  tokenizer: Tokenizer,
  inputs: readonly TextInput[],
  options: ExtractOptions,
): Promise<Float32Array> {
  const h = encoder.hiddenSize;
  const batchSize = options.batchSize ?? 32;
  const encoded = inputs.map((x) => tokenizer.encodeOne(x.text, x.textPair, options.maxLength));
  const order = inputs.map((_, i) => i).sort((a, b) => encoded[a].ids.length - encoded[b].ids.length || a - b);
  const out = new Float32Array(inputs.length * h);
  for (let start = 0; start < order.length; start += batchSize) {
    const idx = order.slice(start, start + batchSize);
    const batch = tokenizer.padBatch(idx.map((i) => encoded[i]));
    const pooled = await encoder.encode(batch, options.pooling);
    idx.forEach((row, k) => out.set(pooled.subarray(k * h, (k + 1) * h), row * h));
    options.onBatch?.(idx.length, idx.length * batch.seqLen);
  }
  return out;
}
