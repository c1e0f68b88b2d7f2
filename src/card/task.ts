/**
 * What a model card says that depends on the run's problem type (config.json's problem_type):
 * the metrics of model-index and of the evaluation tables, with the Hub's metric ids (those of
 * `evaluate` and of transformers' model cards: accuracy, f1, precision, recall,
 * matthews_correlation, pearsonr, spearmanr, mse, mae, r_squared), and the words for the task.
 *
 * Every problem type is `text-classification` on the Hub, as transformers' Trainer writes it for
 * any *ForSequenceClassification model (GLUE STS-B regression models included).
 */
import { PROBLEM_TYPES, type ProblemType } from "../problem-type.js";
import type { YamlValue } from "./yaml.js";

export function cardProblemType(config: Record<string, unknown>): ProblemType {
  return PROBLEM_TYPES.find((p) => p === config.problem_type) ?? "single_label_classification";
}

export interface CardMetric {
  /** The flat metric name: eval_results.json holds it as `eval_<key>`. */
  key: string;
  /** model-index `type`: the Hub's metric id. */
  type: string;
  /** model-index `name` and the evaluation table's row. */
  name: string;
  /** model-index `args`: how the metric was computed. */
  args?: { [key: string]: YamlValue };
  /** The results table's column; absent: not a column. */
  column?: string;
  /** Only in the card's evaluation table, not in model-index (the finer precision/recall splits). */
  tableOnly?: boolean;
}

/** The metrics of each problem type, in the order the card lists them; `k` is the number of labels. */
export function cardMetrics(problemType: ProblemType, k: number): CardMetric[] {
  if (problemType === "multi_label_classification") {
    return [
      { key: "micro_f1", type: "f1", name: "Micro F1", args: { average: "micro" }, column: "Micro F1" },
      { key: "macro_f1", type: "f1", name: "Macro F1", args: { average: "macro" }, column: "Macro F1" },
      { key: "micro_precision", type: "precision", name: "Micro Precision", args: { average: "micro" }, tableOnly: true },
      { key: "micro_recall", type: "recall", name: "Micro Recall", args: { average: "micro" }, tableOnly: true },
      { key: "macro_precision", type: "precision", name: "Macro Precision", args: { average: "macro" }, tableOnly: true },
      { key: "macro_recall", type: "recall", name: "Macro Recall", args: { average: "macro" }, tableOnly: true },
      // sklearn's accuracy_score on label-indicator rows: an example counts only when all its labels are right.
      { key: "subset_accuracy", type: "accuracy", name: "Subset Accuracy", column: "Subset Accuracy" },
      { key: "hamming_loss", type: "hamming_loss", name: "Hamming Loss", column: "Hamming Loss" },
    ];
  }
  if (problemType === "regression") {
    return [
      { key: "mse", type: "mse", name: "MSE", column: "MSE" },
      { key: "rmse", type: "mse", name: "RMSE", args: { squared: false }, column: "RMSE" },
      { key: "mae", type: "mae", name: "MAE", column: "MAE" },
      { key: "pearson", type: "pearsonr", name: "Pearson", column: "Pearson" },
      { key: "spearman", type: "spearmanr", name: "Spearman", column: "Spearman" },
      { key: "r2", type: "r_squared", name: "R-squared", column: "R2" },
    ];
  }
  const binary: CardMetric[] =
    k === 2
      ? [
          // sklearn's default average="binary" (class id 1 positive): GLUE's F1 for MRPC and QQP.
          { key: "f1", type: "f1", name: "F1", args: { average: "binary", pos_label: 1 }, column: "F1" },
          { key: "precision", type: "precision", name: "Precision", args: { average: "binary", pos_label: 1 }, tableOnly: true },
          { key: "recall", type: "recall", name: "Recall", args: { average: "binary", pos_label: 1 }, tableOnly: true },
        ]
      : [];
  return [
    { key: "accuracy", type: "accuracy", name: "Accuracy", column: "Accuracy" },
    { key: "macro_f1", type: "f1", name: "Macro F1", args: { average: "macro" }, column: "Macro F1" },
    ...binary,
    { key: "macro_precision", type: "precision", name: "Macro Precision", args: { average: "macro" }, tableOnly: true },
    { key: "macro_recall", type: "recall", name: "Macro Recall", args: { average: "macro" }, tableOnly: true },
    { key: "weighted_f1", type: "f1", name: "Weighted F1", args: { average: "weighted" } },
    { key: "weighted_precision", type: "precision", name: "Weighted Precision", args: { average: "weighted" }, tableOnly: true },
    { key: "weighted_recall", type: "recall", name: "Weighted Recall", args: { average: "weighted" }, tableOnly: true },
    { key: "matthews_correlation", type: "matthews_correlation", name: "Matthews Correlation", column: "Matthews Correlation" },
  ];
}

/** The top-level `metrics:` list of a card without evaluation results: what the problem type is measured by. */
export const DEFAULT_CARD_METRICS: Readonly<Record<ProblemType, string[]>> = {
  single_label_classification: ["accuracy", "f1"],
  multi_label_classification: ["f1", "accuracy"],
  regression: ["pearsonr", "spearmanr", "mse"],
};

/** "text classification", "multi-label text classification", "text regression". */
export function taskWords(problemType: ProblemType): string {
  if (problemType === "multi_label_classification") return "multi-label text classification";
  if (problemType === "regression") return "text regression";
  return "text classification";
}

/** The tag the Hub's filters know the task by, beside text-classification. */
export function taskTag(problemType: ProblemType): string | undefined {
  return problemType === "multi_label_classification" ? "multi-label-classification" : problemType === "regression" ? "regression" : undefined;
}
