import { readFloat32, tf } from "../backend/tfjs.js";
import { ClassificationHead } from "../heads/classification-head.js";
import { LinearHead } from "../heads/linear-head.js";
import type { Pooling } from "./onnx-encoder.js";
import { expectTensor, tensorToFloat32, type SafetensorsFile, type TensorToWrite } from "../formats/safetensors.js";
import { poolTensor, TfBertModel, type BertInputs } from "./tfjs-bert.js";

/**
 * BertForSequenceClassification: the encoder, the pooled output, dropout and the linear head,
 * trained end to end. Its weights save under the names transformers uses (`bert.*`, `classifier.*`).
 */
export class BertClassifier {
  constructor(
    readonly bert: TfBertModel,
    readonly head: ClassificationHead,
    readonly pooling: Pooling = "pooler",
  ) {}

  /** Logits [b, labels]; with a dropout seed, in training mode. */
  logits(inputs: BertInputs, dropoutSeed?: number): tf.Tensor2D {
    const out = this.bert.forward(inputs, { dropoutSeed });
    let pooled = poolTensor(out, inputs.attentionMask, this.pooling);
    if (dropoutSeed !== undefined && this.head.dropout > 0) pooled = tf.dropout(pooled, this.head.dropout, undefined, dropoutSeed ^ 0x5bd1e995) as tf.Tensor2D;
    return this.head.logits(pooled);
  }

  /** Every trainable variable under its Hugging Face name. */
  namedVariables(): Map<string, tf.Variable> {
    const vars = new Map<string, tf.Variable>();
    for (const [name, v] of this.bert.params) vars.set(`bert.${name}`, v);
    vars.set("classifier.weight", this.head.kernel);
    vars.set("classifier.bias", this.head.bias);
    return vars;
  }

  /** Overwrite every weight from a file in transformers' layout (`bert.*`, `classifier.*`). */
  assignFrom(file: SafetensorsFile): void {
    const values = new Map<tf.Variable, Float32Array>();
    for (const [name, v] of this.bert.params) {
      expectTensor(file, `bert.${name}`, v.shape);
      values.set(v, tensorToFloat32(file, `bert.${name}`));
    }
    this.head.assign(LinearHead.fromSafetensors(file, this.head.hiddenSize, this.head.numLabels));
    tf.tidy(() => {
      for (const [v, data] of values) v.assign(tf.tensor(data, v.shape));
    });
  }

  async toTensors(): Promise<Record<string, TensorToWrite>> {
    const [bert, head] = await Promise.all([this.bert.toTensors("bert."), this.head.toTensors()]);
    return { ...bert, ...head };
  }

  dispose(): void {
    this.bert.dispose();
    this.head.dispose();
  }
}

/** The tensors of a tokenized batch: int32 ids and token types, a float32 attention mask. */
export function batchTensors(batch: { inputIds: number[][]; tokenTypeIds: number[][]; attentionMask: number[][] }): BertInputs {
  return {
    inputIds: tf.tensor2d(batch.inputIds, undefined, "int32"),
    tokenTypeIds: tf.tensor2d(batch.tokenTypeIds, undefined, "int32"),
    attentionMask: tf.tensor2d(batch.attentionMask, undefined, "float32"),
  };
}

/** One tokenized example: ids and token types, not yet padded. */
export interface EncodedExample {
  ids: number[];
  typeIds: number[];
}

/** Pad a group of encoded examples to their longest and make the integer tensors. */
export function padToTensors(rows: readonly EncodedExample[], padTokenId: number): BertInputs {
  const len = rows.reduce((m, r) => Math.max(m, r.ids.length), 0);
  const ids: number[][] = [];
  const types: number[][] = [];
  const mask: number[][] = [];
  for (const r of rows) {
    const pad = len - r.ids.length;
    ids.push(r.ids.concat(new Array<number>(pad).fill(padTokenId)));
    types.push(r.typeIds.concat(new Array<number>(pad).fill(0)));
    mask.push(new Array<number>(r.ids.length).fill(1).concat(new Array<number>(pad).fill(0)));
  }
  return batchTensors({ inputIds: ids, tokenTypeIds: types, attentionMask: mask });
}

/**
 * Eval-mode logits [rows × labels] for many examples: batched in order of length so each batch
 * pads only to its own longest, returned in input order.
 */
export async function classifierLogits(
  model: BertClassifier,
  encoded: readonly EncodedExample[],
  padTokenId: number,
  batchSize: number,
  onBatch?: (n: number) => void,
): Promise<Float32Array> {
  const k = model.head.numLabels;
  const out = new Float32Array(encoded.length * k);
  const order = encoded.map((_, i) => i).sort((a, b) => encoded[a].ids.length - encoded[b].ids.length || a - b);
  for (let start = 0; start < order.length; start += batchSize) {
    const idx = order.slice(start, start + batchSize);
    const logits = tf.tidy(() => {
      const inputs = padToTensors(idx.map((i) => encoded[i]), padTokenId);
      return model.logits(inputs);
    });
    const values = await readFloat32(logits);
    logits.dispose();
    idx.forEach((row, j) => out.set(values.subarray(j * k, (j + 1) * k), row * k));
    onBatch?.(idx.length);
  }
  return out;
}
