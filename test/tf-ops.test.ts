/**
 * The fused ops of src/bert/tf-ops.ts against the composite tfjs ops they replace: the same
 * forward values bit for bit, tfjs' own automatic gradients within float32 rounding, and only
 * the tensors each gradient needs kept alive between the forward and the backward pass.
 */
import { beforeAll, describe, expect, it, vi } from "vitest";
import { tf, useBackend } from "../src/backend/tfjs.js";
import { nativeOps } from "../src/backend/native-ops.js";
import { dropout, embeddingLookup, gelu, layerNorm, linear, matMulNN, product, scaledMaskedSoftmax } from "../src/bert/tf-ops.js";

beforeAll(async () => {
  await useBackend("wasm");
});

type Op = (inputs: tf.Tensor[]) => tf.Tensor;

/** Values and input gradients of sum(op(inputs) · w), a loss whose gradient differs at every element. */
function valueAndGrads(op: Op, inputs: tf.Tensor[]) {
  return tf.tidy(() => {
    const w = tf.randomNormal(op(inputs).shape, 0, 1, "float32", 7);
    const y = op(inputs);
    const grads = tf.grads((...xs: tf.Tensor[]) => op(xs).mul(w).sum())(inputs);
    return { value: Array.from(y.dataSync()), grads: grads.map((g) => Array.from(g.dataSync())) };
  });
}

/** Bytes the forward pass leaves alive for the gradient, beyond the inputs and the output, while a gradient is being taken. */
function heldByForward(op: Op, inputs: tf.Tensor[]): number {
  let held = 0;
  const before = tf.memory().numBytes;
  const grads = tf.grads((...xs: tf.Tensor[]) => {
    const y = op(xs);
    held = tf.memory().numBytes - before - y.size * 4;
    return y.sum();
  })(inputs);
  tf.dispose(grads);
  return held;
}

function maxRelDiff(a: number[], b: number[]): number {
  expect(a.length).toBe(b.length);
  const scale = Math.max(...b.map(Math.abs), 1e-30);
  return Math.max(...a.map((x, i) => Math.abs(x - b[i]))) / scale;
}

const bytes = (...ts: tf.Tensor[]) => ts.reduce((n, t) => n + 4 * t.size, 0);
const x = () => tf.randomNormal([4, 6, 32], 0.3, 2, "float32", 1);
const cases: { name: string; fused: Op; composite: Op; inputs: () => tf.Tensor[]; gradInputs: number;
  /** Bytes of the tensors the fused op keeps for its gradient (tfjs counts each saved clone, inputs included, though on wasm it shares the buffer). */
  held: (inputs: tf.Tensor[]) => number;
  /** Whether that is a quarter or less of what the composite keeps (linear keeps x and W as the composite does, less its transposed W). */
  lighter: boolean;
}[] = [
  {
    name: "layerNorm (eps 1e-12, as BERT's)",
    fused: ([a, g, b]) => layerNorm(a, g, b, 1e-12),
    composite: ([a, g, b]) => {
      const { mean, variance } = tf.moments(a, -1, true);
      return a.sub(mean).div(variance.add(1e-12).sqrt()).mul(g).add(b);
    },
    inputs: () => [x(), tf.randomNormal([32], 1, 0.5, "float32", 2), tf.randomNormal([32], 0, 0.5, "float32", 3)],
    gradInputs: 3,
    held: ([a, g]) => bytes(a, g) + 4 * (a.size / 32), // x̂, γ and one σ a row
    lighter: true,
  },
  {
    name: "linear (x · Wᵀ + b, PyTorch's [out, in] weight)",
    fused: ([a, w, b]) => linear(a as tf.Tensor2D, w as tf.Tensor2D, b as tf.Tensor1D),
    composite: ([a, w, b]) => tf.matMul(a, tf.transpose(w)).add(b),
    inputs: () => [tf.randomNormal([24, 32], 0, 1, "float32", 5), tf.randomNormal([16, 32], 0, 0.2, "float32", 6), tf.randomNormal([16], 0, 1, "float32", 8)],
    gradInputs: 3,
    held: ([a, w]) => bytes(a, w), // x and W, for each other's gradient
    lighter: false,
  },
  {
    name: "gelu (erf)",
    fused: ([a]) => gelu(a),
    composite: ([a]) => a.mul(tf.erf(a.mul(Math.SQRT1_2)).add(1)).mul(0.5),
    inputs: () => [x()],
    gradInputs: 1,
    held: ([a]) => bytes(a), // x
    lighter: true,
  },
  {
    name: "scaledMaskedSoftmax (scale 1/√8, a padding mask)",
    fused: ([s, m]) => scaledMaskedSoftmax(s, m, 1 / Math.sqrt(8)),
    composite: ([s, m]) => tf.softmax(s.mul(1 / Math.sqrt(8)).add(m), -1),
    inputs: () => [tf.randomNormal([2, 3, 6, 6], 0, 3, "float32", 4), tf.tensor4d([0, 0, 0, 0, -1e9, -1e9, 0, 0, 0, 0, 0, -1e9], [2, 1, 1, 6])],
    gradInputs: 1, // the mask is built from the attention mask, never learnt
    held: ([sc, m]) => bytes(sc, m), // the probabilities and the mask
    lighter: true,
  },
];

describe("fused ops equal the composite tfjs ops they replace", () => {
  it.each(cases.map((c) => [c.name, c] as const))("%s: forward bit for bit, gradients within 1e-5", (_, c) => {
    const inputs = c.inputs();
    const fused = valueAndGrads(c.fused, inputs);
    const composite = valueAndGrads(c.composite, inputs);
    expect(fused.value).toEqual(composite.value);
    for (let i = 0; i < c.gradInputs; i++) {
      expect(composite.grads[i].some((g) => g !== 0)).toBe(true);
      expect(maxRelDiff(fused.grads[i], composite.grads[i])).toBeLessThan(1e-5);
    }
    tf.dispose(inputs);
  });

  it.each(cases.map((c) => [c.name, c] as const))("%s: keeps only what its gradient needs", (_, c) => {
    const inputs = c.inputs();
    const fused = heldByForward(c.fused, inputs);
    expect(fused).toBe(c.held(inputs));
    if (c.lighter) expect(fused).toBeLessThanOrEqual(heldByForward(c.composite, inputs) / 4);
    tf.dispose(inputs);
  });

  it("dropout keeps only its multiplier for the gradient", () => {
    const inputs = [x()];
    expect(heldByForward(([a]) => dropout(a, 0.3, 11), inputs)).toBe(bytes(inputs[0]));
    tf.dispose(inputs);
  });

  it("leaks no tensor: memory after a gradient is what it was before", () => {
    const inputs = cases[0].inputs();
    const before = tf.memory().numTensors;
    tf.dispose(tf.grads((...xs: tf.Tensor[]) => cases[0].fused(xs).sum())(inputs));
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(inputs);
  });
});

/** op(a) · op(b) in float64, batched over the leading axes: the reference for the native products. */
function reference(a: tf.Tensor, b: tf.Tensor, transA: boolean, transB: boolean): { data: number[]; shape: number[] } {
  const r = a.rank;
  const [a0, a1] = a.shape.slice(r - 2);
  const [b0, b1] = b.shape.slice(r - 2);
  const [m, k, n] = [transA ? a1 : a0, transA ? a0 : a1, transB ? b0 : b1];
  const batch = a.size / (a0 * a1);
  const av = a.dataSync();
  const bv = b.dataSync();
  const out: number[] = [];
  for (let t = 0; t < batch; t++)
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let sum = 0;
        for (let p = 0; p < k; p++) sum += av[t * a0 * a1 + (transA ? p * a1 + i : i * a1 + p)] * bv[t * b0 * b1 + (transB ? j * b1 + p : p * b1 + j)];
        out.push(sum);
      }
  return { data: out, shape: [...a.shape.slice(0, r - 2), m, n] };
}

describe("products on onnxruntime's native kernels (the wasm and cpu backends)", () => {
  it("are available here, as wherever onnxruntime-node installs: training would silently run ~4× slower without them", () => {
    expect(nativeOps()?.threads).toBeGreaterThanOrEqual(1);
  });

  const layouts = [false, true].flatMap((transA) => [false, true].map((transB) => ({ transA, transB })));
  it.each(layouts)("transA $transA, transB $transB: 2-D and batched 4-D equal float64 within 1e-5", ({ transA, transB }) => {
    const [m, k, n] = [48, 40, 36]; // 69,120 multiply-adds: past the native threshold
    const shape2 = (rows: number, cols: number, t: boolean) => (t ? [cols, rows] : [rows, cols]);
    const a = tf.randomNormal(shape2(m, k, transA), 0, 1, "float32", 21);
    const b = tf.randomNormal(shape2(k, n, transB), 0, 1, "float32", 22);
    const want = reference(a, b, transA, transB);
    const plain = product(a, b, transA, transB);
    expect(plain.shape).toEqual(want.shape);
    expect(maxRelDiff(Array.from(plain.dataSync()), want.data)).toBeLessThan(1e-5);
    const a4 = tf.randomNormal([2, 3, ...shape2(m, k, transA)], 0, 1, "float32", 24);
    const b4 = tf.randomNormal([2, 3, ...shape2(k, n, transB)], 0, 1, "float32", 25);
    const want4 = reference(a4, b4, transA, transB);
    const batched = product(a4, b4, transA, transB);
    expect(batched.shape).toEqual(want4.shape);
    expect(maxRelDiff(Array.from(batched.dataSync()), want4.data)).toBeLessThan(1e-5);
    tf.dispose([a, b, plain, a4, b4, batched]);
  });

  it.each([
    {
      name: "linear",
      fused: ([a, w, b]: tf.Tensor[]) => linear(a as tf.Tensor2D, w as tf.Tensor2D, b as tf.Tensor1D),
      composite: ([a, w, b]: tf.Tensor[]) => tf.matMul(a, tf.transpose(w)).add(b),
      inputs: () => [tf.randomNormal([64, 48], 0, 1, "float32", 5), tf.randomNormal([40, 48], 0, 0.2, "float32", 6), tf.randomNormal([40], 0, 1, "float32", 8)],
    },
    {
      name: "linear with the exact GELU fused in",
      fused: ([a, w, b]: tf.Tensor[]) => linear(a as tf.Tensor2D, w as tf.Tensor2D, b as tf.Tensor1D, "gelu"),
      composite: ([a, w, b]: tf.Tensor[]) => {
        const y = tf.matMul(a, tf.transpose(w)).add(b);
        return y.mul(tf.erf(y.mul(Math.SQRT1_2)).add(1)).mul(0.5);
      },
      inputs: () => [tf.randomNormal([64, 48], 0, 1, "float32", 5), tf.randomNormal([40, 48], 0, 0.3, "float32", 6), tf.randomNormal([40], 0, 1, "float32", 8)],
    },
    {
      name: "layerNorm (eps 1e-12), 3-D",
      fused: ([a, g, b]: tf.Tensor[]) => layerNorm(a, g, b, 1e-12),
      composite: ([a, g, b]: tf.Tensor[]) => {
        const { mean, variance } = tf.moments(a, -1, true);
        return a.sub(mean).div(variance.add(1e-12).sqrt()).mul(g).add(b);
      },
      inputs: () => [tf.randomNormal([8, 40, 128], 0.3, 2, "float32", 1), tf.randomNormal([128], 1, 0.5, "float32", 2), tf.randomNormal([128], 0, 0.5, "float32", 3)],
    },
    {
      name: "linear with another activation (tanh, applied after the native layer)",
      fused: ([a, w, b]: tf.Tensor[]) => linear(a as tf.Tensor2D, w as tf.Tensor2D, b as tf.Tensor1D, "tanh"),
      composite: ([a, w, b]: tf.Tensor[]) => tf.tanh(tf.matMul(a, tf.transpose(w)).add(b)),
      inputs: () => [tf.randomNormal([64, 48], 0, 1, "float32", 5), tf.randomNormal([40, 48], 0, 0.3, "float32", 6), tf.randomNormal([40], 0, 1, "float32", 8)],
    },
    {
      name: "matMulNN, batched (attention's shape)",
      fused: ([a, b]: tf.Tensor[]) => matMulNN(a, b),
      composite: ([a, b]: tf.Tensor[]) => tf.matMul(a, b),
      inputs: () => [tf.randomNormal([2, 2, 40, 48], 0, 1, "float32", 9), tf.randomNormal([2, 2, 48, 40], 0, 1, "float32", 10)],
    },
  ])("$name on native products: forward and every gradient within 1e-5 of tfjs' kernels and autodiff", ({ fused, composite, inputs }) => {
    const xs = inputs();
    const got = valueAndGrads(fused, xs);
    const want = valueAndGrads(composite, xs);
    expect(maxRelDiff(got.value, want.value)).toBeLessThan(1e-5);
    expect(got.value).not.toEqual(want.value); // another kernel's rounding: the native path did run
    for (let i = 0; i < xs.length; i++) expect(maxRelDiff(got.grads[i], want.grads[i])).toBeLessThan(1e-5);
    tf.dispose(xs);
  });

  it("the native linear layer keeps x, W and (with GELU) the pre-activation for its gradient, nothing more", () => {
    const inputs = [tf.randomNormal([64, 48], 0, 1, "float32", 5), tf.randomNormal([40, 48], 0, 0.3, "float32", 6), tf.randomNormal([40], 0, 1, "float32", 8)];
    const [a, w, b] = inputs as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
    expect(heldByForward(() => linear(a, w, b), inputs)).toBe(bytes(a, w));
    expect(heldByForward(() => linear(a, w, b, "gelu"), inputs)).toBe(bytes(a, w) + 4 * 64 * 40);
    tf.dispose(inputs);
  });

  it("the native layerNorm keeps x̂, σ (one a row) and γ for its gradient, nothing more", () => {
    const inputs = [tf.randomNormal([8, 40, 128], 0.3, 2, "float32", 1), tf.randomNormal([128], 1, 0.5, "float32", 2), tf.randomNormal([128], 0, 0.5, "float32", 3)];
    const [a, g, b] = inputs;
    expect(heldByForward(() => layerNorm(a, g, b, 1e-12), inputs)).toBe(bytes(a, g) + 4 * 8 * 40);
    tf.dispose(inputs);
  });

  it("BERTUNE_NATIVE_OPS=0 turns them off", async () => {
    vi.resetModules();
    vi.stubEnv("BERTUNE_NATIVE_OPS", "0");
    try {
      const fresh = await import("../src/backend/native-ops.js");
      expect(fresh.nativeOps()).toBeUndefined();
    } finally {
      vi.unstubAllEnvs();
    }
  });
});

describe("the wasm backend's Identity (every tensor a custom gradient saves is cloned by it)", () => {
  it("shares the buffer instead of copying it, and the clone outlives the original", () => {
    const backend = tf.backend() as unknown as { numDataIds(): number };
    const x = tf.randomNormal([256, 64], 0, 1, "float32", 3);
    const values = Array.from(x.dataSync());
    const buffers = backend.numDataIds();
    const y = tf.clone(x);
    expect(backend.numDataIds()).toBe(buffers);
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual(values);
    y.dispose();
    expect(backend.numDataIds()).toBe(buffers - 1);
  });
});

describe("dropout on the CPU backends (the multiplier written in place from the seed)", () => {
  const n = 1 << 20;
  const draw = (rate: number, seed: number) => tf.tidy(() => Array.from(dropout(tf.ones([n]), rate, seed).dataSync()));

  it.each([0.1, 0.3, 0.5])("rate %s: every unit 0 or 1/keep, the share dropped within 4σ of the rate, drops independent of their neighbour", (rate) => {
    const m = draw(rate, 5);
    const keep = 1 - rate;
    expect(m.every((v) => v === 0 || Math.abs(v - 1 / keep) < 1e-6)).toBe(true);
    const dropped = m.filter((v) => v === 0).length / n;
    expect(Math.abs(dropped - rate)).toBeLessThan(4 * Math.sqrt((rate * keep) / n));
    let pairs = 0;
    for (let i = 1; i < n; i++) if (m[i] === 0 && m[i - 1] === 0) pairs++;
    expect(Math.abs(pairs / (n - 1) - rate * rate)).toBeLessThan(4 * Math.sqrt((rate * rate * (1 - rate * rate)) / n));
  });

  it("the same seed gives the same mask, another seed another; the gradient is the multiplier", () => {
    expect(draw(0.1, 7)).toEqual(draw(0.1, 7));
    expect(draw(0.1, 8)).not.toEqual(draw(0.1, 7));
    const xs = tf.randomNormal([64, 32], 0, 1, "float32", 2);
    const grad = tf.grad((a: tf.Tensor) => dropout(a, 0.2, 3).sum())(xs);
    expect(Array.from(grad.dataSync())).toEqual(Array.from(dropout(tf.onesLike(xs), 0.2, 3).dataSync()));
    tf.dispose([xs, grad]);
  });

  it("rate 1 drops everything", () => {
    expect(draw(1, 1).every((v) => v === 0)).toBe(true);
  });
});

describe("embeddingLookup on the CPU backends (rows copied from the table's buffer)", () => {
  it("equals tf.gather, and its gradient is the scatter-add of repeated ids", () => {
    const table = tf.randomNormal([50, 8], 0, 1, "float32", 4) as tf.Tensor2D;
    const ids = tf.tensor2d([[3, 7, 3], [49, 0, 3]], [2, 3], "int32");
    const y = embeddingLookup(table, ids);
    expect(y.shape).toEqual([2, 3, 8]);
    expect(Array.from(y.dataSync())).toEqual(Array.from(tf.gather(table, ids).dataSync()));
    const w = tf.randomNormal([2, 3, 8], 0, 1, "float32", 5);
    const grad = tf.grad((t: tf.Tensor) => embeddingLookup(t as tf.Tensor2D, ids).mul(w).sum())(table);
    const wv = w.dataSync();
    const want = new Float32Array(50 * 8);
    [3, 7, 3, 49, 0, 3].forEach((id, r) => {
      for (let j = 0; j < 8; j++) want[id * 8 + j] += wv[r * 8 + j];
    });
    expect(Array.from(grad.dataSync())).toEqual(Array.from(want));
    tf.dispose([table, ids, y, w, grad]);
  });

  it("refuses an id outside the table", () => {
    const table = tf.zeros([5, 2]) as tf.Tensor2D;
    const ids = tf.tensor1d([1, 5], "int32");
    expect(() => embeddingLookup(table, ids)).toThrow(/token id 5 is outside the model's embedding table of 5 rows/);
    tf.dispose([table, ids]);
  });
});
