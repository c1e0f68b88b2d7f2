import { tf } from "../train/backend.js";
import { ClassificationHead } from "../train/head.js";
import type { Pooling } from "./onnx-encoder.js";
import type { TensorToWrite } from "./safetensors.js";
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

  toTensors(): Record<string, TensorToWrite> {
    return { ...this.bert.toTensors("bert."), ...this.head.toTensors() };
  }

  dispose(): void {
    this.bert.dispose();
    this.head.dispose();
  }
}

/** Integer tensors of a tokenized batch. */
export function batchTensors(batch: { inputIds: number[][]; tokenTypeIds: number[][]; attentionMask: number[][] }): BertInputs {
  return {
    inputIds: tf.tensor2d(batch.inputIds, undefined, "int32"),
    tokenTypeIds: tf.tensor2d(batch.tokenTypeIds, undefined, "int32"),
    attentionMask: tf.tensor2d(batch.attentionMask, undefined, "int32"),
  };
}
