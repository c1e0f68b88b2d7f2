import type { TensorToWrite } from "../formats/safetensors.js";
import { readFloat32, tf } from "../backend/tfjs.js";
import { LinearHead } from "./linear-head.js";
import { objectiveLossTensor, singleLabelObjective } from "./objective.js";

let nextId = 0;

/**
 * The classification head as tensorflow.js variables, for full fine-tuning where it trains
 * end to end with the encoder. Its values come from, and go back to, a LinearHead, so both
 * paths share one initialisation and one on-disk layout (`classifier.weight` [numLabels,
 * hidden], `classifier.bias`).
 */
export class ClassificationHead {
  /** Kernel in tfjs layout [hidden, numLabels] (the transpose of PyTorch's weight). */
  readonly kernel: tf.Variable;
  readonly bias: tf.Variable;
  readonly hiddenSize: number;
  readonly numLabels: number;
  readonly dropout: number;

  constructor(head: LinearHead) {
    const id = nextId++;
    this.hiddenSize = head.hiddenSize;
    this.numLabels = head.numLabels;
    this.dropout = head.dropout;
    const [kernel, bias] = tf.tidy(() => [tf.tensor2d(head.weight, [head.numLabels, head.hiddenSize]).transpose(), tf.tensor1d(head.bias)]);
    this.kernel = tf.variable(kernel, true, `head${id}/classifier.weight`);
    this.bias = tf.variable(bias, true, `head${id}/classifier.bias`);
    // Variables keep their own reference to the data; the initial tensors are no longer needed.
    tf.dispose([kernel, bias]);
  }

  /** Overwrite the weights from a LinearHead of the same shape. */
  assign(head: LinearHead): void {
    tf.tidy(() => {
      this.kernel.assign(tf.tensor2d(head.weight, [head.numLabels, head.hiddenSize]).transpose());
      this.bias.assign(tf.tensor1d(head.bias));
    });
  }

  /** Logits [B, numLabels] of (already dropped-out, in training) features. */
  logits(features: tf.Tensor2D): tf.Tensor2D {
    return tf.matMul(features, this.kernel).add(this.bias) as tf.Tensor2D;
  }

  /** The current weights read back into a LinearHead (asynchronously: GPU backends cannot read synchronously). */
  async toLinear(): Promise<LinearHead> {
    const transposed = tf.transpose(this.kernel);
    const [weight, bias] = await Promise.all([readFloat32(transposed), readFloat32(this.bias)]);
    transposed.dispose();
    return new LinearHead(this.hiddenSize, this.numLabels, weight, bias, this.dropout);
  }

  /** The weights in PyTorch layout, for safetensors. */
  async toTensors(prefix = ""): Promise<Record<string, TensorToWrite>> {
    return (await this.toLinear()).toTensors(prefix);
  }

  dispose(): void {
    this.kernel.dispose();
    this.bias.dispose();
  }
}

/**
 * Mean softmax cross-entropy of logits against integer labels, as torch's CrossEntropyLoss:
 * objectiveLossTensor's plain single-label case (which builds its one-hot matrix on the host
 * as float32: tf.oneHot makes int32, and tfjs' int32 → float32 cast misreads on WebGPU).
 */
export function crossEntropy(logits: tf.Tensor2D, labels: readonly number[], numLabels: number): tf.Scalar {
  return objectiveLossTensor(singleLabelObjective(numLabels), logits, labels);
}
