import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readBertConfig } from "../src/bert/config.js";
import { readSafetensors } from "../src/formats/safetensors.js";
import { batchTensors, BertClassifier } from "../src/bert/sequence-classifier.js";
import { poolTensor, TfBertModel } from "../src/bert/tfjs-bert.js";
import { AdamW, clipByGlobalNorm } from "../src/train/adamw.js";
import { tf, useBackend } from "../src/backend/tfjs.js";
import { ClassificationHead, crossEntropy } from "../src/heads/classification-head.js";
import { LinearHead } from "../src/heads/linear-head.js";
import { testBackends } from "./helpers/backends.js";
import { TINY_MODEL } from "./helpers/fixtures.js";

const BACKENDS = await testBackends();
/** Values read back asynchronously: the only read WebGPU has in Node. */
const values = async (t: tf.Tensor) => Array.from(await t.data());

const ref = JSON.parse(readFileSync(join(TINY_MODEL, "reference.json"), "utf8"));
const config = readBertConfig(join(TINY_MODEL, "config.json"));

const refBatch = () =>
  batchTensors({ inputIds: ref.encoder.input_ids, tokenTypeIds: ref.encoder.token_type_ids, attentionMask: ref.encoder.attention_mask });

function maxAbsDiff(actual: ArrayLike<number>, expected: number[]): number {
  let m = 0;
  for (let i = 0; i < expected.length; i++) m = Math.max(m, Math.abs(actual[i] - expected[i]));
  return m;
}

describe.each(BACKENDS)("BertModel in tensorflow.js with weights converted from safetensors, on %s", (backend) => {
  let bert: TfBertModel;
  beforeAll(async () => {
    await useBackend(backend);
    bert = TfBertModel.fromSafetensors(readSafetensors(join(TINY_MODEL, "model.safetensors")), config);
  });
  afterAll(() => bert.dispose());

  it("matches PyTorch's pooler_output, cls_hidden, mean_pooled and last_hidden_state within 1e-5", async () => {
    const inputs = refBatch();
    const out = bert.forward(inputs);
    expect(maxAbsDiff(await values(out.poolerOutput), ref.encoder.pooler_output.flat())).toBeLessThan(1e-5);
    expect(maxAbsDiff(await values(poolTensor(out, inputs.attentionMask, "cls")), ref.encoder.cls_hidden.flat())).toBeLessThan(1e-5);
    expect(maxAbsDiff(await values(poolTensor(out, inputs.attentionMask, "mean")), ref.encoder.mean_pooled.flat())).toBeLessThan(1e-5);
    const last = out.lastHiddenState;
    expect(maxAbsDiff(await values(last.slice([0, 1, 0], [1, 1, 32])), ref.encoder.last_hidden_state_first_row)).toBeLessThan(1e-5);
    // The sum covers padded positions too, as PyTorch computed it.
    const [sumAbs] = await values(last.abs().sum());
    expect(Math.abs(sumAbs - ref.encoder.last_hidden_state_sum_abs)).toBeLessThan(1e-5 * ref.encoder.last_hidden_state_sum_abs);
  });

  // The reference step ran with dropout 0, i.e. the forward pass of eval mode.
  it("reproduces one BertForSequenceClassification training step: loss, gradient norm, logits after AdamW", async () => {
    const step = ref.classifier_step;
    const head = new ClassificationHead(new LinearHead(32, 2, Float32Array.from(step.classifier_init.weight.flat()), Float32Array.from(step.classifier_init.bias)));
    const model = new BertClassifier(TfBertModel.fromSafetensors(readSafetensors(join(TINY_MODEL, "model.safetensors")), config), head);
    const inputs = refBatch();
    const logitsBefore = model.logits(inputs);
    expect(maxAbsDiff(await values(logitsBefore), step.logits_before.flat())).toBeLessThan(1e-4);

    const vars = model.namedVariables();
    const { value, grads } = tf.variableGrads(() => crossEntropy(model.logits(inputs), step.labels, 2), [...vars.values()]);
    expect(Math.abs((await values(value))[0] - step.loss)).toBeLessThan(1e-4);
    const clipped = clipByGlobalNorm(grads, step.max_grad_norm);
    expect(Math.abs((await values(clipped.norm))[0] - step.grad_norm_before_clip)).toBeLessThan(1e-4);

    const o = step.optimizer;
    const named = [...vars.entries()];
    // The Trainer's groups written out here (not bertune's isNoDecay): LayerNorm modules' weights and every bias.
    const isNoDecay = (n: string) => n.endsWith(".bias") || /\.LayerNorm\.weight$/.test(n);
    const opt = new AdamW(
      [
        { params: named.filter(([n]) => !isNoDecay(n)).map(([, v]) => v), weightDecay: o.weight_decay },
        { params: named.filter(([n]) => isNoDecay(n)).map(([, v]) => v), weightDecay: 0 },
      ],
      { beta1: o.betas[0], beta2: o.betas[1], epsilon: o.eps },
    );
    opt.step(clipped.grads, o.lr);
    expect(maxAbsDiff(await values(model.logits(inputs)), step.logits_after_one_step.flat())).toBeLessThan(1e-4);
    opt.dispose();
    model.dispose();
  });
});

describe.each(BACKENDS)("bertune encode: both engines give the same vectors (tfjs on %s)", (device) => {
  it.each(["pooler", "cls", "mean"] as const)("%s pooling: tfjs equals onnx within 1e-5, and both equal PyTorch", async (pooling) => {
    const { encode } = await import("../src/encode.js");
    const onnx = await encode(TINY_MODEL, ref.sentences, { engine: "onnx", pooling, maxLength: 32 });
    const tfjs = await encode(TINY_MODEL, ref.sentences, { engine: "tfjs", pooling, maxLength: 32, device });
    const key = { pooler: "pooler_output", cls: "cls_hidden", mean: "mean_pooled" }[pooling];
    ref.sentences.forEach((_: string, i: number) => {
      expect(maxAbsDiff(tfjs.vectors[i], Array.from(onnx.vectors[i]))).toBeLessThan(1e-5);
      expect(maxAbsDiff(tfjs.vectors[i], ref.encoder[key][i])).toBeLessThan(1e-5);
    });
  });
});
