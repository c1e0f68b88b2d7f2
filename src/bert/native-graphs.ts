/**
 * The ONNX graphs the fused ops of tf-ops.ts run on onnxruntime's CPU kernels (see
 * backend/native-ops.ts): products, and the linear layer forward and backward with its bias and,
 * for BERT's feed-forward, the exact GELU fused in, so each runs as one call with one copy of each
 * operand. Every dimension is symbolic: one session serves every batch and width.
 */
import { GraphBuilder, attr, type Dim } from "../onnx/graph.js";
import { DataType, encodeModel } from "../onnx/proto.js";

function model(g: GraphBuilder): Uint8Array {
  return encodeModel({ irVersion: 8, producerName: "bertune", producerVersion: "0", opsetImport: [{ domain: "", version: 17 }], graph: g.build() });
}

const input = (g: GraphBuilder, name: string, dims: Dim[]) => g.input(name, DataType.FLOAT, dims);
const output = (g: GraphBuilder, value: string, name: string, dims: Dim[]) => g.output(value, name, DataType.FLOAT, dims);

/** The session key of productGraph(rank, transA, transB): every caller of a product shares its session. */
export function productKey(rank: number, transA: boolean, transB: boolean): string {
  return `product${rank}${+transA}${+transB}`;
}

/** y = op(a) · op(b), op swapping the last two axes where asked; batched over the leading axes of equal-rank operands. */
export function productGraph(rank: number, transA: boolean, transB: boolean): Uint8Array {
  const g = new GraphBuilder("bertune_product");
  const lead = Array.from({ length: rank - 2 }, (_, i) => `d${i}`);
  const a = input(g, "a", [...lead, "a0", "a1"]);
  const b = input(g, "b", [...lead, "b0", "b1"]);
  let y: string;
  if (rank === 2) {
    y = g.op("Gemm", [a, b], [attr.int("transA", transA ? 1 : 0), attr.int("transB", transB ? 1 : 0)]);
  } else {
    const swap = [...lead.map((_, i) => i), rank - 1, rank - 2];
    const left = transA ? g.op("Transpose", [a], [attr.ints("perm", swap)]) : a;
    const right = transB ? g.op("Transpose", [b], [attr.ints("perm", swap)]) : b;
    y = g.op("MatMul", [left, right]);
  }
  output(g, y, "y", [...lead, "m", "n"]);
  return model(g);
}

/** Φ(x) = ½(1 + erf(x/√2)), the standard normal CDF, as BertModel's exact "gelu" uses it. */
function normalCdf(g: GraphBuilder, x: string): string {
  const erf = g.op("Erf", [g.op("Mul", [x, g.scalar("inv_sqrt2", Math.SQRT1_2)])]);
  return g.op("Mul", [g.op("Add", [erf, g.scalar("one", 1)]), g.scalar("half", 0.5)]);
}

/** y = x · Wᵀ + b (x [n, in], W [out, in]), with gelu: also pre, the product before the activation, kept for the gradient. */
export function linearForwardGraph(gelu: boolean): Uint8Array {
  const g = new GraphBuilder("bertune_linear");
  const x = input(g, "x", ["n", "in"]);
  const w = input(g, "w", ["out", "in"]);
  const b = input(g, "b", ["out"]);
  const pre = g.op("Gemm", [x, w, b], [attr.int("transB", 1)]);
  if (gelu) {
    output(g, g.op("Mul", [pre, normalCdf(g, pre)]), "y", ["n", "out"]);
    output(g, pre, "pre", ["n", "out"]);
  } else {
    output(g, pre, "y", ["n", "out"]);
  }
  return model(g);
}

/**
 * The linear layer's gradients from dy: dx = d·W, dW = dᵀ·x, db = Σ_rows d, where d = dy, or with
 * gelu d = dy · (Φ(pre) + pre·φ(pre)), GELU's derivative at the saved pre-activation.
 */
export function linearBackwardGraph(gelu: boolean): Uint8Array {
  const g = new GraphBuilder("bertune_linear_grad");
  const dy = input(g, "dy", ["n", "out"]);
  const x = input(g, "x", ["n", "in"]);
  const w = input(g, "w", ["out", "in"]);
  let d = dy;
  if (gelu) {
    const pre = input(g, "pre", ["n", "out"]);
    const pdf = g.op("Mul", [g.op("Exp", [g.op("Mul", [g.op("Mul", [pre, pre]), g.scalar("minus_half", -0.5)])]), g.scalar("inv_sqrt_2pi", 1 / Math.sqrt(2 * Math.PI))]);
    d = g.op("Mul", [dy, g.op("Add", [normalCdf(g, pre), g.op("Mul", [pre, pdf])])]);
  }
  output(g, g.op("MatMul", [d, w]), "dx", ["n", "in"]);
  output(g, g.op("Gemm", [d, x], [attr.int("transA", 1)]), "dw", ["out", "in"]);
  output(g, g.op("ReduceSum", [d, g.int64("rows", [0])], [attr.int("keepdims", 0)]), "db", ["out"]);
  return model(g);
}

/** torch.nn.LayerNorm over the last axis of x [n, h]: y, and x̂ and σ [n, 1] for the gradient (biased variance, eps inside the root). */
export function layerNormForwardGraph(eps: number): Uint8Array {
  const g = new GraphBuilder("bertune_layer_norm");
  const x = input(g, "x", ["n", "h"]);
  const gamma = input(g, "gamma", ["h"]);
  const beta = input(g, "beta", ["h"]);
  const last = [attr.ints("axes", [-1]), attr.int("keepdims", 1)];
  const centred = g.op("Sub", [x, g.op("ReduceMean", [x], last)]);
  const std = g.op("Sqrt", [g.op("Add", [g.op("ReduceMean", [g.op("Mul", [centred, centred])], last), g.scalar("eps", eps)])]);
  const xhat = g.op("Div", [centred, std]);
  output(g, g.op("Add", [g.op("Mul", [xhat, gamma]), beta]), "y", ["n", "h"]);
  output(g, xhat, "xhat", ["n", "h"]);
  output(g, std, "std", ["n", 1]);
  return model(g);
}

/** LayerNorm's gradients: dx = (ĝ − mean ĝ − x̂·mean(ĝ·x̂)) / σ with ĝ = dy·γ; dγ = Σ dy·x̂, dβ = Σ dy over rows. */
export function layerNormBackwardGraph(): Uint8Array {
  const g = new GraphBuilder("bertune_layer_norm_grad");
  const dy = input(g, "dy", ["n", "h"]);
  const xhat = input(g, "xhat", ["n", "h"]);
  const std = input(g, "std", ["n", 1]);
  const gamma = input(g, "gamma", ["h"]);
  const last = [attr.ints("axes", [-1]), attr.int("keepdims", 1)];
  const ghat = g.op("Mul", [dy, gamma]);
  const meanG = g.op("ReduceMean", [ghat], last);
  const meanGX = g.op("ReduceMean", [g.op("Mul", [ghat, xhat])], last);
  output(g, g.op("Div", [g.op("Sub", [g.op("Sub", [ghat, meanG]), g.op("Mul", [xhat, meanGX])]), std]), "dx", ["n", "h"]);
  const rows = g.int64("rows", [0]);
  const keep0 = [attr.int("keepdims", 0)];
  output(g, g.op("ReduceSum", [g.op("Mul", [dy, xhat]), rows], keep0), "dgamma", ["h"]);
  output(g, g.op("ReduceSum", [dy, rows], keep0), "dbeta", ["h"]);
  return model(g);
}
