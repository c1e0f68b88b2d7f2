import { describe, expect, it } from "vitest";
import { GeometricSampler } from "../src/util/geometric.js";
import { Rng } from "../src/util/rng.js";

describe("Geometric(p) sampler for dropout gaps", () => {
  // Mean (1-p)/p and P(0) = p; p = 0.01 reaches the "255 or more" bucket in ~8% of draws.
  it.each([0.1, 0.5, 0.01])("p = %s: frequencies of small values and the mean match the distribution", (p) => {
    const s = new GeometricSampler(p);
    const rng = new Rng(7);
    const n = 200_000;
    const counts = new Map<number, number>();
    let sum = 0;
    let beyondTail = 0;
    for (let i = 0; i < n; i++) {
      const g = s.next(rng);
      sum += g;
      if (g >= 255) beyondTail++;
      counts.set(g, (counts.get(g) ?? 0) + 1);
    }
    const mean = (1 - p) / p;
    const sd = Math.sqrt((1 - p) / (p * p) / n);
    expect(Math.abs(sum / n - mean)).toBeLessThan(5 * sd);
    for (const g of [0, 1, 2, 5]) {
      const expected = p * Math.pow(1 - p, g);
      expect(Math.abs((counts.get(g) ?? 0) / n - expected)).toBeLessThan(5 * Math.sqrt((expected * (1 - expected)) / n) + 1e-6);
    }
    const tail = Math.pow(1 - p, 255);
    expect(Math.abs(beyondTail / n - tail)).toBeLessThan(5 * Math.sqrt((tail * (1 - tail)) / n) + 1e-6);
  });

  it("refuses p outside (0, 1)", () => {
    expect(() => new GeometricSampler(0)).toThrow(/0 < p < 1/);
    expect(() => new GeometricSampler(1)).toThrow(/0 < p < 1/);
  });
});
