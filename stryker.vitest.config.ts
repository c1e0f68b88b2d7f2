import { defineConfig } from "vitest/config";

// The in-process tests of the modules Stryker mutates (npm run mutate). The CLI tests run dist/ in
// child processes, so they never see a mutant and are left out.
export default defineConfig({
  test: {
    include: [
      "test/reference-math.test.ts",
      "test/mutation-guards.test.ts",
      "test/checkpoint.test.ts",
      "test/labels.test.ts",
      "test/feature-cache.test.ts",
      "test/full-trainer.test.ts",
      "test/step-loop.test.ts",
      "test/trainer.test.ts",
      "test/onnx-classifier.test.ts",
      "test/pretrain-reference.test.ts",
      "test/masked-lm.test.ts",
      "test/pretrain-collator.test.ts",
      "test/tfjs-bert.test.ts",
      "test/tf-ops.test.ts",
      "test/head-trainer.test.ts",
      "test/linear-head.test.ts",
      "test/objective.test.ts",
      "test/task.test.ts",
      "test/validation.test.ts",
      "test/metrics.problem-types.test.ts",
      "test/metrics.test.ts",
      "test/data.columns-labels.test.ts",
      "test/targets.test.ts",
      "test/library.test.ts",
    ],
    pool: "forks",
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
