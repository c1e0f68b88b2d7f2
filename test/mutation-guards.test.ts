/**
 * Checks against independent values for bookkeeping that a bug could change without any other
 * test noticing (each was found by applying the bug and seeing the suite stay green; see
 * docs/testing.md): label order, checkpoint rotation, the restore of --load-best-model-at-end,
 * the feature cache's key for local weights, the truncated-normal init, the strategy thresholds.
 */
import { makeTask } from "../src/train/task.js";
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { TfBertModel } from "../src/bert/tfjs-bert.js";
import { batchTensors } from "../src/bert/sequence-classifier.js";
import { bertParameterShapes, isNoDecay, parameterGroup, readBertWeights } from "../src/bert/weights.js";
import { parseSafetensors, readSafetensors, serializeSafetensors, tensorToFloat32 } from "../src/formats/safetensors.js";
import { tf, useBackend } from "../src/backend/tfjs.js";
import { AdamW } from "../src/train/adamw.js";
import { encodeLabels } from "../src/data/labels.js";
import { resolveArgs } from "../src/train/args.js";
import { listCheckpoints, rotateCheckpoints } from "../src/train/checkpoint.js";
import { trainFull } from "../src/train/full-trainer.js";
import { chooseStrategy } from "../src/train/strategy.js";
import { newTrainerState, recordEval, round4 } from "../src/train/state.js";
import { classificationReport, type ClassificationReport } from "../src/metrics/classification.js";
import { FeatureCache, Trainer, loadDataset, loadModel } from "../src/index.js";
import { TINY_MODEL, sst2Subset, tempDir } from "./helpers/fixtures.js";
import { REF_MINI, refMini, refMiniConfig, refMiniDataset, refMiniSource, useReferenceHeadInit } from "./helpers/ref-mini.js";

beforeAll(async () => {
  await useBackend("wasm");
});

describe("label encoding: string labels sort by code point, as Python's sorted()", () => {
  it("puts upper case before '_' before lower case before accented letters (localeCompare would not)", () => {
    const raw = ["b", "é", "B", "_x", "a", "Z", "e"].map((value, i) => ({ value, where: `row ${i}` }));
    const enc = encodeLabels("t", { train: raw });
    // sorted(["b", "é", "B", "_x", "a", "Z", "e"]) in Python:
    expect(enc.id2label).toEqual(["B", "Z", "_x", "a", "b", "e", "é"]);
    expect(enc.ids.train).toEqual([4, 6, 0, 2, 3, 1, 5]);
  });
});

describe("the Trainer's weight-decay groups", () => {
  it("exempt exactly the biases and the LayerNorm weights and biases (list written out by hand)", () => {
    const names = [...bertParameterShapes({ ...refMiniConfig, num_hidden_layers: 1 }).keys()];
    const exempt = names.filter(isNoDecay);
    expect(exempt.sort()).toEqual(
      [
        "embeddings.LayerNorm.weight",
        "embeddings.LayerNorm.bias",
        "encoder.layer.0.attention.self.query.bias",
        "encoder.layer.0.attention.self.key.bias",
        "encoder.layer.0.attention.self.value.bias",
        "encoder.layer.0.attention.output.dense.bias",
        "encoder.layer.0.attention.output.LayerNorm.weight",
        "encoder.layer.0.attention.output.LayerNorm.bias",
        "encoder.layer.0.intermediate.dense.bias",
        "encoder.layer.0.output.dense.bias",
        "encoder.layer.0.output.LayerNorm.weight",
        "encoder.layer.0.output.LayerNorm.bias",
        "pooler.dense.bias",
      ].sort(),
    );
    expect(isNoDecay("classifier.bias")).toBe(true);
    expect(isNoDecay("classifier.weight")).toBe(false);
  });
});

describe("AdamW state", () => {
  it("creates moments on a parameter's first gradient and frees every one of them on dispose", () => {
    const p = tf.variable(tf.tensor([1, 2, 3]), true, "guards/p");
    const q = tf.variable(tf.tensor([4, 5]), true, "guards/q");
    const base = tf.memory().numTensors;
    const opt = new AdamW([{ params: [p, q], weightDecay: 0.1 }]);
    const g = { "guards/p": tf.tensor([0.1, -0.2, 0.3]) };
    opt.step(g, 1e-2);
    expect(opt.statefulParams).toBe(1); // q had no gradient: no state
    expect(tf.memory().numTensors).toBe(base + 1 + 2); // the gradient, m and v of p
    opt.dispose();
    expect(opt.statefulParams).toBe(0);
    expect(tf.memory().numTensors).toBe(base + 1);
    tf.dispose([g["guards/p"], p, q]);
  });
});

describe("BERT weight names", () => {
  it("parameterGroup: embeddings, pooler, any layer index (also two-digit); a prefixed or foreign name is an error", () => {
    expect(parameterGroup("embeddings.LayerNorm.bias")).toBe("embeddings");
    expect(parameterGroup("pooler.dense.weight")).toBe("pooler");
    expect(parameterGroup("encoder.layer.0.output.dense.weight")).toBe(0);
    expect(parameterGroup("encoder.layer.11.attention.self.query.bias")).toBe(11);
    expect(() => parameterGroup("bert.encoder.layer.1.output.dense.weight")).toThrow(/not a BertModel parameter/);
    expect(() => parameterGroup("classifier.weight")).toThrow(/not a BertModel parameter/);
  });

  it("readBertWeights takes 'bert.'-prefixed names and old LayerNorm gamma/beta names, and ignores other tensors", () => {
    const file = readSafetensors(join(REF_MINI, "model.safetensors"));
    const renamed: Record<string, { dtype: "F32"; shape: number[]; data: Float32Array }> = {};
    for (const [name, info] of file.tensors) {
      const old = name.replace(/LayerNorm\.weight$/, "LayerNorm.gamma").replace(/LayerNorm\.bias$/, "LayerNorm.beta");
      renamed[`bert.${old}`] = { dtype: "F32", shape: info.shape, data: tensorToFloat32(file, name) };
    }
    renamed["cls.predictions.bias"] = { dtype: "F32", shape: [2], data: new Float32Array(2) };
    const values = readBertWeights(parseSafetensors(serializeSafetensors(renamed)), refMiniConfig);
    expect([...values.keys()].sort()).toEqual([...file.tensors.keys()].sort());
    for (const name of file.tensors.keys()) expect(Array.from(values.get(name)!), name).toEqual(Array.from(tensorToFloat32(file, name)));
    delete renamed["bert.pooler.dense.weight"];
    const missing = parseSafetensors(serializeSafetensors(renamed), "x/model.safetensors");
    expect(() => readBertWeights(missing, refMiniConfig)).toThrow('x/model.safetensors has no tensor "pooler.dense.weight" (nor "bert.pooler.dense.weight")');
    try {
      readBertWeights(missing, refMiniConfig);
    } catch (e) {
      expect((e as { hint?: string }).hint).toBe("the weights do not belong to a BERT model with this config.json");
    }
  });
});

describe("checkpoint rotation never deletes the best checkpoint", () => {
  const make = (steps: number[]) => {
    const out = tempDir();
    for (const s of steps) {
      mkdirSync(join(out, `checkpoint-${s}`));
      writeFileSync(join(out, `checkpoint-${s}`, "trainer_state.json"), "{}");
    }
    return out;
  };

  it("keeps the best (oldest) one and deletes the next oldest instead", () => {
    const out = make([2, 4, 6, 8]);
    rotateCheckpoints(out, 2, join(out, "checkpoint-2"));
    expect(listCheckpoints(out).map((c) => c.step)).toEqual([2, 8]);
  });

  it("with a limit of 1 and a best that is not the newest, keeps both (so the run can resume), as the Trainer does", () => {
    const out = make([2, 4, 6]);
    rotateCheckpoints(out, 1, join(out, "checkpoint-2"));
    expect(listCheckpoints(out).map((c) => c.step)).toEqual([2, 6]);
    rotateCheckpoints(out, 1, join(out, "checkpoint-6"));
    expect(listCheckpoints(out).map((c) => c.step)).toEqual([6]);
  });

  it("without a best one, keeps the newest `limit`; with no limit, keeps all; sweeps unfinished writes", () => {
    const out = make([2, 4, 6]);
    mkdirSync(join(out, "checkpoint-8.tmp-1-abcd"));
    rotateCheckpoints(out, null, null);
    expect(listCheckpoints(out).map((c) => c.step)).toEqual([2, 4, 6]);
    expect(existsSync(join(out, "checkpoint-8.tmp-1-abcd"))).toBe(false);
    rotateCheckpoints(out, 1, null);
    expect(listCheckpoints(out).map((c) => c.step)).toEqual([6]);
  });
});

describe("--load-best-model-at-end keeps the weights of the best evaluation, not the last", () => {
  afterEach(() => vi.restoreAllMocks());

  // Validation = the training rows with every label flipped: as the model fits the training
  // set, validation accuracy falls, so the best evaluation comes early. With a constant
  // learning rate, a run cut at the best step is the same trajectory up to there.
  const args = (over: Record<string, unknown>) =>
    resolveArgs({ perDeviceTrainBatchSize: 6, learningRate: 1e-2, lrSchedulerType: "constant", maxGradNorm: 1, evalStrategy: 1, saveStrategy: "no", loggingSteps: 1, maxLength: 16, ...over });

  it("restores the best step's weights bit for bit, and the final evaluation is the best one", async () => {
    useReferenceHeadInit();
    const out = tempDir();
    const data = refMiniDataset({ flipValidation: true });
    const r = await trainFull({ source: refMiniSource(), dataset: data, args: args({ numTrainEpochs: 6, loadBestModelAtEnd: true, saveStrategy: 1, saveTotalLimit: 1 }), outputDir: out });
    const accs = r.state.log_history.filter((e) => e.eval_accuracy !== undefined).map((e) => e.eval_accuracy!);
    const best = accs.indexOf(Math.max(...accs)) + 1; // optimizer step of the first best evaluation
    expect(best).toBeLessThan(accs.length); // the test needs best ≠ last
    expect(accs[accs.length - 1]).toBeLessThan(accs[best - 1]);
    expect(r.state.best_metric).toBe(accs[best - 1]);
    expect(r.evalReport.accuracy).toBe(accs[best - 1]);
    // save_total_limit 1 with the best kept: the best checkpoint and the newest survive.
    expect(r.state.best_model_checkpoint).toBe(join(out, `checkpoint-${best}`));
    expect(listCheckpoints(out).map((c) => c.step)).toEqual([best, 6]);

    const cut = await trainFull({ source: refMiniSource(), dataset: data, args: args({ numTrainEpochs: best, evalStrategy: "no" }) });
    const wr = await r.model.toTensors();
    const wc = await cut.model.toTensors();
    for (const name of Object.keys(wc)) expect(Buffer.from(wr[name].data.buffer).equals(Buffer.from(wc[name].data.buffer)), name).toBe(true);
    r.model.dispose();
    cut.model.dispose();
  });
});

/** Flip the sign of every float32 of one tensor, in model.safetensors and — where its bytes appear — in onnx/model.onnx. */
function negateTensor(modelDir: string, name: string): void {
  const stPath = join(modelDir, "model.safetensors");
  const st = readFileSync(stPath);
  const n = Number(st.readBigUInt64LE(0));
  const info = JSON.parse(st.subarray(8, 8 + n).toString("utf8"))[name];
  const [a, b] = info.data_offsets.map((o: number) => o + 8 + n);
  const original = Buffer.from(st.subarray(a, b));
  for (let i = a + 3; i < b; i += 4) st[i] ^= 0x80;
  writeFileSync(stPath, st);
  const onnxPath = join(modelDir, "onnx/model.onnx");
  if (existsSync(onnxPath)) {
    const onnx = readFileSync(onnxPath);
    const at = onnx.indexOf(original);
    if (at >= 0) {
      for (let i = at + 3; i < at + original.length; i += 4) onnx[i] ^= 0x80;
      writeFileSync(onnxPath, onnx);
    }
  }
}

describe("frozen features: the cache key of a local model follows its weights", () => {
  it("recomputes the features after the local model's weights are edited in place", async () => {
    const work = tempDir();
    const dir = join(work, "model");
    cpSync(TINY_MODEL, dir, { recursive: true });
    const chmodAll = (d: string) => {
      for (const f of readdirSync(d)) {
        const p = join(d, f);
        chmodSync(p, statSync(p).isDirectory() ? 0o755 : 0o644);
        if (statSync(p).isDirectory()) chmodAll(p);
      }
    };
    chmodSync(dir, 0o755);
    chmodAll(dir);
    const prev = process.env.BERTUNE_CACHE;
    process.env.BERTUNE_CACHE = join(work, "bertune-cache");
    try {
      const dataset = await loadDataset(sst2Subset(join(work, "data"), 40, 20));
      const cache = new FeatureCache(join(work, "features"));
      const train = async () => {
        const model = await loadModel(dir);
        try {
          return await new Trainer({ model, dataset, args: { numTrainEpochs: 1, freezeBackbone: true }, featureCache: cache }).train();
        } finally {
          await model.close();
        }
      };
      const a = await train();
      expect(a.featuresFromCache).toEqual({ train: false, validation: false });
      expect((await train()).featuresFromCache).toEqual({ train: true, validation: true });
      negateTensor(dir, "pooler.dense.weight");
      const b = await train();
      expect(b.featuresFromCache).toEqual({ train: false, validation: false });
      expect(b.evalLoss).not.toBe(a.evalLoss);
    } finally {
      if (prev === undefined) delete process.env.BERTUNE_CACHE;
      else process.env.BERTUNE_CACHE = prev;
    }
  });
});

describe("--from-scratch init: BertPreTrainedModel._init_weights with a normal truncated at 2 std", () => {
  it("zeroes exactly the padding row (pad_token_id) of the word embeddings, and no row of any other tensor", async () => {
    const model = TfBertModel.random({ ...refMiniConfig, pad_token_id: 3, initializer_range: 0.05 }, 5);
    const w = await model.toTensors();
    const h = refMiniConfig.hidden_size;
    const rowIsZero = (name: string, r: number) => w[name].data.subarray(r * h, (r + 1) * h).every((x) => x === 0);
    expect([0, 1, 2, 3, 4].map((r) => rowIsZero("embeddings.word_embeddings.weight", r))).toEqual([false, false, false, true, false]);
    for (const name of ["embeddings.position_embeddings.weight", "embeddings.token_type_embeddings.weight", "encoder.layer.0.attention.self.query.weight", "pooler.dense.weight"]) {
      for (let r = 0; r < w[name].shape[0]; r++) expect(rowIsZero(name, r), `${name} row ${r}`).toBe(false);
    }
    model.dispose();
  });

  it("draws weights in [-2σ, 2σ] with the truncated normal's std 0.8796σ; biases 0, LayerNorm 1, padding row 0", async () => {
    const sigma = 0.05;
    const model = TfBertModel.random({ ...refMiniConfig, vocab_size: 400, hidden_size: 64, intermediate_size: 128, initializer_range: sigma }, 3);
    const w = await model.toTensors();
    let n = 0;
    let sum = 0;
    let sq = 0;
    let max = 0;
    for (const [name, t] of Object.entries(w)) {
      const d = t.data;
      if (name.includes("LayerNorm.weight")) expect(d.every((x) => x === 1), name).toBe(true);
      else if (name.endsWith(".bias")) expect(d.every((x) => x === 0), name).toBe(true);
      else {
        const skip = name === "embeddings.word_embeddings.weight" ? 64 : 0; // the padding row (id 0)
        if (skip) expect(d.subarray(0, 64).every((x) => x === 0)).toBe(true);
        for (let i = skip; i < d.length; i++) {
          n++;
          sum += d[i];
          sq += d[i] * d[i];
          max = Math.max(max, Math.abs(d[i]));
        }
      }
    }
    // std of N(0,1) truncated to [-2, 2]: sqrt(1 - 2·2·φ(2) / (2Φ(2) − 1)) = 0.87962
    const std = Math.sqrt(sq / n - (sum / n) ** 2);
    expect(n).toBeGreaterThan(50_000);
    expect(std / sigma).toBeGreaterThan(0.8796 * 0.99);
    expect(std / sigma).toBeLessThan(0.8796 * 1.01);
    expect(Math.abs(sum / n)).toBeLessThan(0.01 * sigma);
    expect(max).toBeLessThanOrEqual(2 * sigma * (1 + 1e-6));
    expect(max).toBeGreaterThan(1.99 * sigma);
    model.dispose();
  });
});

describe("--strategy auto thresholds", () => {
  it("frozen below 1,000; top-2 fine-tuning from 1,000 through 10,000; full above", () => {
    expect(chooseStrategy(999, 12).args).toEqual({ freezeBackbone: true });
    expect(chooseStrategy(1000, 12).args).toEqual({ freezeBackbone: false, unfreezeTop: 2 });
    expect(chooseStrategy(10_000, 12).args).toEqual({ freezeBackbone: false, unfreezeTop: 2 });
    expect(chooseStrategy(10_001, 12).args).toEqual({ freezeBackbone: false });
    expect(chooseStrategy(5000, 1).args).toEqual({ freezeBackbone: false, unfreezeTop: 1 });
    expect(chooseStrategy(1000, 12).reason).toBe("1000 training examples (1,000–10,000): fine-tuning the top 2 layers, pooler and head");
    expect(chooseStrategy(999, 12).reason).toBe("999 training examples (< 1,000): feature extraction with a frozen encoder");
    expect(chooseStrategy(10_001, 12).reason).toBe("10001 training examples (> 10,000): full fine-tuning");
  });
});

describe("trainer_state.json bookkeeping", () => {
  it("starts empty, logs each evaluation in the Trainer's names and keeps the best accuracy (ties are not improvements)", () => {
    const st = newTrainerState(resolveArgs({ numTrainEpochs: 3, perDeviceTrainBatchSize: 4, loggingSteps: 7 }), 30);
    expect(st).toEqual({ epoch: 0, global_step: 0, max_steps: 30, num_train_epochs: 3, train_batch_size: 4, logging_steps: 7, log_history: [], best_metric: null, best_model_checkpoint: null });
    const task = makeTask({ problemType: "single_label_classification", id2label: ["a", "b"], train: [0, 1] }, resolveArgs({}));
    const report = (accuracy: number, loss: number) => ({ loss, report: {} as ClassificationReport, metrics: { accuracy, macro_f1: accuracy / 2, macro_precision: accuracy / 3, macro_recall: accuracy / 4 } });
    st.epoch = 1 / 3;
    st.global_step = 10;
    const a = recordEval(st, report(0.5, 0.7), task);
    expect(a).toEqual({ entry: { epoch: 0.3333, step: 10, eval_loss: 0.7, eval_accuracy: 0.5, eval_macro_f1: 0.25, eval_macro_precision: 0.5 / 3, eval_macro_recall: 0.125 }, improved: true });
    expect(st.best_metric).toBe(0.5);
    expect(recordEval(st, report(0.5, 0.6), task).improved).toBe(false);
    expect(recordEval(st, report(0.4, 0.6), task).improved).toBe(false);
    expect(st.best_metric).toBe(0.5);
    expect(recordEval(st, report(0.75, 0.6), task).improved).toBe(true);
    expect(st.best_metric).toBe(0.75);
    expect(st.log_history.map((e) => e.eval_accuracy)).toEqual([0.5, 0.5, 0.4, 0.75]);
    expect(recordEval(newTrainerState(resolveArgs({}), 1), report(0, 1), task).improved).toBe(true); // the first evaluation is a best, even at 0
    // With metric_for_best_model "loss" (lower is better) the best is the lowest loss, and best_metric holds the loss.
    const byLoss = makeTask({ problemType: "single_label_classification", id2label: ["a", "b"], train: [0, 1] }, resolveArgs({ metricForBestModel: "eval_loss" }));
    const st2 = newTrainerState(resolveArgs({}), 1);
    expect([0.7, 0.5, 0.5, 0.6, 0.3].map((l) => recordEval(st2, report(0.9, l), byLoss).improved)).toEqual([true, true, false, false, true]);
    expect(st2.best_metric).toBe(0.3);
    expect([round4(2 / 3), round4(0.00005), round4(1.23456)]).toEqual([0.6667, 0.0001, 1.2346]);
  });
});

describe("classificationReport refusals say exactly what is wrong", () => {
  const fail = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return { message: (e as Error).message, hint: (e as { hint?: string }).hint };
    }
    throw new Error("expected an error");
  };
  it("names the position, the value and the class range; an empty label set and an empty split have their own messages", () => {
    expect(fail(() => classificationReport([0, 2], [0, 1], ["a", "b"]))).toEqual({
      message: "true label at position 1 is 2, outside the 2 classes (0..1)",
      hint: "Check that the label mapping (id2label) matches the data and the model.",
    });
    expect(fail(() => classificationReport([0], [0], [])).message).toBe("cannot compute metrics: there are no labels (id2label is empty)");
    expect(fail(() => classificationReport([], [], ["a"]))).toEqual({ message: "cannot compute metrics on an empty set of examples", hint: "Check that the evaluation split is not empty." });
  });
});

describe("TfBertModel: dropout, limits, names and memory", () => {
  const B = refMini.batch;
  const inputs = () => batchTensors({ inputIds: B.input_ids, tokenTypeIds: B.token_type_ids, attentionMask: B.attention_mask });
  const pooled = async (m: TfBertModel, seed?: number) => Array.from(await m.forward(inputs(), { dropoutSeed: seed }).poolerOutput.data());

  it("applies dropout only in training mode and only at a positive rate; the masks follow the seed", async () => {
    const withDropout = TfBertModel.fromSafetensors(readSafetensors(join(REF_MINI, "model.safetensors")), { ...refMiniConfig, hidden_dropout_prob: 0.3, attention_probs_dropout_prob: 0.3 });
    const evalMode = await pooled(withDropout);
    const a = await pooled(withDropout, 1);
    expect(a).not.toEqual(evalMode);
    expect(await pooled(withDropout, 1)).toEqual(a);
    expect(await pooled(withDropout, 2)).not.toEqual(a);
    withDropout.dispose();
    const noDropout = TfBertModel.fromSafetensors(readSafetensors(join(REF_MINI, "model.safetensors")), refMiniConfig); // rates 0
    expect(await pooled(noDropout, 1)).toEqual(await pooled(noDropout));
    noDropout.dispose();
  });

  it("refuses a sequence longer than max_position_embeddings, and an unknown activation", () => {
    const m = TfBertModel.random(refMiniConfig, 1);
    const long = Array.from({ length: refMiniConfig.max_position_embeddings + 1 }, () => 1);
    const t = batchTensors({ inputIds: [long], tokenTypeIds: [long.map(() => 0)], attentionMask: [long] });
    expect(() => m.forward(t)).toThrow("a sequence of 17 tokens exceeds the model's 16 positions");
    const ok = long.slice(1);
    expect(() => m.forward(batchTensors({ inputIds: [ok], tokenTypeIds: [ok.map(() => 0)], attentionMask: [ok] }))).not.toThrow();
    m.dispose();
    expect(() => TfBertModel.random({ ...refMiniConfig, hidden_act: "swishy" }, 1)).toThrow('hidden_act "swishy" is not supported');
    const hintOf = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as { hint?: string }).hint;
      }
    };
    expect(hintOf(() => TfBertModel.random({ ...refMiniConfig, hidden_act: "swishy" }, 1))).toBe("supported: gelu, gelu_new, gelu_pytorch_tanh, relu, silu, swish, tanh");
    const m2 = TfBertModel.random(refMiniConfig, 1);
    expect(hintOf(() => m2.forward(t))).toBe("use --max-length 16 or less");
    m2.dispose();
  });

  it("names its weights as Hugging Face does (bare, or with a prefix), and frees them all on dispose", async () => {
    const before = tf.memory().numTensors;
    const m = TfBertModel.random(refMiniConfig, 1);
    const names = [...bertParameterShapes(refMiniConfig).keys()];
    expect(Object.keys(await m.toTensors()).sort()).toEqual([...names].sort());
    expect(Object.keys(await m.toTensors("bert.")).sort()).toEqual(names.map((n) => `bert.${n}`).sort());
    expect(tf.memory().numTensors).toBe(before + names.length);
    m.dispose();
    expect(m.params.size).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
  });
});
