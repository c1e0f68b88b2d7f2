/**
 * How the report names and groups the flat evaluation metrics (eval_results.json without the
 * eval_ prefix), and which of them go on the validation curve beside metric_for_best_model.
 */
import type { ProblemType } from "../problem-type.js";

const LABELS: Record<string, string> = {
  loss: "validation loss",
  accuracy: "accuracy",
  macro_precision: "macro precision",
  macro_recall: "macro recall",
  macro_f1: "macro F1",
  precision: "precision",
  recall: "recall",
  f1: "F1",
  micro_precision: "micro precision",
  micro_recall: "micro recall",
  micro_f1: "micro F1",
  weighted_precision: "weighted precision",
  weighted_recall: "weighted recall",
  weighted_f1: "weighted F1",
  matthews_correlation: "MCC",
  subset_accuracy: "subset accuracy",
  hamming_loss: "Hamming loss",
  mse: "MSE",
  rmse: "RMSE",
  mae: "MAE",
  pearson: "Pearson r",
  spearman: "Spearman ρ",
  r2: "R²",
};

/** A metric's name for people: "macro F1", "MCC", "Pearson r"; unknown names as they are. */
export function metricLabel(name: string, problemType?: ProblemType, numLabels?: number): string {
  // The flat f1/precision/recall of a two-class run are the positive class's (sklearn average="binary").
  if (problemType === "single_label_classification" && numLabels === 2 && (name === "f1" || name === "precision" || name === "recall")) {
    return `${LABELS[name]} (class 1)`;
  }
  if (problemType === "multi_label_classification" && name === "f1") return "F1 (micro)";
  if (problemType === "multi_label_classification" && name === "accuracy") return "subset accuracy";
  return LABELS[name] ?? name.replace(/_/g, " ");
}

/** Metrics where smaller is better, whose values are not bounded by 1: they share an axis with each other, not with scores. */
export function isErrorMetric(name: string): boolean {
  return name.endsWith("loss") || name === "mse" || name === "rmse" || name === "mae";
}

/**
 * What the validation curve plots for a run: the metric the run was selected by first, then
 * companions of the same kind (scores with scores, errors with errors), so one axis fits them.
 * When the run was selected by its loss (which the loss chart shows) the problem type's usual
 * metrics are plotted instead.
 */
export function curveMetrics(problemType: ProblemType, bestMetric: string, logged: (name: string) => boolean): string[] {
  const companions: Record<ProblemType, { score: string[]; error: string[] }> = {
    single_label_classification: { score: ["accuracy", "macro_f1"], error: [] },
    multi_label_classification: { score: ["micro_f1", "macro_f1", "subset_accuracy"], error: ["hamming_loss"] },
    regression: { score: ["pearson", "spearman"], error: ["mse", "mae"] },
  };
  const c = companions[problemType];
  const main = bestMetric === "loss" || !logged(bestMetric) ? undefined : bestMetric;
  const family = main && isErrorMetric(main) ? c.error : c.score;
  const names = [...(main ? [main] : []), ...family].filter(logged);
  return [...new Set(names)];
}
