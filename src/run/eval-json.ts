import { flatMetrics, type EvalReport } from "../metrics/report.js";

/** eval_results.json as the Trainer writes it: flat `eval_*` numbers (which ones depends on the problem type). */
export function evalResultsJson(report: EvalReport, loss: number, epoch: number | undefined, split: string): Record<string, unknown> {
  return {
    ...(epoch === undefined ? {} : { epoch }),
    eval_split: split,
    eval_samples: report.numExamples,
    eval_loss: loss,
    ...Object.fromEntries(Object.entries(flatMetrics(report)).map(([k, v]) => [`eval_${k}`, v])),
  };
}
