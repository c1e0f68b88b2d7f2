/**
 * The Task that both trainers share: which loss the args ask for (class weights, smoothing),
 * how targets reach it, the normalised-regression fold, and the best-model metric. The losses
 * themselves are checked against torch in test/objective.test.ts; here the question is whether
 * the trainers use them: step 1's logged loss of a full-batch frozen run (no dropout) must equal
 * the loss written out below on the initial head's logits.
 */
import { describe, expect, it } from "vitest";
import { resolveArgs } from "../src/train/args.js";
import { trainHead, type FeatureSplit } from "../src/train/head-trainer.js";
import { LinearHead } from "../src/heads/linear-head.js";
import { streamSeed, STREAM_INIT } from "../src/train/seeds.js";
import { evaluateLogits, foldScale, isBetter, makeTask, targetsOf, type Label } from "../src/train/task.js";
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
