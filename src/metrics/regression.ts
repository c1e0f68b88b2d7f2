/**
 * Regression metrics with the semantics of scikit-learn and scipy, in float64, over a
 * row-major n × T matrix (T ≥ 1 targets):
 *
 * - `mse`, `mae`, `r2`: sklearn mean_squared_error / mean_absolute_error / r2_score; with
 *   T > 1 the report's value is the mean over targets (`multioutput="uniform_average"`);
 * - `rmse`: per target sqrt(mse); with T > 1 the mean of the per-target RMSEs, as sklearn's
 *   root_mean_squared_error (`mean_squared_error(squared=False)` before 1.4), not sqrt(mean mse);
 * - `pearson`: scipy.stats.pearsonr's statistic; `spearman`: scipy.stats.spearmanr's, i.e. the
 *   Pearson correlation of the ranks, tied values getting the mean of their ranks
 *   (scipy.stats.rankdata(method="average")); with T > 1 both are the mean over targets.
 *
 * Undefined values, decided once here:
 * - Pearson/Spearman of a constant vector (truth or prediction) or of fewer than 2 examples
 *   is NaN, as in scipy (which warns ConstantInputWarning, or raises for n < 2). It stays a
 *   `number`, so the types need no null; `JSON.stringify` writes NaN as `null`, so
 *   eval_results.json and the saved report stay valid JSON (Python's json module would write
 *   the invalid token NaN). A NaN target makes the averaged value NaN too (np.mean, not
 *   np.nanmean), and a NaN metric never compares as an improvement.
 * - R² of a constant truth (Σ(y − ȳ)² = 0, detected exactly: every value equal) follows
 *   sklearn's default `force_finite=True` (sklearn ≥ 1.1): 1.0 if the predictions are exact,
 *   else 0.0, instead of −inf/NaN. R² of fewer than 2 examples is NaN, as sklearn returns.
 * - Non-finite inputs (NaN, ±Infinity) are refused, as sklearn refuses them.
 */
import { BertuneError } from "../errors.js";

export interface TargetMetrics {
  name: string;
  mse: number;
  rmse: number;
  mae: number;
  /** NaN when a vector is constant or n < 2. */
  pearson: number;
  /** NaN when a vector is constant or n < 2. */
  spearman: number;
  r2: number;
}

export interface RegressionReport {
  problemType: "regression";
  numExamples: number;
  /** For T > 1 each of these is the unweighted mean of the per-target values. */
  mse: number;
  rmse: number;
  mae: number;
  pearson: number;
  spearman: number;
  r2: number;
  perTarget: TargetMetrics[];
}

const meanOf = (xs: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return s / xs.length;
};

const isConstant = (xs: ArrayLike<number>): boolean => {
  for (let i = 1; i < xs.length; i++) if (xs[i] !== xs[0]) return false;
  return true;
};

/** scipy.stats.pearsonr's statistic (NaN when n < 2 or either vector is constant), clipped to [−1, 1]. */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = x.length;
  if (n !== y.length) throw new BertuneError(`pearson: ${n} values against ${y.length}`);
  if (n < 2 || isConstant(x) || isConstant(y)) return NaN;
  // Two points are perfectly correlated, one way or the other; scipy returns the exact sign.
  if (n === 2) return Math.sign(x[1] - x[0]) * Math.sign(y[1] - y[0]);
  const mx = meanOf(x);
  const my = meanOf(y);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - mx;
    const dy = y[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  const r = sxy / (Math.sqrt(sxx) * Math.sqrt(syy));
  return Math.max(-1, Math.min(1, r));
}

/** scipy.stats.rankdata(x, method="average"): 1-based ranks, ties get the mean of the ranks they span. */
export function averageRanks(x: ArrayLike<number>): Float64Array {
  const n = x.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => x[a] - x[b]);
  const ranks = new Float64Array(n);
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && x[order[j + 1]] === x[order[i]]) j++;
    const rank = (i + j) / 2 + 1; // positions i..j (0-based) hold ranks i+1..j+1
    for (let m = i; m <= j; m++) ranks[order[m]] = rank;
    i = j + 1;
  }
  return ranks;
}

/** scipy.stats.spearmanr's statistic: Pearson of the average ranks (NaN when n < 2 or a vector is constant). */
export function spearman(x: ArrayLike<number>, y: ArrayLike<number>): number {
  if (x.length !== y.length) throw new BertuneError(`spearman: ${x.length} values against ${y.length}`);
  // A constant vector has constant ranks, and pearson() gives NaN for those and for n < 2.
  return pearson(averageRanks(x), averageRanks(y));
}

/** sklearn r2_score for one target, force_finite=True. */
function r2(t: Float64Array, p: Float64Array): number {
  if (t.length < 2) return NaN;
  let num = 0;
  for (let i = 0; i < t.length; i++) num += (t[i] - p[i]) ** 2;
  if (isConstant(t)) return num === 0 ? 1 : 0;
  const mt = meanOf(t);
  let den = 0;
  for (let i = 0; i < t.length; i++) den += (t[i] - mt) ** 2;
  if (num === 0) return 1;
  // Targets that differ by less than float64 can square (1e-200) leave den 0: as a constant column (force_finite).
  return den === 0 ? 0 : 1 - num / den;
}

function targetMetrics(name: string, t: Float64Array, p: Float64Array): TargetMetrics {
  const n = t.length;
  let se = 0;
  let ae = 0;
  for (let i = 0; i < n; i++) {
    const d = t[i] - p[i];
    se += d * d;
    ae += Math.abs(d);
  }
  const mse = se / n;
  return { name, mse, rmse: Math.sqrt(mse), mae: ae / n, pearson: pearson(t, p), spearman: spearman(t, p), r2: r2(t, p) };
}

function checkFinite(m: ArrayLike<number>, which: string, t: number, names: string[]): void {
  for (let i = 0; i < m.length; i++) {
    if (typeof m[i] !== "number" || !Number.isFinite(m[i])) {
      throw new BertuneError(
        `${which} value at example ${Math.floor(i / t)}, target "${names[i % t]}" is ${String(m[i])}: regression metrics need finite numbers`,
        "Check the regression targets (a missing or non-numeric label?) and the model's outputs.",
      );
    }
  }
}

/**
 * @param yTrue row-major n × T matrix of targets
 * @param yPred row-major n × T matrix of predictions, same shape
 * @param targetNames the T target names, in column order (T ≥ 1)
 */
export function regressionReport(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, targetNames: string[]): RegressionReport {
  const nt = targetNames.length;
  if (nt === 0) throw new BertuneError("cannot compute regression metrics: there are no targets (targetNames is empty)");
  if (yTrue.length !== yPred.length) {
    throw new BertuneError(`cannot compute metrics: ${yTrue.length} true values but ${yPred.length} predictions`);
  }
  if (yTrue.length === 0) {
    throw new BertuneError("cannot compute metrics on an empty set of examples", "Check that the evaluation split is not empty.");
  }
  if (yTrue.length % nt !== 0) {
    throw new BertuneError(`cannot compute metrics: ${yTrue.length} values is not a whole number of rows of ${nt} targets`);
  }
  checkFinite(yTrue, "true", nt, targetNames);
  checkFinite(yPred, "predicted", nt, targetNames);
  const n = yTrue.length / nt;
  const perTarget = targetNames.map((name, j) => {
    const t = new Float64Array(n);
    const p = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      t[i] = yTrue[i * nt + j];
      p[i] = yPred[i * nt + j];
    }
    return targetMetrics(name, t, p);
  });
  const avg = (f: (m: TargetMetrics) => number): number => perTarget.reduce((s, m) => s + f(m), 0) / nt;
  return {
    problemType: "regression",
    numExamples: n,
    mse: avg((m) => m.mse),
    rmse: avg((m) => m.rmse),
    mae: avg((m) => m.mae),
    pearson: avg((m) => m.pearson),
    spearman: avg((m) => m.spearman),
    r2: avg((m) => m.r2),
    perTarget,
  };
}
