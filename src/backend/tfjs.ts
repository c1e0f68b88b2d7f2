import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { existsSync, readdirSync } from "node:fs";
import { BertuneError } from "../errors.js";
import { WEBGPU_HINT, webgpuUnavailableReason } from "./vulkan.js";

/**
 * The wasm backend's Identity copies its input, and tfjs clones (Identity) every tensor a custom
 * gradient saves, so each training step copied every activation kept for the backward pass. It
 * shares the data instead, as the cpu and webgl backends' Identity does: the wasm backend counts
 * references to its buffers (its own Reshape already shares them), and no kernel writes into an input.
 */
function shareIdentityOnWasm(): void {
  const copying = tf.getKernel("Identity", "wasm");
  if (!copying) return;
  tf.unregisterKernel("Identity", "wasm");
  tf.registerKernel({
    kernelName: "Identity",
    backendName: "wasm",
    kernelFunc: (args) => {
      const x = args.inputs.x as tf.TensorInfo;
      if (x.dtype === "string") return copying.kernelFunc(args);
      (args.backend as unknown as { incRef(dataId: tf.DataId): void }).incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    },
  });
}
shareIdentityOnWasm();

/** The tensorflow.js backends bertune can run on; "auto" picks the best that works here. */
export type Device = "auto" | "wasm" | "cpu" | "webgpu" | "tensorflow";
export const DEVICES: readonly Device[] = ["auto", "wasm", "cpu", "webgpu", "tensorflow"];

/** Why a backend could not start, for the message when the user asked for it by name. */
const failures = new Map<string, string>();

/** tfjs-node(-gpu) is an optional peer: its install downloads libtensorflow from outside npm. */
async function registerTensorflow(): Promise<string | undefined> {
  for (const pkg of ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node"]) {
    try {
      await import(pkg);
      return pkg;
    } catch {
      // not installed (or its native library failed to load): try the next one
    }
  }
  failures.set("tensorflow", "neither @tensorflow/tfjs-node-gpu nor @tensorflow/tfjs-node is installed (npm install @tensorflow/tfjs-node-gpu; it downloads libtensorflow and needs CUDA 11.2 / cuDNN 8)");
  return undefined;
}

/** The adapter Dawn found, once WebGPU is registered. */
let webgpuAdapter: { description: string; software: boolean } | undefined;

/** What WebGPU runs on, once it has started: the adapter's description and whether it is a software renderer. */
export function webgpuAdapterInfo(): { description: string; software: boolean } | undefined {
  return webgpuAdapter;
}

interface AdapterInfo {
  description?: string;
  device?: string;
  vendor?: string;
  architecture?: string;
  isFallbackAdapter?: boolean;
}

/** WebGPU through Dawn (the `webgpu` npm package): the GPU path that installs from npm alone. */
async function registerWebgpu(): Promise<boolean> {
  const unavailable = webgpuUnavailableReason();
  if (unavailable) {
    failures.set("webgpu", `${unavailable} (${WEBGPU_HINT})`);
    return false;
  }
  try {
    const { create, globals } = (await import("webgpu")) as { create: (flags: string[]) => unknown; globals: Record<string, unknown> };
    Object.assign(globalThis, globals);
    const g = globalThis as { navigator?: { gpu?: unknown } };
    if (!g.navigator) Object.defineProperty(globalThis, "navigator", { value: {}, writable: true, configurable: true });
    if (!g.navigator!.gpu) Object.defineProperty(g.navigator!, "gpu", { value: create([]), configurable: true });
    const adapter = await (g.navigator!.gpu as { requestAdapter(): Promise<{ info?: AdapterInfo } | null> }).requestAdapter();
    if (!adapter) {
      failures.set("webgpu", "no WebGPU adapter: no GPU, or no Vulkan driver (on Linux install libvulkan1 and the GPU driver's Vulkan ICD)");
      return false;
    }
    const info = adapter.info ?? {};
    // Mesa's llvmpipe (lavapipe) and SwiftShader run WebGPU on the CPU: correct, but slower than wasm.
    webgpuAdapter = {
      description: info.description || info.device || info.vendor || "unnamed adapter",
      software: info.isFallbackAdapter === true || info.architecture === "software",
    };
    await import("@tensorflow/tfjs-backend-webgpu");
    return true;
  } catch (e) {
    failures.set("webgpu", `WebGPU could not start: ${(e as Error).message.split("\n")[0]}`);
    return false;
  }
}

async function trySet(name: string): Promise<boolean> {
  if (tf.getBackend() === name) return true;
  if (name === "tensorflow" && !tf.findBackendFactory("tensorflow") && !(await registerTensorflow())) return false;
  if (name === "webgpu" && !tf.findBackendFactory("webgpu") && !(await registerWebgpu())) return false;
  try {
    const ok = await tf.setBackend(name);
    if (ok) await tf.ready();
    if (!ok && !failures.has(name)) failures.set(name, `the ${name} backend failed to initialise`);
    return ok;
  } catch (e) {
    failures.set(name, (e as Error).message.split("\n")[0]);
    return false;
  }
}

/** A cheap look for a GPU device node, so "auto" does not start Dawn (slow, noisy) where there is none. */
function gpuPresent(): boolean {
  if (process.platform !== "linux") return true;
  try {
    return existsSync("/dev/nvidia0") || existsSync("/dev/dxg") || readdirSync("/dev/dri").some((f) => f.startsWith("renderD"));
  } catch {
    return false;
  }
}

/**
 * Select the tensorflow.js backend and return its name. "auto" prefers a GPU (tfjs-node-gpu,
 * then WebGPU), then tfjs-node, then wasm — the CPU default; the pure-JS "cpu" backend is
 * much slower and only a last resort.
 */
export async function useBackend(device: Device = "auto", log?: (line: string) => void): Promise<string> {
  if (device !== "auto") {
    if (await trySet(device)) {
      if (device === "webgpu" && webgpuAdapter) log?.(`WebGPU adapter: ${webgpuAdapter.description}${webgpuAdapter.software ? " (a software renderer on the CPU: expect it to be slower than --device wasm)" : ""}`);
      return device;
    }
    throw new BertuneError(`the ${device} backend is not available: ${failures.get(device) ?? "unknown reason"}`, "use --device auto to pick one that works");
  }
  const order: string[] = [];
  if (process.env.BERTUNE_AUTO_GPU !== "0" && gpuPresent()) order.push("webgpu");
  order.push("tensorflow", "wasm", "cpu");
  for (const name of order) {
    if (name === "tensorflow" && !tf.findBackendFactory("tensorflow") && !(await registerTensorflow())) continue;
    if (name === "webgpu" && !tf.findBackendFactory("webgpu") && !(await registerWebgpu())) continue;
    if (name === "webgpu" && webgpuAdapter?.software) continue; // a software adapter is no GPU
    if (await trySet(name)) {
      log?.(`tensorflow.js backend: ${name}${name === "webgpu" ? ` on ${webgpuAdapter?.description}` : ""} (chosen by --device auto)`);
      return name;
    }
  }
  throw new BertuneError("no tensorflow.js backend could start", "reinstall the package (npm ci)");
}

/**
 * A tensor's values as a fresh Float32Array. Asynchronous on purpose: in Node the WebGPU
 * backend has no synchronous read-back (tfjs' readSync draws through an OffscreenCanvas,
 * which Node lacks), so every read that may happen on a GPU goes through here.
 */
export async function readFloat32(t: tf.Tensor): Promise<Float32Array> {
  return new Float32Array(await t.data());
}

export { tf };
