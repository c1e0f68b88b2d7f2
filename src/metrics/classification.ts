/**
 * Single-label classification metrics with the semantics of scikit-learn
 * (`labels=range(len(id2label))`, `zero_division=0`): a class that is never predicted has
 * precision 0, a class absent from the true labels has recall 0, and macro averages are
 * unweighted means over every label in id2label (absent ones included).
 *
 * - micro averages pool the counts of every class; for single-label data they all equal
 *   the accuracy (sklearn `average="micro"`);
 * - weighted averages weight each class's metric by its support (sklearn `average="weighted"`;
 *   the weighted F1 is the weighted mean of per-class F1, not the F1 of the weighted P and R);
 * - `mcc` is sklearn's `matthews_corrcoef` (its multiclass formula, which is the usual one
 *   for two classes), 0 when undefined (a constant truth or a constant prediction);
 * - `binary`, for exactly two classes only, holds precision/recall/F1 of class id 1: sklearn's
 *   default `average="binary", pos_label=1`, what GLUE reports as F1 for MRPC and QQP.
 */
import { BertuneError } from "../errors.js";

export interface ClassMetrics {
  label: string;
  precision: number;
  recall: number;
  f1: number;
  /** Number of examples whose true label is this class. */
  support: number;
}

export interface BinaryMetrics {
  precision: number;
  recall: number;
  f1: number;
}

export interface ClassificationReport {
  problemType: "single_label_classification";
  accuracy: number;
  macroPrecision: number;
  macroRecall: number;
  macroF1: number;
  /** Micro averages: for single-label data each one equals `accuracy`. */
  microPrecision: number;
  microRecall: number;
  microF1: number;
  /** Averages weighted by each class's support. */
  weightedPrecision: number;
  weightedRecall: number;
  weightedF1: number;
  /** Matthews correlation coefficient (sklearn matthews_corrcoef); 0 when undefined. */
  mcc: number;
  /** Precision/recall/F1 of class id 1, present only when there are exactly 2 classes. */
  binary?: BinaryMetrics;
  perClass: ClassMetrics[];
  /** confusionMatrix[trueLabel][predictedLabel] = count. */
  confusionMatrix: number[][];
  numExamples: number;
}

function checkLabels(ys: ArrayLike<number>, which: string, k: number): void {
  for (let i = 0; i < ys.length; i++) {
    const y = ys[i];
    if (!Number.isInteger(y) || y < 0 || y >= k) {
      throw new BertuneError(
        `${which} label at position ${i} is ${String(y)}, outside the ${k} classes (0..${k - 1})`,
        "Check that the label mapping (id2label) matches the data and the model.",
      );
    }
  }
}

/** num / den, or 0 when den is 0 (sklearn's zero_division=0). */
export const ratio = (num: number, den: number): number => (den === 0 ? 0 : num / den);

/**
 * sklearn's matthews_corrcoef from a K×K confusion matrix:
 *   cov(yt, yp) = c·s − Σ_k t_k·p_k,  cov(yt, yt) = s² − Σ_k t_k²,  cov(yp, yp) = s² − Σ_k p_k²
 *   MCC = cov(yt, yp) / sqrt(cov(yt, yt)·cov(yp, yp)), and 0 when that product is 0,
 * with c = correct predictions, s = examples, t_k = true counts, p_k = predicted counts.
 */
export function matthewsFromConfusion(cm: readonly (readonly number[])[]): number {
  const k = cm.length;
  let s = 0;
  let c = 0;
  let tp = 0;
  let tt = 0;
  let pp = 0;
  for (let i = 0; i < k; i++) {
    let t = 0;
    let p = 0;
    for (let j = 0; j < k; j++) {
      t += cm[i][j];
      p += cm[j][i];
    }
    s += t;
    c += cm[i][i];
    tp += t * p;
    tt += t * t;
    pp += p * p;
  }
  const covYtYp = c * s - tp;
  const covYpYp = s * s - pp;
  const covYtYt = s * s - tt;
  const denom = covYtYt * covYpYp;
  return denom === 0 ? 0 : covYtYp / Math.sqrt(denom);
}

export function classificationReport(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, id2label: string[]): ClassificationReport {
  const k = id2label.length;
  if (k === 0) throw new BertuneError("cannot compute metrics: there are no labels (id2label is empty)");
  if (yTrue.length !== yPred.length) {
    throw new BertuneError(`cannot compute metrics: ${yTrue.length} true labels but ${yPred.length} predictions`);
  }
  if (yTrue.length === 0) {
    throw new BertuneError("cannot compute metrics on an empty set of examples", "Check that the evaluation split is not empty.");
  }
  checkLabels(yTrue, "true", k);
  checkLabels(yPred, "predicted", k);

  const n = yTrue.length;
  const confusionMatrix = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  let correct = 0;
  for (let i = 0; i < n; i++) {
    confusionMatrix[yTrue[i]][yPred[i]]++;
    if (yTrue[i] === yPred[i]) correct++;
  }

  const perClass: ClassMetrics[] = id2label.map((label, c) => {
    const tp = confusionMatrix[c][c];
    let support = 0; // row sum: tp + fn
    let predicted = 0; // column sum: tp + fp
    for (let j = 0; j < k; j++) {
      support += confusionMatrix[c][j];
      predicted += confusionMatrix[j][c];
    }
    const precision = ratio(tp, predicted);
    const recall = ratio(tp, support);
    // 2PR/(P+R) written as 2TP/(2TP+FP+FN): identical when defined, 0 when TP = 0.
    const f1 = ratio(2 * tp, predicted + support);
    return { label, precision, recall, f1, support };
  });

  const mean = (f: (m: ClassMetrics) => number): number => perClass.reduce((s, m) => s + f(m), 0) / k;
  // Σ support = n > 0, so the weighted mean is always defined.
  const weighted = (f: (m: ClassMetrics) => number): number => perClass.reduce((s, m) => s + f(m) * m.support, 0) / n;
  const accuracy = correct / n;
  const report: ClassificationReport = {
    problemType: "single_label_classification",
    accuracy,
    macroPrecision: mean((m) => m.precision),
    macroRecall: mean((m) => m.recall),
    macroF1: mean((m) => m.f1),
    // Σ tp = correct, Σ (tp + fp) = Σ (tp + fn) = n: micro P = micro R = micro F1 = accuracy.
    microPrecision: accuracy,
    microRecall: accuracy,
    microF1: accuracy,
    weightedPrecision: weighted((m) => m.precision),
    weightedRecall: weighted((m) => m.recall),
    weightedF1: weighted((m) => m.f1),
    mcc: matthewsFromConfusion(confusionMatrix),
    perClass,
    confusionMatrix,
    numExamples: n,
  };
  if (k === 2) {
    const { precision, recall, f1 } = perClass[1];
    report.binary = { precision, recall, f1 };
  }
  return report;
}
