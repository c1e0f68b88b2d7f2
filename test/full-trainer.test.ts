import { join } from "node:path";
import { BertuneError } from "../src/errors.js";
import { beforeAll, describe, expect, it } from "vitest";
import { readSafetensors, tensorToFloat32 } from "../src/formats/safetensors.js";
import { loadFullModelSource, type FullModelSource } from "../src/model.js";
import { resolveArgs, type TrainingArgs } from "../src/train/args.js";
import { tf, useBackend } from "../src/backend/tfjs.js";
import { listCheckpoints } from "../src/train/checkpoint.js";
import { trainableDepth, trainFull } from "../src/train/full-trainer.js";
import { chooseStrategy } from "../src/train/strategy.js";
import { keywordDataset } from "./helpers/datasets.js";
import { TINY_MODEL, tempDir } from "./helpers/fixtures.js";
import { lengthGroupedOrder } from "../src/train/length-grouped.js";
import { streamSeed, STREAM_SHUFFLE } from "../src/train/seeds.js";
import { Rng } from "../src/util/rng.js";

let source: FullModelSource;
const pretrained = readSafetensors(join(TINY_MODEL, "model.safetensors"));
const weight = (w: Record<string, { data: Float32Array }>, name: string) => Array.from(w[name].data);
const pretrainedWeight = (name: string) => Array.from(tensorToFloat32(pretrained, name));

beforeAll(async () => {
  await useBackend("wasm");
  source = await loadFullModelSource(TINY_MODEL);
});

const base = (over: Partial<TrainingArgs> = {}) =>
  resolveArgs({ numTrainEpochs: 2, perDeviceTrainBatchSize: 16, learningRate: 2e-3, loggingSteps: 4, saveStrategy: "no", maxLength: 32, ...over });

describe("full fine-tuning in tensorflow.js", () => {
  const data = keywordDataset(160, 1);

  it("learns a task end to end: loss falls and validation accuracy reaches 100%", async () => {
    const r = await trainFull({ source, dataset: data, args: base({ numTrainEpochs: 5, learningRate: 5e-3 }) });
    const losses = r.state.log_history.filter((e) => e.loss !== undefined).map((e) => e.loss!);
    expect(losses[losses.length - 1]).toBeLessThan(losses[0] * 0.5);
    expect(r.evalReport.accuracy).toBe(1);
    r.model.dispose();
  });

  it("is deterministic for a seed, and keeps tensor memory flat across steps", async () => {
    const counts: number[] = [];
    const a = await trainFull({ source, dataset: data, args: base(), progress: () => ({ tick: () => counts.push(tf.memory().numTensors), done() {} }) });
    const b = await trainFull({ source, dataset: data, args: base() });
    const wa = await a.model.toTensors();
    const wb = await b.model.toTensors();
    for (const name of Object.keys(wa)) expect(Buffer.from(wa[name].data.buffer).equals(Buffer.from(wb[name].data.buffer)), name).toBe(true);
    // counts[0] is before the first step; from the second step on, nothing may accumulate.
    expect(new Set(counts.slice(2)).size).toBe(1);
    a.model.dispose();
    b.model.dispose();
  });

  it("saves checkpoints and, interrupted then resumed, ends with the weights of an uninterrupted run", async () => {
    const out = tempDir();
    const args = base({ saveStrategy: 3, saveTotalLimit: 2 });
    const full = await trainFull({ source, dataset: data, args: { ...args, saveStrategy: "no" } });
    const abort = new AbortController();
    let ticks = 0;
    const first = await trainFull({
      source,
      dataset: data,
      args,
      outputDir: out,
      signal: abort.signal,
      progress: () => ({ tick: () => ++ticks === 8 && abort.abort(), done() {} }),
    });
    expect(first.stopped).toBe("interrupted");
    expect(first.state.global_step).toBe(7);
    first.model.dispose();
    // save_total_limit 2: checkpoint-3 was rotated away; the interrupt wrote checkpoint-7.
    expect(listCheckpoints(out).map((c) => c.step)).toEqual([6, 7]);
    const lines: string[] = [];
    const firstTicks: number[] = [];
    const resumed = await trainFull({
      source,
      dataset: data,
      args: { ...args, resumeFromCheckpoint: "latest" },
      outputDir: out,
      log: (l) => lines.push(l),
      progress: () => ({ tick: (n) => firstTicks.push(n), done() {} }),
    });
    expect(lines[0]).toBe(`resuming from ${join(out, "checkpoint-7")} at step 7/20`);
    // The bar starts at the resumed step, and 13 steps remain.
    expect(firstTicks).toEqual([7, ...new Array<number>(13).fill(1)]);
    expect(resumed.state.global_step).toBe(full.state.global_step);
    const wf = await full.model.toTensors();
    const wr = await resumed.model.toTensors();
    for (const name of Object.keys(wf)) expect(Buffer.from(wr[name].data.buffer).equals(Buffer.from(wf[name].data.buffer)), name).toBe(true);
    expect(resumed.state.log_history.filter((e) => e.eval_accuracy !== undefined).length).toBe(2);
    full.model.dispose();
    resumed.model.dispose();
  });

  it("--unfreeze-top K trains only the top K layers, pooler and head", async () => {
    const r = await trainFull({ source, dataset: data, args: base({ unfreezeTop: 1, numTrainEpochs: 1 }) });
    const w = await r.model.toTensors();
    expect(weight(w, "bert.embeddings.word_embeddings.weight")).toEqual(pretrainedWeight("embeddings.word_embeddings.weight"));
    expect(weight(w, "bert.encoder.layer.0.output.dense.weight")).toEqual(pretrainedWeight("encoder.layer.0.output.dense.weight"));
    expect(weight(w, "bert.encoder.layer.1.output.dense.weight")).not.toEqual(pretrainedWeight("encoder.layer.1.output.dense.weight"));
    expect(weight(w, "bert.pooler.dense.weight")).not.toEqual(pretrainedWeight("pooler.dense.weight"));
    r.model.dispose();
  });

  it("--gradual-unfreeze trains head and pooler first, then one more layer each epoch", async () => {
    expect([0, 1, 2, 3, 4].map((e) => trainableDepth(base({ gradualUnfreeze: true }), 2, e))).toEqual([0, 1, 2, 3, 3]);
    const one = await trainFull({ source, dataset: data, args: base({ gradualUnfreeze: true, numTrainEpochs: 1 }) });
    const w1 = await one.model.toTensors();
    expect(weight(w1, "bert.encoder.layer.1.output.dense.weight")).toEqual(pretrainedWeight("encoder.layer.1.output.dense.weight"));
    expect(weight(w1, "bert.pooler.dense.weight")).not.toEqual(pretrainedWeight("pooler.dense.weight"));
    one.model.dispose();
    const two = await trainFull({ source, dataset: data, args: base({ gradualUnfreeze: true, numTrainEpochs: 2 }) });
    const w2 = await two.model.toTensors();
    expect(weight(w2, "bert.encoder.layer.1.output.dense.weight")).not.toEqual(pretrainedWeight("encoder.layer.1.output.dense.weight"));
    expect(weight(w2, "bert.encoder.layer.0.output.dense.weight")).toEqual(pretrainedWeight("encoder.layer.0.output.dense.weight"));
    two.model.dispose();
  });

  it("--head-lr-multiplier and --layerwise-lr-decay scale each parameter's learning rate", async () => {
    // One AdamW step from the same weights and gradients: each tensor's update is proportional
    // to its own learning rate, so the ratio of updates between two runs is the ratio of rates.
    const delta = (w: Record<string, { data: Float32Array }>, name: string, before: ArrayLike<number>) => {
      let s = 0;
      for (let i = 0; i < before.length; i++) s += Math.abs(w[name].data[i] - before[i]);
      return s;
    };
    const oneStep = { numTrainEpochs: 1, perDeviceTrainBatchSize: 160, maxGradNorm: 0, learningRate: 1e-4 };
    const runs = await Promise.all([{}, { layerwiseLrDecay: 0.5 }, { headLrMultiplier: 10 }].map((o) => trainFull({ source, dataset: data, args: base({ ...oneStep, ...o }) })));
    const [plain, decayed, boosted] = await Promise.all(runs.map((r) => r.model.toTensors()));
    const initHead = await trainFull({ source, dataset: data, args: base({ ...oneStep, learningRate: 1e-30 }) });
    const head0 = (await initHead.model.toTensors())["classifier.weight"].data;
    const ratio = (w: typeof plain, name: string) => delta(w, name, tensorToFloat32(pretrained, name.slice(5))) / delta(plain, name, tensorToFloat32(pretrained, name.slice(5)));
    expect(ratio(decayed, "bert.pooler.dense.weight")).toBeCloseTo(1, 3); // depth 0
    expect(ratio(decayed, "bert.encoder.layer.1.attention.self.query.weight")).toBeCloseTo(0.5, 3); // depth 1
    expect(ratio(decayed, "bert.encoder.layer.0.attention.self.query.weight")).toBeCloseTo(0.25, 3); // depth 2
    expect(ratio(decayed, "bert.embeddings.word_embeddings.weight")).toBeCloseTo(0.125, 3); // depth 3
    expect(delta(boosted, "classifier.weight", head0) / delta(plain, "classifier.weight", head0)).toBeCloseTo(10, 2);
    expect(ratio(boosted, "bert.pooler.dense.weight")).toBeCloseTo(1, 3);
    for (const r of [...runs, initHead]) r.model.dispose();
  });

  it("stops early after --early-stopping-patience evaluations without improvement, keeping the best", async () => {
    const r = await trainFull({ source, dataset: data, args: base({ learningRate: 1e-9, evalStrategy: 2, earlyStoppingPatience: 2, loadBestModelAtEnd: true, numTrainEpochs: 3 }) });
    expect(r.stopped).toBe("early-stopping");
    expect(r.state.global_step).toBe(6);
    r.model.dispose();
  });

  it("gradient accumulation of 2×8 equals one batch of 16 (dropout off)", async () => {
    const noDropout = { ...source, config: { ...source.config, hidden_dropout_prob: 0, attention_probs_dropout_prob: 0 } };
    const one = { numTrainEpochs: 1, maxGradNorm: 0, learningRate: 1e-3 };
    const a = await trainFull({ source: noDropout, dataset: data, args: base({ ...one, perDeviceTrainBatchSize: 16 }) });
    const b = await trainFull({ source: noDropout, dataset: data, args: base({ ...one, perDeviceTrainBatchSize: 8, gradientAccumulationSteps: 2 }) });
    expect(b.state.global_step).toBe(a.state.global_step);
    const wa = await a.model.toTensors();
    const wb = await b.model.toTensors();
    let maxDiff = 0;
    for (const name of Object.keys(wa)) for (let i = 0; i < wa[name].data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(wa[name].data[i] - wb[name].data[i]));
    expect(maxDiff).toBeLessThan(1e-5);
    a.model.dispose();
    b.model.dispose();
  });

  it("--group-by-length feeds the model fewer padded tokens for the same examples, and still learns", async () => {
    // Mixed lengths: half the sentences short, half long (so per-batch padding matters).
    const mixed = keywordDataset(160, 3);
    mixed.splits.train = mixed.splits.train.map((e, i) => (i % 4 < 2 ? e : { ...e, text: `${e.text} ${"and the story went on with music ".repeat(3)}` }));
    const tokens = (r: Awaited<ReturnType<typeof trainFull>>) => Math.round(r.trainTokensPerSecond * r.trainRuntime);
    const plain = await trainFull({ source, dataset: mixed, args: base({ numTrainEpochs: 1 }) });
    const grouped = await trainFull({ source, dataset: mixed, args: base({ numTrainEpochs: 1, groupByLength: true }) });
    expect(Math.round(plain.trainSamplesPerSecond * plain.trainRuntime)).toBe(160);
    expect(Math.round(grouped.trainSamplesPerSecond * grouped.trainRuntime)).toBe(160);
    expect(tokens(grouped)).toBeLessThan(tokens(plain) * 0.85);
    expect(grouped.state.log_history.filter((e) => e.loss !== undefined).every((e) => Number.isFinite(e.loss))).toBe(true);
    plain.model.dispose();
    grouped.model.dispose();
  });

  it("pads each batch to its longest: the tokens it counts are the padded batches of the seeded order (grouped with --group-by-length)", async () => {
    const mixed = keywordDataset(40, 5);
    const lens = mixed.splits.train.map((e) => source.tokenizer.encodeOne(e.text, undefined, 32).ids.length);
    expect(new Set(lens).size).toBeGreaterThan(2);
    const order = new Rng(streamSeed(42, STREAM_SHUFFLE, 0)).shuffle(lens.map((_, i) => i));
    const padded = (o: number[]) => [0, 1, 2, 3, 4].reduce((t, b) => t + 8 * Math.max(...o.slice(8 * b, 8 * b + 8).map((i) => lens[i])), 0);
    for (const groupByLength of [false, true]) {
      const r = await trainFull({ source, dataset: mixed, args: base({ numTrainEpochs: 1, perDeviceTrainBatchSize: 8, groupByLength, evalStrategy: "no" }) });
      expect(Math.round(r.trainTokensPerSecond * r.trainRuntime)).toBe(padded(groupByLength ? lengthGroupedOrder(order, lens, 8) : order));
      r.model.dispose();
    }
  });

  it("says what it does in the log: unfrozen layers per epoch, each evaluation, early stopping, the kept best model", async () => {
    const lines: string[] = [];
    const labels: string[] = [];
    const r = await trainFull({
      source,
      dataset: data,
      args: base({ unfreezeTop: 1, learningRate: 1e-9, evalStrategy: 5, earlyStoppingPatience: 1, loadBestModelAtEnd: true }),
      log: (l) => lines.push(l),
      progress: (label) => (labels.push(label), { tick() {}, done() {} }),
    });
    expect(labels).toEqual(["training"]);
    const n = [...r.model.namedVariables().keys()].filter((name) => name.startsWith("classifier.") || name.startsWith("bert.pooler.") || name.startsWith("bert.encoder.layer.1.")).length;
    expect(lines[0]).toBe(`epoch 1: training ${n}/${r.model.namedVariables().size} tensors (pooler, head and the top 1 layers)`);
    const evals = r.state.log_history.filter((e) => e.eval_loss !== undefined);
    expect(lines[1]).toBe(`step 5 (epoch 0.5): eval_loss ${evals[0].eval_loss!.toFixed(4)}  eval_accuracy ${evals[0].eval_accuracy!.toFixed(4)}`);
    // At lr 1e-9 the second evaluation is no better: patience 1 stops there.
    expect(lines[3]).toBe("early stopping: no better eval_accuracy in 1 evaluations");
    expect(lines[4]).toBe(`kept the best model (eval_accuracy ${evals[0].eval_accuracy!.toFixed(4)})`);
    expect(lines).toHaveLength(5);
    r.model.dispose();
    // --gradual-unfreeze: one more layer each epoch, the embeddings once every layer learns.
    const g: string[] = [];
    const gr = await trainFull({ source, dataset: data, args: base({ gradualUnfreeze: true, numTrainEpochs: 4, learningRate: 1e-9, evalStrategy: "no" }), log: (l) => g.push(l) });
    expect(g.map((l) => l.replace(/training \d+\/\d+ tensors /, ""))).toEqual([
      "epoch 1: (pooler, head and the top 0 layers)",
      "epoch 2: (pooler, head and the top 1 layers)",
      "epoch 3: (pooler, head and the top 2 layers)",
      "epoch 4: (pooler, head and the top 2 layers and the embeddings)",
    ]);
    gr.model.dispose();
    // Without unfreezing options, no per-epoch line.
    const quiet: string[] = [];
    (await trainFull({ source, dataset: data, args: base({ numTrainEpochs: 1, evalStrategy: "no" }), log: (l) => quiet.push(l) })).model.dispose();
    expect(quiet).toEqual([]);
  });

  it("uses the AdamW options it is given, and clamps --max-length to the model's positions", async () => {
    const one = { numTrainEpochs: 1, evalStrategy: "no" as const };
    const runs = await Promise.all([{}, { adamBeta1: 0.5 }, { adamBeta2: 0.9 }, { adamEpsilon: 1e-3 }].map((o) => trainFull({ source, dataset: data, args: base({ ...one, ...o }) })));
    const w = await Promise.all(runs.map((r) => r.model.toTensors()));
    for (let i = 1; i < 4; i++) expect(Buffer.from(w[i]["bert.pooler.dense.weight"].data.buffer).equals(Buffer.from(w[0]["bert.pooler.dense.weight"].data.buffer)), String(i)).toBe(false);
    for (const r of runs) r.model.dispose();
    const long = keywordDataset(16, 2);
    const positions = source.config.max_position_embeddings;
    long.splits.train[0] = { ...long.splits.train[0], text: Array.from({ length: positions + 50 }, () => "film").join(" ") };
    const r = await trainFull({ source, dataset: long, args: base({ ...one, maxLength: positions * 4 }) });
    expect(Number.isFinite(r.trainLoss)).toBe(true);
    r.model.dispose();
  });

  it("stops on a non-finite loss, and refuses to resume a run of another length, each with its hint", async () => {
    const nan = (await trainFull({ source, dataset: data, args: base({ learningRate: 1e12, maxGradNorm: 0, evalStrategy: "no" }) }).catch((e: unknown) => e)) as BertuneError;
    expect(nan).toBeInstanceOf(BertuneError);
    expect(nan.message).toMatch(/^the training loss became (NaN|Infinity|-Infinity) at step \d+$/);
    expect(nan.hint).toBe("lower --learning-rate, or check the data for broken rows");
    const out = tempDir();
    (await trainFull({ source, dataset: data, args: base({ numTrainEpochs: 1, saveStrategy: "epoch", evalStrategy: "no" }), outputDir: out })).model.dispose();
    const err = (await trainFull({ source, dataset: data, args: base({ numTrainEpochs: 2, resumeFromCheckpoint: "latest", evalStrategy: "no" }), outputDir: out }).catch((e: unknown) => e)) as BertuneError;
    expect(err.message).toBe(`${join(out, "checkpoint-10")} was trained for 10 steps, this run has 20`);
    expect(err.hint).toBe("resume with the same data set, epochs (or --max-steps), batch size and accumulation");
  });

  it("--from-scratch starts from random weights with std initializer_range", async () => {
    const r = await trainFull({ source, dataset: data, args: base({ fromScratch: true, numTrainEpochs: 1, learningRate: 1e-9 }) });
    const w = (await r.model.toTensors())["bert.encoder.layer.0.intermediate.dense.weight"].data;
    const std = Math.sqrt(w.reduce((s, x) => s + x * x, 0) / w.length);
    expect(std).toBeGreaterThan(0.015);
    expect(std).toBeLessThan(0.02);
    expect(Array.from(w)).not.toEqual(pretrainedWeight("encoder.layer.0.intermediate.dense.weight"));
    r.model.dispose();
  });
});

describe("--strategy auto", () => {
  it("chooses by the number of training examples and says why", () => {
    expect(chooseStrategy(999, 12).args).toEqual({ freezeBackbone: true });
    expect(chooseStrategy(5000, 12).args).toEqual({ freezeBackbone: false, unfreezeTop: 2 });
    expect(chooseStrategy(10_001, 12).args).toEqual({ freezeBackbone: false });
    expect(chooseStrategy(5000, 12).reason).toMatch(/5000 training examples/);
  });
});
