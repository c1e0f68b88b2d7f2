/**
 * The losses of transformers' three problem types, as BertForSequenceClassification computes
 * them from `config.problem_type`, with torch's reduction "mean" semantics exactly:
 *
 * - single_label_classification: nn.CrossEntropyLoss(weight=w, label_smoothing=ε). With z the
 *   logits of row i, lp = log_softmax(z), y_i its class and S = Σ_i w[y_i] (rows when unweighted):
 *     L = (1 − ε)·Σ_i w[y_i]·(−lp[i, y_i]) / S  +  (ε/K)·Σ_i Σ_c w_c·(−lp[i, c]) / S
 *   (torch 1.13's cross_entropy_loss_label_smoothing: the smoothing term is weighted by w_c and
 *   normalised by the same S as the NLL term, not by rows). Its gradient:
 *     dL/dz[i, j] = ((1 − ε)·w[y_i]·(p_j − δ_{j,y_i}) + (ε/K)·(Σ_c w_c·p_j − w_j)) / S.
 * - multi_label_classification: nn.BCEWithLogitsLoss(pos_weight=p), mean over rows × K of
 *     ℓ = (1 − t)·z + (1 + (p − 1)·t)·softplus(−z)      (= −[p·t·log σ(z) + (1 − t)·log(1 − σ(z))])
 *   with softplus(−z) = max(−z, 0) + log1p(e^−|z|), torch's log-sum-exp form; dℓ/dz = (1 − t)·σ(z) − p·t·σ(−z).
 * - regression: nn.MSELoss(), mean over rows × K of (z − t)² (transformers squeezes the K = 1
 *   case, which is the same mean).
 *
 * The plain-array version (objectiveLoss) is the frozen path's; the tensor version
 * (objectiveLossTensor) is full fine-tuning's, differentiable by tf.grad. Both take the same
 * targets. An empty batch has loss 0 (torch's mean of nothing would be NaN).
 */
import { tf } from "../backend/tfjs.js";
import { BertuneError } from "../errors.js";
import type { ProblemType } from "../problem-type.js";

export interface Objective {
  problemType: ProblemType;
  /** K: classes, labels, or regression targets. */
  numLabels: number;
  /** single-label: CrossEntropyLoss(weight=…) per class; multi-label: BCEWithLogitsLoss(pos_weight=…) per label; absent: none. */
  classWeights?: Float32Array;
  /** single-label only: CrossEntropyLoss(label_smoothing=…); 0 by default. */
  labelSmoothing?: number;
}

/** Targets of a batch: single-label class ids (length rows); else a row-major float matrix rows × K (multi-hot 0/1, or regression values). */
export type Targets = ArrayLike<number>;

/** Plain single-label cross-entropy over K classes: what the heads computed before problem types. */
export function singleLabelObjective(numLabels: number): Objective {
  return { problemType: "single_label_classification", numLabels };
}

/** The number of rows a batch's targets stand for (class ids: one per row; else K values per row). */
export function targetRows(obj: Objective, targets: Targets): number {
  return obj.problemType === "single_label_classification" ? targets.length : targets.length / obj.numLabels;
}

function checkShapes(obj: Objective, logits: { length: number }, rows: number, targets: Targets): void {
  const k = obj.numLabels;
  if (!Number.isInteger(rows) || rows < 0) throw new Error(`${rows} rows: ${targets.length} targets do not fill rows of ${k} labels`);
  if (logits.length < rows * k) throw new Error(`${logits.length} logits are fewer than ${rows} rows × ${k}`);
  const want = obj.problemType === "single_label_classification" ? rows : rows * k;
  if (targets.length !== want) throw new Error(`${targets.length} targets for ${rows} rows of ${obj.problemType} with ${k} labels (want ${want})`);
  if (obj.classWeights && obj.classWeights.length !== k) throw new Error(`${obj.classWeights.length} class weights for ${k} labels`);
  if (obj.classWeights && obj.problemType === "regression") throw new Error("regression takes no class weights");
  const eps = obj.labelSmoothing ?? 0;
  if (eps !== 0 && obj.problemType !== "single_label_classification") throw new Error("label smoothing applies to single-label classification only");
  if (!(eps >= 0 && eps <= 1)) throw new Error(`label smoothing ${eps} is outside [0, 1]`);
}

/**
 * Mean loss (torch reduction "mean" semantics exactly, incl. weighted cross-entropy dividing by
 * Σ w[y_i]) of logits [rows × K]; when `grad` is given, writes dL/dlogits into it. `grad` may
 * be `logits` itself (each value is read before it is overwritten). Float64 accumulation.
 */
export function objectiveLoss(obj: Objective, logits: Float32Array, rows: number, targets: Targets, grad?: Float32Array): number {
  checkShapes(obj, logits, rows, targets);
  if (rows === 0) return 0;
  switch (obj.problemType) {
    case "single_label_classification":
      return crossEntropyLoss(obj, logits, rows, targets, grad);
    case "multi_label_classification":
      return bceWithLogitsLoss(obj, logits, rows, targets, grad);
    case "regression":
      return mseLoss(obj.numLabels, logits, rows, targets, grad);
  }
}

function crossEntropyLoss(obj: Objective, z: Float32Array, rows: number, y: Targets, grad?: Float32Array): number {
  const k = obj.numLabels;
  const w = obj.classWeights;
  const eps = obj.labelSmoothing ?? 0;
  // S = Σ_i w[y_i], and W = Σ_c w_c for the smoothing term's gradient.
  let norm = rows;
  let wAll = k;
  if (w) {
    norm = 0;
    for (let r = 0; r < rows; r++) norm += w[y[r]];
    wAll = 0;
    for (let c = 0; c < k; c++) wAll += w[c];
  }
  const keep = 1 - eps;
  const spread = eps / k;
  let loss = 0;
  for (let r = 0; r < rows; r++) {
    const row = r * k;
    const yr = y[r];
    let max = -Infinity;
    for (let j = 0; j < k; j++) max = Math.max(max, z[row + j]);
    let sum = 0;
    for (let j = 0; j < k; j++) sum += Math.exp(z[row + j] - max);
    const lse = max + Math.log(sum);
    const wy = w ? w[yr] : 1;
    loss += keep * wy * (lse - z[row + yr]);
    if (eps !== 0) {
      let s = 0;
      for (let c = 0; c < k; c++) s += (w ? w[c] : 1) * (lse - z[row + c]);
      loss += spread * s;
    }
    if (grad) {
      for (let j = 0; j < k; j++) {
        const p = Math.exp(z[row + j] - max) / sum;
        let g = keep * wy * (j === yr ? p - 1 : p);
        if (eps !== 0) g += spread * (wAll * p - (w ? w[j] : 1));
        grad[row + j] = g / norm;
      }
    }
  }
  return loss / norm;
}

function bceWithLogitsLoss(obj: Objective, z: Float32Array, rows: number, t: Targets, grad?: Float32Array): number {
  const k = obj.numLabels;
  const pw = obj.classWeights;
  const n = rows * k;
  let loss = 0;
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < k; j++) {
      const i = r * k + j;
      const x = z[i];
      const ti = t[i];
      const p = pw ? pw[j] : 1;
      const e = Math.exp(-Math.abs(x));
      // softplus(−x) = −log σ(x), without overflow for large |x|.
      const softplusNeg = Math.max(-x, 0) + Math.log1p(e);
      loss += (1 - ti) * x + (1 + (p - 1) * ti) * softplusNeg;
      if (grad) {
        const sig = x >= 0 ? 1 / (1 + e) : e / (1 + e); // σ(x)
        const sigNeg = x >= 0 ? e / (1 + e) : 1 / (1 + e); // σ(−x) = 1 − σ(x)
        grad[i] = ((1 - ti) * sig - p * ti * sigNeg) / n;
      }
    }
  }
  return loss / n;
}

function mseLoss(k: number, z: Float32Array, rows: number, t: Targets, grad?: Float32Array): number {
  const n = rows * k;
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const d = z[i] - t[i];
    loss += d * d;
    if (grad) grad[i] = (2 * d) / n;
  }
  return loss / n;
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

/** Probabilities/values shown to users: softmax rows (single), sigmoid (multi), identity (regression; a copy). */
export function activate(problemType: ProblemType, logits: Float32Array, k: number): Float32Array {
  switch (problemType) {
    case "single_label_classification":
      return softmaxRows(logits, k);
    case "multi_label_classification": {
      const out = new Float32Array(logits.length);
      for (let i = 0; i < logits.length; i++) {
        const x = logits[i];
        const e = Math.exp(-Math.abs(x));
        out[i] = x >= 0 ? 1 / (1 + e) : e / (1 + e);
      }
      return out;
    }
    case "regression":
      return logits.slice();
  }
}

/**
 * sklearn-style "balanced" weights from the train targets [rows (× k)].
 * - single-label: n/(K·count_c), sklearn's compute_class_weight("balanced"); like sklearn it
 *   refuses a class with no example (its weight would be infinite).
 * - multi-label: pos_weight = negatives/positives per label. A label without positives gets 1:
 *   pos_weight only scales the positive terms, so there it changes nothing and 1 is the neutral
 *   value (instead of infinity). A label without negatives gets 1 as well: negatives/positives
 *   would be 0, which would zero the label's whole loss and stop it from learning at all.
 */
export function balancedWeights(problemType: ProblemType, targets: Targets, rows: number, k: number): Float32Array {
  if (problemType === "regression") throw new BertuneError("class weights apply to classification only, not to regression");
  if (problemType === "single_label_classification") {
    if (targets.length !== rows) throw new Error(`${targets.length} class ids for ${rows} rows`);
    const count = new Float64Array(k);
    for (let i = 0; i < rows; i++) count[targets[i]]++;
    const missing = Array.from(count.keys()).filter((c) => count[c] === 0);
    if (missing.length) {
      throw new BertuneError(`"balanced" class weights need an example of every class in the training set; class ${missing.join(", ")} has none`, "give the weights explicitly, or drop the class from id2label");
    }
    return Float32Array.from(count, (c) => rows / (k * c));
  }
  if (targets.length !== rows * k) throw new Error(`${targets.length} targets for ${rows} rows × ${k} labels`);
  const pos = new Float64Array(k);
  for (let r = 0; r < rows; r++) for (let j = 0; j < k; j++) pos[j] += targets[r * k + j];
  return Float32Array.from(pos, (p) => (p > 0 && p < rows ? (rows - p) / p : 1));
}

/**
 * The loss of logits [rows, K] as a differentiable tfjs scalar, with objectiveLoss' semantics.
 * Every target-derived matrix is built on the host as float32 and uploaded as such: tf.oneHot
 * makes int32 (its float32 option writes int bits on wasm), and tfjs' int32 → float32 cast only
 * relabels the buffer, which WebGPU kernels then misread.
 */
export function objectiveLossTensor(obj: Objective, logits: tf.Tensor2D, targets: Targets): tf.Scalar {
  const [rows, k] = logits.shape;
  if (k !== obj.numLabels) throw new Error(`logits of ${k} columns for an objective of ${obj.numLabels} labels`);
  checkShapes(obj, { length: rows * k }, rows, targets);
  return tf.tidy(() => {
    if (rows === 0) return tf.scalar(0);
    switch (obj.problemType) {
      case "single_label_classification": {
        // L = −Σ_{i,c} A[i, c]·lp[i, c] / S with A = (1 − ε)·w[y_i]·onehot + (ε/K)·w_c.
        const w = obj.classWeights;
        const eps = obj.labelSmoothing ?? 0;
        const a = new Float32Array(rows * k);
        let norm = 0;
        for (let r = 0; r < rows; r++) {
          const wy = w ? w[targets[r]] : 1;
          norm += wy;
          if (eps !== 0) for (let c = 0; c < k; c++) a[r * k + c] = (eps / k) * (w ? w[c] : 1);
          a[r * k + targets[r]] += (1 - eps) * wy;
        }
        const perRow = tf.logSoftmax(logits).mul(tf.tensor2d(a, [rows, k])).sum(1).neg();
        return (w ? perRow.sum().div(tf.scalar(norm)) : perRow.mean()) as tf.Scalar;
      }
      case "multi_label_classification": {
        // mean of (1 − t)·z + (1 + (p − 1)·t)·softplus(−z); tfjs' softplus is TF's stable one.
        const p = obj.classWeights;
        const oneMinusT = new Float32Array(rows * k);
        const logWeight = new Float32Array(rows * k);
        for (let i = 0; i < rows * k; i++) {
          oneMinusT[i] = 1 - targets[i];
          logWeight[i] = 1 + ((p ? p[i % k] : 1) - 1) * targets[i];
        }
        const shape: [number, number] = [rows, k];
        return logits.mul(tf.tensor2d(oneMinusT, shape)).add(tf.softplus(logits.neg()).mul(tf.tensor2d(logWeight, shape))).mean() as tf.Scalar;
      }
      case "regression":
        return tf.squaredDifference(logits, tf.tensor2d(Float32Array.from(targets), [rows, k])).mean() as tf.Scalar;
    }
  });
}
