/**
 * BERT's building blocks as TensorFlow.js ops with hand-written gradients. tfjs records every
 * kernel of a composite op on the gradient tape and keeps all their outputs, and the gradients
 * of those outputs, until the step ends; a fused op keeps only what its gradient needs and runs
 * a few kernels where the composite ran a dozen. On tfjs' kernels forward values are computed by
 * the same kernels in the same order as the composite ops, so they are bit-identical to them. On
 * the CPU backends the heavy ones run on onnxruntime's native kernels instead (products, linear
 * layers with their bias and GELU, LayerNorm: equal to the composite within float32 rounding),
 * and dropout masks and embedding rows are written straight into the wasm heap.
 */
import { filledTensor, hostValues, nativeOps, onHostBackend, runNative, type NativeOps } from "../backend/native-ops.js";
import { tf } from "../backend/tfjs.js";
import { BertuneError } from "../errors.js";
import { GeometricSampler } from "../util/geometric.js";
import { Rng } from "../util/rng.js";
import { layerNormBackwardGraph, layerNormForwardGraph, linearBackwardGraph, linearForwardGraph, productGraph, productKey } from "./native-graphs.js";

type Forward = (inputs: tf.Tensor[]) => {
  value: tf.Tensor;
  /** The tensors the gradient needs; everything else the forward made is freed at once. */
  save: tf.Tensor[];
  /** Input gradients from the output's gradient and the saved tensors (never captured ones: they are freed). */
  grad: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[];
};

/** An op from its forward pass and gradient; the gradient's intermediates are freed as it returns. */
function withGradient(forward: Forward): (...inputs: tf.Tensor[]) => tf.Tensor {
  const op = tf.customGrad(((...args: unknown[]) => {
    const saveFunc = args.pop() as tf.GradSaveFunc;
    const { value, save, grad } = forward(args as tf.Tensor[]);
    saveFunc(save);
    return { value, gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => tf.tidy(() => grad(Array.isArray(dy) ? dy[0] : dy, saved)) };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return (...inputs) => op(...inputs) as tf.Tensor;
}

/** Sum over every axis but the last: the gradient of a [last]-shaped parameter broadcast over x. */
const sumLeading = (t: tf.Tensor) => t.sum(t.shape.map((_, i) => i).slice(0, -1));

/** Swap the last two axes. */
export function swapLast(t: tf.Tensor): tf.Tensor {
  const perm = t.shape.map((_, i) => i);
  [perm[perm.length - 2], perm[perm.length - 1]] = [perm[perm.length - 1], perm[perm.length - 2]];
  return tf.transpose(t, perm);
}

/** Below this many multiply-adds a product stays in tfjs: the copies to and from the native kernels cost more. */
const NATIVE_MIN_MACS = 1 << 15;

/** The native kernels for work of `macs` multiply-adds: on the CPU backends, whose tensors can be read synchronously. */
function nativeFor(macs: number): NativeOps | undefined {
  return macs >= NATIVE_MIN_MACS && onHostBackend() ? nativeOps() : undefined;
}

/**
 * op(a) · op(b), op swapping the last two axes where asked. On the CPU backends a product worth
 * the copies runs on onnxruntime's kernels (every core, the CPU's widest SIMD); otherwise on tfjs,
 * with explicit transposes: the wasm kernels multiply transposed operands 10–20× slower.
 */
export function product(a: tf.Tensor, b: tf.Tensor, transA = false, transB = false): tf.Tensor {
  const r = a.rank;
  const [m, k] = transA ? [a.shape[r - 1], a.shape[r - 2]] : [a.shape[r - 2], a.shape[r - 1]];
  const n = b.shape[transB ? r - 2 : r - 1];
  const native = nativeFor(m * k * n);
  if (native) {
    return runNative(native, productKey(r, transA, transB), () => productGraph(r, transA, transB), { a, b }, { y: [...a.shape.slice(0, r - 2), m, n] })[0];
  }
  return tf.matMul(transA ? swapLast(a) : a, transB ? swapLast(b) : b);
}

/** a · b (any rank ≥ 2, batched over the leading axes) with products for its gradients too. */
export function matMulNN(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return withGradient(([x, y]) => ({
    value: product(x, y),
    save: [x, y],
    grad: (g, [xs, ys]) => [product(g, ys, false, true), product(xs, g, true, false)],
  }))(a, b);
}

/**
 * activation(x [n, in] · Wᵀ + b) with PyTorch's [out, in] weight. Its gradients are products in
 * the layouts they are needed in (dx = dy · W, dW = dyᵀ · x), so no transposed weight or gradient
 * is kept, and the product before the bias is freed at once. On the native kernels the layer is
 * one call forward and one backward (bias gradient included), with the exact GELU fused in.
 */
export function linear(x: tf.Tensor2D, weight: tf.Tensor2D, bias: tf.Tensor1D, activation?: string): tf.Tensor2D {
  const native = nativeFor(x.shape[0] * x.shape[1] * weight.shape[0]);
  const gelu = native !== undefined && activation === "gelu";
  const y = withGradient(([xs, w, b]) => {
    if (!native) {
      return {
        value: tf.matMul(xs, tf.transpose(w)).add(b),
        save: [xs, w],
        grad: (dy, [xv, wv]) => [product(dy, wv), product(dy, xv, true, false), dy.sum(0)],
      };
    }
    const out = [xs.shape[0], w.shape[0]];
    const [value, pre] = runNative(native, `linear${+gelu}`, () => linearForwardGraph(gelu), { x: xs, w, b }, gelu ? { y: out, pre: out } : { y: out });
    return {
      value,
      save: gelu ? [xs, w, pre] : [xs, w],
      grad: (dy, [xv, wv, pv]) =>
        runNative(native, `linear_grad${+gelu}`, () => linearBackwardGraph(gelu), { dy, x: xv, w: wv, ...(gelu ? { pre: pv } : {}) }, { dx: xv.shape, dw: wv.shape, db: [wv.shape[0]] }),
    };
  })(x, weight, bias) as tf.Tensor2D;
  return activation && !gelu ? (ACTIVATIONS[activation](y) as tf.Tensor2D) : y;
}

/**
 * Row lookup in an embedding table whose gradient is the dense scatter-add PyTorch's
 * nn.Embedding produces. tf.gather's own gradient needs the UnsortedSegmentSum kernel, which
 * the wasm backend lacks; where the backend has it (webgpu, tensorflow) it is used and the sum
 * stays on the device, else it is done in JS (wasm and cpu can read back synchronously).
 */
export function embeddingLookup(table: tf.Tensor2D, ids: tf.Tensor): tf.Tensor {
  const [rows, dim] = table.shape;
  return withGradient(([t, i]) => {
    // On the CPU backends the rows are copied straight from the table's buffer: wasm's GatherV2 is ~30× slower.
    const idv = onHostBackend() ? (i.dataSync() as ArrayLike<number>) : undefined;
    if (idv) {
      for (let r = 0; r < idv.length; r++) {
        if (!(idv[r] >= 0 && idv[r] < rows)) throw new BertuneError(`token id ${idv[r]} is outside the model's embedding table of ${rows} rows`, "the tokenizer does not match the model: use the model's own tokenizer (or its vocab_size in config.json)");
      }
    }
    const value =
      (idv &&
        filledTensor([...i.shape, dim], (out) => {
          const tv = hostValues(t);
          for (let r = 0; r < idv.length; r++) out.set(tv.subarray(idv[r] * dim, (idv[r] + 1) * dim), r * dim);
        })) ??
      tf.gather(t, i);
    return {
      value,
      save: [i],
      grad: (dy, [idsSaved]) => {
        const g = dy.reshape([-1, dim]);
        const flat = idsSaved.reshape([-1]);
        if (tf.getKernel("UnsortedSegmentSum", tf.getBackend())) return [tf.unsortedSegmentSum(g, flat as tf.Tensor1D, rows), tf.zerosLike(idsSaved)];
        const iv = flat.dataSync();
        const sum = (out: Float32Array) => {
          const gv = hostValues(g);
          out.fill(0);
          for (let r = 0; r < iv.length; r++) {
            const base = iv[r] * dim;
            for (let j = 0; j < dim; j++) out[base + j] += gv[r * dim + j];
          }
        };
        return [filledTensor([rows, dim], sum)!, tf.zerosLike(idsSaved)];
      },
    };
  })(table, ids);
}

/**
 * torch.nn.LayerNorm over the last axis (biased variance, eps inside the root). Keeps the
 * normalised input and the standard deviation; dx = (ĝ − mean ĝ − x̂·mean(ĝ·x̂)) / σ with ĝ = dy·γ.
 * On the native kernels, one call forward and one backward.
 */
export function layerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number): tf.Tensor {
  const native = nativeFor(x.size);
  if (native) {
    const h = x.shape[x.rank - 1];
    const rows = x.size / h;
    return withGradient(([xs, g, b]) => {
      const [y, xhat, std] = runNative(native, `layer_norm${eps}`, () => layerNormForwardGraph(eps), { x: xs.reshape([rows, h]), gamma: g, beta: b }, { y: [rows, h], xhat: [rows, h], std: [rows, 1] });
      return {
        value: y.reshape(xs.shape),
        save: [xhat, std, g],
        grad: (dy, [xh, sd, gs]) => {
          const [dx, dg, db] = runNative(native, "layer_norm_grad", layerNormBackwardGraph, { dy: dy.reshape([rows, h]), xhat: xh, std: sd, gamma: gs }, { dx: [rows, h], dgamma: [h], dbeta: [h] });
          return [dx.reshape(dy.shape), dg, db];
        },
      };
    })(x, gamma, beta);
  }
  return withGradient(([xs, g, b]) => {
    const { mean, variance } = tf.moments(xs, -1, true);
    const std = variance.add(eps).sqrt();
    const xhat = xs.sub(mean).div(std);
    return {
      value: xhat.mul(g).add(b),
      save: [xhat, std, g],
      grad: (dy, [xh, sd, gs]) => {
        const dxhat = dy.mul(gs);
        const dx = dxhat.sub(dxhat.mean(-1, true)).sub(xh.mul(dxhat.mul(xh).mean(-1, true))).div(sd);
        return [dx, sumLeading(dy.mul(xh)), sumLeading(dy)];
      },
    };
  })(x, gamma, beta);
}

/** BertModel's exact "gelu", x·Φ(x) with the error function; keeps only x (Φ is recomputed in the gradient). */
export function gelu(x: tf.Tensor): tf.Tensor {
  return withGradient(([xs]) => ({
    value: xs.mul(tf.erf(xs.mul(Math.SQRT1_2)).add(1)).mul(0.5),
    save: [xs],
    grad: (dy, [xv]) => {
      const cdf = tf.erf(xv.mul(Math.SQRT1_2)).add(1).mul(0.5);
      const pdf = tf.exp(xv.square().mul(-0.5)).mul(1 / Math.sqrt(2 * Math.PI));
      return [dy.mul(cdf.add(xv.mul(pdf)))];
    },
  }))(x);
}

/**
 * softmax(scores · scale + mask) over the last axis, the attention probabilities. Keeps only the
 * probabilities. The additive mask comes from the attention mask, never a parameter: its gradient is zero.
 */
export function scaledMaskedSoftmax(scores: tf.Tensor, mask: tf.Tensor, scale: number): tf.Tensor {
  return withGradient(([s, m]) => {
    const probs = tf.softmax(s.mul(scale).add(m), -1);
    return {
      value: probs,
      save: [probs, m],
      grad: (dy, [p, ms]) => {
        const dyp = dy.mul(p);
        return [dyp.sub(dyp.sum(-1, true).mul(p)).mul(scale), tf.zerosLike(ms)];
      },
    };
  })(scores, mask);
}

const gapSamplers = new Map<number, GeometricSampler>();

/**
 * Inverted dropout keeping only the 0 or 1/keep multiplier for the gradient. On the CPU backends
 * the multiplier is written in place from the seed: filled with 1/keep, then a zero at each drop,
 * the gaps between drops drawn from Geometric(rate) (one draw per dropped unit, not one per unit).
 * Elsewhere it is tf.dropout's (uniform draws on the device).
 */
export function dropout(x: tf.Tensor, rate: number, seed: number): tf.Tensor {
  const keep = 1 - rate;
  return withGradient(([xs]) => {
    const multiplier =
      filledTensor(xs.shape, (m) => {
        m.fill(rate >= 1 ? 0 : 1 / keep);
        if (rate >= 1) return;
        let gaps = gapSamplers.get(rate);
        if (!gaps) gapSamplers.set(rate, (gaps = new GeometricSampler(rate)));
        const rng = new Rng(seed);
        for (let i = gaps.next(rng); i < m.length; i += gaps.next(rng) + 1) m[i] = 0;
      }) ?? tf.randomUniform(xs.shape, 0, 1, "float32", seed).add(keep).floor().div(keep);
    return { value: xs.mul(multiplier), save: [multiplier], grad: (dy, [mv]) => [dy.mul(mv)] };
  })(x);
}

/** GELU's tanh approximation (transformers' "gelu_new", PyTorch's approximate="tanh"). */
const geluTanh = (x: tf.Tensor) => x.mul(tf.tanh(x.add(x.pow(3).mul(0.044715)).mul(Math.sqrt(2 / Math.PI))).add(1)).mul(0.5);
const silu = (x: tf.Tensor) => x.mul(tf.sigmoid(x));

/** The activations of BERT's hidden_act (also the MLM head's transform), aliases included. */
export const ACTIVATIONS: Record<string, (x: tf.Tensor) => tf.Tensor> = {
  gelu,
  gelu_new: geluTanh,
  gelu_pytorch_tanh: geluTanh,
  relu: (x) => tf.relu(x),
  silu,
  swish: silu,
  tanh: (x) => tf.tanh(x),
};

/** Refuse a config whose hidden_act bertune does not implement, before any weight is loaded. */
export function checkActivation(name: string): void {
  if (!ACTIVATIONS[name]) throw new BertuneError(`hidden_act "${name}" is not supported`, `supported: ${Object.keys(ACTIVATIONS).join(", ")}`);
}
