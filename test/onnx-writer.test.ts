/**
 * bertune's ONNX writer against independent references: Hugging Face's PyTorch outputs
 * (reference.json), the tensorflow.js BertModel for config variants, ONNX's own checker, and the
 * protobuf schema read back.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parseBertConfig, readBertConfig, type BertConfig } from "../src/bert/config.js";
import { OnnxSequenceClassifier } from "../src/bert/onnx-classifier.js";
import { OnnxEncoder, type Pooling } from "../src/bert/onnx-encoder.js";
import { BertClassifier, batchTensors } from "../src/bert/sequence-classifier.js";
import { poolTensor, TfBertModel } from "../src/bert/tfjs-bert.js";
import { bertParameterShapes, readBertWeights } from "../src/bert/weights.js";
import { tf, useBackend } from "../src/backend/tfjs.js";
import { readSafetensors, writeSafetensors } from "../src/formats/safetensors.js";
import { ClassificationHead } from "../src/heads/classification-head.js";
import { LinearHead } from "../src/heads/linear-head.js";
import { writeBertOnnx, type ClassifierSpec } from "../src/onnx/bert-graph.js";
import { decodeModel } from "../src/onnx/proto.js";
import { SHARED, TINY_MODEL, tempDir } from "./helpers/fixtures.js";
import { checkOnnx, haveOnnxChecker } from "./helpers/onnx-checker.js";
import { maxAbsDiff } from "./helpers/numbers.js";

const HUB_LAYOUT = join(SHARED, "models/bert-tiny-hub-layout/model-repo");
const ref = JSON.parse(readFileSync(join(TINY_MODEL, "reference.json"), "utf8"));
const enc = ref.encoder;
const batch = { inputIds: enc.input_ids, attentionMask: enc.attention_mask, tokenTypeIds: enc.token_type_ids, seqLen: enc.input_ids[0].length };
const config = readBertConfig(join(TINY_MODEL, "config.json"));
const weights = readBertWeights(readSafetensors(join(TINY_MODEL, "model.safetensors")), config);
const work = tempDir("bertune-onnx-");
const POOLINGS: [Pooling, string][] = [
  ["pooler", "pooler_output"],
  ["cls", "cls_hidden"],
  ["mean", "mean_pooled"],
];

let written = 0;
function save(bytes: Uint8Array): string {
  const path = join(work, `graph-${written++}.onnx`);
  writeFileSync(path, bytes);
  return path;
}

/** The feature graph written from a model folder's config.json and model.safetensors, saved. */
function graphFrom(dir: string, head: "features" | "first-token-features"): string {
  const c = readBertConfig(join(dir, "config.json"));
  return save(writeBertOnnx(c, readBertWeights(readSafetensors(join(dir, "model.safetensors")), c), { head }));
}

async function features(path: string, pooling: Pooling, hidden = config.hidden_size): Promise<Float32Array> {
  const e = await OnnxEncoder.load(path, hidden, { threads: 1 });
  try {
    return await e.encode(batch, pooling);
  } finally {
    await e.close();
  }
}

describe("the feature graph (last_hidden_state + pooler_output)", () => {
  it.each([
    ["bert-random-tiny", TINY_MODEL],
    ["the Hub's bert-base-uncased layout (bert. prefix, gamma/beta, MLM and NSP heads)", HUB_LAYOUT],
  ])("written from %s matches PyTorch's outputs within 1e-5 for every pooling", async (_, dir) => {
    const path = graphFrom(dir, "features");
    for (const [pooling, key] of POOLINGS) expect(maxAbsDiff(await features(path, pooling), enc[key].flat()), pooling).toBeLessThan(1e-5);
    const e = await OnnxEncoder.load(path, 32);
    expect([...e.outputNames].sort()).toEqual(["last_hidden_state", "pooler_output"]);
    await e.close();
  });

  it("is ONNX IR 8 at opset 17 with int64 inputs [batch_size, sequence_length], as transformers.js exports are", () => {
    const m = decodeModel(writeBertOnnx(config, weights, { head: "features", metadata: { who: "test" } }));
    expect(m.irVersion).toBe(8);
    expect(m.opsetImport).toEqual([{ domain: "", version: 17 }]);
    expect(m.producerName).toBe("bertune");
    expect(m.graph.input.map((i) => i.name)).toEqual(["input_ids", "attention_mask", "token_type_ids"]);
    for (const i of m.graph.input) {
      expect(i.type.tensorType.elemType).toBe(7); // INT64
      expect(i.type.tensorType.shape.dim).toEqual([{ dimParam: "batch_size" }, { dimParam: "sequence_length" }]);
    }
    expect(m.graph.output.map((o) => o.name)).toEqual(["last_hidden_state", "pooler_output"]);
    expect(m.graph.output[0].type.tensorType.shape.dim).toEqual([{ dimParam: "batch_size" }, { dimParam: "sequence_length" }, { dimValue: 32 }]);
    // Every weight is an initializer of the right size (float32: 4 bytes a value).
    const words = m.graph.initializer.find((t) => t.name === "embeddings.word_embeddings.weight")!;
    expect(words.dims).toEqual([30522, 32]);
    expect(words.rawData.byteLength).toBe(30522 * 32 * 4);
    expect(m.metadataProps).toEqual([{ key: "who", value: "test" }]);
  });
});

describe("config fields the graph honours, against the tensorflow.js BertModel", () => {
  beforeAll(() => useBackend("wasm"));

  /** The tiny model's weights with matrices ×k and embeddings ×e: large enough that activation variants (or eps) differ by ≫ 1e-5. */
  function scaled(k: number, e = 1): Map<string, Float32Array> {
    const out = new Map<string, Float32Array>();
    for (const [name, v] of weights) {
      const f = name.startsWith("embeddings.") && !name.includes("LayerNorm") ? e : name.endsWith(".weight") && !name.includes("LayerNorm") ? k : 1;
      out.set(name, v.map((x) => x * f));
    }
    return out;
  }

  async function tfjsPooled(c: BertConfig, w: Map<string, Float32Array>, pooling: Pooling): Promise<Float32Array> {
    const shapes = bertParameterShapes(c);
    const file = join(work, `weights-${written++}.safetensors`);
    writeSafetensors(file, Object.fromEntries([...w].map(([n, v]) => [n, { dtype: "F32" as const, shape: shapes.get(n)!, data: v }])));
    const bert = TfBertModel.fromSafetensors(readSafetensors(file), c);
    try {
      const inputs = batchTensors(batch);
      const pooled = tf.tidy(() => poolTensor(bert.forward(inputs), inputs.attentionMask, pooling));
      const data = await pooled.data();
      tf.dispose([pooled, inputs.inputIds, inputs.tokenTypeIds, inputs.attentionMask]);
      return data as Float32Array;
    } finally {
      bert.dispose();
    }
  }

  it.each(["gelu", "gelu_new", "relu", "silu", "tanh"])("hidden_act %s", async (act) => {
    const c = parseBertConfig(JSON.stringify({ ...config, hidden_act: act }), "test");
    const w = scaled(8);
    const path = save(writeBertOnnx(c, w, { head: "features" }));
    for (const pooling of ["pooler", "mean"] as const) {
      const onnx = await features(path, pooling);
      expect(maxAbsDiff(onnx, await tfjsPooled(c, w, pooling)), `${act} ${pooling}`).toBeLessThan(1e-5);
      if (act === "gelu") {
        // The weights make the variants distinguishable: exact GELU and its tanh form differ by far more than the tolerance.
        const approx = parseBertConfig(JSON.stringify({ ...config, hidden_act: "gelu_new" }), "test");
        expect(maxAbsDiff(onnx, await tfjsPooled(approx, w, pooling))).toBeGreaterThan(1e-4);
      }
    }
  });

  it("layer_norm_eps 1e-7 (on embeddings small enough that eps moves the output by ≫ 1e-5)", async () => {
    const c = parseBertConfig(JSON.stringify({ ...config, layer_norm_eps: 1e-7 }), "test");
    const w = scaled(1, 0.002);
    const onnx = await features(save(writeBertOnnx(c, w, { head: "features" })), "mean");
    expect(maxAbsDiff(onnx, await tfjsPooled(c, w, "mean"))).toBeLessThan(1e-5);
    const defaultEps = await features(save(writeBertOnnx(config, w, { head: "features" })), "mean");
    expect(maxAbsDiff(onnx, defaultEps)).toBeGreaterThan(1e-3);
  });
});

describe("the classification graph (logits) of BertForSequenceClassification", () => {
  let head: LinearHead;
  beforeAll(async () => {
    await useBackend("wasm");
    head = LinearHead.init(32, 3, { seed: 7, dropout: 0, initializerRange: 0.5 });
  });

  it.each(["pooler", "cls", "mean"] as const)("pooling %s: logits equal the tfjs classifier's within 1e-5", async (pooling) => {
    const spec: ClassifierSpec = { pooling, weight: head.weight, bias: head.bias, numLabels: 3 };
    const path = save(writeBertOnnx(config, weights, { head: spec }));
    const onnx = await OnnxSequenceClassifier.load(path, 3, { threads: 1 });
    const got = await onnx.logits(batch);
    await onnx.close();
    const model = new BertClassifier(TfBertModel.fromSafetensors(readSafetensors(join(TINY_MODEL, "model.safetensors")), config), new ClassificationHead(head), pooling);
    const inputs = batchTensors(batch);
    const logits = model.logits(inputs);
    const want = (await logits.data()) as Float32Array;
    tf.dispose([logits, inputs.inputIds, inputs.tokenTypeIds, inputs.attentionMask]);
    model.dispose();
    expect(maxAbsDiff(got, want)).toBeLessThan(1e-5);
    // And the head over the reference's pooled vectors (Hugging Face's own numbers).
    expect(maxAbsDiff(got, head.logits(Float32Array.from(enc[POOLINGS.find(([p]) => p === pooling)![1]].flat()), 5))).toBeLessThan(1e-5);
  });
});

describe("dynamic int8 quantisation", () => {
  it("stores int8 weights (≥ 3× smaller) and stays close to float32", async () => {
    const fp32 = writeBertOnnx(config, weights, { head: "features" });
    const q8 = writeBertOnnx(config, weights, { head: "features", quantize: true });
    expect(fp32.byteLength / q8.byteLength).toBeGreaterThan(3);
    const ops = new Set(decodeModel(q8).graph.node.map((n) => n.opType));
    expect(ops.has("DynamicQuantizeLinear") && ops.has("MatMulInteger")).toBe(true);
    const path = save(q8);
    for (const [pooling, key] of POOLINGS) {
      const d = maxAbsDiff(await features(path, pooling), enc[key].flat());
      expect(d, pooling).toBeLessThan(0.02);
      expect(d, pooling).toBeGreaterThan(0); // really quantised
    }
  });
});

describe("the first-token feature graph (cls_hidden_state + pooler_output, last layer on [CLS] alone)", () => {
  it.each([
    ["bert-random-tiny", TINY_MODEL],
    ["the Hub's bert-base-uncased layout", HUB_LAYOUT],
  ])("written from %s matches PyTorch's pooler and [CLS] outputs within 1e-5, on padded rows", async (_, dir) => {
    const path = graphFrom(dir, "first-token-features");
    expect(enc.attention_mask.some((row: number[]) => row.includes(0))).toBe(true);
    for (const [pooling, key] of POOLINGS.slice(0, 2)) expect(maxAbsDiff(await features(path, pooling), enc[key].flat()), pooling).toBeLessThan(1e-5);
    const e = await OnnxEncoder.load(path, 32);
    expect([...e.outputNames].sort()).toEqual(["cls_hidden_state", "pooler_output"]);
    // No position but [CLS] leaves the graph, so mean pooling is refused in one line.
    expect(() => e.checkPooling("mean")).toThrow(/has no last_hidden_state output/);
    await e.close();
  });

  it("slices [CLS] once, into the last layer's query product and its residual (so everything after runs on one row per example)", () => {
    const m = decodeModel(writeBertOnnx(config, weights, { head: "first-token-features" }));
    const nodes = m.graph.node;
    const last = config.num_hidden_layers - 1;
    const slices = nodes.filter((n) => n.opType === "Slice" && n.input.some((i) => i.startsWith("one_1d")));
    expect(slices).toHaveLength(1);
    // The Slice's output reaches the last layer's query product and its residual add.
    const fromSlice = nodes.filter((n) => n.input.includes(slices[0].output[0]));
    const weightOf = (n: (typeof nodes)[number]) => n.input.find((i) => i.startsWith(`encoder.layer.${last}.`));
    expect(fromSlice.map(weightOf).filter(Boolean)).toEqual([`encoder.layer.${last}.attention.self.query.weight`]);
    expect(fromSlice.map((n) => n.opType).sort()).toEqual(["Add", "MatMul"]);
  });
});

describe.skipIf(!haveOnnxChecker)("ONNX's own checker (python3-onnx)", () => {
  it("accepts every graph the writer produces: both feature graphs, each pooling's classifier, float32 and int8", () => {
    const head = LinearHead.init(32, 2, { seed: 1, dropout: 0, initializerRange: 0.02 });
    const paths: string[] = [];
    for (const quantize of [false, true]) {
      paths.push(save(writeBertOnnx(config, weights, { head: "features", quantize })));
      paths.push(save(writeBertOnnx(config, weights, { head: "first-token-features", quantize })));
      for (const pooling of ["pooler", "cls", "mean"] as const) {
        paths.push(save(writeBertOnnx(config, weights, { head: { pooling, weight: head.weight, bias: head.bias, numLabels: 2 }, quantize })));
      }
    }
    expect(checkOnnx(paths)).toBe("");
  });

  it("and rejects a broken graph (the check can fail)", () => {
    const bytes = writeBertOnnx(config, weights, { head: "features" });
    const broken = save(bytes.subarray(0, bytes.byteLength - 1000));
    expect(checkOnnx([broken])).not.toBe("");
  });
});

