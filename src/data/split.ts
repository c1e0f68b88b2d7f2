import { BertuneError } from "../errors.js";
import { Rng } from "../util/rng.js";

/**
 * Carves a validation split from train: the indices are shuffled with `new Rng(seed)` and the first
 * round(n * ratio) (at least 1, at most n - 1) become validation. Both parts keep the original order.
 */
export function carveValidation<T>(items: readonly T[], ratio: number, seed: number): { train: T[]; validation: T[] } {
  checkRatio(ratio);
  const n = items.length;
  if (n < 2) {
    throw new BertuneError(
      `Cannot carve a validation split from ${n} training example${n === 1 ? "" : "s"}.`,
      "Add more examples, or provide a validation file (validation.*, dev.* or val.* beside train.*).",
    );
  }
  const k = Math.min(n - 1, Math.max(1, Math.round(n * ratio)));
  const order = new Rng(seed).shuffle(Array.from({ length: n }, (_, i) => i));
  const inValidation = new Uint8Array(n);
  for (let j = 0; j < k; j++) inValidation[order[j]] = 1;
  const train: T[] = [];
  const validation: T[] = [];
  for (let i = 0; i < n; i++) (inValidation[i] ? validation : train).push(items[i]);
  return { train, validation };
}

export function checkRatio(ratio: number): void {
  if (!Number.isFinite(ratio) || ratio <= 0 || ratio >= 1) {
    throw new BertuneError(
      `The validation ratio must be between 0 and 1 (exclusive), got ${ratio}.`,
      "Use a validation ratio such as 0.1 (10% of train).",
    );
  }
}

export function checkSeed(seed: number): void {
  if (!Number.isInteger(seed)) {
    throw new BertuneError(`The seed must be an integer, got ${seed}.`, "Use a whole number such as 42.");
  }
}
