import { useBackend } from "../../src/backend/tfjs.js";

/**
 * The tensorflow.js backends the numeric tests run on: wasm always, and webgpu where Dawn finds
 * an adapter — a GPU, or Mesa's lavapipe (software Vulkan), which .ci/run installs so CI checks
 * the GPU code path too. Where CI installed it, it sets BERTUNE_REQUIRE_WEBGPU=1: WebGPU failing
 * to start is then an error, not a skip.
 */
export async function testBackends(): Promise<("wasm" | "webgpu")[]> {
  try {
    await useBackend("webgpu");
    return ["wasm", "webgpu"];
  } catch (e) {
    if (process.env.BERTUNE_REQUIRE_WEBGPU === "1") throw e;
    process.stderr.write(`warning: WebGPU tests skipped: ${(e as Error).message}\n`);
    return ["wasm"];
  } finally {
    await useBackend("wasm");
  }
}
