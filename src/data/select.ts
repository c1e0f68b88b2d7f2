import { BertuneError } from "../errors.js";
import { sha256 } from "../util/hash.js";
import type { LoadedDataset } from "./types.js";

/** How many examples of each split to keep, as the Hugging Face example scripts' --max_train_samples / --max_eval_samples. */
export interface SampleLimits {
  maxTrainSamples?: number;
  maxEvalSamples?: number;
}

/**
 * Keep the first N examples of train and of validation, as run_glue.py does with
 * `dataset.select(range(min(len(dataset), N)))` (after a carved validation split was taken from the
 * whole train split). A cut changes the content hash, so cached features of the full splits are not reused.
 */
export function selectFirst(dataset: LoadedDataset, limits: SampleLimits): LoadedDataset {
  for (const [name, n] of [["max train samples", limits.maxTrainSamples], ["max eval samples", limits.maxEvalSamples]] as const) {
    if (n !== undefined && !(Number.isSafeInteger(n) && n >= 1)) throw new BertuneError(`${name} must be a whole number >= 1, got ${n}`);
  }
  const { train, validation } = dataset.splits;
  const trainCut = limits.maxTrainSamples !== undefined && limits.maxTrainSamples < train.length;
  const evalCut = limits.maxEvalSamples !== undefined && limits.maxEvalSamples < validation.length;
  if (!trainCut && !evalCut) return dataset;
  const lost = trainCut ? lostLabels(dataset, limits.maxTrainSamples!) : undefined;
  return {
    ...dataset,
    ...(lost && { warnings: [...(dataset.warnings ?? []), lost] }),
    contentHash: sha256(JSON.stringify({ v: 1, base: dataset.contentHash, train: trainCut ? limits.maxTrainSamples : null, validation: evalCut ? limits.maxEvalSamples : null })),
    splits: {
      ...dataset.splits,
      train: trainCut ? train.slice(0, limits.maxTrainSamples) : train,
      validation: evalCut ? validation.slice(0, limits.maxEvalSamples) : validation,
    },
  };
}

/**
 * A warning when the first N training examples hold fewer of the labels than the whole train split:
 * what a file sorted by label gives (Rotten Tomatoes' all.csv is), and a classifier that never sees a
 * class. Single-label classification only; the cut is kept as asked, as run_glue.py keeps it.
 */
function lostLabels(dataset: LoadedDataset, n: number): string | undefined {
  if (dataset.problemType !== "single_label_classification") return undefined;
  const labelsOf = (xs: readonly { label: number | number[] }[]) => new Set(xs.map((x) => x.label as number));
  const all = labelsOf(dataset.splits.train);
  const kept = labelsOf(dataset.splits.train.slice(0, n));
  if (kept.size === all.size) return undefined;
  const names = [...kept].sort((a, b) => a - b).map((id) => `"${dataset.id2label[id]}"`);
  return `--max-train-samples ${n} keeps ${kept.size} of the ${all.size} labels of train (the first ${n} examples hold only ${names.join(", ")}): the data is likely sorted by label; shuffle it first, or train on more examples`;
}
