import { BertuneError } from "../errors.js";
import { Rng } from "../util/rng.js";
import type { SafetensorsFile, TensorToWrite } from "../bert/safetensors.js";
import { expectTensor, tensorToFloat32 } from "../bert/safetensors.js";
import { tf } from "./backend.js";

let nextId = 0;

/**
 * The classification head of BertForSequenceClassification: dropout, then
 * Linear(hidden → numLabels). Stored as `classifier.weight` [numLabels, hidden] and
 * `classifier.bias` [numLabels], the names and layout PyTorch uses.
 */
export class ClassificationHead {
  /** Kernel in tfjs layout [hidden, numLabels] (the transpose of PyTorch's weight). */
  readonly kernel: tf.Variable;
  readonly bias: tf.Variable;

  private constructor(
    readonly hiddenSize: number,
    readonly numLabels: number,
    readonly dropout: number,
    kernel: tf.Tensor2D,
    bias: tf.Tensor1D,
  ) {
    const id = nextId++;
    this.kernel = tf.variable(kernel, true, `head${id}/classifier.weight`);
    this.bias = tf.variable(bias, true, `head${id}/classifier.bias`);
    // Variables keep their own reference to the data; the initial tensors are no longer needed.
    tf.dispose([kernel, bias]);
  }

  /** Fresh weights as BertForSequenceClassification initialises them: N(0, initializerRange²), zero bias. */
  static init(hiddenSize: number, numLabels: number, o: { seed: number; dropout: number; initializerRange: number }): ClassificationHead {
    const rng = new Rng(o.seed);
    const w = new Float32Array(numLabels * hiddenSize);
    for (let i = 0; i < w.length; i++) w[i] = rng.normal() * o.initializerRange;
    return ClassificationHead.fromTorchLayout(w, new Float32Array(numLabels), hiddenSize, numLabels, o.dropout);
  }

  /** From `classifier.weight` [numLabels, hidden] and `classifier.bias` as PyTorch stores them. */
  static fromTorchLayout(weight: Float32Array, bias: Float32Array, hiddenSize: number, numLabels: number, dropout = 0): ClassificationHead {
    const kernel = tf.tidy(() => tf.tensor2d(weight, [numLabels, hiddenSize]).transpose() as tf.Tensor2D);
    return new ClassificationHead(hiddenSize, numLabels, dropout, kernel, tf.tensor1d(bias));
  }

  static fromSafetensors(file: SafetensorsFile, hiddenSize: number, numLabels: number, prefix = ""): ClassificationHead {
    const wName = `${prefix}classifier.weight`;
    const bName = `${prefix}classifier.bias`;
    expectTensor(file, wName, [numLabels, hiddenSize]);
    expectTensor(file, bName, [numLabels]);
    return ClassificationHead.fromTorchLayout(tensorToFloat32(file, wName), tensorToFloat32(file, bName), hiddenSize, numLabels);
  }

  get variables(): tf.Variable[] {
    return [this.kernel, this.bias];
  }

  /** Logits [B, numLabels] of (already dropped-out, in training) features. */
  logits(features: tf.Tensor2D): tf.Tensor2D {
    return tf.matMul(features, this.kernel).add(this.bias) as tf.Tensor2D;
  }

  /** The weights in PyTorch layout, for safetensors. */
  toTensors(prefix = ""): Record<string, TensorToWrite> {
    const weight = tf.tidy(() => this.kernel.transpose().dataSync() as Float32Array);
    return {
      [`${prefix}classifier.weight`]: { dtype: "F32", shape: [this.numLabels, this.hiddenSize], data: new Float32Array(weight) },
      [`${prefix}classifier.bias`]: { dtype: "F32", shape: [this.numLabels], data: new Float32Array(this.bias.dataSync()) },
    };
  }

  dispose(): void {
    this.kernel.dispose();
    this.bias.dispose();
  }
}

/**
 * Copy the rows `idx` of a feature matrix [rows × h] into one batch, applying inverted dropout
 * on the way when a generator is given: each unit is zeroed with probability p, the rest scaled
 * by 1/(1−p). Dropped positions are found by geometric skipping (the gap to the next dropped
 * unit is Geometric(p)), which draws one random number per dropped unit instead of one per
 * unit — mask generation is otherwise the hot spot of head training on cached features.
 */
export function gatherRows(data: Float32Array, h: number, idx: readonly number[], dropout?: { rng: Rng; p: number }): Float32Array {
  const out = new Float32Array(idx.length * h);
  idx.forEach((r, k) => out.set(data.subarray(r * h, (r + 1) * h), k * h));
  if (!dropout || dropout.p <= 0) return out;
  const keep = 1 / (1 - dropout.p);
  for (let i = 0; i < out.length; i++) out[i] *= keep;
  const logKeep = Math.log(1 - dropout.p);
  const gap = () => Math.floor(Math.log(1 - dropout.rng.next()) / logKeep);
  for (let pos = gap(); pos < out.length; pos += 1 + gap()) out[pos] = 0;
  return out;
}

/**
 * Mean softmax cross-entropy of a linear head and its gradients in closed form:
 * dL/dlogits = (softmax − onehot)/B, dW = xᵀ·dL/dlogits, db = Σ dL/dlogits — one product per
 * step instead of the dozens of ops a taped gradient costs. `x` is the batch [B, hidden] on the
 * backend; the kernel gradient comes back in tfjs layout [hidden, labels].
 */
export function linearHeadGradients(
  x: tf.Tensor2D,
  logits: Float32Array,
  labels: readonly number[],
): { loss: number; kernel: tf.Tensor2D; bias: tf.Tensor1D } {
  const b = labels.length;
  const k = logits.length / b;
  const g = new Float32Array(b * k);
  const db = new Float32Array(k);
  let loss = 0;
  for (let i = 0; i < b; i++) {
    let max = -Infinity;
    for (let j = 0; j < k; j++) max = Math.max(max, logits[i * k + j]);
    let sum = 0;
    for (let j = 0; j < k; j++) sum += Math.exp(logits[i * k + j] - max);
    loss -= logits[i * k + labels[i]] - max - Math.log(sum);
    for (let j = 0; j < k; j++) {
      g[i * k + j] = (Math.exp(logits[i * k + j] - max) / sum - (j === labels[i] ? 1 : 0)) / b;
      db[j] += g[i * k + j];
    }
  }
  // A plain product after an explicit transpose: the wasm backend's transposed-operand kernel is far slower.
  const kernel = tf.tidy(() => tf.matMul(tf.transpose(x) as tf.Tensor2D, tf.tensor2d(g, [b, k]))) as tf.Tensor2D;
  return { loss: loss / b, kernel, bias: tf.tensor1d(db) };
}

/** Mean softmax cross-entropy of logits against integer labels, as torch's CrossEntropyLoss. */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D, numLabels: number): tf.Scalar {
  return tf.tidy(() => {
    const logp = tf.logSoftmax(logits);
    const onehot = tf.oneHot(labels, numLabels);
    return logp.mul(onehot).sum(1).neg().mean() as tf.Scalar;
  });
}

export function checkLabels(labels: ArrayLike<number>, numLabels: number): void {
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    if (!Number.isInteger(y) || y < 0 || y >= numLabels) {
      throw new BertuneError(`label ${y} at row ${i} is outside 0..${numLabels - 1}`, "check the label column and id2label");
    }
  }
}

/** Logits for every row of a feature matrix [rows × hidden], in eval mode, chunk by chunk. */
export function headLogits(head: ClassificationHead, features: Float32Array, rows: number, chunk = 4096): Float32Array {
  const h = head.hiddenSize;
  const out = new Float32Array(rows * head.numLabels);
  for (let start = 0; start < rows; start += chunk) {
    const n = Math.min(chunk, rows - start);
    const logits = tf.tidy(() => head.logits(tf.tensor2d(features.subarray(start * h, (start + n) * h), [n, h])));
    out.set(logits.dataSync(), start * head.numLabels);
    logits.dispose();
  }
  return out;
}

/** Row-wise softmax of logits [rows × k], in float64 for stable probabilities. */
export function softmaxRows(logits: Float32Array, k: number): Float32Array {
  const out = new Float32Array(logits.length);
  for (let r = 0; r < logits.length / k; r++) {
    let max = -Infinity;
    for (let j = 0; j < k; j++) max = Math.max(max, logits[r * k + j]);
    let sum = 0;
    for (let j = 0; j < k; j++) sum += Math.exp(logits[r * k + j] - max);
    for (let j = 0; j < k; j++) out[r * k + j] = Math.exp(logits[r * k + j] - max) / sum;
  }
  return out;
}

/** Argmax per row and mean cross-entropy against labels, from logits [rows × k]. */
export function scoreLogits(logits: Float32Array, k: number, labels: readonly number[]): { predictions: number[]; loss: number } {
  const probs = softmaxRows(logits, k);
  const predictions: number[] = [];
  let loss = 0;
  for (let r = 0; r < labels.length; r++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (logits[r * k + j] > logits[r * k + best]) best = j;
    predictions.push(best);
    loss -= Math.log(Math.max(probs[r * k + labels[r]], 1e-45));
  }
  return { predictions, loss: labels.length ? loss / labels.length : 0 };
}
