/**
 * The TypeScript BERT and its full fine-tuning against an independent PyTorch implementation
 * (scripts/make_references.py: plain torch in float64, checked against Hugging Face's own
 * outputs first), on a small model whose weights make every piece of the math visible: the
 * activation variants and LayerNorm eps move the outputs by ≫ the tolerance, clipping acts at
 * every step, and weight decay moves the weights by ≫ the tolerance.
 */
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { BertConfig } from "../src/bert/config.js";
import { batchTensors } from "../src/bert/sequence-classifier.js";
import { TfBertModel } from "../src/bert/tfjs-bert.js";
import { readSafetensors } from "../src/formats/safetensors.js";
import { tf, useBackend } from "../src/backend/tfjs.js";
import { clipByGlobalNorm } from "../src/train/adamw.js";
import { resolveArgs, type TrainingArgs } from "../src/train/args.js";
import { trainFull } from "../src/train/full-trainer.js";
import { REF_MINI, refMini, refMiniConfig, refMiniDataset, refMiniSource, useReferenceHeadInit } from "./helpers/ref-mini.js";
import { maxAbsDiff } from "./helpers/numbers.js";

const ref = refMini;
const config = refMiniConfig;
const weights = readSafetensors(join(REF_MINI, "model.safetensors"));
const B = ref.batch;

beforeAll(async () => {
  await useBackend("wasm");
});

/** Values of last_hidden_state at real (unpadded) tokens only: padded rows are not compared. */
function realTokens(flat: ArrayLike<number>, h: number): number[] {
  const out: number[] = [];
  B.attention_mask.forEach((row: number[], b: number) =>
    row.forEach((m, s) => {
      if (m) for (let j = 0; j < h; j++) out.push(flat[(b * row.length + s) * h + j]);
    }),
  );
  return out;
}

const inputs = () => batchTensors({ inputIds: B.input_ids, tokenTypeIds: B.token_type_ids, attentionMask: B.attention_mask });

describe("forward pass against plain PyTorch, on weights where the variants differ", () => {
  const TOL = 2e-5;
  it.each([
    ["gelu", "exact erf GELU (not the tanh approximation)"],
    ["gelu_new", "the tanh approximation"],
    ["relu", "relu"],
    ["silu", "silu (x·sigmoid x)"],
    ["tanh", "tanh"],
    ["gelu_eps_1e-7", "layer_norm_eps from config.json (1e-7), not a fixed 1e-12"],
  ])("%s: %s", async (variant) => {
    const v = ref.forward[variant];
    // The guard is meaningful only if this variant is far from the others (see the script's output).
    if (variant !== "gelu") expect(v.max_abs_diff_from_gelu).toBeGreaterThan(100 * TOL);
    const c: BertConfig = { ...config, ...v.config };
    const bert = TfBertModel.fromSafetensors(weights, c);
    const out = bert.forward(inputs());
    const last = await out.lastHiddenState.data();
    expect(maxAbsDiff(realTokens(last, c.hidden_size), realTokens(v.last_hidden_state, c.hidden_size))).toBeLessThan(TOL);
    expect(maxAbsDiff(await out.poolerOutput.data(), v.pooler_output)).toBeLessThan(TOL);
    bert.dispose();
  });
});

describe("activation aliases", () => {
  it.each([
    ["gelu_pytorch_tanh", "gelu_new"],
    ["swish", "silu"],
  ])("%s computes %s", async (alias, variant) => {
    const bert = TfBertModel.fromSafetensors(weights, { ...config, hidden_act: alias });
    const out = bert.forward(inputs());
    expect(maxAbsDiff(await out.poolerOutput.data(), ref.forward[variant].pooler_output)).toBeLessThan(2e-5);
    bert.dispose();
  });
});

describe("clipByGlobalNorm equals torch.nn.utils.clip_grad_norm_, including its 1e-6 epsilon", () => {
  it("scales by max_norm / (norm + 1e-6) where the norm is 1e-3 (the epsilon is a 1e-3 relative change)", async () => {
    const c = ref.clip_small_norm;
    const grads = Object.fromEntries(c.grads.map((g: { shape: number[]; values: number[] }, i: number) => [`g${i}`, tf.tensor(g.values, g.shape)]));
    const { grads: clipped, norm } = clipByGlobalNorm(grads, c.max_norm);
    expect(Math.abs((await norm.data())[0] - c.norm) / c.norm).toBeLessThan(1e-5);
    c.clipped.forEach((expected: number[], i: number) => {
      const got = clipped[`g${i}`].dataSync();
      for (let j = 0; j < expected.length; j++) expect(Math.abs(got[j] - expected[j]) / Math.abs(expected[j])).toBeLessThan(1e-5);
    });
    tf.dispose([...Object.values(clipped), norm]);
  });
});

/** trainFull with the reference's head init (the trainer's own init is seeded, torch's is the fixture). */
async function trainLikeReference(scenario: string) {
  const o = ref.training[scenario].options;
  useReferenceHeadInit();
  const args: TrainingArgs = resolveArgs({
    numTrainEpochs: o.steps, // one full batch per epoch: one optimizer step per epoch
    perDeviceTrainBatchSize: B.input_ids.length,
    learningRate: o.lr,
    weightDecay: o.weight_decay,
    adamEpsilon: o.adam_epsilon,
    warmupSteps: o.warmup_steps,
    lrSchedulerType: "linear",
    maxGradNorm: o.max_grad_norm,
    loggingSteps: 1,
    evalStrategy: "no",
    saveStrategy: "no",
    maxLength: 16,
    unfreezeTop: o.unfreeze_top,
    layerwiseLrDecay: o.layerwise_lr_decay ?? 1,
    headLrMultiplier: o.head_lr_multiplier ?? 1,
  });
  return trainFull({ source: refMiniSource(), dataset: refMiniDataset(), args });
}

describe("full fine-tuning steps against torch's AdamW, clip_grad_norm_ and the Trainer's parameter groups", () => {
  afterEach(() => vi.restoreAllMocks());

  it.each([
    ["full", "5 steps: warmup 2, linear decay, clipping at 0.25 (norms ~100–2500), weight decay 0.5 on weights only"],
    ["unfreeze_top_1", "--unfreeze-top 1: the top layer, pooler and head learn; the norm is over them alone"],
    ["layerwise_decay_and_head_multiplier", "--layerwise-lr-decay 0.5 and --head-lr-multiplier 4"],
  ])("%s: %s", async (scenario) => {
    const t = ref.training[scenario];
    // The references are built so that clipping and decay matter here.
    expect(t.log.every((e: { grad_norm: number }) => e.grad_norm > 2 * t.options.max_grad_norm)).toBe(true);
    expect(t.weight_decay_effect).toBeGreaterThan(1e-3);
    expect(t.clipping_effect).toBeGreaterThan(1e-3);

    // float32 against float64 over 5 steps whose gradient norm reaches 2,500: the tolerances below
    // (weights 5e-5, loss 2e-4, norm 1e-3 relative) are ~500× smaller than those effects.
    const r = await trainLikeReference(scenario);
    const log = r.state.log_history.filter((e) => e.loss !== undefined);
    expect(log.map((e) => e.learning_rate)).toEqual(t.log.map((e: { learning_rate: number }) => expect.closeTo(e.learning_rate, 12)));
    log.forEach((e, i) => {
      expect(Math.abs(e.loss! - t.log[i].loss), `loss at step ${i + 1}`).toBeLessThan(2e-4);
      expect(Math.abs(e.grad_norm! - t.log[i].grad_norm) / t.log[i].grad_norm, `grad norm at step ${i + 1}`).toBeLessThan(1e-3);
    });
    const w = await r.model.toTensors();
    for (const [name, expected] of Object.entries(t.weights_after as Record<string, number[]>)) {
      const key = name.startsWith("classifier.") ? name : `bert.${name}`;
      expect(maxAbsDiff(w[key].data, expected), name).toBeLessThan(5e-5);
    }
    const logits = await r.model.logits(inputs()).data();
    expect(maxAbsDiff(logits, t.logits_after)).toBeLessThan(1e-3);
    r.model.dispose();
  });
});
