import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // onnxruntime-node and the tfjs wasm backend are happier in child processes than in worker threads.
    pool: "forks",
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
