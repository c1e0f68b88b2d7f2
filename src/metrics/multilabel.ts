/**
 * Multi-label classification metrics with the semantics of scikit-learn on label-indicator
 * matrices (`zero_division=0`, every label of id2label counted):
 *
 * - `subsetAccuracy`: sklearn `accuracy_score` (a row counts only when all K labels match);
 * - `hammingLoss`: sklearn `hamming_loss`, the fraction of the n·K cells that differ;
 * - micro averages pool tp/fp/fn over every cell (`average="micro"`);
 * - macro averages are unweighted means of the per-label values (`average="macro"`); a label
 *   with no true and no predicted positive gets P = R = F1 = 0 and still counts in the mean;
 * - samples averages compute P/R/F1 per row and average them (`average="samples"`); a row with
 *   no true and no predicted label gets 0 for each (zero_division=0).
 */
import { BertuneError } from "../errors.js";
import { ratio, type ClassMetrics } from "./classification.js";

export interface MultiLabelReport {
  problemType: "multi_label_classification";
  numExamples: number;
  /** Fraction of examples whose K predicted labels all equal the true ones (sklearn accuracy_score). */
  subsetAccuracy: number;
  /** Fraction of (example, label) cells predicted wrong (sklearn hamming_loss). */
  hammingLoss: number;
  microPrecision: number;
  microRecall: number;
  microF1: number;
  macroPrecision: number;
  macroRecall: number;
  macroF1: number;
  /** sklearn average="samples": per-example P/R/F1, averaged over the examples. */
  samplesPrecision: number;
  samplesRecall: number;
  samplesF1: number;
  /** One entry per label of id2label; support = number of examples where the label is true. */
  perLabel: ClassMetrics[];
}

function checkIndicator(m: ArrayLike<number>, which: string, k: number, labels: string[]): void {
  for (let i = 0; i < m.length; i++) {
    const v = m[i];
    if (v !== 0 && v !== 1) {
      const row = Math.floor(i / k);
      throw new BertuneError(
        `${which} multi-label matrix has ${String(v)} at example ${row}, label "${labels[i % k]}": expected 0 or 1`,
        "Multi-label targets and predictions are 0/1 indicator matrices (threshold the sigmoid probabilities first, e.g. at 0.5).",
      );
    }
  }
}

/**
 * @param yTrue row-major n × K matrix of 0/1 (1 = the label applies to the example)
 * @param yPred row-major n × K matrix of 0/1, same shape
 * @param id2label the K label names, in column order
 */
export function multiLabelReport(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, id2label: string[]): MultiLabelReport {
  const k = id2label.length;
  if (k === 0) throw new BertuneError("cannot compute metrics: there are no labels (id2label is empty)");
  if (yTrue.length !== yPred.length) {
    throw new BertuneError(`cannot compute metrics: the true matrix has ${yTrue.length} cells but the predictions have ${yPred.length}`);
  }
  if (yTrue.length === 0) {
    throw new BertuneError("cannot compute metrics on an empty set of examples", "Check that the evaluation split is not empty.");
  }
  if (yTrue.length % k !== 0) {
    throw new BertuneError(`cannot compute metrics: ${yTrue.length} cells is not a whole number of rows of ${k} labels`);
  }
  checkIndicator(yTrue, "the true", k, id2label);
  checkIndicator(yPred, "the predicted", k, id2label);

  const n = yTrue.length / k;
  const tp = new Array<number>(k).fill(0);
  const support = new Array<number>(k).fill(0); // tp + fn
  const predicted = new Array<number>(k).fill(0); // tp + fp
  let exact = 0;
  let wrongCells = 0;
  let sP = 0;
  let sR = 0;
  let sF = 0;
  for (let r = 0; r < n; r++) {
    let rowWrong = 0;
    let rowTp = 0;
    let rowTrue = 0;
    let rowPred = 0;
    for (let j = 0; j < k; j++) {
      const t = yTrue[r * k + j];
      const p = yPred[r * k + j];
      if (t !== p) rowWrong++;
      if (t === 1) {
        support[j]++;
        rowTrue++;
      }
      if (p === 1) {
        predicted[j]++;
        rowPred++;
      }
      if (t === 1 && p === 1) {
        tp[j]++;
        rowTp++;
      }
    }
    if (rowWrong === 0) exact++;
    wrongCells += rowWrong;
    sP += ratio(rowTp, rowPred);
    sR += ratio(rowTp, rowTrue);
    sF += ratio(2 * rowTp, rowTrue + rowPred);
  }

  const perLabel: ClassMetrics[] = id2label.map((label, j) => ({
    label,
    precision: ratio(tp[j], predicted[j]),
    recall: ratio(tp[j], support[j]),
    f1: ratio(2 * tp[j], predicted[j] + support[j]),
    support: support[j],
  }));
  const sum = (xs: number[]): number => xs.reduce((s, x) => s + x, 0);
  const tpAll = sum(tp);
  const supportAll = sum(support);
  const predictedAll = sum(predicted);
  const mean = (f: (m: ClassMetrics) => number): number => perLabel.reduce((s, m) => s + f(m), 0) / k;
  return {
    problemType: "multi_label_classification",
    numExamples: n,
    subsetAccuracy: exact / n,
    hammingLoss: wrongCells / (n * k),
    microPrecision: ratio(tpAll, predictedAll),
    microRecall: ratio(tpAll, supportAll),
    microF1: ratio(2 * tpAll, predictedAll + supportAll),
    macroPrecision: mean((m) => m.precision),
    macroRecall: mean((m) => m.recall),
    macroF1: mean((m) => m.f1),
    samplesPrecision: sP / n,
    samplesRecall: sR / n,
    samplesF1: sF / n,
    perLabel,
  };
}
