/**
 * Exported runs in transformers.js — the library JavaScript users deploy with — loaded from the
 * run folder in Node: `pipeline("text-classification", run)` must give the probabilities
 * `bertune predict` gave before the export (tfjs for a full run; the feature graph + head for a
 * frozen one) within 1e-5, and the int8 graph must agree on the labels of SST-2's dev set.
 */
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { runCli } from "./helpers/cli.js";
import { DATASETS, TINY_MODEL, sst2Subset, tempDir } from "./helpers/fixtures.js";

const DEV = readFileSync(join(DATASETS, "sst2", "dev.tsv"), "utf8").split("\n").slice(1).filter(Boolean).map((l) => l.split("\t")[0]);
const work = tempDir("bertune-tjs-");
const data = sst2Subset(join(work, "data"), 256, 64);
const env = { HF_HOME: join(work, "hf"), BERTUNE_CACHE: join(work, "cache") };
const devFile = join(work, "dev.txt");
writeFileSync(devFile, DEV.join("\n") + "\n");

type Scores = Record<string, number>[];

/** bertune predict --json over the dev sentences: each text's probabilities by label. */
async function bertunePredict(run: string): Promise<Scores> {
  const r = await runCli(["predict", run, "--file", devFile, "--json", "--device", "wasm"], env);
  expect(r.stderr).not.toMatch(/error/);
  expect(r.code).toBe(0);
  return r.stdout.trim().split("\n").map((l) => JSON.parse(l).probabilities);
}

/** transformers.js's text-classification pipeline on the run folder, every label's score. */
async function transformersJs(run: string, dtype: "fp32" | "q8"): Promise<{ scores: Scores; loadMs: number }> {
  const { pipeline, env: tenv } = await import("@huggingface/transformers");
  tenv.allowRemoteModels = false;
  tenv.localModelPath = dirname(run) + "/";
  const started = performance.now();
  const classify = await pipeline("text-classification", basename(run), { dtype });
  const loadMs = performance.now() - started;
  const out = (await classify(DEV, { top_k: null })) as unknown as { label: string; score: number }[][];
  await classify.dispose();
  return { scores: out.map((row) => Object.fromEntries(row.map((x) => [x.label, x.score]))), loadMs };
}

function compare(a: Scores, b: Scores): { maxDiff: number; agreement: number } {
  expect(a).toHaveLength(b.length);
  let maxDiff = 0;
  let same = 0;
  const top = (s: Record<string, number>) => Object.entries(s).sort((x, y) => y[1] - x[1])[0][0];
  a.forEach((s, i) => {
    for (const k of Object.keys(s)) maxDiff = Math.max(maxDiff, Math.abs(s[k] - b[i][k]));
    if (top(s) === top(b[i])) same++;
  });
  return { maxDiff, agreement: same / a.length };
}

const RUNS: [string, string[]][] = [
  ["full", ["--epochs", "2", "--batch-size", "16", "--max-length", "64", "--learning-rate", "1e-4", "--device", "wasm"]],
  ["frozen-pooler", ["--freeze-backbone", "--epochs", "5", "--learning-rate", "1e-2"]],
  ["frozen-cls", ["--freeze-backbone", "--pooling", "cls", "--epochs", "5", "--learning-rate", "1e-2"]],
  ["frozen-mean", ["--freeze-backbone", "--pooling", "mean", "--epochs", "5", "--learning-rate", "1e-2"]],
];

describe.each(RUNS)("a %s run exported for transformers.js", (name, args) => {
  const run = join(work, name);
  let before: Scores;
  beforeAll(async () => {
    const r = await runCli(["train", "--model", TINY_MODEL, "--dataset", data, "--output", run, "-q", ...args], env);
    expect(r.code).toBe(0);
    before = await bertunePredict(run);
    const e = await runCli(["export", run, "--quantize", "--json"], env);
    expect(e.stderr).toBe("");
    expect(e.code).toBe(0);
    expect(JSON.parse(e.stdout).files.map((f: { path: string }) => f.path)).toEqual(["onnx/model.onnx", "onnx/model_quantized.onnx"]);
  });

  it("pipeline('text-classification', run, { dtype: 'fp32' }) gives bertune's probabilities within 1e-5", async () => {
    const { scores, loadMs } = await transformersJs(run, "fp32");
    const { maxDiff, agreement } = compare(scores, before);
    const positive = before.filter((s) => s.positive > s.negative).length;
    console.log(`${name}: fp32 ${(statSync(join(run, "onnx/model.onnx")).size / 1e6).toFixed(2)} MB, loaded in ${loadMs.toFixed(0)} ms; max |Δp| vs bertune ${maxDiff.toExponential(2)}; ${positive}/${DEV.length} predicted positive`);
    expect(maxDiff).toBeLessThan(1e-5);
    expect(agreement).toBe(1);
    // bertune's own predict on the export (onnxruntime) agrees too.
    expect(compare(await bertunePredict(run), before).maxDiff).toBeLessThan(1e-5);
  });

  it("the int8 graph (dtype 'q8', transformers.js's browser default) agrees on ≥ 99% of SST-2 dev labels", async () => {
    const { scores, loadMs } = await transformersJs(run, "q8");
    const { maxDiff, agreement } = compare(scores, before);
    console.log(`${name}: q8 ${(statSync(join(run, "onnx/model_quantized.onnx")).size / 1e6).toFixed(2)} MB, loaded in ${loadMs.toFixed(0)} ms; label agreement ${(agreement * 100).toFixed(2)}% on ${DEV.length}, max |Δp| ${maxDiff.toExponential(2)}`);
    expect(agreement).toBeGreaterThanOrEqual(0.99);
    expect(maxDiff).toBeGreaterThan(0); // it is a different graph
  });
});
