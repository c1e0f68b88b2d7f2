/**
 * Small ONNX graphs run on onnxruntime's CPU kernels (MLAS: AVX2/AVX-512 where the CPU has them,
 * on every core), called synchronously so the tensorflow.js ops of the wasm and cpu backends can
 * use them inside their forward and gradient functions. tfjs' wasm kernels run on one core at
 * 4-wide SIMD (~15 GFLOP/s on products here, and erf/exp as scalar calls); a BERT training step on
 * those backends is mostly products and GELU.
 *
 * onnxruntime-node's public `InferenceSession.run` is asynchronous only because it defers the
 * native call with setImmediate; the native call itself is synchronous, and this module calls it
 * directly. Where the binding cannot be loaded (another onnxruntime-node layout, a platform
 * without its binary) or BERTUNE_NATIVE_OPS=0, `nativeOps()` is undefined and tfjs' own kernels run.
 */
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { tf } from "./tfjs.js";

interface OrtTensor {
  readonly data: unknown;
  readonly dims: readonly number[];
}
type TensorCtor = new (type: "float32", data: Float32Array, dims: readonly number[]) => OrtTensor;
interface NativeSession {
  loadModel(buffer: ArrayBufferLike, byteOffset: number, byteLength: number, options: object): void;
  run(feeds: Record<string, OrtTensor>, fetches: Record<string, OrtTensor>, options: object): Record<string, OrtTensor>;
}

/** A float32 tensor as plain values: row-major data and its shape. */
export interface HostTensor {
  data: Float32Array;
  shape: readonly number[];
}

export interface NativeOps {
  /** The threads each graph runs on. */
  readonly threads: number;
  /**
   * Run the graph known as `key` (built by `build` the first time: a serialised ONNX model whose
   * inputs and outputs are float32) on `inputs`, writing each output into the given buffer.
   */
  run(key: string, build: () => Uint8Array, inputs: Record<string, HostTensor>, outputs: Record<string, HostTensor>): void;
}

function load(): NativeOps | undefined {
  if (process.env.BERTUNE_NATIVE_OPS === "0") return undefined;
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
  // Sequential, no spinning: the pool's threads sleep between graphs instead of taking the core from tfjs.
  const options = { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: "sequential", graphOptimizationLevel: "all", extra: { session: { intra_op: { allow_spinning: "0" } } } };
  const sessions = new Map<string, NativeSession>();
  // Plain loops: a head's step makes two calls of a few microseconds of work each.
  const ortTensors = (ts: Record<string, HostTensor>) => {
    const out: Record<string, OrtTensor> = {};
    for (const name in ts) out[name] = new Tensor("float32", ts[name].data, ts[name].shape);
    return out;
  };
  return {
    threads,
    run(key, build, inputs, outputs) {
      let s = sessions.get(key);
      if (!s) {
        const bytes = build();
        s = new binding.InferenceSession();
        s.loadModel(bytes.buffer, bytes.byteOffset, bytes.byteLength, options);
        sessions.set(key, s);
      }
      s.run(ortTensors(inputs), ortTensors(outputs), RUN_OPTIONS);
    },
  };
}

const RUN_OPTIONS = {};
let cached: NativeOps | undefined | null = null;

/** The native kernels, or undefined where they cannot run (then tfjs' own kernels do). */
export function nativeOps(): NativeOps | undefined {
  if (cached === null) cached = load();
  return cached;
}

/** The wasm backend's own methods for tensors in its heap (public on BackendWasm: its kernels use them). */
interface HeapBackend {
  makeOutput(shape: number[], dtype: "float32"): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
}

/** Whether tensors live on the host (wasm, cpu), where they can be read and written synchronously. */
export function onHostBackend(): boolean {
  const backend = tf.getBackend();
  return backend === "wasm" || backend === "cpu";
}

/**
 * Float32 tensors whose values `fill` writes, on the CPU backends: straight into the wasm heap
 * (every buffer allocated before `fill` runs: a malloc may grow the heap, which detaches earlier
 * views), or into arrays the cpu backend takes. Undefined on the other backends.
 */
export function filledTensors(shapes: number[][], fill: (values: Float32Array[]) => void): tf.Tensor[] | undefined {
  const backend = tf.getBackend();
  if (backend === "wasm") {
    const heap = tf.backend() as unknown as HeapBackend;
    const infos = shapes.map((shape) => heap.makeOutput(shape, "float32"));
    fill(infos.map((info) => heap.typedArrayFromHeap(info)));
    return infos.map((info) => tf.engine().makeTensorFromTensorInfo(info));
  }
  if (backend !== "cpu") return undefined;
  const values = shapes.map((shape) => new Float32Array(shape.reduce((a, b) => a * b, 1)));
  fill(values);
  return values.map((v, i) => tf.tensor(v, shapes[i]));
}

/** One tensor of filledTensors. */
export function filledTensor(shape: number[], fill: (values: Float32Array) => void): tf.Tensor | undefined {
  return filledTensors([shape], ([values]) => fill(values))?.[0];
}

/**
 * The values of a float32 tensor of the CPU backends without a copy on wasm: a view of the heap,
 * valid until the next allocation (which may grow the heap), so take it after allocating outputs.
 */
export function hostValues(t: tf.Tensor): Float32Array {
  if (tf.getBackend() === "wasm") return (tf.backend() as unknown as HeapBackend).typedArrayFromHeap(t);
  return t.dataSync() as Float32Array;
}

/**
 * Run a native graph on float32 tensors of the wasm or cpu backend, returning its outputs (of the
 * given shapes) as tensors. On wasm onnxruntime reads the inputs from the heap and writes the
 * outputs into it, without a copy; on cpu the values are copied.
 */
export function runNative(native: NativeOps, key: string, build: () => Uint8Array, inputs: Record<string, tf.Tensor>, outputs: Record<string, number[]>): tf.Tensor[] {
  const names = Object.keys(outputs);
  const shapes = names.map((name) => outputs[name]);
  const host = (values: Float32Array, shape: readonly number[]): HostTensor => ({ data: values, shape });
  return filledTensors(shapes, (values) => {
    native.run(key, build, Object.fromEntries(Object.entries(inputs).map(([name, t]) => [name, host(hostValues(t), t.shape)])), Object.fromEntries(names.map((name, i) => [name, host(values[i], shapes[i])])));
  })!;
}
