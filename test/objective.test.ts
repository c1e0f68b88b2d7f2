/**
 * The losses of transformers' three problem types against PyTorch (scripts/make_loss_references.py:
 * torch's CrossEntropyLoss with weight and label_smoothing, BCEWithLogitsLoss with pos_weight,
 * MSELoss, float64 autograd), in both code paths: the plain-array objective and head (frozen
 * path) and the tfjs loss under tf.grad (full fine-tuning); plus tiny cases worked by hand.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tf, useBackend } from "../src/backend/tfjs.js";
import { BertuneError } from "../src/errors.js";
import { ClassificationHead, crossEntropy } from "../src/heads/classification-head.js";
import { headGradientBuffers, LinearHead, linearHeadGradients, scoreLogits, scoreObjective } from "../src/heads/linear-head.js";
import { activate, balancedWeights, objectiveLoss, objectiveLossTensor, type Objective } from "../src/heads/objective.js";
import type { ProblemType } from "../src/problem-type.js";
import { testBackends } from "./helpers/backends.js";
import { maxAbsDiff } from "./helpers/numbers.js";

const DIR = join(import.meta.dirname, "fixtures", "losses");
const TOL = 1e-5;

interface Case {
  name: string;
  problem_type: ProblemType;
  rows: number;
  hidden: number;
  num_labels: number;
  class_weights?: number[];
  label_smoothing?: number;
  x: number[];
  weight: number[];
  bias: number[];
  targets: number[];
  logits: number[];
  loss: number;
  dlogits: number[];
  dweight: number[];
  dbias: number[];
}

const CASES: Case[] = readdirSync(DIR)
  .filter((f) => f.endsWith(".json") && f !== "balanced.json")
  .sort()
  .map((f) => ({ name: f.replace(/\.json$/, ""), ...JSON.parse(readFileSync(join(DIR, f), "utf8")) }));
const BALANCED = JSON.parse(readFileSync(join(DIR, "balanced.json"), "utf8"));

const objectiveOf = (c: Case): Objective => ({
  problemType: c.problem_type,
  numLabels: c.num_labels,
  ...(c.class_weights && { classWeights: Float32Array.from(c.class_weights) }),
  ...(c.label_smoothing !== undefined && { labelSmoothing: c.label_smoothing }),
});

/** The largest difference from torch seen per check, printed with BERTUNE_REPORT_DIFFS=1. */
const measured: Record<string, number> = {};
const within = (what: string, d: number) => {
  measured[what] = Math.max(measured[what] ?? 0, d);
  expect(d, what).toBeLessThan(TOL);
};
afterAll(() => {
  if (process.env.BERTUNE_REPORT_DIFFS === "1") console.log(JSON.stringify(measured, null, 1));
});

it("the fixtures cover every case the issue names, and each one's options visibly change the loss", () => {
  expect(CASES.map((c) => c.name)).toEqual([
    "multi_plain", "multi_pos_weight", "regression_k1", "regression_k3",
    "single_plain", "single_smoothed", "single_weighted", "single_weighted_smoothed",
  ]);
  const loss = Object.fromEntries(CASES.map((c) => [c.name, c.loss]));
  for (const variant of ["single_smoothed", "single_weighted", "single_weighted_smoothed"]) expect(Math.abs(loss[variant] - loss.single_plain)).toBeGreaterThan(0.1);
  expect(Math.abs(loss.multi_pos_weight - loss.multi_plain)).toBeGreaterThan(0.1);
});

describe.each(CASES.map((c) => [c.name, c] as const))("%s against torch", (_, c) => {
  const obj = objectiveOf(c);

  it("objectiveLoss: loss and dL/dlogits", () => {
    const logits = Float32Array.from(c.logits);
    const grad = new Float32Array(logits.length);
    within("objectiveLoss loss", Math.abs(objectiveLoss(obj, logits, c.rows, c.targets, grad) - c.loss));
    within("objectiveLoss dlogits", maxAbsDiff(grad, c.dlogits));
    // Without a gradient buffer: the same loss, the logits untouched; in place: the same gradient.
    expect(objectiveLoss(obj, logits, c.rows, c.targets)).toBe(objectiveLoss(obj, logits, c.rows, c.targets, grad));
    expect(Array.from(logits)).toEqual(Array.from(Float32Array.from(c.logits)));
    objectiveLoss(obj, logits, c.rows, c.targets, logits);
    expect(Array.from(logits)).toEqual(Array.from(grad));
  });

  it("linearHeadGradients with the objective: loss, dL/dW, dL/db", () => {
    const head = new LinearHead(c.hidden, c.num_labels, Float32Array.from(c.weight), Float32Array.from(c.bias));
    const x = Float32Array.from(c.x);
    within("head logits", maxAbsDiff(head.logits(x, c.rows), c.logits));
    const grads = headGradientBuffers(head, c.rows);
    within("linearHeadGradients loss", Math.abs(linearHeadGradients(head, x, c.targets, grads, obj) - c.loss));
    within("linearHeadGradients dW", maxAbsDiff(grads.weight, c.dweight));
    within("linearHeadGradients db", maxAbsDiff(grads.bias, c.dbias));
    const scored = scoreObjective(obj, head.logits(x, c.rows), c.rows, c.targets);
    within("scoreObjective loss", Math.abs(scored.loss - c.loss));
    expect(Array.from(scored.scores)).toEqual(Array.from(activate(c.problem_type, head.logits(x, c.rows), c.num_labels)));
  });
});

const BACKENDS = await testBackends();

describe.each(BACKENDS)("objectiveLossTensor under tf.grad, on %s", (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  it.each(CASES.map((c) => [c.name, c] as const))("%s: loss, dL/dlogits, and dL/dW, dL/db through ClassificationHead", async (_, c) => {
    const obj = objectiveOf(c);
    const before = tf.memory().numTensors;
    const z = tf.tensor2d(Float32Array.from(c.logits), [c.rows, c.num_labels]);
    const loss = objectiveLossTensor(obj, z, c.targets);
    const dz = tf.grad((t: tf.Tensor) => objectiveLossTensor(obj, t as tf.Tensor2D, c.targets))(z);
    within(`tfjs ${backend} loss`, Math.abs((await loss.data())[0] - c.loss));
    within(`tfjs ${backend} dlogits`, maxAbsDiff(await dz.data(), c.dlogits));
    tf.dispose([z, loss, dz]);

    const head = new ClassificationHead(new LinearHead(c.hidden, c.num_labels, Float32Array.from(c.weight), Float32Array.from(c.bias)));
    const x = tf.tensor2d(Float32Array.from(c.x), [c.rows, c.hidden]);
    const { value, grads } = tf.variableGrads(() => objectiveLossTensor(obj, head.logits(x), c.targets), [head.kernel, head.bias]);
    within(`tfjs ${backend} head loss`, Math.abs((await value.data())[0] - c.loss));
    // The kernel is [hidden, K]: its gradient is the transpose of torch's dL/dW.
    const dw = tf.transpose(grads[head.kernel.name]);
    within(`tfjs ${backend} dW`, maxAbsDiff(await dw.data(), c.dweight));
    within(`tfjs ${backend} db`, maxAbsDiff(await grads[head.bias.name].data(), c.dbias));
    tf.dispose([x, value, dw, ...Object.values(grads)]);
    head.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("crossEntropy is the plain single-label objective", async () => {
    const c = CASES.find((k) => k.name === "single_plain")!;
    const z = tf.tensor2d(Float32Array.from(c.logits), [c.rows, c.num_labels]);
    const l = crossEntropy(z, c.targets, c.num_labels);
    within(`tfjs ${backend} crossEntropy`, Math.abs((await l.data())[0] - c.loss));
    tf.dispose([z, l]);
  });
});

describe("tiny cases by hand", () => {
  const LN3 = Math.log(3);
  // Logits [0, ln 3]: softmax [1/4, 3/4]; σ(0) = 1/2, σ(ln 3) = 3/4.

  it("single-label, label-smoothed: one row [0, ln 3], class 0, ε = 0.2, K = 2", () => {
    // −lp = [ln 4, ln 4/3] = [1.3862944, 0.2876821]
    // L = (1 − ε)·ln 4 + (ε/K)·(ln 4 + ln 4/3) = 0.8·1.3862944 + 0.1·1.6739764 = 1.1090355 + 0.1673976 = 1.2764332
    // dL/dz = p − (1 − ε)·onehot − ε/K = [0.25 − 0.8 − 0.1, 0.75 − 0.1] = [−0.65, 0.65]
    const grad = new Float32Array(2);
    const obj: Objective = { problemType: "single_label_classification", numLabels: 2, labelSmoothing: 0.2 };
    expect(objectiveLoss(obj, Float32Array.from([0, LN3]), 1, [0], grad)).toBeCloseTo(1.2764332, 6);
    expect(Array.from(grad)).toEqual([expect.closeTo(-0.65, 6), expect.closeTo(0.65, 6)]);
  });

  it("single-label, weighted: rows [0, ln 3] with classes 0 and 1, w = [1, 3]: divided by Σ w[y_i] = 4, not rows", () => {
    // L = (1·ln 4 + 3·ln 4/3) / (1 + 3) = (1.3862944 + 0.8630462) / 4 = 0.5623351   (÷ rows: 1.1246703)
    // dL/dz row 0 = 1·[0.25 − 1, 0.75] / 4 = [−0.1875, 0.1875]; row 1 = 3·[0.25, 0.75 − 1] / 4 = [0.1875, −0.1875]
    const grad = new Float32Array(4);
    const obj: Objective = { problemType: "single_label_classification", numLabels: 2, classWeights: Float32Array.from([1, 3]) };
    expect(objectiveLoss(obj, Float32Array.from([0, LN3, 0, LN3]), 2, [0, 1], grad)).toBeCloseTo(0.5623351, 6);
    [-0.1875, 0.1875, 0.1875, -0.1875].forEach((g, i) => expect(grad[i]).toBeCloseTo(g, 6));
  });

  it("multi-label with pos_weight: one row [0, ln 3], targets [1, 0], pos_weight [3, 1]", () => {
    // ℓ0 = −3·1·ln σ(0) = 3 ln 2 = 2.0794415; ℓ1 = −ln(1 − σ(ln 3)) = ln 4 = 1.3862944; mean = 1.7328680
    // dℓ/dz = (1 − t)·σ(z) − p·t·σ(−z), ÷ 2: [−3·0.5/2, 0.75/2] = [−0.75, 0.375]
    const grad = new Float32Array(2);
    const obj: Objective = { problemType: "multi_label_classification", numLabels: 2, classWeights: Float32Array.from([3, 1]) };
    expect(objectiveLoss(obj, Float32Array.from([0, LN3]), 1, [1, 0], grad)).toBeCloseTo(1.732868, 6);
    [-0.75, 0.375].forEach((g, i) => expect(grad[i]).toBeCloseTo(g, 6));
    // Stable far out: z = ±200 with the right target costs e^−200 ≈ 0, the wrong one 200.
    expect(objectiveLoss({ problemType: "multi_label_classification", numLabels: 2 }, Float32Array.from([200, -200]), 1, [1, 1])).toBeCloseTo(100, 6);
  });

  it("regression: K = 1, logits [1, 3], targets [0, 5]", () => {
    // L = ((1 − 0)² + (3 − 5)²) / 2 = 2.5; dL/dz = 2·(z − t)/2 = [1, −2]
    const grad = new Float32Array(2);
    expect(objectiveLoss({ problemType: "regression", numLabels: 1 }, Float32Array.from([1, 3]), 2, [0, 5], grad)).toBe(2.5);
    expect(Array.from(grad)).toEqual([1, -2]);
  });

  it("activate: softmax, sigmoid, identity", () => {
    const z = Float32Array.from([0, LN3]);
    [0.25, 0.75].forEach((p, i) => expect(activate("single_label_classification", z, 2)[i]).toBeCloseTo(p, 6));
    [0.5, 0.75].forEach((p, i) => expect(activate("multi_label_classification", z, 2)[i]).toBeCloseTo(p, 6));
    expect(Array.from(activate("multi_label_classification", Float32Array.from([-1000, 1000]), 2))).toEqual([0, 1]);
    const same = activate("regression", z, 2);
    expect(same).not.toBe(z);
    expect(Array.from(same)).toEqual(Array.from(z));
  });

  it("balanced weights: [0, 0, 0, 1] over 2 classes → 4/(2·3), 4/(2·1); and the numpy fixture", () => {
    expect(Array.from(balancedWeights("single_label_classification", [0, 0, 0, 1], 4, 2))).toEqual([expect.closeTo(2 / 3, 6), 2]);
    const s = BALANCED.single;
    expect(maxAbsDiff(balancedWeights("single_label_classification", s.targets, s.targets.length, s.num_labels), s.weights)).toBeLessThan(1e-6);
    const m = BALANCED.multi;
    expect(maxAbsDiff(balancedWeights("multi_label_classification", m.targets, m.rows, m.num_labels), m.weights)).toBeLessThan(1e-6);
    expect(() => balancedWeights("single_label_classification", [0, 0, 2], 3, 3)).toThrow(BertuneError);
    expect(() => balancedWeights("single_label_classification", [0, 0, 2], 3, 3)).toThrow(/class 1 has none/);
    expect(() => balancedWeights("regression", [0.5], 1, 1)).toThrow(BertuneError);
  });
});

describe("edges", () => {
  const single = (k: number): Objective => ({ problemType: "single_label_classification", numLabels: k });

  it("the default objective of linearHeadGradients is plain cross-entropy, as scoreLogits and crossEntropy compute", () => {
    const c = CASES.find((k) => k.name === "single_plain")!;
    const head = new LinearHead(c.hidden, c.num_labels, Float32Array.from(c.weight), Float32Array.from(c.bias));
    const x = Float32Array.from(c.x);
    const a = headGradientBuffers(head, c.rows);
    const b = headGradientBuffers(head, c.rows);
    expect(linearHeadGradients(head, x, c.targets, a)).toBe(linearHeadGradients(head, x, c.targets, b, single(c.num_labels)));
    expect(Array.from(a.weight)).toEqual(Array.from(b.weight));
    expect(scoreLogits(head.logits(x, c.rows), c.num_labels, c.targets).loss).toBeCloseTo(c.loss, 5);
  });

  it("an empty batch has loss 0 in both paths", async () => {
    expect(objectiveLoss(single(3), new Float32Array(0), 0, [])).toBe(0);
    expect(objectiveLoss({ problemType: "regression", numLabels: 2 }, new Float32Array(0), 0, [])).toBe(0);
    await useBackend("wasm");
    const l = objectiveLossTensor(single(3), tf.zeros([0, 3]) as tf.Tensor2D, []);
    expect((await l.data())[0]).toBe(0);
    l.dispose();
  });

  it("refuses targets, weights and options that do not fit", () => {
    const z = new Float32Array(6);
    expect(() => objectiveLoss(single(3), z, 2, [0])).toThrow(/1 targets for 2 rows/);
    expect(() => objectiveLoss({ problemType: "multi_label_classification", numLabels: 3 }, z, 2, [0, 1, 0])).toThrow(/want 6/);
    expect(() => objectiveLoss({ ...single(3), classWeights: new Float32Array(2) }, z, 2, [0, 1])).toThrow(/2 class weights for 3 labels/);
    expect(() => objectiveLoss({ problemType: "regression", numLabels: 3, labelSmoothing: 0.1 }, z, 2, [0, 0, 0, 0, 0, 0])).toThrow(/single-label/);
    expect(() => objectiveLoss({ ...single(3), labelSmoothing: 1.5 }, z, 2, [0, 1])).toThrow(/outside \[0, 1\]/);
    expect(() => objectiveLoss(single(3), z, 3, [0, 1, 2])).toThrow(/fewer than 3 rows/);
    const head = new LinearHead(1, 2, new Float32Array(2), new Float32Array(2));
    expect(() => linearHeadGradients(head, new Float32Array(3), [0, 1, 0], headGradientBuffers(head, 3), { problemType: "multi_label_classification", numLabels: 2 })).toThrow(/do not fill rows/);
    expect(() => linearHeadGradients(head, new Float32Array(1), [0], headGradientBuffers(head, 1), single(3))).toThrow(/objective of 3 labels for a head of 2/);
  });
});

describe("exact refusals and values the torch fixtures do not reach", () => {
  const single = (k: number): Objective => ({ problemType: "single_label_classification", numLabels: k });
  const thrown = (fn: () => unknown): Error => {
    try {
      fn();
    } catch (e) {
      return e as Error;
    }
    throw new Error("expected a throw");
  };
  const plain = (fn: () => unknown): string => {
    const e = thrown(fn);
    expect(e).not.toBeInstanceOf(BertuneError);
    return e.message;
  };
  const refusal = (fn: () => unknown) => {
    const e = thrown(fn);
    expect(e).toBeInstanceOf(BertuneError);
    return { message: e.message, hint: (e as BertuneError).hint };
  };

  it("checkShapes: a row count that is not a whole non-negative number, and class weights on regression", () => {
    const multi: Objective = { problemType: "multi_label_classification", numLabels: 2 };
    // 3 targets of K = 2 make 1.5 rows; logits (3 ≥ 1.5·2) and targets (3 = 1.5·2) would pass the later checks
    expect(plain(() => objectiveLoss(multi, new Float32Array(3), 1.5, [0, 1, 0]))).toBe("1.5 rows: 3 targets do not fill rows of 2 labels");
    expect(plain(() => objectiveLoss(single(2), new Float32Array(0), -1, []))).toBe("-1 rows: 0 targets do not fill rows of 2 labels");
    const weighted: Objective = { problemType: "regression", numLabels: 1, classWeights: Float32Array.from([2]) };
    expect(plain(() => objectiveLoss(weighted, Float32Array.from([1]), 1, [0]))).toBe("regression takes no class weights");
  });

  it("label smoothing: below 0 refused, exactly 1 accepted (all mass spread over the K classes)", () => {
    const z = Float32Array.from([0, Math.log(3)]);
    expect(plain(() => objectiveLoss({ ...single(2), labelSmoothing: -0.1 }, z, 1, [0]))).toBe("label smoothing -0.1 is outside [0, 1]");
    // ε = 1, one row [0, ln 3], class 0: L = (1/2)·(ln 4 + ln 4/3) = 0.5·1.6739764 = 0.8369882
    // dL/dz = p − ε/K = [0.25 − 0.5, 0.75 − 0.5] = [−0.25, 0.25]
    const grad = new Float32Array(2);
    expect(objectiveLoss({ ...single(2), labelSmoothing: 1 }, z, 1, [0], grad)).toBeCloseTo(0.8369882, 6);
    [-0.25, 0.25].forEach((g, i) => expect(grad[i]).toBeCloseTo(g, 6));
  });

  it("unsmoothed cross-entropy with a −∞ logit on a wrong class stays finite, as torch's", () => {
    // row 0 [0, −∞], class 0: p = [1, 0] → −log p_0 = 0, gradient [0, 0]
    // row 1 [0, ln 3], class 1: −log(3/4) = ln 4/3 = 0.2876821, gradient [0.25, −0.25] / 2
    // mean = 0.2876821 / 2 = 0.1438410
    const grad = new Float32Array(4);
    expect(objectiveLoss(single(2), Float32Array.from([0, -Infinity, 0, Math.log(3)]), 2, [0, 1], grad)).toBeCloseTo(0.143841, 6);
    [0, 0, 0.125, -0.125].forEach((g, i) => expect(grad[i]).toBeCloseTo(g, 6));
  });

  it("the sigmoid on negative logits is 1/(1 + e^−x)", () => {
    // 1/(1 + e^1) = 0.2689414, 1/(1 + e^2) = 0.1192029, 1/(1 + e^0.5) = 0.3775407, 1/(1 + e^−3) = 0.9525741
    const p = activate("multi_label_classification", Float32Array.from([-1, -2, -0.5, 3]), 2);
    [0.2689414214, 0.119202922, 0.3775406688, 0.9525741268].forEach((v, i) => expect(p[i]).toBeCloseTo(v, 7));
    // softmax of a negative row [−1, −1 − ln 3]: e^0 : e^−ln 3 = 3 : 1 → [0.75, 0.25]
    const s = activate("single_label_classification", Float32Array.from([-1, -1 - Math.log(3)]), 2);
    [0.75, 0.25].forEach((v, i) => expect(s[i]).toBeCloseTo(v, 7));
  });

  it("balancedWeights: refusals with their words, and targets that do not fit the rows", () => {
    expect(refusal(() => balancedWeights("regression", [0.5], 1, 1))).toEqual({ message: "class weights apply to classification only, not to regression", hint: undefined });
    expect(refusal(() => balancedWeights("single_label_classification", [0, 2, 0], 3, 4))).toEqual({
      message: '"balanced" class weights need an example of every class in the training set; class 1, 3 has none',
      hint: "give the weights explicitly, or drop the class from id2label",
    });
    expect(plain(() => balancedWeights("single_label_classification", [0, 1, 1], 2, 2))).toBe("3 class ids for 2 rows");
    expect(plain(() => balancedWeights("multi_label_classification", [1, 0, 1], 2, 2))).toBe("3 targets for 2 rows × 2 labels");
    // multi-label, 4 rows [1, 1], [0, 1], [0, 1], [0, 0]: label 0 has 1 positive → (4 − 1)/1 = 3; label 1 has 3 → (4 − 3)/3 = 1/3
    expect(Array.from(balancedWeights("multi_label_classification", [1, 1, 0, 1, 0, 1, 0, 0], 4, 2))).toEqual([3, Math.fround(1 / 3)]);
  });

  it("objectiveLossTensor refuses logits whose columns are not the objective's labels", async () => {
    await useBackend("wasm");
    const z = tf.tensor2d([[0, 1, 2]]);
    expect(plain(() => objectiveLossTensor(single(2), z as tf.Tensor2D, [0]))).toBe("logits of 3 columns for an objective of 2 labels");
    z.dispose();
  });
});
