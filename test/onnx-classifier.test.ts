import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { useBackend } from "../src/backend/tfjs.js";
import { OnnxSequenceClassifier } from "../src/bert/onnx-classifier.js";
import { BertClassifier, classifierLogits } from "../src/bert/sequence-classifier.js";
import { TfBertModel } from "../src/bert/tfjs-bert.js";
import { readBertWeights } from "../src/bert/weights.js";
import { BertuneError } from "../src/errors.js";
import { readSafetensors } from "../src/formats/safetensors.js";
import { ClassificationHead } from "../src/heads/classification-head.js";
import { LinearHead } from "../src/heads/linear-head.js";
import { loadFullModelSource, type FullModelSource } from "../src/model.js";
import { writeBertOnnx } from "../src/onnx/bert-graph.js";
import { TINY_MODEL, tempDir } from "./helpers/fixtures.js";

// An exported run's graph on onnxruntime (what `evaluate`/`predict` use for an exported run, and
// what transformers.js runs) against the tensorflow.js classifier with the same weights.

let source: FullModelSource;
beforeAll(async () => {
  await useBackend("wasm");
  source = await loadFullModelSource(TINY_MODEL);
});

const texts = ["a gripping, beautifully acted film", "dull", "the plot goes nowhere and the jokes fall flat"];

function graphs(numLabels: number) {
  const head = LinearHead.init(source.config.hidden_size, numLabels, { seed: 3, dropout: 0, initializerRange: 0.5 });
  const weights = readBertWeights(readSafetensors(source.weights), source.config);
  const dir = tempDir();
  const classifier = join(dir, "model.onnx");
  writeFileSync(classifier, writeBertOnnx(source.config, weights, { head: { pooling: "pooler", weight: head.weight, bias: head.bias, numLabels } }));
  const features = join(dir, "features.onnx");
  writeFileSync(features, writeBertOnnx(source.config, weights, { head: "features" }));
  return { head, classifier, features };
}

describe("OnnxSequenceClassifier", () => {
  it("gives the tensorflow.js classifier's logits (3 labels, row-major) within 1e-5", async () => {
    const { head, classifier } = graphs(3);
    const onnx = await OnnxSequenceClassifier.load(classifier, 3);
    const batch = source.tokenizer.encodeBatch(texts, undefined, 32);
    const got = await onnx.logits(batch);
    await onnx.close();
    const model = new BertClassifier(TfBertModel.fromSafetensors(readSafetensors(source.weights), source.config), new ClassificationHead(head));
    const want = await classifierLogits(model, texts.map((t) => source.tokenizer.encodeOne(t, undefined, 32)), source.tokenizer.padTokenId, 8);
    model.dispose();
    expect(got).toBeInstanceOf(Float32Array);
    expect(got.length).toBe(9);
    for (let i = 0; i < 9; i++) expect(Math.abs(got[i] - want[i]), String(i)).toBeLessThan(1e-5);
    // The logits differ between texts (not one row repeated).
    expect(Math.abs(got[0] - got[3]) + Math.abs(got[1] - got[4])).toBeGreaterThan(1e-4);
  });

  it("refuses a graph without a logits output, and logits of another label count, each with the export hint", async () => {
    const { classifier, features } = graphs(2);
    const noLogits = (await OnnxSequenceClassifier.load(features, 2).catch((e: unknown) => e)) as BertuneError;
    expect(noLogits).toBeInstanceOf(BertuneError);
    expect([noLogits.message, noLogits.hint]).toEqual([`the ONNX graph ${features} has no logits output`, "export the run again: bertune export RUN"]);
    const wrong = await OnnxSequenceClassifier.load(classifier, 5);
    const err = (await wrong.logits(source.tokenizer.encodeBatch(texts, undefined, 32)).catch((e: unknown) => e)) as BertuneError;
    await wrong.close();
    expect([err.message, err.hint]).toEqual(["the exported graph gives 2 logits per text, the run has 5 labels", "export the run again: bertune export RUN"]);
  });
});
