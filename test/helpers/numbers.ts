import { expect } from "vitest";

/** The largest |actual − expected| over two arrays of the same length (the lengths are asserted equal). */
export function maxAbsDiff(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  expect(actual.length).toBe(expected.length);
  let m = 0;
  for (let i = 0; i < expected.length; i++) m = Math.max(m, Math.abs(actual[i] - expected[i]));
  return m;
}
