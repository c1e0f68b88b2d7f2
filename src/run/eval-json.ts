import type { ClassificationReport } from "../metrics/classification.js";

/** eval_results.json as the Trainer writes it: flat `eval_*` numbers. */
export function evalResultsJson(report: ClassificationReport, loss: number, epoch: number | undefined, split: string): Record<string, unknown> {
  return {
    ...(epoch === undefined ? {} : { epoch }),
    eval_split: split,
    eval_samples: report.numExamples,
    eval_loss: loss,
    eval_accuracy: report.accuracy,
    eval_macro_precision: report.macroPrecision,
    eval_macro_recall: report.macroRecall,
    eval_macro_f1: report.macroF1,
  };
}
