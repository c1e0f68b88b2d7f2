/**
 * Classification metrics with the semantics of scikit-learn's `classification_report`
 * (`labels=range(len(id2label))`, `zero_division=0`): a class that is never predicted has
 * precision 0, a class absent from the true labels has recall 0, and macro averages are
 * unweighted means over every label in id2label.
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

export interface ClassificationReport {
  accuracy: number;
  macroPrecision: number;
  macroRecall: number;
  macroF1: number;
  perClass: ClassMetrics[];
  /** confusionMatrix[trueLabel][predictedLabel] = count. */
  confusionMatrix: number[][];
  numExamples: number;
}

function checkLabels(ys: readonly number[], which: string, k: number): void {
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

const ratio = (num: number, den: number): number => (den === 0 ? 0 : num / den);

export function classificationReport(yTrue: number[], yPred: number[], id2label: string[]): ClassificationReport {
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

  const confusionMatrix = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  let correct = 0;
  for (let i = 0; i < yTrue.length; i++) {
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
  return {
    accuracy: correct / yTrue.length,
    macroPrecision: mean((m) => m.precision),
    macroRecall: mean((m) => m.recall),
    macroF1: mean((m) => m.f1),
    perClass,
    confusionMatrix,
    numExamples: yTrue.length,
  };
}
