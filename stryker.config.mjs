// Mutation testing of the math and the bookkeeping (npm run mutate; not in CI: it takes long).
// Scores and the equivalent mutants are in docs/testing.md. One module at a time:
//   npx stryker run --mutate src/train/adamw.ts
// Concurrency 1: each mutant runs the tests that cover it, and those train small BERTs.
import { resolve } from "node:path";

// Stryker runs the tests in a copy of the tree (.stryker-tmp/sandbox-*): point them at the fixtures.
process.env.BERTUNE_TEST_SHARED ??= resolve("../shared");

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: "vitest",
  vitest: { configFile: "stryker.vitest.config.ts", related: false },
  checkers: ["typescript"],
  tsconfigFile: "tsconfig.json",
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  coverageAnalysis: "perTest",
  concurrency: 1,
  timeoutMS: 60_000,
  mutate: [
    "src/train/**/*.ts",
    "src/bert/**/*.ts",
    "!src/bert/onnx-encoder.ts",
    "src/heads/**/*.ts",
    "src/metrics/**/*.ts",
    "src/data/labels.ts",
    "src/features/cache.ts",
  ],
  ignorePatterns: ["dist", "runs", ".gpu-bundle", "reports", ".stryker-tmp"],
  reporters: ["clear-text", "progress", "json"],
  jsonReporter: { fileName: process.env.STRYKER_JSON ?? "reports/mutation/mutation.json" },
  tempDirName: ".stryker-tmp",
  cleanTempDir: "always",
};
