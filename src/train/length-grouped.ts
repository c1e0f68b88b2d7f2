/**
 * transformers' get_length_grouped_indices (the sampler of group_by_length): cut a random
 * permutation into megabatches of `mult × batchSize` examples, mult = min(⌊n / (4 · batchSize)⌋, 50)
 * and at least 1; sort each megabatch by length, longest first (stable); then swap the longest
 * example of all into the very first place, so that a batch too large for memory fails at once.
 * Batches cut from this order hold examples of similar lengths, and padding to each batch's
 * longest wastes less; the order stays random across megabatches.
 */
export function lengthGroupedOrder(permutation: readonly number[], lengths: readonly number[], batchSize: number): number[] {
  const n = permutation.length;
  if (n === 0) return [];
  const size = Math.max(1, Math.min(Math.floor(n / (batchSize * 4)), 50)) * batchSize;
  const megabatches: number[][] = [];
  for (let i = 0; i < n; i += size) megabatches.push(permutation.slice(i, i + size).sort((a, b) => lengths[b] - lengths[a]));
  let longest = 0;
  for (let k = 1; k < megabatches.length; k++) if (lengths[megabatches[k][0]] > lengths[megabatches[longest][0]]) longest = k;
  [megabatches[0][0], megabatches[longest][0]] = [megabatches[longest][0], megabatches[0][0]];
  return megabatches.flat();
}
