/**
 * One masked-LM step of bertune's BertForMaskedLM against a plain-PyTorch float64 BertForMaskedLM
 * (scripts/make_mlm_reference.py → test/fixtures/mlm/reference.json), from the BertForPreTraining
 * checkpoint of bert-tiny-hub-layout (bert. prefix, gamma/beta, cls.predictions.*): the masked-position
 * logits and loss, the tied decoder's gradient (the word embeddings receive the lookup's and the
 * decoder's shares), the output bias, the head, the global norm, and one clipped AdamW step.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tf, useBackend } from "../src/backend/tfjs.js";
import { readBertConfig } from "../src/bert/config.js";
import { BertForMaskedLM } from "../src/bert/masked-lm.js";
import { batchTensors } from "../src/bert/sequence-classifier.js";
import { readSafetensors } from "../src/formats/safetensors.js";
import { mlmParamGroups } from "../src/pretrain/trainer.js";
import { AdamW, clipByGlobalNorm } from "../src/train/adamw.js";
import { testBackends } from "./helpers/backends.js";
import { ROOT, SHARED } from "./helpers/fixtures.js";

const MODEL = join(SHARED, "models/bert-tiny-hub-layout/model-repo");
const ref = JSON.parse(readFileSync(join(ROOT, "test/fixtures/mlm/reference.json"), "utf8"));
const config = readBertConfig(join(MODEL, "config.json"));
const BACKENDS = await testBackends();
const TOL = 1e-4;

function maxAbsDiff(actual: ArrayLike<number>, expected: number[]): number {
  expect(actual.length).toBe(expected.length);
  let m = 0;
  for (let i = 0; i < expected.length; i++) m = Math.max(m, Math.abs(actual[i] - expected[i]));
  return m;
}
const norm = (a: ArrayLike<number>) => Math.sqrt(Array.from(a).reduce((s, x) => s + x * x, 0));

describe.each(BACKENDS)("BertForMaskedLM: one step against PyTorch (float64), on %s", (backend) => {
  let model: BertForMaskedLM;
  const inputs = () => batchTensors({ inputIds: ref.batch.input_ids, tokenTypeIds: ref.batch.input_ids.map((r: number[]) => r.map(() => 0)), attentionMask: ref.batch.attention_mask });
  const targets = { positions: Int32Array.from(ref.positions), labels: Int32Array.from(ref.targets) };
  const cols = ref.logit_columns as number[];
  const pickCols = (logits: Float32Array, vocab: number) => ref.positions.map((_: number, i: number) => cols.map((c) => logits[i * vocab + c]));

  beforeAll(async () => {
    await useBackend(backend);
    model = BertForMaskedLM.fromSafetensors(readSafetensors(join(MODEL, "model.safetensors")), config, { encoder: 1, head: 2 });
  });
  afterAll(() => model.dispose());

  it("loads the encoder and the MLM head from BertForPreTraining names (bert. prefix, LayerNorm gamma/beta, cls.predictions.*)", () => {
    expect(model.origin).toEqual({ encoder: "checkpoint", head: "checkpoint" });
    const names = [...model.namedVariables().keys()];
    expect(names).toContain("cls.predictions.transform.LayerNorm.weight");
    expect(names).toContain("cls.predictions.bias");
    // Tied: no decoder weight of its own.
    expect(names.filter((n) => n.includes("decoder"))).toEqual([]);
  });

  it("masked-position logits and the mean cross-entropy over the masked positions match within 1e-4", async () => {
    const x = inputs();
    const logits = model.maskedLogits(x, targets.positions);
    const loss = model.loss(x, targets);
    expect(logits.shape).toEqual([ref.positions.length, config.vocab_size]);
    const l = (await logits.data()) as Float32Array;
    expect(maxAbsDiff(pickCols(l, config.vocab_size).flat(), ref.logits.flat())).toBeLessThan(TOL);
    const lse = await tf.logSumExp(logits, 1).data();
    expect(maxAbsDiff(lse, ref.logits_row_logsumexp)).toBeLessThan(TOL);
    expect(Math.abs((await loss.data())[0] - ref.loss)).toBeLessThan(TOL);
    tf.dispose([logits, loss, x.inputIds, x.tokenTypeIds, x.attentionMask]);
  });

  it("gradients: the tied decoder (word embeddings = lookup + decoder shares), the output bias, the head, the encoder, the global norm", async () => {
    const x = inputs();
    const vars = model.namedVariables();
    const { value, grads } = tf.variableGrads(() => model.loss(x, targets), [...vars.values()]);
    const g = async (name: string) => (await grads[vars.get(name)!.name].data()) as Float32Array;
    expect(grads[vars.get("bert.pooler.dense.weight")!.name]).toBeUndefined(); // the MLM loss does not reach the pooler
    const G = ref.grads;

    const bias = await g("cls.predictions.bias");
    expect(maxAbsDiff(G["cls.predictions.bias"].ids.map((i: number) => bias[i]), G["cls.predictions.bias"].values)).toBeLessThan(TOL);
    expect(Math.abs(norm(bias) - G["cls.predictions.bias"].norm)).toBeLessThan(TOL);
    expect(Math.abs(bias.reduce((s, v) => s + v, 0) - G["cls.predictions.bias"].sum)).toBeLessThan(TOL);

    for (const name of ["cls.predictions.transform.dense.weight", "cls.predictions.transform.LayerNorm.weight", "cls.predictions.transform.dense.bias"]) {
      expect(maxAbsDiff(await g(name), G[name]), name).toBeLessThan(TOL);
    }
    expect(maxAbsDiff(await g("bert.encoder.layer.0.attention.self.query.weight"), G["encoder.layer.0.attention.self.query.weight"])).toBeLessThan(TOL);

    const E = G["embeddings.word_embeddings.weight"];
    const h = config.hidden_size;
    const we = await g("bert.embeddings.word_embeddings.weight");
    const row = (i: number) => Array.from(we.subarray(i * h, (i + 1) * h));
    E.ids.forEach((id: number, k: number) => {
      expect(maxAbsDiff(row(id), E.total_rows[k]), `row ${id}`).toBeLessThan(TOL);
      // A token that is not in the batch gets only the decoder's share: the tie is what gives it a gradient.
      if (!E.in_batch.includes(id)) expect(maxAbsDiff(row(id), E.decoder_rows[k]), `row ${id} (decoder only)`).toBeLessThan(TOL);
    });
    expect(E.ids.some((id: number) => !E.in_batch.includes(id))).toBe(true);
    expect(Math.abs(norm(we) - E.norm) / E.norm).toBeLessThan(TOL);

    const clipped = clipByGlobalNorm(grads, ref.step.max_grad_norm);
    expect(Math.abs((await clipped.norm.data())[0] - ref.grad_norm) / ref.grad_norm).toBeLessThan(TOL);
    tf.dispose([value, clipped.norm, ...Object.values(clipped.grads), x.inputIds, x.tokenTypeIds, x.attentionMask]);
  });

  it("one AdamW step (Trainer groups: no decay on biases and LayerNorm, clipping 1.0) gives PyTorch's loss and logits after it", async () => {
    const fresh = BertForMaskedLM.fromSafetensors(readSafetensors(join(MODEL, "model.safetensors")), config, { encoder: 1, head: 2 });
    const x = inputs();
    const vars = fresh.namedVariables();
    const opt = new AdamW(mlmParamGroups(vars, ref.step.weight_decay), { epsilon: ref.step.eps });
    const { value, grads } = tf.variableGrads(() => fresh.loss(x, targets), [...vars.values()]);
    const clipped = clipByGlobalNorm(grads, ref.step.max_grad_norm);
    opt.step(clipped.grads, ref.step.lr);
    const after = fresh.maskedLogits(x, targets.positions);
    const l = (await after.data()) as Float32Array;
    expect(maxAbsDiff(pickCols(l, config.vocab_size).flat(), ref.step.logits_after.flat())).toBeLessThan(TOL);
    const lossAfter = fresh.loss(x, targets);
    expect(Math.abs((await lossAfter.data())[0] - ref.step.loss_after)).toBeLessThan(TOL);
    expect(ref.step.loss_after).toBeLessThan(ref.loss);
    tf.dispose([value, after, lossAfter, clipped.norm, ...Object.values(clipped.grads), x.inputIds, x.tokenTypeIds, x.attentionMask]);
    opt.dispose();
    fresh.dispose();
  });
});
