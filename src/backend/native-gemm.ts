/**
 * Matrix products on onnxruntime's CPU kernels (MLAS: AVX2/AVX-512 where the CPU has them, on
 * every core), called synchronously so the tensorflow.js ops of the wasm and cpu backends can use
 * them inside their forward and gradient functions. tfjs' wasm products run on one core at 4-wide
 * SIMD (~15 GFLOP/s here); a BERT training step on those backends is mostly products.
 *
 * onnxruntime-node's public `InferenceSession.run` is asynchronous only because it defers the
 * native call with setImmediate; the native call itself is synchronous, and this module calls it
 * directly. Where the binding cannot be loaded (another onnxruntime-node layout, a platform
 * without its binary) or BERTUNE_NATIVE_GEMM=0, `nativeGemm()` is undefined and tfjs' own kernels run.
 */
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { GraphBuilder, attr } from "../onnx/graph.js";
import { DataType, encodeModel } from "../onnx/proto.js";

interface OrtTensor {
  readonly data: unknown;
  readonly dims: readonly number[];
}
type TensorCtor = new (type: "float32", data: Float32Array, dims: readonly number[]) => OrtTensor;
interface NativeSession {
  loadModel(buffer: ArrayBufferLike, byteOffset: number, byteLength: number, options: object): void;
  run(feeds: Record<string, OrtTensor>, fetches: Record<string, null>, options: object): Record<string, OrtTensor>;
}

/** A product's result: row-major values and shape. */
export interface Product {
  data: Float32Array;
  shape: number[];
}

export interface NativeGemm {
  /** The threads each product runs on. */
  readonly threads: number;
  /**
   * op(a) · op(b) (+ bias over the last axis), op transposing the last two axes where asked;
   * a and b of equal rank ≥ 2, leading axes equal (batched products), bias only for rank 2.
   */
  matMul(a: Float32Array, aShape: readonly number[], b: Float32Array, bShape: readonly number[], transA: boolean, transB: boolean, bias?: Float32Array): Product;
}

/** One graph per rank, transposition and bias: Gemm for 2-D (its transposes and bias are free), MatMul for batched. */
function productModel(rank: number, transA: boolean, transB: boolean, bias: boolean): Uint8Array {
  const g = new GraphBuilder("bertune_product");
  const lead = Array.from({ length: rank - 2 }, (_, i) => `d${i}`);
  const a = g.input("a", DataType.FLOAT, [...lead, "a0", "a1"]);
  const b = g.input("b", DataType.FLOAT, [...lead, "b0", "b1"]);
  let y: string;
  if (rank === 2) {
    const inputs = [a, b];
    if (bias) inputs.push(g.input("c", DataType.FLOAT, ["n"]));
    y = g.op("Gemm", inputs, [attr.int("transA", transA ? 1 : 0), attr.int("transB", transB ? 1 : 0)]);
  } else {
    if (bias) throw new Error("a batched product takes no bias");
    const swap = [...lead.map((_, i) => i), rank - 1, rank - 2];
    const left = transA ? g.op("Transpose", [a], [attr.ints("perm", swap)]) : a;
    const right = transB ? g.op("Transpose", [b], [attr.ints("perm", swap)]) : b;
    y = g.op("MatMul", [left, right]);
  }
  g.output(y, "y", DataType.FLOAT, [...lead, "m", "n"]);
  return encodeModel({ irVersion: 8, producerName: "bertune", producerVersion: "0", opsetImport: [{ domain: "", version: 17 }], graph: g.build() });
}

function load(): NativeGemm | undefined {
  if (process.env.BERTUNE_NATIVE_GEMM === "0") return undefined;
  let binding: { InferenceSession: new () => NativeSession };
  let Tensor: TensorCtor;
  try {
    const require = createRequire(import.meta.url);
    const entry = require.resolve("onnxruntime-node");
    const native = require(entry.replace(/index\.js$/, "binding.js")) as { binding: typeof binding; initOrt: () => void };
    native.initOrt();
    binding = native.binding;
    Tensor = (require("onnxruntime-node") as { Tensor: TensorCtor }).Tensor;
  } catch {
    return undefined;
  }
  const threads = availableParallelism();
  // Sequential, no spinning: the pool's threads sleep between products instead of taking the core from tfjs.
  const options = { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: "sequential", graphOptimizationLevel: "all", extra: { session: { intra_op: { allow_spinning: "0" } } } };
  const sessions = new Map<string, NativeSession>();
  const session = (rank: number, transA: boolean, transB: boolean, bias: boolean): NativeSession => {
    const key = `${rank}${+transA}${+transB}${+bias}`;
    let s = sessions.get(key);
    if (!s) {
      const bytes = productModel(rank, transA, transB, bias);
      s = new binding.InferenceSession();
      s.loadModel(bytes.buffer, bytes.byteOffset, bytes.byteLength, options);
      sessions.set(key, s);
    }
    return s;
  };
  return {
    threads,
    matMul(a, aShape, b, bShape, transA, transB, bias) {
      const feeds: Record<string, OrtTensor> = { a: new Tensor("float32", a, aShape), b: new Tensor("float32", b, bShape) };
      if (bias) feeds.c = new Tensor("float32", bias, [bias.length]);
      const { y } = session(aShape.length, transA, transB, bias !== undefined).run(feeds, { y: null }, {});
      return { data: y.data as Float32Array, shape: [...y.dims] };
    },
  };
}

let cached: NativeGemm | undefined | null = null;

/** The native products, or undefined where they cannot run (then tfjs' own kernels do). */
export function nativeGemm(): NativeGemm | undefined {
  if (cached === null) cached = load();
  return cached;
}
