/**
 * A regression run's predictions on its validation split, for the predicted-vs-true scatter plot
 * and the table of the largest errors: the run's data set is reloaded as it was trained (so a
 * carved validation split is the same one) and the run predicts every validation example, in
 * the data's units (a --normalize-targets run has the scaling folded into its head).
 */
import type { ClassifierOptions } from "../classifier.js";
import { inputsOf, withValidationPredictions } from "./misclassified.js";

export interface LargestError {
  text: string;
  textPair?: string;
  /** The target whose prediction is furthest off (the only one, for a single target). */
  target: string;
  trueValue: number;
  predicted: number;
  /** predicted − true. */
  error: number;
}

export type RegressionPredictions =
  | {
      ok: true;
      kind: "regression";
      dataset: string;
      split: "validation";
      total: number;
      /** The targets' names (id2label). */
      targets: string[];
      /** trueValues[target][example], in the validation split's order. */
      trueValues: number[][];
      /** predicted[target][example], in the same order. */
      predicted: number[][];
      /** The examples with the largest absolute error, largest first. */
      largest: LargestError[];
    }
  | { ok: false; reason: string };

export interface RegressionPredictionsOptions extends ClassifierOptions {
  /** How many of the largest errors to keep (default 10). */
  limit?: number;
}

export async function regressionPredictions(dir: string, o: RegressionPredictionsOptions = {}): Promise<RegressionPredictions> {
  const limit = o.limit ?? 10;
  return withValidationPredictions(dir, o, "regression", async ({ classifier, dataset, examples }) => {
    const targets = classifier.id2label;
    o.log?.(`predicting ${examples.length} validation examples of ${dataset.name} for the predicted-vs-true plot`);
    const predictions = await classifier.predict(inputsOf(examples));
    const trueValues = targets.map(() => new Array<number>(examples.length));
    const predicted = targets.map(() => new Array<number>(examples.length));
    const worst: (LargestError & { abs: number; index: number })[] = [];
    predictions.forEach((p, i) => {
      if (p.problemType !== "regression") return;
      const label = examples[i].label;
      const truth = Array.isArray(label) ? label : [label];
      let w: (LargestError & { abs: number; index: number }) | undefined;
      targets.forEach((name, j) => {
        trueValues[j][i] = truth[j];
        predicted[j][i] = p.values[name];
        const error = p.values[name] - truth[j];
        if (!w || Math.abs(error) > w.abs) {
          w = { text: p.text, ...(p.textPair === undefined ? {} : { textPair: p.textPair }), target: name, trueValue: truth[j], predicted: p.values[name], error, abs: Math.abs(error), index: i };
        }
      });
      if (w) worst.push(w);
    });
    // Largest first; ties keep the data's order, so the table is stable.
    worst.sort((a, b) => b.abs - a.abs || a.index - b.index);
    const largest = worst.slice(0, limit).map(({ abs: _a, index: _i, ...e }) => e);
    return { ok: true as const, kind: "regression" as const, dataset: dataset.name, split: "validation" as const, total: examples.length, targets, trueValues, predicted, largest };
  });
}
