/** Chart math: linear scales and "nice" axis ticks (steps of 1, 2 or 5 times a power of ten). */

export type Scale = (v: number) => number;

/** Maps [d0, d1] linearly onto [r0, r1]; a zero-width domain maps everything to the middle. */
export function linearScale(domain: readonly [number, number], range: readonly [number, number]): Scale {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  if (d1 === d0) return () => (r0 + r1) / 2;
  const k = (r1 - r0) / (d1 - d0);
  return (v) => r0 + (v - d0) * k;
}

/** The smallest and largest finite value, or undefined when there is none. */
export function extent(values: Iterable<number>): [number, number] | undefined {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? [lo, hi] : undefined;
}

/** A step of 1, 2 or 5 × 10^k close to span / count (never below 1 for an integer axis). */
export function niceStep(span: number, count: number, integer = false): number {
  const raw = span / Math.max(1, count);
  if (!(raw > 0) || !Number.isFinite(raw)) return 1;
  const power = 10 ** Math.floor(Math.log10(raw));
  const f = raw / power;
  const step = (f <= 1.5 ? 1 : f <= 3 ? 2 : f <= 7 ? 5 : 10) * power;
  return integer ? Math.max(1, Math.round(step)) : step;
}

export interface Ticks {
  /** The axis runs from min to max: the data's extent widened to whole steps. */
  min: number;
  max: number;
  step: number;
  values: number[];
}

/** Drop float noise such as 0.30000000000000004. */
const clean = (v: number): number => Number(v.toPrecision(12));

/**
 * About `count` evenly spaced round ticks covering [lo, hi]. A single value gets a little room
 * around it, so a flat curve still sits inside a proper axis.
 */
export function niceTicks(lo: number, hi: number, count = 5, integer = false): Ticks {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) [lo, hi] = [0, 1];
  if (lo > hi) [lo, hi] = [hi, lo];
  if (lo === hi) {
    const pad = integer ? 1 : lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const step = clean(niceStep(hi - lo, count, integer));
  // The epsilon keeps a value that is a multiple of the step (up to rounding) on its own tick.
  const min = clean(Math.floor(lo / step + 1e-9) * step);
  const max = clean(Math.ceil(hi / step - 1e-9) * step);
  const n = Math.round((max - min) / step);
  const values = Array.from({ length: n + 1 }, (_, i) => clean(min + i * step));
  return { min, max, step, values };
}

/**
 * A tick label with just the digits the step needs: 0.25 → "0.25" on a 0.05 grid, 0.0004 → "4e-4"
 * on a 2e-4 grid (learning rates), 1200 → "1200".
 */
export function formatTick(value: number, step: number): string {
  if (value === 0) return "0";
  const s = Math.abs(step) || Math.abs(value);
  if (s >= 1e-3 && Math.abs(value) < 1e6) {
    // Steps are 1, 2 or 5 × 10^k, so ceil(-log10(step)) decimals show every tick exactly.
    const decimals = Math.max(0, Math.ceil(-Math.log10(s) - 1e-9));
    return value.toFixed(Math.min(decimals, 20));
  }
  const digits = Math.max(0, Math.floor(Math.log10(Math.abs(value))) - Math.floor(Math.log10(s)));
  // Trailing zeros say nothing on an axis: "1.0e-3" → "1e-3".
  return value.toExponential(Math.min(digits, 20)).replace(/\.?0+e/, "e").replace("e+", "e");
}

/** Maps [d0, d1] (both > 0) onto [r0, r1] linearly in log10: equal ratios get equal distances. */
export function logScale(domain: readonly [number, number], range: readonly [number, number]): Scale {
  const lin = linearScale([Math.log10(domain[0]), Math.log10(domain[1])], range);
  return (v) => lin(Math.log10(v));
}

/**
 * Ticks (and their labels) of a log axis covering [lo, hi] (both > 0): powers of ten across several decades (every
 * second or third one across many), 1, 2 and 5 times them across about one to two decades, and
 * plain round ticks (niceTicks) across less, where a log axis looks almost linear. The axis runs
 * from the tick at or below lo to the tick at or above hi; undefined when lo or hi is not > 0.
 */
export function logTicks(lo: number, hi: number): (Ticks & { labels: string[] }) | undefined {
  if (!(lo > 0) || !(hi > 0) || !Number.isFinite(lo) || !Number.isFinite(hi)) return undefined;
  if (lo > hi) [lo, hi] = [hi, lo];
  if (lo === hi) [lo, hi] = [lo / 1.2, hi * 1.2];
  const decades = Math.log10(hi / lo);
  if (decades < 0.7) {
    const t = niceTicks(lo, hi, 5);
    if (t.min > 0) return { ...t, labels: t.values.map((v) => formatTick(v, t.step)) };
  }
  const e0 = Math.floor(Math.log10(lo) + 1e-9);
  const e1 = Math.ceil(Math.log10(hi) - 1e-9);
  const stride = decades >= 2.5 ? Math.max(1, Math.ceil((e1 - e0) / 7)) : 1;
  const mantissas = decades >= 2.5 ? [1] : [1, 2, 5];
  const candidates: number[] = [];
  for (let e = e0; e <= e1 + stride; e += stride) for (const m of mantissas) candidates.push(clean(m * 10 ** e));
  // The epsilon keeps a value that is a tick (up to rounding) on that tick.
  const min = [...candidates].reverse().find((v) => v <= lo * (1 + 1e-9)) ?? candidates[0];
  const max = candidates.find((v) => v >= hi * (1 - 1e-9)) ?? candidates[candidates.length - 1];
  const values = candidates.filter((v) => v >= min && v <= max);
  // Each tick is m × 10^k, so it is printed with the digits it needs itself.
  return { min, max, step: min, values, labels: values.map((v) => formatTick(v, v)) };
}
