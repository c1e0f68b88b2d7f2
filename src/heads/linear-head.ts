import { nativeOps } from "../backend/native-ops.js";
import { productGraph, productKey } from "../bert/native-graphs.js";
import { BertuneError } from "../errors.js";
import { GeometricSampler } from "../util/geometric.js";
import { Rng } from "../util/rng.js";
import type { SafetensorsFile, TensorToWrite } from "../formats/safetensors.js";
import { expectTensor, tensorToFloat32 } from "../formats/safetensors.js";
import { activate, objectiveLoss, singleLabelObjective, softmaxRows, targetRows, type Objective, type Targets } from "./objective.js";

export { softmaxRows };

/**
 * The classification head of BertForSequenceClassification — dropout, then
 * Linear(hidden → numLabels) — in plain typed arrays, as the frozen path trains and applies it.
 * `weight` is [numLabels, hidden] row-major and `bias` [numLabels]: the names (`classifier.*`)
 * and layout PyTorch uses. On cached features a step is a few thousand multiply-adds, far less
 * than the fixed cost of dispatching tensor ops, so no tensor library is involved.
 */
export class LinearHead {
  constructor(
    readonly hiddenSize: number,
    readonly numLabels: number,
    readonly weight: Float32Array,
    readonly bias: Float32Array,
    /** Dropout before the linear layer, in training (classifier_dropout, else hidden_dropout_prob). */
    readonly dropout = 0,
  ) {
    if (weight.length !== numLabels * hiddenSize || bias.length !== numLabels) {
      throw new Error(`head weights of ${weight.length} and ${bias.length} values do not fit [${numLabels}, ${hiddenSize}]`);
    }
  }

  /** Fresh weights as BertForSequenceClassification initialises them: N(0, initializerRange²), zero bias. */
  static init(hiddenSize: number, numLabels: number, o: { seed: number; dropout: number; initializerRange: number }): LinearHead {
    const rng = new Rng(o.seed);
    const w = new Float32Array(numLabels * hiddenSize);
    for (let i = 0; i < w.length; i++) w[i] = rng.normal() * o.initializerRange;
    return new LinearHead(hiddenSize, numLabels, w, new Float32Array(numLabels), o.dropout);
  }

  static fromSafetensors(file: SafetensorsFile, hiddenSize: number, numLabels: number, prefix = ""): LinearHead {
    const wName = `${prefix}classifier.weight`;
    const bName = `${prefix}classifier.bias`;
    expectTensor(file, wName, [numLabels, hiddenSize]);
    expectTensor(file, bName, [numLabels]);
    return new LinearHead(hiddenSize, numLabels, tensorToFloat32(file, wName), tensorToFloat32(file, bName));
  }

  /** Logits [rows × numLabels] of features [rows × hidden] (eval mode: no dropout). */
  logits(features: Float32Array, rows: number, out: Float32Array = new Float32Array(rows * this.numLabels)): Float32Array {
    return this.scaledLogits(features, rows, 1, out);
  }

  /**
   * scale · (x · Wᵀ) + b: the logits of features that stand for `scale` times their values (rows
   * after dropout, whose 1/(1−p) is applied here, to rows × labels values, instead of to every
   * unit). On onnxruntime's kernels where the product is worth a call; else in loops that take
   * the labels two at a time, so that each row is read once per pair.
   */
  scaledLogits(features: Float32Array, rows: number, scale: number, out: Float32Array): Float32Array {
    const { hiddenSize: h, numLabels: k, weight: w, bias } = this;
    if (nativeProduct(features, [rows, h], false, w, [k, h], true, out, [rows, k])) {
      for (let r = 0; r < rows; r++) for (let j = 0; j < k; j++) out[r * k + j] = out[r * k + j] * scale + bias[j];
      return out;
    }
    for (let r = 0; r < rows; r++) {
      const xr = r * h;
      for (let j = 0; j < k; j += 2) {
        const w0 = j * h;
        if (j + 1 < k) {
          const w1 = w0 + h;
          let s0 = 0;
          let s1 = 0;
          for (let i = 0; i < h; i++) {
            const xi = features[xr + i];
            s0 += xi * w[w0 + i];
            s1 += xi * w[w1 + i];
          }
          out[r * k + j] = s0 * scale + bias[j];
          out[r * k + j + 1] = s1 * scale + bias[j + 1];
        } else {
          let s0 = 0;
          for (let i = 0; i < h; i++) s0 += features[xr + i] * w[w0 + i];
          out[r * k + j] = s0 * scale + bias[j];
        }
      }
    }
    return out;
  }

  /** Copies of the weights under transformers' names, for safetensors. */
  toTensors(prefix = ""): Record<string, TensorToWrite> {
    return {
      [`${prefix}classifier.weight`]: { dtype: "F32", shape: [this.numLabels, this.hiddenSize], data: this.weight.slice() },
      [`${prefix}classifier.bias`]: { dtype: "F32", shape: [this.numLabels], data: this.bias.slice() },
    };
  }
}

let lastSampler: GeometricSampler | undefined;
/** The sampler for p, rebuilt only when p changes (a run uses one dropout rate). */
function geometricSampler(p: number): GeometricSampler {
  if (lastSampler?.p !== p) lastSampler = new GeometricSampler(p);
  return lastSampler;
}

/** Below this many multiply-adds a head product stays in the JS loops: a native call costs ~20 µs. */
const NATIVE_MIN_MACS = 1 << 12;

/**
 * y = op(a) · op(b) for row-major matrices (op transposes where asked) on onnxruntime's CPU
 * kernels (see backend/native-ops.ts), when they load and the product is worth a call. Returns
 * whether it ran; the caller's loops do the work otherwise.
 */
function nativeProduct(a: Float32Array, aShape: [number, number], transA: boolean, b: Float32Array, bShape: [number, number], transB: boolean, y: Float32Array, yShape: [number, number]): boolean {
  const inner = transA ? aShape[0] : aShape[1];
  const native = yShape[0] * yShape[1] * inner >= NATIVE_MIN_MACS ? nativeOps() : undefined;
  if (!native) return false;
  const exact = (values: Float32Array, shape: [number, number]) => ({ data: values.subarray(0, shape[0] * shape[1]), shape });
  native.run(productKey(2, transA, transB), () => productGraph(2, transA, transB), { a: exact(a, aShape), b: exact(b, bShape) }, { y: exact(y, yShape) });
  return true;
}

/**
 * The rows `idx` of a feature matrix [rows × h] copied into `out`, each unit zeroed with
 * probability p when a generator is given and the rest left unscaled. Returns the factor 1/(1−p)
 * the kept units stand for (1 without dropout), which scaledLogits and linearHeadGradients apply
 * to the batch's logits and gradients, so that no pass over every unit scales them. Dropped
 * positions are found by geometric skipping (the gap to the next dropped unit is Geometric(p)),
 * which draws one random number per dropped unit instead of one per unit.
 */
export function gatherDropped(data: Float32Array, h: number, idx: readonly number[], dropout: { rng: Rng; p: number } | undefined, out: Float32Array): number {
  for (let k = 0; k < idx.length; k++) out.set(data.subarray(idx[k] * h, (idx[k] + 1) * h), k * h);
  if (!dropout || dropout.p <= 0) return 1;
  const n = idx.length * h;
  const gaps = geometricSampler(dropout.p);
  const rng = dropout.rng;
  for (let pos = gaps.next(rng); pos < n; pos += 1 + gaps.next(rng)) out[pos] = 0;
  return 1 / (1 - dropout.p);
}

/**
 * The rows `idx` of a feature matrix [rows × h] in one batch (in `out` when given, to reuse a
 * buffer) with inverted dropout when a generator is given: the masks of gatherDropped, the kept
 * units scaled by 1/(1−p).
 */
export function gatherRows(
  data: Float32Array,
  h: number,
  idx: readonly number[],
  dropout?: { rng: Rng; p: number },
  out: Float32Array = new Float32Array(idx.length * h),
): Float32Array {
  const scale = gatherDropped(data, h, idx, dropout, out);
  if (scale !== 1) for (let i = 0; i < idx.length * h; i++) out[i] *= scale;
  return out;
}

/** Gradient buffers of a linear head, reused from step to step. */
export interface HeadGradients {
  /** dL/dW [numLabels × hidden], PyTorch layout. */
  weight: Float32Array;
  bias: Float32Array;
  /** Scratch space for the batch's logits [batch × numLabels]. */
  logits: Float32Array;
}

export function headGradientBuffers(head: LinearHead, batchSize: number): HeadGradients {
  return { weight: new Float32Array(head.weight.length), bias: new Float32Array(head.numLabels), logits: new Float32Array(batchSize * head.numLabels) };
}

/**
 * The loss of the head on a batch x [b × hidden] (dropout already applied; x standing for
 * `inputScale` times its values, as gatherDropped leaves it) under `objective` (by default plain
 * softmax cross-entropy: the single-label loss without weights or smoothing) and its gradients in
 * closed form, written into `grads`: the objective writes dL/dlogits over the batch's logits in
 * place, then db = Σ dL/dlogits and dW = inputScale · (dL/dlogits)ᵀ·x. Returns the loss as torch
 * computes it (see objective.ts). `targets` are class ids for single-label, else the b × K float
 * matrix. dW runs on the native kernels as the forward product does, else in loops that take
 * the labels two at a time.
 */
export function linearHeadGradients(head: LinearHead, x: Float32Array, targets: Targets, grads: HeadGradients, objective?: Objective, inputScale = 1): number {
  const { hiddenSize: h, numLabels: k } = head;
  const obj = objective ?? singleLabelObjective(k);
  if (obj.numLabels !== k) throw new Error(`an objective of ${obj.numLabels} labels for a head of ${k}`);
  const b = targetRows(obj, targets);
  const logits = head.scaledLogits(x, b, inputScale, grads.logits);
  // From here on the batch's logits hold dL/dlogits.
  const loss = objectiveLoss(obj, logits, b, targets, logits);
  // Typed arrays in locals: V8 then keeps their bases in registers through the inner loops.
  const dw = grads.weight;
  const db = grads.bias;
  db.fill(0);
  for (let r = 0; r < b; r++) for (let j = 0; j < k; j++) db[j] += logits[r * k + j];
  if (inputScale !== 1) for (let i = 0; i < b * k; i++) logits[i] *= inputScale;
  if (nativeProduct(logits, [b, k], true, x, [b, h], false, dw, [k, h])) return loss;
  dw.fill(0);
  for (let r = 0; r < b; r++) {
    const xr = r * h;
    const row = r * k;
    for (let j = 0; j < k; j += 2) {
      const w0 = j * h;
      const g0 = logits[row + j];
      if (j + 1 < k) {
        const w1 = w0 + h;
        const g1 = logits[row + j + 1];
        for (let i = 0; i < h; i++) {
          const xi = x[xr + i];
          dw[w0 + i] += g0 * xi;
          dw[w1 + i] += g1 * xi;
        }
      } else {
        for (let i = 0; i < h; i++) dw[w0 + i] += g0 * x[xr + i];
      }
    }
  }
  return loss;
}

/**
 * For evaluation: the mean loss of logits [rows × K] under `objective` (as objectiveLoss) and
 * the scores shown to users (softmax probabilities, sigmoids, or the regression values).
 */
export function scoreObjective(objective: Objective, logits: Float32Array, rows: number, targets: Targets): { loss: number; scores: Float32Array } {
  const k = objective.numLabels;
  return { loss: objectiveLoss(objective, logits, rows, targets), scores: activate(objective.problemType, logits.subarray(0, rows * k), k) };
}

export function checkLabels(labels: ArrayLike<number>, numLabels: number): void {
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    if (!Number.isInteger(y) || y < 0 || y >= numLabels) {
      throw new BertuneError(`label ${y} at row ${i} is outside 0..${numLabels - 1}`, "check the label column and id2label");
    }
  }
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
