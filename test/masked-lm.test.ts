/**
 * BertForMaskedLM and its MLM head (src/bert/masked-lm.ts, src/heads/mlm-head.ts) in process, on the
 * wasm backend, with exact values: loading a BertForPreTraining checkpoint (bert. prefix, LayerNorm
 * gamma/beta, cls.predictions.*, an NSP head), a BertModel without a head (a fresh head as
 * transformers initialises it), a checkpoint without a pooler, the older `cls.predictions.decoder.bias`
 * name, the refusals, saving (transformers' names) and restoring, the loss without masked positions and
 * training-mode dropout.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFloat32, tf, useBackend } from "../src/backend/tfjs.js";
import { readBertConfig, type BertConfig } from "../src/bert/config.js";
import { BertForMaskedLM } from "../src/bert/masked-lm.js";
import { batchTensors } from "../src/bert/sequence-classifier.js";
import { bertParameterShapes } from "../src/bert/weights.js";
import { BertuneError } from "../src/errors.js";
import { readSafetensors, tensorToFloat32, writeSafetensors, type SafetensorsFile, type TensorToWrite } from "../src/formats/safetensors.js";
import { MlmHead, mlmHeadShapes } from "../src/heads/mlm-head.js";
import { Rng } from "../src/util/rng.js";
import { SHARED, TINY_MODEL, tempDir } from "./helpers/fixtures.js";
import { refusal } from "./helpers/errors.js";

const HUB = join(SHARED, "models/bert-tiny-hub-layout/model-repo");
const HUB_FILE = join(HUB, "model.safetensors");
const TINY_FILE = join(TINY_MODEL, "model.safetensors");
const hubConfig = readBertConfig(join(HUB, "config.json"));
const tinyConfig = readBertConfig(join(TINY_MODEL, "config.json"));
const SEEDS = { encoder: 11, head: 7 };
const HEAD_NAMES = [...mlmHeadShapes(tinyConfig).keys()].map((n) => `cls.predictions.${n}`);
const BERT_NAMES = [...bertParameterShapes(tinyConfig).keys()].map((n) => `bert.${n}`);

/** Bit-for-bit equality of two float32 arrays (NaN-safe, -0 ≠ 0). */
function sameBits(a: Float32Array, b: Float32Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** Every tensor of a file, as writable float32 tensors (copies). */
function tensorsOf(file: SafetensorsFile): Record<string, TensorToWrite> {
  const out: Record<string, TensorToWrite> = {};
  for (const [name, info] of file.tensors) out[name] = { dtype: "F32", shape: info.shape.slice(), data: tensorToFloat32(file, name).slice() };
  return out;
}

/** A checkpoint written to a temporary folder and read back (its source is that path). */
function checkpoint(tensors: Record<string, TensorToWrite>, name = "model.safetensors"): SafetensorsFile {
  const path = join(tempDir("bertune-mlm-"), name);
  writeSafetensors(path, tensors);
  return readSafetensors(path);
}

/** `tensors` with some renamed (from → to) and some left out (to undefined). */
function edit(tensors: Record<string, TensorToWrite>, changes: Record<string, string | undefined>): Record<string, TensorToWrite> {
  const out: Record<string, TensorToWrite> = {};
  for (const [name, t] of Object.entries(tensors)) {
    if (!(name in changes)) out[name] = t;
    else if (changes[name] !== undefined) out[changes[name]!] = t;
  }
  return out;
}


/** The stored name of a model variable in the hub-layout (BertForPreTraining, gamma/beta) checkpoint. */
const hubName = (name: string) => name.replace(/LayerNorm\.weight$/, "LayerNorm.gamma").replace(/LayerNorm\.bias$/, "LayerNorm.beta");

/** Names whose values differ between a model and a file (under the file's name for each). */
async function mismatches(model: BertForMaskedLM, file: SafetensorsFile, stored: (name: string) => string, names?: string[]): Promise<string[]> {
  const snap = await model.snapshot();
  const bad: string[] = [];
  for (const name of names ?? [...snap.keys()]) {
    const s = stored(name);
    if (!file.tensors.has(s) || !sameBits(snap.get(name)!, tensorToFloat32(file, s))) bad.push(name);
  }
  return bad;
}

beforeAll(async () => {
  await useBackend("wasm");
});

describe("BertForMaskedLM.fromSafetensors: a BertForPreTraining checkpoint (bert-tiny-hub-layout)", () => {
  let file: SafetensorsFile;
  let model: BertForMaskedLM;

  beforeAll(() => {
    file = readSafetensors(HUB_FILE);
    model = BertForMaskedLM.fromSafetensors(file, hubConfig, SEEDS);
  });
  afterAll(() => model.dispose());

  it("takes the encoder and the head from the checkpoint, the pooler included", () => {
    expect(model.origin).toStrictEqual({ encoder: "checkpoint", head: "checkpoint" });
    expect(model.config).toBe(hubConfig);
  });

  it("every encoder and head tensor equals the file's (gamma/beta, cls.predictions.bias); the decoder is the word embeddings", async () => {
    expect([...model.namedVariables().keys()].sort()).toEqual([...BERT_NAMES, ...HEAD_NAMES].sort());
    expect(await mismatches(model, file, hubName)).toEqual([]);
    // The stored decoder weight is not a variable: the word embeddings are it (and equal it).
    const words = await readFloat32(model.bert.p("embeddings.word_embeddings.weight"));
    expect(sameBits(words, tensorToFloat32(file, "cls.predictions.decoder.weight"))).toBe(true);
    // What the model leaves out of the file: only the stored decoder and the NSP head.
    const used = new Set([...model.namedVariables().keys()].map(hubName));
    expect([...file.tensors.keys()].filter((n) => !used.has(n)).sort()).toEqual(["cls.predictions.decoder.weight", "cls.seq_relationship.bias", "cls.seq_relationship.weight"]);
  });

  it("toTensors: transformers' names (bert.*, cls.predictions.*; weight/bias, no decoder), the variables' values and shapes", async () => {
    const tensors = await model.toTensors();
    expect(Object.keys(tensors).sort()).toEqual([...BERT_NAMES, ...HEAD_NAMES].sort());
    const snap = await model.snapshot();
    for (const [name, t] of Object.entries(tensors)) {
      expect(t.dtype).toBe("F32");
      expect(t.shape).toEqual(model.namedVariables().get(name)!.shape);
      expect(sameBits(t.data, snap.get(name)!), name).toBe(true);
    }
    expect(tensors["cls.predictions.bias"].shape).toEqual([hubConfig.vocab_size]);
    expect(tensors["cls.predictions.transform.dense.weight"].shape).toEqual([32, 32]);
  });

  it("a round trip through writeSafetensors/readSafetensors and assignFrom restores every value exactly", async () => {
    const saved = checkpoint(await model.toTensors());
    const other = BertForMaskedLM.random(hubConfig, { encoder: 3, head: 4 });
    try {
      expect(other.origin).toStrictEqual({ encoder: "random", head: "initialised" });
      // Before: nothing in common with the checkpoint (random weights), apart from the zero and unit vectors.
      expect(await mismatches(other, saved, (n) => n, ["bert.embeddings.word_embeddings.weight", "cls.predictions.transform.dense.weight", "cls.predictions.bias", "bert.pooler.dense.weight"])).toEqual([
        "bert.embeddings.word_embeddings.weight",
        "cls.predictions.transform.dense.weight",
        "cls.predictions.bias",
        "bert.pooler.dense.weight",
      ]);
      other.assignFrom(saved);
      expect(await mismatches(other, saved, (n) => n)).toEqual([]);
      expect(await mismatches(other, file, hubName)).toEqual([]);
    } finally {
      other.dispose();
    }
    // And bertune's own checkpoint (bert. prefix, weight/bias) loads back as a checkpoint with its head.
    const reloaded = BertForMaskedLM.fromSafetensors(saved, hubConfig, SEEDS);
    try {
      expect(reloaded.origin).toStrictEqual({ encoder: "checkpoint", head: "checkpoint" });
      expect(await mismatches(reloaded, file, hubName)).toEqual([]);
    } finally {
      reloaded.dispose();
    }
  });

  it("assignFrom refuses a file without one of the model's tensors", () => {
    const partial = checkpoint(edit(tensorsOf(file), { "cls.predictions.bias": undefined }));
    expect(() => model.assignFrom(partial)).toThrow(BertuneError);
  });

  it("the output bias under its older name cls.predictions.decoder.bias is the head's bias", async () => {
    const older = checkpoint(edit(tensorsOf(file), { "cls.predictions.bias": "cls.predictions.decoder.bias" }));
    const m = BertForMaskedLM.fromSafetensors(older, hubConfig, SEEDS);
    try {
      expect(m.origin).toStrictEqual({ encoder: "checkpoint", head: "checkpoint" });
      const bias = await readFloat32(m.head.p("bias"));
      expect(sameBits(bias, tensorToFloat32(file, "cls.predictions.bias"))).toBe(true);
      expect(bias.some((x) => x !== 0)).toBe(true);
      expect(await mismatches(m, file, hubName)).toEqual([]);
    } finally {
      m.dispose();
    }
  });

  it("only LayerNorm tensors have gamma/beta names: a dense weight stored as 'dense.gamma' is no head", () => {
    const odd = checkpoint(edit(tensorsOf(file), { "cls.predictions.transform.dense.weight": "cls.predictions.transform.dense.gamma" }));
    expect(MlmHead.inFile(odd)).toBe(false);
    expect(MlmHead.readValues(odd, hubConfig)).toBeUndefined();
    const m = BertForMaskedLM.fromSafetensors(odd, hubConfig, SEEDS);
    try {
      expect(m.origin).toStrictEqual({ encoder: "checkpoint", head: "initialised" });
    } finally {
      m.dispose();
    }
  });

  it.each([
    ["a LayerNorm weight left out", { "cls.predictions.transform.LayerNorm.gamma": undefined }, "cls.predictions.transform.LayerNorm.weight"],
    // beta is an alias of LayerNorm biases only; the decoder.bias name stands in for the output bias only.
    ["the dense bias stored as 'dense.beta'", { "cls.predictions.transform.dense.bias": "cls.predictions.transform.dense.beta", "cls.predictions.bias": "cls.predictions.decoder.bias" }, "cls.predictions.transform.dense.bias"],
    ["the output bias left out", { "cls.predictions.bias": undefined }, "cls.predictions.bias"],
  ])("refuses an incomplete MLM head (%s), naming the missing tensor", (_, changes: Record<string, string | undefined>, missing) => {
    const bad = checkpoint(edit(tensorsOf(file), changes));
    expect(MlmHead.inFile(bad)).toBe(true);
    const expected = {
      message: `${bad.source} has an MLM head without "${missing}"`,
      hint: "the checkpoint's masked-LM head is incomplete: pretrain with --config for a fresh head",
    };
    expect(refusal(() => BertForMaskedLM.fromSafetensors(bad, hubConfig, SEEDS))).toEqual(expected);
    expect(refusal(() => MlmHead.readValues(bad, hubConfig))).toEqual(expected);
  });
});

describe("BertForMaskedLM.fromSafetensors: a BertModel without an MLM head (bert-random-tiny)", () => {
  let file: SafetensorsFile;
  let model: BertForMaskedLM;

  beforeAll(() => {
    file = readSafetensors(TINY_FILE);
    model = BertForMaskedLM.fromSafetensors(file, tinyConfig, SEEDS);
  });
  afterAll(() => model.dispose());

  it("the encoder from the checkpoint (bare names), a fresh head", async () => {
    expect(MlmHead.inFile(file)).toBe(false);
    expect(MlmHead.readValues(file, tinyConfig)).toBeUndefined();
    expect(model.origin).toStrictEqual({ encoder: "checkpoint", head: "initialised" });
    expect(await mismatches(model, file, (n) => n.slice("bert.".length), BERT_NAMES)).toEqual([]);
  });

  it("the head as transformers' _init_weights: dense ~ N(0, initializer_range²), zero biases, LayerNorm 1 and 0", async () => {
    const w = await readFloat32(model.head.p("transform.dense.weight"));
    expect(w.length).toBe(32 * 32);
    const mean = w.reduce((s, x) => s + x, 0) / w.length;
    const std = Math.sqrt(w.reduce((s, x) => s + (x - mean) ** 2, 0) / w.length);
    expect(Math.abs(mean)).toBeLessThan(0.003);
    expect(std).toBeGreaterThan(0.018);
    expect(std).toBeLessThan(0.022);
    expect(w.filter((x) => x === 0).length).toBe(0);
    const values = async (name: string) => Array.from(await readFloat32(model.head.p(name)));
    expect(await values("transform.dense.bias")).toEqual(new Array(32).fill(0));
    expect(await values("transform.LayerNorm.weight")).toEqual(new Array(32).fill(1));
    expect(await values("transform.LayerNorm.bias")).toEqual(new Array(32).fill(0));
    const bias = await readFloat32(model.head.p("bias"));
    expect(bias.length).toBe(tinyConfig.vocab_size);
    expect(bias.every((x) => x === 0)).toBe(true);
  });

  it("deterministic for a seed: the dense weight is Rng(seed).normal() × initializer_range; another seed differs", async () => {
    const rng = new Rng(SEEDS.head);
    const expected = Float32Array.from({ length: 32 * 32 }, () => rng.normal() * tinyConfig.initializer_range);
    expect(sameBits(await readFloat32(model.head.p("transform.dense.weight")), expected)).toBe(true);
    const values = MlmHead.initValues(tinyConfig, SEEDS.head);
    expect([...values.keys()]).toEqual([...mlmHeadShapes(tinyConfig).keys()]);
    expect(sameBits(values.get("transform.dense.weight")!, expected)).toBe(true);
    expect(sameBits(MlmHead.initValues(tinyConfig, SEEDS.head + 1).get("transform.dense.weight")!, expected)).toBe(false);
    const again = BertForMaskedLM.fromSafetensors(file, tinyConfig, SEEDS);
    try {
      const a = await model.snapshot();
      const b = await again.snapshot();
      expect([...a.keys()].filter((n) => !sameBits(a.get(n)!, b.get(n)!))).toEqual([]);
    } finally {
      again.dispose();
    }
  });

  it("refuses an unsupported hidden_act, naming the supported ones", () => {
    const config: BertConfig = { ...tinyConfig, hidden_act: "mish" };
    const expected = { message: 'hidden_act "mish" is not supported', hint: "supported: gelu, gelu_new, gelu_pytorch_tanh, relu, silu, swish, tanh" };
    expect(refusal(() => new MlmHead(config, MlmHead.initValues(config, 1)))).toEqual(expected);
    expect(refusal(() => BertForMaskedLM.fromSafetensors(file, config, SEEDS))).toEqual(expected);
  });
});

describe("BertForMaskedLM.fromSafetensors: a checkpoint without the pooler", () => {
  it("bert-random-tiny minus pooler.*: the encoder from the checkpoint, the pooler initialised from the encoder seed", async () => {
    const tiny = readSafetensors(TINY_FILE);
    const file = checkpoint(edit(tensorsOf(tiny), { "pooler.dense.weight": undefined, "pooler.dense.bias": undefined }));
    const model = BertForMaskedLM.fromSafetensors(file, tinyConfig, SEEDS);
    const random = BertForMaskedLM.random(tinyConfig, SEEDS);
    try {
      expect(model.origin).toStrictEqual({ encoder: "checkpoint", head: "initialised", poolerInitialised: true });
      const encoder = BERT_NAMES.filter((n) => !n.startsWith("bert.pooler."));
      expect(await mismatches(model, file, (n) => n.slice("bert.".length), encoder)).toEqual([]);
      // The pooler (and the fresh head) are those of BertForMaskedLM.random with the same seeds.
      const a = await model.snapshot();
      const b = await random.snapshot();
      for (const name of ["bert.pooler.dense.weight", "bert.pooler.dense.bias", ...HEAD_NAMES]) expect(sameBits(a.get(name)!, b.get(name)!), name).toBe(true);
      expect(sameBits(a.get("bert.pooler.dense.weight")!, tensorToFloat32(tiny, "pooler.dense.weight"))).toBe(false);
      expect(a.get("bert.pooler.dense.weight")!.some((x) => x !== 0)).toBe(true);
    } finally {
      model.dispose();
      random.dispose();
    }
  });

  it("the hub layout minus bert.pooler.* (bert. prefix, LayerNorm gamma/beta): encoder and head from the checkpoint", async () => {
    const hub = readSafetensors(HUB_FILE);
    const file = checkpoint(edit(tensorsOf(hub), { "bert.pooler.dense.weight": undefined, "bert.pooler.dense.bias": undefined }));
    const model = BertForMaskedLM.fromSafetensors(file, hubConfig, SEEDS);
    try {
      expect(model.origin).toStrictEqual({ encoder: "checkpoint", head: "checkpoint", poolerInitialised: true });
      const names = [...BERT_NAMES.filter((n) => !n.startsWith("bert.pooler.")), ...HEAD_NAMES];
      expect(await mismatches(model, file, hubName, names)).toEqual([]);
    } finally {
      model.dispose();
    }
  });

  it("refuses one without the pooler and without an encoder tensor, naming it", () => {
    const tiny = readSafetensors(TINY_FILE);
    const file = checkpoint(edit(tensorsOf(tiny), { "pooler.dense.weight": undefined, "pooler.dense.bias": undefined, "encoder.layer.1.output.dense.bias": undefined }));
    expect(refusal(() => BertForMaskedLM.fromSafetensors(file, tinyConfig, SEEDS))).toEqual({
      message: `${file.source} has no tensor "encoder.layer.1.output.dense.bias" (nor "bert.encoder.layer.1.output.dense.bias")`,
      hint: "the weights do not belong to a BERT model with this config.json",
    });
  });
});

describe("BertForMaskedLM.fromSafetensors: more layers than config.json says", () => {
  it("refuses them with or without a pooler (never drops a layer silently)", () => {
    const tiny = readSafetensors(TINY_FILE);
    const tensors = tensorsOf(tiny);
    // A third layer: layer 1's tensors copied as layer 2.
    for (const [name, t] of Object.entries(tensors)) if (name.startsWith("encoder.layer.1.")) tensors[name.replace("layer.1.", "layer.2.")] = t;
    const expected = (file: SafetensorsFile) => ({
      message: `${file.source} holds 3 encoder layers, but config.json says num_hidden_layers 2`,
      hint: "the weights do not belong to a BERT model with this config.json",
    });
    const withPooler = checkpoint(tensors);
    expect(refusal(() => BertForMaskedLM.fromSafetensors(withPooler, tinyConfig, SEEDS))).toEqual(expected(withPooler));
    const withoutPooler = checkpoint(edit(tensors, { "pooler.dense.weight": undefined, "pooler.dense.bias": undefined }));
    expect(refusal(() => BertForMaskedLM.fromSafetensors(withoutPooler, tinyConfig, SEEDS))).toEqual(expected(withoutPooler));
  });
});

describe("BertForMaskedLM.loss", () => {
  let model: BertForMaskedLM;
  const batch = () => batchTensors({ inputIds: [[101, 2023, 103, 1037, 103, 102], [101, 7592, 103, 102, 0, 0]], tokenTypeIds: [[0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0]], attentionMask: [[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0]] });
  const targets = { positions: Int32Array.from([2, 4, 8]), labels: Int32Array.from([2003, 3231, 2088]) };
  const lossOf = async (dropoutSeed?: number) => {
    const x = batch();
    const loss = model.loss(x, targets, dropoutSeed);
    const v = (await loss.data())[0];
    tf.dispose([loss, x.inputIds, x.tokenTypeIds, x.attentionMask]);
    return v;
  };

  beforeAll(() => {
    model = BertForMaskedLM.fromSafetensors(readSafetensors(HUB_FILE), hubConfig, SEEDS);
  });
  afterAll(() => model.dispose());

  it("without masked positions: exactly 0, with a zero gradient for every variable (the pooler too)", async () => {
    const x = batch();
    const vars = model.namedVariables();
    const { value, grads } = tf.variableGrads(() => model.loss(x, { positions: new Int32Array(0), labels: new Int32Array(0) }), [...vars.values()]);
    expect(value.shape).toEqual([]);
    expect((await value.data())[0]).toBe(0);
    const missing: string[] = [];
    const nonZero: string[] = [];
    for (const [name, v] of vars) {
      const g = grads[v.name];
      if (!g) missing.push(name);
      else if ((await g.data()).some((d) => d !== 0)) nonZero.push(name);
    }
    expect(missing).toEqual([]);
    expect(nonZero).toEqual([]);
    tf.dispose([value, ...Object.values(grads), x.inputIds, x.tokenTypeIds, x.attentionMask]);
  });

  it("applies dropout with a dropout seed (hidden_dropout_prob 0.1): seeds differ from each other and from eval mode, a seed repeats", async () => {
    expect(hubConfig.hidden_dropout_prob).toBeGreaterThan(0);
    const evalLoss = await lossOf();
    expect(Number.isFinite(evalLoss)).toBe(true);
    expect(evalLoss).toBeGreaterThan(0);
    expect(await lossOf()).toBe(evalLoss);
    const one = await lossOf(1);
    const two = await lossOf(2);
    expect(one).not.toBe(two);
    expect(one).not.toBe(evalLoss);
    expect(two).not.toBe(evalLoss);
    expect(await lossOf(1)).toBe(one);
  });
});
