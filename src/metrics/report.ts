/**
 * One evaluation report per problem type, and the flat metric names that go into
 * eval_results.json / trainer_state.json (prefixed `eval_` there) and that
 * `--metric-for-best-model` accepts.
 */
import { BertuneError } from "../errors.js";
import type { ProblemType } from "../problem-type.js";
import type { ClassificationReport } from "./classification.js";
import type { MultiLabelReport } from "./multilabel.js";
import type { RegressionReport } from "./regression.js";

export type { ClassificationReport } from "./classification.js";
export type { MultiLabelReport } from "./multilabel.js";
export type { RegressionReport } from "./regression.js";

/** Discriminated by `problemType`. */
export type EvalReport = ClassificationReport | MultiLabelReport | RegressionReport;

/** The keys of flatMetrics(report) for each problem type, in the order they are written. */
export const METRIC_NAMES: Readonly<Record<ProblemType, readonly string[]>> = {
  single_label_classification: [
    "accuracy",
    "macro_precision",
    "macro_recall",
    "macro_f1",
    "precision",
    "recall",
    "f1",
    "micro_f1",
    "weighted_precision",
    "weighted_recall",
    "weighted_f1",
    "matthews_correlation",
  ],
  multi_label_classification: [
    "micro_f1",
    "macro_f1",
    "micro_precision",
    "micro_recall",
    "macro_precision",
    "macro_recall",
    "f1",
    "subset_accuracy",
    "accuracy",
    "hamming_loss",
  ],
  regression: ["mse", "rmse", "mae", "pearson", "spearman", "r2"],
};

/** metric_for_best_model when none is given: what the task's evaluation usually leads with. */
export const DEFAULT_METRIC: Readonly<Record<ProblemType, string>> = {
  single_label_classification: "accuracy",
  multi_label_classification: "macro_f1",
  regression: "mse",
};

/**
 * A report's problem type; a report saved before problem types existed (no `problemType`
 * field) is a single-label one.
 */
export function problemTypeOf(r: EvalReport): ProblemType {
  return (r as { problemType?: ProblemType }).problemType ?? "single_label_classification";
}

/**
 * The report's metrics as flat snake_case numbers, without the `eval_` prefix.
 * - single-label: `precision`/`recall`/`f1` are class id 1's (sklearn average="binary") when
 *   there are 2 classes, else the macro ones; `micro_f1` equals accuracy.
 * - multi-label: `f1` is micro_f1 and `accuracy` is subset_accuracy.
 * - regression: pearson/spearman may be NaN (constant vector), which JSON.stringify writes as null.
 */
export function flatMetrics(r: EvalReport): Record<string, number> {
  if (r.problemType === "multi_label_classification") {
    return {
      micro_f1: r.microF1,
      macro_f1: r.macroF1,
      micro_precision: r.microPrecision,
      micro_recall: r.microRecall,
      macro_precision: r.macroPrecision,
      macro_recall: r.macroRecall,
      f1: r.microF1,
      subset_accuracy: r.subsetAccuracy,
      accuracy: r.subsetAccuracy,
      hamming_loss: r.hammingLoss,
    };
  }
  if (r.problemType === "regression") {
    return { mse: r.mse, rmse: r.rmse, mae: r.mae, pearson: r.pearson, spearman: r.spearman, r2: r.r2 };
  }
  const pos = r.binary;
  return {
    accuracy: r.accuracy,
    macro_precision: r.macroPrecision,
    macro_recall: r.macroRecall,
    macro_f1: r.macroF1,
    precision: pos ? pos.precision : r.macroPrecision,
    recall: pos ? pos.recall : r.macroRecall,
    f1: pos ? pos.f1 : r.macroF1,
    micro_f1: r.microF1,
    weighted_precision: r.weightedPrecision,
    weighted_recall: r.weightedRecall,
    weighted_f1: r.weightedF1,
    matthews_correlation: r.mcc,
  };
}

const stripEval = (name: string): string => (name.startsWith("eval_") ? name.slice("eval_".length) : name);

/**
 * Whether a larger value of the metric is better, as transformers decides it
 * (`not metric_for_best_model.endswith("loss")`), plus the error metrics mse, rmse and mae.
 * An `eval_` prefix is ignored.
 */
export function greaterIsBetter(name: string): boolean {
  const m = stripEval(name);
  return !(m.endsWith("loss") || m === "mse" || m === "rmse" || m === "mae");
}

const ALIASES: Readonly<Record<string, string>> = { mcc: "matthews_correlation" };

/**
 * The flat metric name `name` stands for, for `--metric-for-best-model`: an `eval_` prefix is
 * stripped, `loss` is always accepted, `mcc` means `matthews_correlation`; anything that is
 * not a metric of this problem type is a BertuneError listing the ones that are.
 */
export function resolveMetricName(name: string, problemType: ProblemType): string {
  const names = METRIC_NAMES[problemType];
  if (!names) throw new BertuneError(`unknown problem type "${String(problemType)}"`);
  const bare = stripEval(name);
  if (bare === "loss") return "loss";
  const m = Object.hasOwn(ALIASES, bare) ? ALIASES[bare] : bare;
  if (names.includes(m)) return m;
  throw new BertuneError(
    `"${name}" is not a metric of ${problemType.replace(/_/g, "-")}`,
    `Use one of: loss, ${names.join(", ")}${problemType === "single_label_classification" ? " (or mcc)" : ""}; an eval_ prefix is allowed.`,
  );
}
