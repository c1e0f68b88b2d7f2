/**
 * Independent, reproducible random streams derived from one seed: weight init, the shuffle of
 * each epoch and the dropout masks of each epoch never share numbers, and a stream can be
 * recreated on its own (to resume at an epoch boundary).
 */
export function streamSeed(seed: number, stream: number, index = 0): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  h = Math.imul(h ^ (stream + 0x85ebca6b), 0xc2b2ae35) >>> 0;
  h = Math.imul(h ^ (index + 0x27d4eb2f), 0x165667b1) >>> 0;
  return (h ^ (h >>> 15)) >>> 0;
}

export const STREAM_INIT = 1;
export const STREAM_SHUFFLE = 2;
export const STREAM_DROPOUT = 3;
