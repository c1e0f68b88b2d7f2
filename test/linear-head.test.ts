/**
 * The plain-array head against a second, float64 implementation written here: logits, softmax,
 * scores, gradients and the checks, with an odd number of labels (the pairwise loops' last,
 * unpaired label) as well as an even one.
 */
import { describe, expect, it } from "vitest";
import { BertuneError } from "../src/errors.js";
import { checkLabels, gatherRows, headGradientBuffers, LinearHead, linearHeadGradients, scoreLogits, scoreObjective, softmaxRows } from "../src/heads/linear-head.js";
import type { Objective } from "../src/heads/objective.js";
import { Rng } from "../src/util/rng.js";

function randomHead(h: number, k: number, seed: number): LinearHead {
  const rng = new Rng(seed);
  const w = Float32Array.from({ length: k * h }, () => rng.normal());
  const b = Float32Array.from({ length: k }, () => rng.normal());
  return new LinearHead(h, k, w, b);
}

/** x · Wᵀ + b in float64, row by row. */
function logits64(head: LinearHead, x: Float32Array, rows: number): number[][] {
  const { hiddenSize: h, numLabels: k } = head;
  return Array.from({ length: rows }, (_, r) =>
    Array.from({ length: k }, (_, j) => {
      let s = head.bias[j];
      for (let i = 0; i < h; i++) s += x[r * h + i] * head.weight[j * h + i];
      return s;
    }),
  );
}

const softmax64 = (z: number[]) => {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};

describe.each([2, 3, 5])("LinearHead with %i labels", (k) => {
  const h = 7;
  const rows = 4;
  const head = randomHead(h, k, 10 + k);
  const rng = new Rng(99);
  const x = Float32Array.from({ length: rows * h }, () => rng.normal());
  const labels = Array.from({ length: rows }, (_, r) => (r * 2 + 1) % k);

  it("logits, softmax and scores equal the float64 reference", () => {
    const want = logits64(head, x, rows);
    const got = head.logits(x, rows);
    want.flat().forEach((v, i) => expect(got[i]).toBeCloseTo(v, 4));
    const probs = softmaxRows(got, k);
    want.forEach((z, r) => softmax64(z).forEach((p, j) => expect(probs[r * k + j]).toBeCloseTo(p, 6)));
    const { predictions, loss } = scoreLogits(got, k, labels);
    expect(predictions).toEqual(want.map((z) => z.indexOf(Math.max(...z))));
    const ce = want.reduce((a, z, r) => a - Math.log(softmax64(z)[labels[r]]), 0) / rows;
    expect(loss).toBeCloseTo(ce, 5);
  });

  it("the gradient equals the float64 derivative of the mean cross-entropy", () => {
    const grads = headGradientBuffers(head, rows);
    const loss = linearHeadGradients(head, x, labels, grads);
    const want = logits64(head, x, rows);
    const dz = want.map((z, r) => softmax64(z).map((p, j) => (p - (j === labels[r] ? 1 : 0)) / rows));
    expect(loss).toBeCloseTo(want.reduce((a, z, r) => a - Math.log(softmax64(z)[labels[r]]), 0) / rows, 5);
    for (let j = 0; j < k; j++) {
      expect(grads.bias[j]).toBeCloseTo(dz.reduce((a, row) => a + row[j], 0), 6);
      for (let i = 0; i < h; i++) expect(grads.weight[j * h + i]).toBeCloseTo(dz.reduce((a, row, r) => a + row[j] * x[r * h + i], 0), 5);
    }
  });
  it.each([
    ["multi-label with pos_weight", "multi_label_classification"],
    ["regression", "regression"],
    ["single-label, weighted and smoothed", "single_label_classification"],
  ] as const)("the gradient under an objective (%s) equals the float64 derivative of its loss", (_, problemType) => {
    const w = Float32Array.from({ length: k }, (_, j) => 0.5 + j);
    const obj: Objective =
      problemType === "single_label_classification" ? { problemType, numLabels: k, classWeights: w, labelSmoothing: 0.1 } : problemType === "regression" ? { problemType, numLabels: k } : { problemType, numLabels: k, classWeights: w };
    const targets = problemType === "single_label_classification" ? labels : Array.from({ length: rows * k }, (_, i) => (problemType === "regression" ? rng.normal() : (i * 7) % 3 === 0 ? 1 : 0));
    const z = logits64(head, x, rows);
    // dL/dlogits in float64, from the formulas of torch's losses (mean reduction).
    const sig = (v: number) => 1 / (1 + Math.exp(-v));
    const norm = labels.reduce((a, y) => a + w[y], 0);
    const wAll = w.reduce((a, v) => a + v, 0);
    const dz = z.map((zr, r) =>
      zr.map((v, j) => {
        const t = targets[r * k + j];
        if (problemType === "regression") return (2 * (v - t)) / (rows * k);
        if (problemType === "multi_label_classification") return ((1 - t) * sig(v) - w[j] * t * sig(-v)) / (rows * k);
        const p = softmax64(zr)[j];
        return (0.9 * w[labels[r]] * (p - (j === labels[r] ? 1 : 0)) + (0.1 / k) * (wAll * p - w[j])) / norm;
      }),
    );
    const grads = headGradientBuffers(head, rows);
    const loss = linearHeadGradients(head, x, targets, grads, obj);
    expect(loss).toBeCloseTo(scoreObjective(obj, head.logits(x, rows), rows, targets).loss, 6);
    for (let j = 0; j < k; j++) {
      expect(grads.bias[j]).toBeCloseTo(dz.reduce((a, row) => a + row[j], 0), 6);
      for (let i = 0; i < h; i++) expect(grads.weight[j * h + i]).toBeCloseTo(dz.reduce((a, row, r) => a + row[j] * x[r * h + i], 0), 5);
    }
  });
});

describe("LinearHead's edges", () => {
  it("argmax takes the first of tied logits, as torch.argmax", () => {
    expect(scoreLogits(Float32Array.from([1, 3, 3, 2, 2, 0]), 3, [0, 0]).predictions).toEqual([1, 0]);
    expect(scoreLogits(new Float32Array(0), 2, []).loss).toBe(0);
  });

  it("toTensors copies the weights (later training does not change what was saved)", () => {
    const head = randomHead(3, 2, 1);
    const t = head.toTensors("x.");
    expect(Object.keys(t).sort()).toEqual(["x.classifier.bias", "x.classifier.weight"]);
    const saved = Array.from(t["x.classifier.weight"].data);
    head.weight[0] += 1;
    head.bias[0] += 1;
    expect(Array.from(t["x.classifier.weight"].data)).toEqual(saved);
    expect(t["x.classifier.bias"].data[0]).not.toBe(head.bias[0]);
  });

  it("refuses weights that do not fit its shape, and labels outside 0..K-1", () => {
    expect(() => new LinearHead(3, 2, new Float32Array(5), new Float32Array(2))).toThrow(/do not fit \[2, 3\]/);
    expect(() => new LinearHead(3, 2, new Float32Array(6), new Float32Array(3))).toThrow(/do not fit \[2, 3\]/);
    expect(() => checkLabels([0, 1, 2], 3)).not.toThrow();
    for (const [bad, at] of [[[0, 3], 1], [[-1], 0], [[0, 0, 1.5], 2]] as const) {
      const e = (() => {
        try {
          checkLabels(bad as readonly number[], 3);
        } catch (err) {
          return err as BertuneError;
        }
      })();
      expect(e).toBeInstanceOf(BertuneError);
      expect(e!.message).toBe(`label ${bad[at]} at row ${at} is outside 0..2`);
    }
  });

  it("init draws N(0, range²) weights and zero biases; gatherRows without dropout copies the rows", () => {
    const head = LinearHead.init(50, 4, { seed: 3, dropout: 0.1, initializerRange: 0.02 });
    expect(Array.from(head.bias)).toEqual([0, 0, 0, 0]);
    const sd = Math.sqrt(head.weight.reduce((a, v) => a + v * v, 0) / head.weight.length);
    expect(sd).toBeGreaterThan(0.017);
    expect(sd).toBeLessThan(0.023);
    expect(head.dropout).toBe(0.1);
    const data = Float32Array.from({ length: 12 }, (_, i) => i);
    expect(Array.from(gatherRows(data, 3, [3, 0]))).toEqual([9, 10, 11, 0, 1, 2]);
    expect(Array.from(gatherRows(data, 3, [1], { rng: new Rng(1), p: 0 }))).toEqual([3, 4, 5]);
  });
});
