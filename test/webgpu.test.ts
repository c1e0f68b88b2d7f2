import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadFullModelSource } from "../src/model.js";
import { featureGraph } from "../src/onnx/feature-graph.js";
import { resolveArgs } from "../src/train/args.js";
import { tf, useBackend } from "../src/backend/tfjs.js";
import { trainFull } from "../src/train/full-trainer.js";
import { testBackends } from "./helpers/backends.js";
import { runCli } from "./helpers/cli.js";
import { keywordDataset } from "./helpers/datasets.js";
import { sst2Subset, tempDir, TINY_MODEL } from "./helpers/fixtures.js";

// The GPU path, on whatever adapter Dawn finds (in CI: Mesa's lavapipe, a Vulkan driver on the
// CPU). It must compute what the wasm backend computes; the encoder and one training step are
// checked against PyTorch on both backends in tfjs-bert.test.ts.
const hasWebgpu = (await testBackends()).includes("webgpu");

describe.skipIf(!hasWebgpu)("the frozen path's ONNX encoder on onnxruntime's WebGPU provider", async () => {
  const source = await loadFullModelSource(TINY_MODEL);
  it.each([
    ["bertune's own graph", "own"],
    ["the fixture's optimum export", "export"],
  ])("%s matches PyTorch's pooled outputs within 1e-5, as on the CPU provider", async (_, which) => {
    const { OnnxEncoder } = await import("../src/bert/onnx-encoder.js");
    const ref = JSON.parse(readFileSync(join(TINY_MODEL, "reference.json"), "utf8"));
    const batch = { inputIds: ref.encoder.input_ids, tokenTypeIds: ref.encoder.token_type_ids, attentionMask: ref.encoder.attention_mask };
    const path = which === "export" ? join(TINY_MODEL, "onnx/model.onnx") : (await featureGraph(source.config, source.weights, { cacheDir: tempDir() })).path;
    const encoder = await OnnxEncoder.load(path, 32, { device: "webgpu" });
    try {
      for (const [pooling, key] of [["pooler", "pooler_output"], ["cls", "cls_hidden"], ["mean", "mean_pooled"]] as const) {
        const got = await encoder.encode(batch, pooling);
        const expected = (ref.encoder[key] as number[][]).flat();
        expect(got.length).toBe(expected.length);
        expect(got.reduce((m, x, i) => Math.max(m, Math.abs(x - expected[i])), 0), pooling).toBeLessThan(1e-5);
      }
    } finally {
      await encoder.close();
    }
  });
});

describe.skipIf(!hasWebgpu)("full fine-tuning on WebGPU", () => {
  it("takes the steps the wasm backend takes (dropout off): same losses and weights, flat tensor memory", async () => {
    const source = await loadFullModelSource(TINY_MODEL);
    const noDropout = { ...source, config: { ...source.config, hidden_dropout_prob: 0, attention_probs_dropout_prob: 0 } };
    const data = keywordDataset(48, 3);
    // Clipping on every step (small max norm) and two micro-batches per step exercise the whole update.
    const args = resolveArgs({ numTrainEpochs: 2, perDeviceTrainBatchSize: 8, gradientAccumulationSteps: 2, learningRate: 2e-3, maxGradNorm: 0.02, weightDecay: 0.01, loggingSteps: 1, saveStrategy: "no", maxLength: 16 });
    const runs: Record<string, { losses: number[]; norms: number[]; weights: Record<string, { data: Float32Array }>; tensorCounts: number[] }> = {};
    for (const backend of ["wasm", "webgpu"] as const) {
      await useBackend(backend);
      const tensorCounts: number[] = [];
      const r = await trainFull({ source: noDropout, dataset: data, args, progress: () => ({ tick: () => tensorCounts.push(tf.memory().numTensors), done() {} }) });
      const steps = r.state.log_history.filter((e) => e.loss !== undefined);
      runs[backend] = { losses: steps.map((e) => e.loss!), norms: steps.map((e) => e.grad_norm!), weights: await r.model.toTensors(), tensorCounts };
      r.model.dispose();
    }
    const { wasm, webgpu } = runs;
    expect(webgpu.losses.length).toBe(6);
    webgpu.losses.forEach((l, i) => expect(Math.abs(l - wasm.losses[i]), `loss at step ${i + 1}`).toBeLessThan(1e-4));
    webgpu.norms.forEach((n, i) => expect(Math.abs(n - wasm.norms[i]) / wasm.norms[i], `grad norm at step ${i + 1}`).toBeLessThan(1e-3));
    expect(Math.min(...wasm.norms)).toBeGreaterThan(0.02); // clipping acted on every step
    let maxDiff = 0;
    let maxMove = 0;
    const initial = (await import("../src/formats/safetensors.js")).readSafetensors(join(TINY_MODEL, "model.safetensors"));
    for (const name of Object.keys(wasm.weights)) {
      const a = wasm.weights[name].data;
      const b = webgpu.weights[name].data;
      for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
      if (name === "bert.pooler.dense.weight") {
        const before = (await import("../src/formats/safetensors.js")).tensorToFloat32(initial, "pooler.dense.weight");
        for (let i = 0; i < a.length; i++) maxMove = Math.max(maxMove, Math.abs(a[i] - before[i]));
      }
    }
    expect(maxMove).toBeGreaterThan(1e-3); // training moved the weights far beyond the tolerance
    expect(maxDiff).toBeLessThan(1e-4);
    expect(new Set(webgpu.tensorCounts.slice(2)).size).toBe(1);
    await useBackend("wasm");
  });

  it("through the CLI: train --device webgpu, then evaluate and predict on WebGPU agree with wasm", async () => {
    const work = tempDir();
    const data = sst2Subset(join(work, "sst2"), 48, 16);
    const run = join(work, "run");
    const env = { BERTUNE_CACHE: join(work, "cache"), HF_HOME: join(work, "hf") };
    const t = await runCli(["train", "--model", TINY_MODEL, "--dataset", data, "--device", "webgpu", "--output", run, "--epochs", "1", "--batch-size", "16", "--max-length", "32", "--json"], env);
    expect(t.code, t.stderr).toBe(0);
    expect(JSON.parse(t.stdout).backend).toBe("webgpu");
    const saved = JSON.parse(readFileSync(join(run, "eval_results.json"), "utf8")).eval_accuracy;
    for (const device of ["webgpu", "wasm"]) {
      const ev = await runCli(["evaluate", run, "--device", device, "--json"], env);
      expect(ev.code, ev.stderr).toBe(0);
      expect(JSON.parse(ev.stdout).eval_accuracy).toBe(saved);
    }
    const text = "a gripping, beautifully acted film";
    const [gpu, cpu] = await Promise.all(["webgpu", "wasm"].map((device) => runCli(["predict", run, text, "--device", device, "--json"], env)));
    expect(gpu.code, gpu.stderr).toBe(0);
    const pg = JSON.parse(gpu.stdout).probabilities;
    const pc = JSON.parse(cpu.stdout).probabilities;
    for (const label of Object.keys(pc)) expect(Math.abs(pg[label] - pc[label])).toBeLessThan(1e-5);
  });
});
