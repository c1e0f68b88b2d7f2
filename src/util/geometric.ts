import type { Rng } from "./rng.js";

const SIZE = 256;
const TAIL = SIZE - 1;
const FRACTION_BITS = 24;

/**
 * Draws from Geometric(p) — how many units are kept before the next dropped one — with one
 * 32-bit random number a draw, by Walker's alias method over the values 0..254. The last
 * bucket stands for "255 or more": it adds 255 and draws again, which the distribution's
 * memorylessness makes exact. Bucket probabilities are held to 24 bits. Several times cheaper
 * than inverting the CDF with a logarithm, and dropout masks are drawn once per unit dropped.
 */
export class GeometricSampler {
  private readonly threshold = new Uint32Array(SIZE);
  private readonly alias = new Uint8Array(SIZE);

  constructor(readonly p: number) {
    if (!(p > 0 && p < 1)) throw new Error(`a geometric distribution needs 0 < p < 1, not ${p}`);
    // Vose's construction: scale the probabilities to mean 1, pair each short bucket with a tall one.
    const scaled = new Float64Array(SIZE);
    for (let g = 0; g < TAIL; g++) scaled[g] = SIZE * p * Math.pow(1 - p, g);
    scaled[TAIL] = SIZE * Math.pow(1 - p, TAIL);
    const small: number[] = [];
    const large: number[] = [];
    scaled.forEach((x, i) => (x < 1 ? small : large).push(i));
    while (small.length && large.length) {
      const s = small.pop()!;
      const l = large.pop()!;
      this.threshold[s] = Math.round(scaled[s] * 2 ** FRACTION_BITS);
      this.alias[s] = l;
      scaled[l] += scaled[s] - 1;
      (scaled[l] < 1 ? small : large).push(l);
    }
    for (const i of [...small, ...large]) {
      this.threshold[i] = 2 ** FRACTION_BITS;
      this.alias[i] = i;
    }
  }

  next(rng: Rng): number {
    let base = 0;
    for (;;) {
      const u = rng.nextUint32();
      const bucket = u >>> FRACTION_BITS;
      const g = (u & (2 ** FRACTION_BITS - 1)) < this.threshold[bucket] ? bucket : this.alias[bucket];
      if (g < TAIL) return base + g;
      base += TAIL;
    }
  }
}
