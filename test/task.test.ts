/**
 * The Task that both trainers share: which loss the args ask for (class weights, smoothing),
 * how targets reach it, the normalised-regression fold, and the best-model metric. The losses
 * themselves are checked against torch in test/objective.test.ts; here the question is whether
 * the trainers use them: step 1's logged loss of a full-batch frozen run (no dropout) must equal
 * the loss written out below on the initial head's logits.
 */
import { describe, expect, it } from "vitest";
import { BertuneError } from "../src/errors.js";
import type { ProblemType } from "../src/problem-type.js";
import { resolveArgs } from "../src/train/args.js";
import { trainHead, type FeatureSplit } from "../src/train/head-trainer.js";
import { LinearHead } from "../src/heads/linear-head.js";
import { streamSeed, STREAM_INIT } from "../src/train/seeds.js";
import { argmaxRows, evaluateLogits, evaluationTask, foldScale, isBetter, makeTask, targetsOf, type Label } from "../src/train/task.js";
import { Rng } from "../src/util/rng.js";

function features(n: number, h: number, labels: Label[], seed: number): FeatureSplit {
  const rng = new Rng(seed);
  return { data: Float32Array.from({ length: n * h }, () => rng.normal()), rows: n, labels };
}

/** The initial head of trainHead (same seed stream), to compute step 1's loss independently. */
function initialLogits(split: FeatureSplit, h: number, k: number, seed: number): number[][] {
  const head = LinearHead.init(h, k, { seed: streamSeed(seed, STREAM_INIT), dropout: 0, initializerRange: 0.5 });
  const out = head.logits(split.data, split.rows);
  return Array.from({ length: split.rows }, (_, r) => Array.from(out.subarray(r * k, (r + 1) * k)));
}

const firstLoss = (r: ReturnType<typeof trainHead>) => r.state.log_history.find((e) => e.step === 1)!.loss!;

describe("the trainers use the task's loss", () => {
  const h = 6;
  const n = 12;
  const base = { numTrainEpochs: 1, perDeviceTrainBatchSize: n, loggingSteps: 1, learningRate: 1e-3, evalStrategy: "no" as const, freezeBackbone: true, seed: 3 };

  it("single-label with --class-weights 1,3,0.5 and --label-smoothing 0.2: torch's weighted, smoothed cross-entropy", () => {
    const labels = [0, 1, 2, 1, 0, 0, 2, 1, 1, 0, 2, 0];
    const split = features(n, h, labels, 1);
    const args = resolveArgs({ ...base, classWeights: [1, 3, 0.5], labelSmoothingFactor: 0.2 });
    const r = trainHead({ train: split, validation: split, hiddenSize: h, id2label: ["a", "b", "c"], dropout: 0, initializerRange: 0.5, task: makeTask({ problemType: "single_label_classification", id2label: ["a", "b", "c"], train: labels }, args) }, args);
    // L = Σ_i Σ_c [(1−ε)·w_y·1{c=y} + (ε/K)·w_c]·(−log p_ic) / Σ_i w_{y_i}
    const w = [1, 3, 0.5];
    const eps = 0.2;
    let num = 0;
    let den = 0;
    initialLogits(split, h, 3, 3).forEach((z, i) => {
      const m = Math.max(...z);
      const lse = m + Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0));
      z.forEach((v, c) => (num += ((1 - eps) * w[labels[i]] * (c === labels[i] ? 1 : 0) + (eps / 3) * w[c]) * (lse - v)));
      den += w[labels[i]];
    });
    expect(firstLoss(r)).toBeCloseTo(num / den, 5);
  });

  it("multi-label with --class-weights balanced: BCE with pos_weight = negatives / positives per label", () => {
    const labels = Array.from({ length: n }, (_, i) => [i % 2, +(i % 3 === 0), +(i % 4 === 0)]);
    const split = features(n, h, labels, 2);
    const args = resolveArgs({ ...base, classWeights: "balanced" });
    const task = makeTask({ problemType: "multi_label_classification", id2label: ["x", "y", "z"], train: labels }, args);
    // positives per label: 6, 4, 3 of 12 → pos_weight 6/6, 8/4, 9/3
    expect(Array.from(task.objective.classWeights!)).toEqual([1, 2, 3]);
    const r = trainHead({ train: split, validation: split, hiddenSize: h, id2label: ["x", "y", "z"], dropout: 0, initializerRange: 0.5, task }, args);
    const pw = [1, 2, 3];
    let sum = 0;
    initialLogits(split, h, 3, 3).forEach((z, i) =>
      z.forEach((v, j) => {
        const y = labels[i][j];
        const logSig = -Math.log1p(Math.exp(-v));
        const logOneMinus = -Math.log1p(Math.exp(v));
        sum += -(pw[j] * y * logSig + (1 - y) * logOneMinus);
      }),
    );
    expect(firstLoss(r)).toBeCloseTo(sum / (n * 3), 5);
  });

  it("regression with --normalize-targets: MSE on (y − mean)/std, the saved head folded back to the data's units", () => {
    const ys = [0.5, 1, 2, 3.5, 4, 5, 1.5, 2.5, 3, 0, 4.5, 2];
    const labels = ys.map((y) => [y]);
    const split = features(n, h, labels, 4);
    const args = resolveArgs({ ...base, normalizeTargets: true });
    const task = makeTask({ problemType: "regression", id2label: ["LABEL_0"], train: labels }, args);
    const mean = ys.reduce((a, b) => a + b, 0) / n;
    const std = Math.sqrt(ys.reduce((s, y) => s + (y - mean) ** 2, 0) / n);
    expect(task.scale!.mean[0]).toBeCloseTo(mean, 12);
    expect(task.scale!.std[0]).toBeCloseTo(std, 12);
    expect(Array.from(targetsOf(task, labels))).toEqual(ys.map((y) => Math.fround((y - mean) / std)));
    const r = trainHead({ train: split, validation: split, hiddenSize: h, id2label: ["LABEL_0"], dropout: 0, initializerRange: 0.5, task }, args);
    const z = initialLogits(split, h, 1, 3).map((row) => row[0]);
    expect(firstLoss(r)).toBeCloseTo(z.reduce((s, v, i) => s + (v - (ys[i] - mean) / std) ** 2, 0) / n, 5);

    // The fold: a head of the folded tensors gives std·(Wx + b) + mean.
    const folded = foldScale(r.head.toTensors(), task.scale);
    const w = folded["classifier.weight"].data as Float32Array;
    const b = folded["classifier.bias"].data as Float32Array;
    const plain = r.head.logits(split.data, n);
    for (let i = 0; i < n; i++) {
      let v = b[0];
      for (let j = 0; j < h; j++) v += w[j] * split.data[i * h + j];
      expect(v).toBeCloseTo(plain[i] * std + mean, 4);
    }
    // Evaluation reports metrics in the data's units and the loss on normalised targets.
    const e = evaluateLogits(task, plain, labels);
    const preds = Array.from(plain, (v) => v * std + mean);
    expect(e.metrics.mse).toBeCloseTo(preds.reduce((s, p, i) => s + (p - ys[i]) ** 2, 0) / n, 4);
    expect(e.loss).toBeCloseTo(preds.reduce((s, p, i) => s + ((p - ys[i]) / std) ** 2, 0) / n, 4);
  });
});

describe("the best-model metric", () => {
  const args = resolveArgs({ freezeBackbone: true });
  const task = (problemType: "single_label_classification" | "regression", metric?: string, greater?: boolean) =>
    makeTask({ problemType, id2label: problemType === "regression" ? ["LABEL_0"] : ["a", "b"], train: problemType === "regression" ? [[1], [2]] : [0, 1] }, { ...args, metricForBestModel: metric, greaterIsBetter: greater });

  it("defaults by problem type and infers the direction as transformers does", () => {
    expect([task("single_label_classification").metric, task("single_label_classification").greaterIsBetter]).toEqual(["accuracy", true]);
    expect([task("regression").metric, task("regression").greaterIsBetter]).toEqual(["mse", false]);
    expect([task("regression", "eval_pearson").metric, task("regression", "eval_pearson").greaterIsBetter]).toEqual(["pearson", true]);
    expect([task("single_label_classification", "eval_loss").metric, task("single_label_classification", "loss").greaterIsBetter]).toEqual(["loss", false]);
    expect(task("single_label_classification", "mcc").metric).toBe("matthews_correlation");
    expect(task("single_label_classification", "loss", true).greaterIsBetter).toBe(true);
  });

  it("a better value replaces the best in the metric's direction; NaN never does", () => {
    const up = task("single_label_classification");
    const down = task("regression");
    expect([isBetter(up, 0.6, 0.5), isBetter(up, 0.5, 0.5), isBetter(up, 0.4, 0.5), isBetter(up, 0.1, null)]).toEqual([true, false, false, true]);
    expect([isBetter(down, 0.4, 0.5), isBetter(down, 0.5, 0.5), isBetter(down, 0.6, 0.5)]).toEqual([true, false, false]);
    expect([isBetter(up, NaN, 0.5), isBetter(up, NaN, null), isBetter(up, 0.2, NaN)]).toEqual([false, false, true]);
  });

  it("refuses weights that do not fit and options that do not fit the problem type", () => {
    expect(() => makeTask({ problemType: "single_label_classification", id2label: ["a", "b"], train: [0, 1] }, { ...args, classWeights: [1, 2, 3] })).toThrow(/3 weights but the data has 2 labels/);
    expect(() => makeTask({ problemType: "regression", id2label: ["LABEL_0"], train: [[1]] }, { ...args, classWeights: "balanced" })).toThrow(/not to regression/);
    expect(() => makeTask({ problemType: "multi_label_classification", id2label: ["a", "b"], train: [[1, 0]] }, { ...args, labelSmoothingFactor: 0.1 })).toThrow(/--label-smoothing applies to single-label/);
    expect(() => makeTask({ problemType: "single_label_classification", id2label: ["a", "b"], train: [0, 1] }, { ...args, normalizeTargets: true })).toThrow(/--normalize-targets applies to regression/);
  });
});

/** What fn throws (it must throw). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error("expected a throw");
}

/** A BertuneError's message and hint, exactly. */
function refusal(fn: () => unknown): { message: string; hint: string | undefined } {
  const e = thrown(fn);
  expect(e).toBeInstanceOf(BertuneError);
  return { message: (e as BertuneError).message, hint: (e as BertuneError).hint };
}

describe("makeTask's refusals and weights, exactly", () => {
  const args = resolveArgs({ freezeBackbone: true });
  const single = { problemType: "single_label_classification" as const, id2label: ["a", "b"], train: [0, 1] };

  it("each option that does not fit the problem type or the labels: message and hint", () => {
    expect(refusal(() => makeTask({ problemType: "multi_label_classification", id2label: ["a", "b"], train: [[1, 0]] }, { ...args, labelSmoothingFactor: 0.1 }))).toEqual({
      message: "--label-smoothing applies to single-label classification, not to multi_label_classification",
      hint: "drop --label-smoothing",
    });
    // Explicit weights (not "balanced", which balancedWeights would refuse with its own words) on regression.
    expect(refusal(() => makeTask({ problemType: "regression", id2label: ["LABEL_0"], train: [[1]] }, { ...args, classWeights: [1] }))).toEqual({
      message: "--class-weights applies to classification, not to regression",
      hint: "drop --class-weights",
    });
    expect(refusal(() => makeTask({ problemType: "regression", id2label: ["LABEL_0"], train: [[1]] }, { ...args, classWeights: "balanced" }))).toEqual({
      message: "--class-weights applies to classification, not to regression",
      hint: "drop --class-weights",
    });
    expect(refusal(() => makeTask(single, { ...args, classWeights: [1, 2, 3] }))).toEqual({
      message: "--class-weights has 3 weights but the data has 2 labels (a, b)",
      hint: "give one weight per label, in id order, or --class-weights balanced",
    });
    expect(refusal(() => makeTask(single, { ...args, normalizeTargets: true }))).toEqual({
      message: "--normalize-targets applies to regression",
      hint: "drop --normalize-targets",
    });
  });

  it("single-label --class-weights balanced: n/(K·count_c) from the class ids", () => {
    // counts [3, 1] of n = 4, K = 2 → [4/(2·3), 4/(2·1)] = [2/3, 2]
    const task = makeTask({ problemType: "single_label_classification", id2label: ["a", "b"], train: [0, 0, 1, 0] }, { ...args, classWeights: "balanced" });
    expect(Array.from(task.objective.classWeights!)).toEqual([Math.fround(2 / 3), 2]);
  });

  it("--normalize-targets keeps std 1 for a constant target column", () => {
    // column 0: [2, 2] → mean 2, variance 0 → std 1 (not 0); column 1: [1, 5] → mean 3, variance ((−2)² + 2²)/2 = 4 → std 2
    const train = [[2, 1], [2, 5]];
    const task = makeTask({ problemType: "regression", id2label: ["u", "v"], train }, { ...args, normalizeTargets: true });
    expect(task.scale).toEqual({ mean: [2, 3], std: [1, 2] });
    // (y − mean)/std: [(2−2)/1, (1−3)/2, (2−2)/1, (5−3)/2] = [0, −1, 0, 1]
    expect(Array.from(targetsOf(task, train))).toEqual([0, -1, 0, 1]);
  });

  it("foldScale refuses a scale of another number of targets than the head's outputs", () => {
    const tensors = {
      "classifier.weight": { dtype: "F32" as const, shape: [2, 1], data: Float32Array.from([1, 2]) },
      "classifier.bias": { dtype: "F32" as const, shape: [2], data: Float32Array.from([0, 0]) },
    };
    const e = thrown(() => foldScale(tensors, { mean: [0], std: [1] }));
    expect(e).not.toBeInstanceOf(BertuneError);
    expect((e as Error).message).toBe("a head of 2 outputs cannot take the scale of 1 targets");
  });
});

describe("--metric-for-best-model refusals, exactly", () => {
  const args = resolveArgs({ freezeBackbone: true });
  const withMetric = (problemType: ProblemType, id2label: string[], train: Label[], metric: string) =>
    makeTask({ problemType, id2label, train }, { ...args, metricForBestModel: metric });

  it("a name that is not a metric of the problem type: the message names it, the hint lists the ones that are", () => {
    expect(refusal(() => withMetric("single_label_classification", ["a", "b"], [0, 1], "eval_mse"))).toEqual({
      message: '"eval_mse" is not a metric of single-label-classification',
      hint: "Use one of: loss, accuracy, macro_precision, macro_recall, macro_f1, precision, recall, f1, micro_f1, weighted_precision, weighted_recall, weighted_f1, matthews_correlation (or mcc); an eval_ prefix is allowed.",
    });
    expect(refusal(() => withMetric("multi_label_classification", ["a", "b"], [[1, 0]], "mcc"))).toEqual({
      message: '"mcc" is not a metric of multi-label-classification',
      hint: "Use one of: loss, micro_f1, macro_f1, micro_precision, micro_recall, macro_precision, macro_recall, f1, subset_accuracy, accuracy, hamming_loss; an eval_ prefix is allowed.",
    });
    expect(refusal(() => withMetric("regression", ["LABEL_0"], [[1]], "accuracy"))).toEqual({
      message: '"accuracy" is not a metric of regression',
      hint: "Use one of: loss, mse, rmse, mae, pearson, spearman, r2; an eval_ prefix is allowed.",
    });
  });

  it("an unknown problem type is refused by name", () => {
    expect(refusal(() => withMetric("ranking" as ProblemType, ["a"], [0], "accuracy"))).toEqual({ message: 'unknown problem type "ranking"', hint: undefined });
  });
});

describe("evaluateLogits by hand, per problem type", () => {
  it("single-label, K = 3: argmax with ties to the first maximum (numpy's argmax); report and plain cross-entropy", () => {
    const task = evaluationTask("single_label_classification", ["a", "b", "c"]);
    // rows: [0, 1, 2] → 2; [3, 3, 0] → 0 (tie, first); [0, 5, 5] → 1 (tie, first); [2, 0, 1] → 0
    const logits = Float32Array.from([0, 1, 2, 3, 3, 0, 0, 5, 5, 2, 0, 1]);
    const labels = [2, 0, 1, 1];
    expect(argmaxRows(logits, 3)).toEqual([2, 0, 1, 0]);
    const e = evaluateLogits(task, logits, labels);
    // per class (P, R, F1, support): a (1/2, 1, 2/3, 1), b (1, 1/2, 2/3, 2), c (1, 1, 1, 1)
    // macro P = (1/2 + 1 + 1)/3 = 5/6, macro R = 5/6, macro F1 = (2/3 + 2/3 + 1)/3 = 7/9
    // weighted P = (1·1/2 + 2·1 + 1·1)/4 = 7/8, weighted R = (1 + 2·1/2 + 1)/4 = 3/4, weighted F1 = (2/3 + 4/3 + 1)/4 = 3/4
    // MCC: c = 3, s = 4, t = [1, 2, 1], p = [2, 1, 1]: (3·4 − (2 + 2 + 1)) / √((16 − 6)·(16 − 6)) = 7/10
    expect(Object.keys(e.metrics)).toEqual(["accuracy", "macro_precision", "macro_recall", "macro_f1", "precision", "recall", "f1", "micro_f1", "weighted_precision", "weighted_recall", "weighted_f1", "matthews_correlation"]);
    const want = { accuracy: 3 / 4, macro_precision: 5 / 6, macro_recall: 5 / 6, macro_f1: 7 / 9, precision: 5 / 6, recall: 5 / 6, f1: 7 / 9, micro_f1: 3 / 4, weighted_precision: 7 / 8, weighted_recall: 3 / 4, weighted_f1: 3 / 4, matthews_correlation: 7 / 10 };
    for (const [name, v] of Object.entries(want)) expect(e.metrics[name], name).toBeCloseTo(v, 12);
    expect(e.report.problemType).toBe("single_label_classification");
    // −log p of the true class per row: ln(1 + e^−1 + e^−2) = 0.4076060, ln(2 + e^−3) = 0.7177359,
    // ln(2 + e^−5) = 0.6965105, 2 + ln(1 + e^−2 + e^−1) = 2.4076060; mean = 4.2294584 / 4 = 1.0573646
    expect(e.loss).toBeCloseTo(1.0573646, 6);
  });

  it("multi-label at threshold 0.5: a logit of exactly 0 (σ = 0.5) is predicted; report and BCE", () => {
    const task = evaluationTask("multi_label_classification", ["x", "y"], 0.5);
    const LN3 = Math.log(3);
    // σ: [0.5, 0.25], [0.75, 0.5], [0.25, 0.881] → predictions [1, 0], [1, 1], [0, 1]
    const logits = Float32Array.from([0, -LN3, LN3, 0, -LN3, 2]);
    const labels = [[1, 0], [1, 0], [0, 1]];
    const e = evaluateLogits(task, logits, labels);
    // x: tp 2, fp 0, fn 0 → P = R = F1 = 1; y: tp 1, fp 1 (row 1), fn 0 → P = 1/2, R = 1, F1 = 2/3
    // micro: tp 3, fp 1, fn 0 → P = 3/4, R = 1, F1 = 6/7; macro P = 3/4, R = 1, F1 = (1 + 2/3)/2 = 5/6
    // subset accuracy: rows 0 and 2 of 3 = 2/3; hamming: 1 wrong cell of 6 = 1/6
    expect(Object.keys(e.metrics)).toEqual(["micro_f1", "macro_f1", "micro_precision", "micro_recall", "macro_precision", "macro_recall", "f1", "subset_accuracy", "accuracy", "hamming_loss"]);
    const want = { micro_f1: 6 / 7, macro_f1: 5 / 6, micro_precision: 3 / 4, micro_recall: 1, macro_precision: 3 / 4, macro_recall: 1, f1: 6 / 7, subset_accuracy: 2 / 3, accuracy: 2 / 3, hamming_loss: 1 / 6 };
    for (const [name, v] of Object.entries(want)) expect(e.metrics[name], name).toBeCloseTo(v, 12);
    expect(e.report.problemType).toBe("multi_label_classification");
    // cells: softplus(−0) = ln 2, softplus(−ln 3) = ln 4/3, softplus(−ln 3) = ln 4/3, softplus(0) = ln 2, ln 4/3, softplus(−2) = ln(1 + e^−2)
    // = (2·0.6931472 + 3·0.2876821 + 0.1269280) / 6 = 2.3762686 / 6 = 0.3960448
    expect(e.loss).toBeCloseTo(0.3960448, 6);
  });

  it("normalised regression, K = 2, logits of a padded batch: metrics in the data's units, loss on normalised targets", () => {
    const args = resolveArgs({ freezeBackbone: true, normalizeTargets: true });
    const labels = [[-1, 5], [3, 15]];
    // mean [1, 10], std [2, 5]
    const task = makeTask({ problemType: "regression", id2label: ["u", "v"], train: labels }, args);
    expect(task.scale).toEqual({ mean: [1, 10], std: [2, 5] });
    // two rows of logits and a padding row that is not an example
    const logits = Float32Array.from([-1, -1, 0.5, 1, 99, 99]);
    const e = evaluateLogits(task, logits, labels);
    // predictions z·std + mean: [−1·2 + 1, −1·5 + 10] = [−1, 5], [0.5·2 + 1, 1·5 + 10] = [2, 15]
    // u: errors [0, −1] → mse 1/2, rmse √(1/2), mae 1/2, pearson 1, spearman 1, r2 1 − 1/((−2)² + 2²) = 7/8
    // v: exact → mse 0, rmse 0, mae 0, pearson 1, spearman 1, r2 1; the report averages the two
    expect(Object.keys(e.metrics)).toEqual(["mse", "rmse", "mae", "pearson", "spearman", "r2"]);
    const want = { mse: 1 / 4, rmse: Math.SQRT1_2 / 2, mae: 1 / 4, pearson: 1, spearman: 1, r2: 15 / 16 };
    for (const [name, v] of Object.entries(want)) expect(e.metrics[name], name).toBeCloseTo(v, 12);
    expect(e.report.problemType).toBe("regression");
    // normalised targets [−1, −1, 1, 1] against [−1, −1, 0.5, 1]: (0 + 0 + 0.25 + 0)/4 = 0.0625
    expect(e.loss).toBe(0.0625);
  });
});
