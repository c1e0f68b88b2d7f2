/**
 * The validation examples a run gets most confidently wrong: the run's data set is reloaded with
 * the options it was trained with (so a carved validation split is the same one), the run
 * predicts every validation example, and the mistakes are ranked by the probability the model
 * gave its wrong answer. Anything the user could fix (data set moved, model not cached offline)
 * comes back as a reason instead of an exception, so the report can still be written.
 */
import { Classifier, type ClassifierOptions } from "../classifier.js";
import { loadDataset } from "../data/dataset.js";
import type { Example, LoadedDataset } from "../data/types.js";
import { isBertuneError } from "../errors.js";
import type { TextInput } from "../features/extract.js";
import type { ProblemType } from "../problem-type.js";
import { runDataset } from "../run/training-args.js";

export interface Misclassified {
  text: string;
  textPair?: string;
  trueLabel: string;
  predictedLabel: string;
  /** Probability of the (wrong) predicted label. */
  confidence: number;
  /** Probability of the true label. */
  trueProbability: number;
  probabilities: Record<string, number>;
}

export type MisclassifiedResult =
  | { ok: true; dataset: string; split: "validation"; total: number; errors: number; examples: Misclassified[] }
  | { ok: false; reason: string };

export interface MisclassifiedOptions extends ClassifierOptions {
  /** How many examples to keep (default 10). */
  limit?: number;
}

/** What `withValidationPredictions` hands on: the run, its reloaded data set and the validation examples. */
export interface ValidationContext {
  classifier: Classifier;
  dataset: LoadedDataset;
  examples: Example[];
}

/**
 * Reload the run's data set as it was trained (training_args.json) and load the run, then call
 * `use` with the validation split; a problem the user can fix (data set moved, model not cached,
 * labels changed, another problem type) comes back as `{ ok: false, reason }`.
 */
export async function withValidationPredictions<T extends { ok: true }>(
  dir: string,
  o: ClassifierOptions,
  problemType: ProblemType,
  use: (c: ValidationContext) => Promise<T>,
): Promise<T | { ok: false; reason: string }> {
  const stored = runDataset(dir);
  if (!stored.spec) return { ok: false, reason: "the run does not record which data set it was trained on (training_args.json has no dataset_spec)" };
  let classifier: Classifier | undefined;
  try {
    const dataset = await loadDataset(stored.spec, stored.options);
    classifier = await Classifier.load(dir, o);
    if (classifier.problemType !== problemType) {
      const what = problemType === "regression" ? "predicted values are plotted for regression runs" : "misclassified examples are listed for single-label runs";
      return { ok: false, reason: `${what}; this one is ${classifier.problemType.replace(/_/g, "-")}` };
    }
    if (dataset.id2label.join("\u0000") !== classifier.id2label.join("\u0000")) {
      const what = problemType === "regression" ? "targets" : "labels";
      return { ok: false, reason: `the data set's ${what} (${dataset.id2label.join(", ")}) differ from the run's (${classifier.id2label.join(", ")})` };
    }
    return await use({ classifier, dataset, examples: dataset.splits.validation });
  } catch (e) {
    if (isBertuneError(e)) return { ok: false, reason: e.message };
    throw e;
  } finally {
    await classifier?.close();
  }
}

/** The inputs of examples, as Classifier.predict takes them. */
export const inputsOf = (examples: readonly Example[]): TextInput[] => examples.map((e) => (e.textPair === undefined ? { text: e.text } : { text: e.text, textPair: e.textPair }));

export async function worstMisclassified(dir: string, o: MisclassifiedOptions = {}): Promise<MisclassifiedResult> {
  const limit = o.limit ?? 10;
  return withValidationPredictions(dir, o, "single_label_classification", async ({ classifier, dataset, examples }) => {
    o.log?.(`predicting ${examples.length} validation examples of ${dataset.name} for the misclassified examples`);
    const predictions = await classifier.predict(inputsOf(examples));
    const names = classifier.id2label;
    const wrong: Misclassified[] = [];
    predictions.forEach((p, i) => {
      const trueLabel = names[examples[i].label as number];
      if (p.problemType === "regression" || p.label === trueLabel) return;
      wrong.push({
        text: p.text,
        ...(p.textPair === undefined ? {} : { textPair: p.textPair }),
        trueLabel,
        predictedLabel: p.label,
        confidence: p.score,
        trueProbability: p.probabilities[trueLabel],
        probabilities: p.probabilities,
      });
    });
    wrong.sort((a, b) => b.confidence - a.confidence || a.trueProbability - b.trueProbability);
    return { ok: true as const, dataset: dataset.name, split: "validation" as const, total: examples.length, errors: wrong.length, examples: wrong.slice(0, limit) };
  });
}
