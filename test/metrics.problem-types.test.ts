import { describe, expect, it } from "vitest";
import { BertuneError } from "../src/errors.js";
import { PROBLEM_TYPES } from "../src/problem-type.js";
import { classificationReport } from "../src/metrics/classification.js";
import { formatReport } from "../src/metrics/format.js";
import { multiLabelReport } from "../src/metrics/multilabel.js";
import { averageRanks, pearson, regressionReport, spearman } from "../src/metrics/regression.js";
import { DEFAULT_METRIC, flatMetrics, greaterIsBetter, METRIC_NAMES, resolveMetricName, type EvalReport } from "../src/metrics/report.js";
import { refusal } from "./helpers/errors.js";

/*
 * Every expected number is worked out by hand in the comments and was then checked against
 * scikit-learn 1.2.1 / scipy 1.10.1 (Debian's python3-sklearn, python3-scipy) by
 * scripts/metrics_reference.py, whose printed values (repr, 17 digits) are pasted below;
 * the comment before each value names the call that printed it.
 */
const TOL = 12; // toBeCloseTo(x, 12): |actual − expected| < 5e-13
const close = (actual: number, expected: number): void => expect(actual).toBeCloseTo(expected, TOL);

describe("classificationReport: MCC, micro and weighted averages (3 classes)", () => {
  /*
   * The fixture of test/metrics.test.ts. Confusion matrix [true][pred]:
   *   [2,1,1] / [1,2,0] / [0,1,2]; true counts t = [4,3,3], predicted counts p = [3,4,3],
   *   s = 10 examples, c = 6 correct.
   * MCC (sklearn's multiclass formula):
   *   cov(yt,yp) = c·s − t·p = 60 − (12+12+9) = 27
   *   cov(yt,yt) = s² − t·t = 100 − (16+9+9) = 66, cov(yp,yp) = 100 − (9+16+9) = 66
   *   MCC = 27 / sqrt(66·66) = 9/22 = 0.40909…
   * Weighted by support (4,3,3)/10:
   *   P = (4·2/3 + 3·1/2 + 3·2/3)/10 = (37/6)/10 = 37/60
   *   R = (4·1/2 + 3·2/3 + 3·2/3)/10 = 6/10 (weighted recall is always the accuracy)
   *   F1 = (4·4/7 + 3·4/7 + 3·2/3)/10 = (4 + 2)/10 = 0.6
   * Micro: Σtp = 6, Σ(tp+fp) = Σ(tp+fn) = 10 → P = R = F1 = 0.6 = accuracy.
   */
  const r = classificationReport([0, 0, 0, 0, 1, 1, 1, 2, 2, 2], [0, 0, 1, 2, 1, 1, 0, 2, 2, 1], ["cat", "dog", "bird"]);

  it("matches the hand arithmetic and sklearn", () => {
    expect(r.problemType).toBe("single_label_classification");
    // matthews_corrcoef(yt, yp)
    close(r.mcc, 0.4090909090909091);
    close(r.mcc, 9 / 22);
    // precision_score / recall_score / f1_score(average="micro", labels=range(3), zero_division=0)
    close(r.microPrecision, 0.6);
    close(r.microRecall, 0.6);
    close(r.microF1, 0.6);
    // average="weighted"
    close(r.weightedPrecision, 0.6166666666666666);
    close(r.weightedPrecision, 37 / 60);
    close(r.weightedRecall, 0.6);
    close(r.weightedF1, 0.6);
    // average="macro" (the existing fields)
    close(r.macroPrecision, 0.611111111111111);
    close(r.macroF1, 0.6031746031746033);
    expect(r.binary).toBeUndefined();
  });

  it("flatMetrics: precision/recall/f1 are the macro ones for more than 2 classes", () => {
    const f = flatMetrics(r);
    expect(Object.keys(f)).toEqual(METRIC_NAMES.single_label_classification);
    expect(f.precision).toBe(r.macroPrecision);
    expect(f.recall).toBe(r.macroRecall);
    expect(f.f1).toBe(r.macroF1);
    expect(f.accuracy).toBe(0.6);
    expect(f.macro_f1).toBe(r.macroF1);
    expect(f.micro_f1).toBe(0.6);
    expect(f.weighted_precision).toBe(r.weightedPrecision);
    expect(f.weighted_f1).toBe(r.weightedF1);
    expect(f.matthews_correlation).toBe(r.mcc);
  });
});

describe("classificationReport: two classes (GLUE's binary F1)", () => {
  /*
   * yTrue = [1,1,1,1,1,0,0,0], yPred = [1,1,1,0,0,1,0,0]: TP 3, FN 2, FP 1, TN 2 (class 1 positive).
   *   class 1: P = 3/4, R = 3/5, F1 = 2·3/(4+5) = 2/3, support 5
   *   class 0: tp 2, predicted 4, support 3 → P = 1/2, R = 2/3, F1 = 4/7
   *   accuracy = 5/8
   *   MCC = (TP·TN − FP·FN)/sqrt((TP+FP)(TP+FN)(TN+FP)(TN+FN)) = (6−2)/sqrt(4·5·3·4) = 4/sqrt(240) = 1/√15
   *   macro P = (1/2 + 3/4)/2 = 5/8, macro R = (2/3 + 3/5)/2 = 19/30, macro F1 = (4/7 + 2/3)/2 = 13/21
   *   weighted P = (3·1/2 + 5·3/4)/8 = 21/32, weighted F1 = (3·4/7 + 5·2/3)/8 = 53/84
   */
  const r = classificationReport([1, 1, 1, 1, 1, 0, 0, 0], [1, 1, 1, 0, 0, 1, 0, 0], ["not_equivalent", "equivalent"]);

  it("matches the hand arithmetic and sklearn", () => {
    // precision_score / recall_score / f1_score(yt, yp, zero_division=0): average="binary", pos_label=1
    expect(r.binary).toBeDefined();
    close(r.binary!.precision, 0.75);
    close(r.binary!.recall, 0.6);
    close(r.binary!.f1, 0.6666666666666665);
    // matthews_corrcoef
    close(r.mcc, 0.2581988897471611);
    close(r.mcc, 1 / Math.sqrt(15));
    close(r.accuracy, 0.625);
    close(r.microF1, 0.625);
    // average="macro"
    close(r.macroPrecision, 0.625);
    close(r.macroRecall, 0.6333333333333333);
    close(r.macroF1, 0.6190476190476191);
    close(r.macroF1, 13 / 21);
    // average="weighted"
    close(r.weightedPrecision, 0.65625);
    close(r.weightedRecall, 0.625);
    close(r.weightedF1, 0.6309523809523809);
    close(r.weightedF1, 53 / 84);
  });

  it("flatMetrics: precision/recall/f1 are class 1's", () => {
    const f = flatMetrics(r);
    expect(f.precision).toBe(r.binary!.precision);
    expect(f.recall).toBe(r.binary!.recall);
    expect(f.f1).toBe(r.binary!.f1);
    expect(f.f1).not.toBe(f.macro_f1);
  });

  it("MCC is 0 when undefined and 1 / −1 at the extremes", () => {
    // matthews_corrcoef([0,0,1,1], [0,0,0,0]) = 0.0: cov(yp,yp) = 16 − 16 = 0
    expect(classificationReport([0, 0, 1, 1], [0, 0, 0, 0], ["a", "b"]).mcc).toBe(0);
    // constant truth: cov(yt,yt) = 0
    expect(classificationReport([1, 1, 1], [0, 1, 1], ["a", "b"]).mcc).toBe(0);
    expect(classificationReport([0, 1, 2, 1], [0, 1, 2, 1], ["a", "b", "c"]).mcc).toBe(1);
    close(classificationReport([0, 1, 0, 1], [1, 0, 1, 0], ["a", "b"]).mcc, -1);
  });

  it("accepts typed arrays", () => {
    const t = classificationReport(Int32Array.from([1, 1, 1, 1, 1, 0, 0, 0]), Int32Array.from([1, 1, 1, 0, 0, 1, 0, 0]), ["n", "p"]);
    expect(t.mcc).toBe(r.mcc);
  });
});

/*
 * Multi-label fixture, 4 examples × 4 labels; label d is never true and never predicted.
 *        yTrue      yPred
 *   r0:  1 0 1 0    1 0 0 0
 *   r1:  0 1 0 0    0 1 1 0
 *   r2:  1 1 0 0    1 0 0 0
 *   r3:  0 0 0 0    0 0 0 0
 * Per label:
 *   a: tp 2, fp 0, fn 0 → P 1, R 1, F1 1, support 2
 *   b: tp 1, fp 0, fn 1 → P 1, R 1/2, F1 2/3, support 2
 *   c: tp 0, fp 1, fn 1 → 0, 0, 0, support 1
 *   d: nothing → 0, 0, 0 (zero_division=0), support 0
 * micro: Σtp 3, Σpredicted 4, Σtrue 5 → P 3/4, R 3/5, F1 6/9 = 2/3
 * macro over all 4 labels: P (1+1)/4 = 1/2, R (1+1/2)/4 = 3/8, F1 (1+2/3)/4 = 5/12
 *   (skipping d would give F1 (5/3)/3 = 5/9)
 * Hamming loss: wrong cells r0·c, r1·c, r2·b = 3 of 16 → 3/16
 * subset accuracy: only r3 matches exactly → 1/4
 * samples: r0 P 1, R 1/2, F 2/3; r1 P 1/2, R 1, F 2/3; r2 P 1, R 1/2, F 2/3; r3 (empty) 0, 0, 0
 *   → P 5/8, R 1/2, F1 (3·2/3)/4 = 1/2
 */
const ML_LABELS = ["a", "b", "c", "d"];
const ML_TRUE = [1, 0, 1, 0, 0, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0];
const ML_PRED = [1, 0, 0, 0, 0, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0];

describe("multiLabelReport", () => {
  const r = multiLabelReport(ML_TRUE, ML_PRED, ML_LABELS);

  it("matches the hand arithmetic and sklearn", () => {
    expect(r.problemType).toBe("multi_label_classification");
    expect(r.numExamples).toBe(4);
    // accuracy_score(Yt, Yp)
    close(r.subsetAccuracy, 0.25);
    // hamming_loss(Yt, Yp)
    close(r.hammingLoss, 0.1875);
    // precision_score / recall_score / f1_score(Yt, Yp, average="micro", zero_division=0)
    close(r.microPrecision, 0.75);
    close(r.microRecall, 0.6);
    close(r.microF1, 0.6666666666666665);
    // average="macro"
    close(r.macroPrecision, 0.5);
    close(r.macroRecall, 0.375);
    close(r.macroF1, 0.41666666666666663);
    close(r.macroF1, 5 / 12);
    // average="samples"
    close(r.samplesPrecision, 0.625);
    close(r.samplesRecall, 0.5);
    close(r.samplesF1, 0.5);
    // f1_score(average=None) = [1.0, 0.6666666666666666, 0.0, 0.0]
    expect(r.perLabel.map((m) => m.label)).toEqual(ML_LABELS);
    close(r.perLabel[0].f1, 1);
    close(r.perLabel[1].f1, 0.6666666666666666);
    expect(r.perLabel[1]).toMatchObject({ precision: 1, recall: 0.5, support: 2 });
    expect(r.perLabel[2]).toEqual({ label: "c", precision: 0, recall: 0, f1: 0, support: 1 });
    expect(r.perLabel[3]).toEqual({ label: "d", precision: 0, recall: 0, f1: 0, support: 0 });
  });

  it("flatMetrics: f1 is micro F1, accuracy is subset accuracy", () => {
    const f = flatMetrics(r);
    expect(Object.keys(f)).toEqual(METRIC_NAMES.multi_label_classification);
    expect(f).toEqual({
      micro_f1: r.microF1,
      macro_f1: r.macroF1,
      micro_precision: 0.75,
      micro_recall: 0.6,
      macro_precision: 0.5,
      macro_recall: 0.375,
      f1: r.microF1,
      subset_accuracy: 0.25,
      accuracy: 0.25,
      hamming_loss: 0.1875,
    });
  });

  it("accepts typed arrays (a thresholded Float32Array)", () => {
    const t = multiLabelReport(Float32Array.from(ML_TRUE), Uint8Array.from(ML_PRED), ML_LABELS);
    expect(t).toEqual(r);
  });

  it("gives perfect scores for perfect predictions", () => {
    const p = multiLabelReport(ML_TRUE, ML_TRUE, ML_LABELS);
    expect(p.subsetAccuracy).toBe(1);
    expect(p.hammingLoss).toBe(0);
    expect(p.microF1).toBe(1);
    // d still counts as 0 in the macro mean: (1+1+1+0)/4
    close(p.macroF1, 0.75);
  });

  it("refuses non-indicator values, ragged shapes and empty input", () => {
    expect(() => multiLabelReport([1, 0.7], [1, 0], ["x", "y"])).toThrow(BertuneError);
    expect(() => multiLabelReport([1, 0.7], [1, 0], ["x", "y"])).toThrow(/example 0, label "y".*0 or 1/);
    expect(() => multiLabelReport([1, 0], [1, 2], ["x", "y"])).toThrow(/predicted/);
    expect(() => multiLabelReport([1, 0, 1], [1, 0, 1], ["x", "y"])).toThrow(/whole number of rows/);
    expect(() => multiLabelReport([1, 0], [1], ["x", "y"])).toThrow(/2 cells but the predictions have 1/);
    expect(() => multiLabelReport([], [], ["x"])).toThrow(/empty/);
    expect(() => multiLabelReport([1], [1], [])).toThrow(/no labels/);
  });
});

describe("regression helpers", () => {
  it("averageRanks gives tied values the mean of their ranks (scipy.stats.rankdata)", () => {
    // sorted: 10 (rank 1), 20,20,20 (ranks 2,3,4 → 3), 30 (rank 5)
    expect(Array.from(averageRanks([10, 20, 20, 30, 20]))).toEqual([1, 3, 3, 5, 3]);
    expect(Array.from(averageRanks([3, 1, 2]))).toEqual([3, 1, 2]);
    expect(Array.from(averageRanks([7, 7]))).toEqual([1.5, 1.5]);
  });

  it("pearson and spearman are NaN for constant vectors and fewer than 2 values, as scipy", () => {
    expect(pearson([1, 1, 1], [1, 2, 3])).toBeNaN();
    expect(pearson([1, 2, 3], [4, 4, 4])).toBeNaN();
    expect(spearman([5, 5], [1, 2])).toBeNaN();
    expect(pearson([1], [1])).toBeNaN();
    expect(spearman([1], [1])).toBeNaN();
    expect(pearson([1, 2], [5, 3])).toBe(-1);
  });
});

describe("regressionReport", () => {
  it("one target with ties", () => {
    /*
     * yTrue = [1,2,2,3,5], yPred = [1.5,2,1,4,4]
     * t − p = [−0.5, 0, 1, −1, 1]: Σ(t−p)² = 0.25+0+1+1+1 = 3.25 → MSE 0.65, RMSE √0.65, MAE 3.5/5 = 0.7
     * t̄ = 2.6, t − t̄ = [−1.6,−0.6,−0.6,0.4,2.4], Σ² = 9.2 → R² = 1 − 3.25/9.2 = 119/184
     * p̄ = 2.5, p − p̄ = [−1,−0.5,−1.5,1.5,1.5], Σ² = 8; Σ(t−t̄)(p−p̄) = 1.6+0.3+0.9+0.6+3.6 = 7
     *   → Pearson = 7/√(9.2·8) = 7/√73.6
     * ranks(t) = [1,2.5,2.5,4,5], ranks(p) = [2,3,1,4.5,4.5], both mean 3:
     *   deviations [−2,−0.5,−0.5,1,2] and [−1,0,−2,1.5,1.5], Σ² = 9.5 each, Σ products = 2+0+1+1.5+3 = 7.5
     *   → Spearman = 7.5/9.5 = 15/19 (ordinal ranks without averaging would give 0.7)
     */
    const r = regressionReport([1, 2, 2, 3, 5], [1.5, 2, 1, 4, 4], ["score"]);
    expect(r.problemType).toBe("regression");
    expect(r.numExamples).toBe(5);
    // mean_squared_error, mean_squared_error(squared=False), mean_absolute_error, r2_score
    close(r.mse, 0.65);
    close(r.rmse, 0.806225774829855);
    close(r.mae, 0.7);
    close(r.r2, 0.6467391304347827);
    close(r.r2, 119 / 184);
    // scipy.stats.pearsonr(...)[0], scipy.stats.spearmanr(...)[0]
    close(r.pearson, 0.8159417072102746);
    close(r.pearson, 7 / Math.sqrt(73.6));
    close(r.spearman, 0.7894736842105264);
    close(r.spearman, 15 / 19);
    expect(r.perTarget).toHaveLength(1);
    expect(r.perTarget[0]).toEqual({ name: "score", mse: r.mse, rmse: r.rmse, mae: r.mae, pearson: r.pearson, spearman: r.spearman, r2: r.r2 });
  });

  it("a negative R² (worse than predicting the mean)", () => {
    // yTrue [1,2,3], yPred [3,2,1]: SSres = 4+0+4 = 8, SStot = 1+0+1 = 2 → R² = 1 − 8/2 = −3
    // MSE 8/3, RMSE √(8/3), MAE 4/3; Pearson = Spearman = −1
    const r = regressionReport([1, 2, 3], [3, 2, 1], ["y"]);
    close(r.r2, -3.0);
    close(r.mse, 2.6666666666666665);
    close(r.rmse, 1.632993161855452);
    close(r.mae, 1.3333333333333333);
    // pearsonr gives -0.9999999999999998, spearmanr -1.0
    close(r.pearson, -0.9999999999999998);
    close(r.spearman, -1.0);
  });

  it("two targets: uniform averages over the targets", () => {
    /*
     * rows (x, y): true (1,2) (2,4) (3,6); predicted (1,3) (2,3) (4,6)
     * x: t [1,2,3], p [1,2,4]: se [0,0,1] → MSE 1/3, MAE 1/3, R² = 1 − 1/2 = 0.5
     *    p̄ = 7/3, deviations t [−1,0,1], p [−4/3,−1/3,5/3]: Σtp = 3, Σt² = 2, Σp² = 42/9 → r = 3/√(28/3) = √(27/28)
     *    ranks equal → Spearman 1
     * y: t [2,4,6], p [3,3,6]: se [1,1,0] → MSE 2/3, MAE 2/3, SStot 8 → R² = 1 − 2/8 = 0.75
     *    deviations t [−2,0,2], p [−1,−1,2]: Σtp = 6, Σt² = 8, Σp² = 6 → r = 6/√48 = √3/2
     *    ranks t [1,2,3], p [1.5,1.5,3]: Σtp = 1.5, Σt² = 2, Σp² = 1.5 → √3/2
     * means: MSE 1/2, MAE 1/2, R² 0.625, RMSE (√(1/3)+√(2/3))/2 (not √(1/2)),
     *        Pearson (√(27/28)+√3/2)/2, Spearman (1+√3/2)/2
     */
    const r = regressionReport([1, 2, 2, 4, 3, 6], [1, 3, 2, 3, 4, 6], ["x", "y"]);
    expect(r.numExamples).toBe(3);
    // multioutput="uniform_average" (the default) for mse, rmse (squared=False), mae, r2
    close(r.mse, 0.5);
    close(r.rmse, 0.6969234250586759);
    close(r.mae, 0.5);
    close(r.r2, 0.625);
    // np.mean of the per-target pearsonr / spearmanr statistics
    close(r.pearson, 0.9240029549232022);
    close(r.spearman, 0.9330127018922194);
    const [x, y] = r.perTarget;
    expect([x.name, y.name]).toEqual(["x", "y"]);
    // multioutput="raw_values"
    close(x.mse, 0.3333333333333333);
    close(y.mse, 0.6666666666666666);
    close(x.rmse, 0.5773502691896257);
    close(y.rmse, 0.816496580927726);
    close(x.r2, 0.5);
    close(y.r2, 0.75);
    close(x.pearson, 0.9819805060619655);
    close(y.pearson, 0.8660254037844388);
    close(x.spearman, 1.0);
    close(y.spearman, 0.8660254037844387);
    close(x.mae, 1 / 3);
    close(y.mae, 2 / 3);
  });

  it("constant truth or prediction: R² as sklearn's force_finite=True, correlations NaN", () => {
    // r2_score([2,2,2],[2,2,2]) = 1.0; pearsonr/spearmanr = nan (ConstantInputWarning)
    const exact = regressionReport([2, 2, 2], [2, 2, 2], ["y"]);
    expect(exact.r2).toBe(1);
    expect(exact.mse).toBe(0);
    expect(exact.pearson).toBeNaN();
    expect(exact.spearman).toBeNaN();
    // r2_score([2,2,2],[1,2,3]) = 0.0
    const wrong = regressionReport([2, 2, 2], [1, 2, 3], ["y"]);
    expect(wrong.r2).toBe(0);
    close(wrong.mse, 0.6666666666666666);
    expect(wrong.pearson).toBeNaN();
    // r2_score([1,2,3],[2,2,2]) = 0.0 (SSres = SStot = 2); pearsonr = nan
    const constPred = regressionReport([1, 2, 3], [2, 2, 2], ["y"]);
    expect(constPred.r2).toBe(0);
    expect(constPred.pearson).toBeNaN();
    expect(constPred.spearman).toBeNaN();
    // r2_score([1.0],[2.0]) = nan (fewer than two samples)
    expect(regressionReport([1], [2], ["y"]).r2).toBeNaN();
  });

  it("a NaN target makes the mean NaN, and JSON writes it as null", () => {
    // x is constant → its Pearson is NaN; the mean over targets is NaN too (np.mean, not np.nanmean)
    const r = regressionReport([1, 1, 1, 2, 1, 3], [1, 1, 1, 2, 1, 4], ["x", "y"]);
    expect(r.perTarget[0].pearson).toBeNaN();
    expect(r.perTarget[1].pearson).not.toBeNaN();
    expect(r.pearson).toBeNaN();
    expect(r.perTarget[0].r2).toBe(1);
    const json = JSON.parse(JSON.stringify(flatMetrics(r)));
    expect(json.pearson).toBeNull();
    expect(json.spearman).toBeNull();
    expect(json.mse).toBe(r.mse);
  });

  it("flatMetrics gives the six names", () => {
    const r = regressionReport([1, 2, 2, 3, 5], [1.5, 2, 1, 4, 4], ["score"]);
    expect(flatMetrics(r)).toEqual({ mse: r.mse, rmse: r.rmse, mae: r.mae, pearson: r.pearson, spearman: r.spearman, r2: r.r2 });
    expect(Object.keys(flatMetrics(r))).toEqual(METRIC_NAMES.regression);
  });

  it("accepts Float32Array predictions and computes in float64", () => {
    const r = regressionReport([0.1, 0.2, 0.4], Float32Array.from([0.1, 0.2, 0.4]), ["y"]);
    // the float32 rounding of 0.1 etc. leaves a tiny nonzero error, measured in float64
    expect(r.mse).toBeGreaterThan(0);
    expect(r.mse).toBeLessThan(1e-14);
  });

  it("refuses non-finite values, ragged shapes and empty input", () => {
    expect(() => regressionReport([1, NaN], [1, 2], ["y"])).toThrow(/true value at example 1, target "y" is NaN/);
    expect(() => regressionReport([1, 2], [1, Infinity], ["y"])).toThrow(/predicted value.*Infinity/);
    expect(() => regressionReport([1, 2, 3], [1, 2, 3], ["a", "b"])).toThrow(/whole number of rows of 2 targets/);
    expect(() => regressionReport([1, 2], [1], ["y"])).toThrow(/2 true values but 1 predictions/);
    expect(() => regressionReport([], [], ["y"])).toThrow(/empty/);
    expect(() => regressionReport([1], [1], [])).toThrow(/no targets/);
    expect(() => regressionReport([1], [1], [])).toThrow(BertuneError);
  });
});

describe("regression and multi-label: exact edge cases and refusals", () => {
  const EMPTY = { message: "cannot compute metrics on an empty set of examples", hint: "Check that the evaluation split is not empty." };

  it("pearson of two points is the product of the signs of the differences", () => {
    // x = [3, 1] falls (1 − 3 = −2, sign −1) though its sum 3 + 1 = 4 is positive; y rises (sign +1) → −1
    expect(pearson([3, 1], [0, 1])).toBe(-1);
    // both fall: (−1)·(−1) = 1
    expect(pearson([3, 1], [1, 0])).toBe(1);
    // a constant pair is NaN, not sign(0)·sign(…) = 0
    expect(pearson([5, 5], [1, 2])).toBeNaN();
    expect(pearson([1, 2], [4, 4])).toBeNaN();
  });

  it("pearson and spearman refuse vectors of different lengths", () => {
    expect(refusal(() => pearson([1, 2, 3], [1, 2]))).toEqual({ message: "pearson: 3 values against 2", hint: undefined });
    expect(refusal(() => spearman([1, 2, 3], [1, 2]))).toEqual({ message: "spearman: 3 values against 2", hint: undefined });
  });

  it("ties at the end of the array", () => {
    // [3,1,2,2] sorted: 1 (rank 1), 2,2 (ranks 2,3 → 2.5), 3 (rank 4)
    expect(Array.from(averageRanks([3, 1, 2, 2]))).toEqual([4, 1, 2.5, 2.5]);
    expect(Array.from(averageRanks([2, 2, 2]))).toEqual([2, 2, 2]);
    /*
     * spearmanr([1,2,3,3], [1,2,3,4]): ranks [1,2,3.5,3.5] and [1,2,3,4], both mean 2.5;
     * deviations [−1.5,−0.5,1,1] and [−1.5,−0.5,0.5,1.5]: Σxy = 2.25+0.25+0.5+1.5 = 4.5,
     * Σx² = 2.25+0.25+1+1 = 4.5, Σy² = 2.25+0.25+0.25+2.25 = 5 → 4.5/√(4.5·5) = √0.9
     */
    close(spearman([1, 2, 3, 3], [1, 2, 3, 4]), Math.sqrt(0.9));
    close(spearman([1, 2, 3, 3], [1, 2, 3, 4]), 0.9486832980505138);
  });

  it("R² of a perfect prediction is 1, also when Σ(y − ȳ)² underflows to 0", () => {
    // constant targets predicted exactly (r2_score([4,4],[4,4]) = 1.0 with force_finite)
    expect(regressionReport([4, 4], [4, 4], ["y"]).r2).toBe(1);
    // t = [0, 1e-200] is not constant, but t̄ = 5e-201 and (±5e-201)² = 2.5e-401 underflow to 0:
    // SStot = 0 and SSres = 0 → 1 (not 1 − 0/0 = NaN), as sklearn (numerator 0 → 1.0)
    const r = regressionReport([0, 1e-200], [0, 1e-200], ["y"]);
    expect(r.r2).toBe(1);
    expect(r.mse).toBe(0);
    // ... and a wrong prediction of them scores 0, as sklearn's force_finite does for SStot = 0 (not −Infinity).
    expect(regressionReport([0, 1e-200], [1, 1], ["y"]).r2).toBe(0);
  });

  it("a non-finite value is located by example and target (row-major n × T)", () => {
    // cell 3 of a 2-target matrix is example ⌊3/2⌋ = 1, target 3 mod 2 = 1 ("b")
    expect(refusal(() => regressionReport([1, 2, 3, NaN], [1, 2, 3, 4], ["a", "b"]))).toEqual({
      message: 'true value at example 1, target "b" is NaN: regression metrics need finite numbers',
      hint: "Check the regression targets (a missing or non-numeric label?) and the model's outputs.",
    });
    // cell 4 of a 2-target matrix: example 2, target "a"
    expect(refusal(() => regressionReport([1, 2, 3, 4, 5, 6], [1, 2, 3, 4, -Infinity, 6], ["a", "b"])).message).toBe(
      'predicted value at example 2, target "a" is -Infinity: regression metrics need finite numbers',
    );
  });

  it("both reports refuse an empty set with the same hint", () => {
    expect(refusal(() => regressionReport([], [], ["y"]))).toEqual(EMPTY);
    expect(refusal(() => multiLabelReport([], [], ["x"]))).toEqual(EMPTY);
  });

  it("multi-label: a non-indicator value names the matrix, the example and the label", () => {
    const hint = "Multi-label targets and predictions are 0/1 indicator matrices (threshold the sigmoid probabilities first, e.g. at 0.5).";
    expect(refusal(() => multiLabelReport([1, 0.7], [1, 0], ["x", "y"]))).toEqual({
      message: 'the true multi-label matrix has 0.7 at example 0, label "y": expected 0 or 1',
      hint,
    });
    // cell 2 of a 2-label matrix: example 1, label "x"
    expect(refusal(() => multiLabelReport([1, 0, 1, 1], [1, 0, 2, 1], ["x", "y"]))).toEqual({
      message: 'the predicted multi-label matrix has 2 at example 1, label "x": expected 0 or 1',
      hint,
    });
  });

  it("multi-label samples F1 of a row with 2 true positives and 3 predictions", () => {
    // one row: true {a,b}, predicted {a,b,c}: tp 2, |true| 2, |pred| 3
    //   P = 2/3, R = 2/2 = 1, F1 = 2·2/(2+3) = 4/5 (sklearn f1_score(average="samples"))
    const r = multiLabelReport([1, 1, 0], [1, 1, 1], ["a", "b", "c"]);
    expect(r.samplesF1).toBe(0.8);
    close(r.samplesPrecision, 2 / 3);
    expect(r.samplesRecall).toBe(1);
    // micro: the same counts pooled → P 2/3, R 1, F1 4/5
    expect(r.microF1).toBe(0.8);
  });

  it("multi-label: no true positive gives micro scores of +0 (not −0)", () => {
    // true {a}, predicted {b}: Σtp = 0, Σpredicted = 1, Σtrue = 1 → P = 0/1, R = 0/1, F1 = 0/2, all +0
    const r = multiLabelReport([1, 0], [0, 1], ["a", "b"]);
    expect(r.microPrecision).toBe(0);
    expect(r.microRecall).toBe(0);
    expect(r.microF1).toBe(0);
    expect(r.hammingLoss).toBe(1);
  });
});

describe("metric names", () => {
  it("DEFAULT_METRIC is one of each problem type's names", () => {
    expect(DEFAULT_METRIC).toEqual({ single_label_classification: "accuracy", multi_label_classification: "macro_f1", regression: "mse" });
    for (const t of PROBLEM_TYPES) expect(METRIC_NAMES[t]).toContain(DEFAULT_METRIC[t]);
  });

  it("greaterIsBetter: false for losses and error metrics, as transformers' endswith('loss')", () => {
    for (const n of ["loss", "eval_loss", "hamming_loss", "eval_hamming_loss", "mse", "rmse", "mae", "eval_mse"]) expect(greaterIsBetter(n), n).toBe(false);
    for (const n of ["accuracy", "eval_accuracy", "f1", "macro_f1", "matthews_correlation", "pearson", "spearman", "r2", "subset_accuracy"]) {
      expect(greaterIsBetter(n), n).toBe(true);
    }
  });

  it("resolveMetricName strips eval_, keeps loss, maps mcc, refuses the rest with the list", () => {
    expect(resolveMetricName("eval_accuracy", "single_label_classification")).toBe("accuracy");
    expect(resolveMetricName("f1", "single_label_classification")).toBe("f1");
    expect(resolveMetricName("mcc", "single_label_classification")).toBe("matthews_correlation");
    expect(resolveMetricName("eval_mcc", "single_label_classification")).toBe("matthews_correlation");
    expect(resolveMetricName("loss", "regression")).toBe("loss");
    expect(resolveMetricName("eval_loss", "multi_label_classification")).toBe("loss");
    expect(resolveMetricName("hamming_loss", "multi_label_classification")).toBe("hamming_loss");
    expect(resolveMetricName("eval_spearman", "regression")).toBe("spearman");
    for (const t of PROBLEM_TYPES) for (const n of METRIC_NAMES[t]) expect(resolveMetricName(n, t)).toBe(n);

    expect(() => resolveMetricName("accuracy", "regression")).toThrow(BertuneError);
    expect(() => resolveMetricName("mcc", "multi_label_classification")).toThrow(BertuneError);
    expect(() => resolveMetricName("constructor", "single_label_classification")).toThrow(BertuneError);
    expect(() => resolveMetricName("Accuracy", "single_label_classification")).toThrow(BertuneError);
    try {
      resolveMetricName("eval_pearsonr", "regression");
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(BertuneError);
      expect((e as BertuneError).message).toContain('"eval_pearsonr"');
      expect((e as BertuneError).message).toContain("regression");
      expect((e as BertuneError).hint).toContain("loss, mse, rmse, mae, pearson, spearman, r2");
    }
  });
});

describe("formatReport for each problem type", () => {
  it("single-label: weighted avg row, MCC, and class 1's binary scores for two classes", () => {
    const r = classificationReport([1, 1, 1, 1, 1, 0, 0, 0], [1, 1, 1, 0, 0, 1, 0, 0], ["neg", "pos"]);
    const text = formatReport(r);
    expect(text).toMatch(/macro avg\s+0\.6250\s+0\.6333\s+0\.6190\s+8\n/);
    expect(text).toMatch(/weighted avg\s+0\.6563\s+0\.6250\s+0\.6310\s+8\n/);
    expect(text).toContain("matthews correlation (MCC): 0.2582");
    expect(text).toContain('binary (positive class "pos"): precision 0.7500, recall 0.6000, f1 0.6667');
    const rows = text.split("\n").filter((l) => /^\s*(neg|pos|macro avg|weighted avg)\s+\d\.\d{4}/.test(l));
    expect(rows).toHaveLength(4);
    expect(new Set(rows.map((l) => l.length)).size).toBe(1);
    expect(text).toContain("confusion matrix");
  });

  it("single-label: a report saved before problem types formats as before", () => {
    const r = classificationReport([0, 1], [0, 1], ["a", "b"]);
    const old = { ...r } as Partial<typeof r>;
    for (const k of ["problemType", "mcc", "weightedPrecision", "weightedRecall", "weightedF1", "binary", "microPrecision", "microRecall", "microF1"] as const) delete old[k];
    const text = formatReport(old as EvalReport);
    expect(text).toMatch(/macro avg\s+1\.0000/);
    expect(text).not.toContain("weighted avg");
    expect(text).not.toContain("MCC");
    expect(text).toContain("confusion matrix");
    expect(flatMetrics(old as EvalReport).accuracy).toBe(1);
  });

  it("multi-label: per-label table, micro/macro/samples avg, subset accuracy and Hamming loss", () => {
    const text = formatReport(multiLabelReport(ML_TRUE, ML_PRED, ML_LABELS), { title: "validation" });
    expect(text.startsWith("validation\n")).toBe(true);
    expect(text).toMatch(/precision\s+recall\s+f1-score\s+support/);
    expect(text).toMatch(/\ba\s+1\.0000\s+1\.0000\s+1\.0000\s+2\n/);
    expect(text).toMatch(/\bb\s+1\.0000\s+0\.5000\s+0\.6667\s+2\n/);
    expect(text).toMatch(/\bd\s+0\.0000\s+0\.0000\s+0\.0000\s+0\n/);
    // support of the avg rows = Σ per-label support = 5, as sklearn prints it
    expect(text).toMatch(/micro avg\s+0\.7500\s+0\.6000\s+0\.6667\s+5\n/);
    expect(text).toMatch(/macro avg\s+0\.5000\s+0\.3750\s+0\.4167\s+5\n/);
    expect(text).toMatch(/samples avg\s+0\.6250\s+0\.5000\s+0\.5000\s+5\n/);
    expect(text).toMatch(/subset accuracy\s+0\.2500\s+4\n/);
    expect(text).toMatch(/Hamming loss\s+0\.1875\s+4\n/);
    expect(text).not.toContain("confusion matrix");
  });

  it("regression: one row per target, then their mean; NaN prints as nan", () => {
    const one = formatReport(regressionReport([1, 2, 2, 3, 5], [1.5, 2, 1, 4, 4], ["score"]));
    expect(one).toMatch(/target\s+mse\s+rmse\s+mae\s+pearson\s+spearman\s+r2\n/);
    expect(one).toMatch(/score\s+0\.6500\s+0\.8062\s+0\.7000\s+0\.8159\s+0\.7895\s+0\.6467\n/);
    expect(one).not.toContain("mean");
    expect(one).toContain("5 examples");

    const two = formatReport(regressionReport([1, 1, 1, 2, 1, 3], [1, 1, 1, 2, 1, 4], ["x", "y"]));
    expect(two).toMatch(/\bx\s+0\.0000\s+0\.0000\s+0\.0000\s+nan\s+nan\s+1\.0000\n/);
    expect(two).toMatch(/\by\s+0\.3333/);
    expect(two).toMatch(/mean\s+0\.1667\s+0\.2887\s+0\.1667\s+nan\s+nan\s+/);
    const rows = two.split("\n").filter((l) => /^\s*(x|y|mean)\s/.test(l));
    expect(rows).toHaveLength(3);
    expect(new Set(rows.map((l) => l.length)).size).toBe(1);
  });

  it("regression: wide numbers widen the columns instead of running together", () => {
    const text = formatReport(regressionReport([0, 1e6], [1e6, 0], ["y"]));
    const row = text.split("\n").find((l) => l.trimStart().startsWith("y "))!;
    expect(row.trim().split(/\s+/)).toEqual(["y", "1000000000000.0000", "1000000.0000", "1000000.0000", "-1.0000", "-1.0000", "-3.0000"]);
  });
});
