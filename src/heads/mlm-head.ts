import { BertuneError } from "../errors.js";
import { readFloat32, tf } from "../backend/tfjs.js";
import { checkActivation, layerNorm, linear } from "../bert/tf-ops.js";
import type { BertConfig } from "../bert/config.js";
import { expectTensor, tensorToFloat32, type SafetensorsFile, type TensorToWrite } from "../formats/safetensors.js";
import { Rng } from "../util/rng.js";

/** The prefix of the MLM head's tensors in transformers' BertForMaskedLM / BertForPreTraining. */
export const MLM_PREFIX = "cls.predictions.";

/** The head's own parameters (bare names after "cls.predictions."); the decoder's weight is the word embeddings. */
export function mlmHeadShapes(c: Pick<BertConfig, "hidden_size" | "vocab_size">): Map<string, number[]> {
  const h = c.hidden_size;
  return new Map([
    ["transform.dense.weight", [h, h]],
    ["transform.dense.bias", [h]],
    ["transform.LayerNorm.weight", [h]],
    ["transform.LayerNorm.bias", [h]],
    ["bias", [c.vocab_size]],
  ]);
}

/** Stored names a head tensor may have: the current one, old LayerNorm gamma/beta, and the decoder's tied bias. */
function storedNames(bare: string): string[] {
  const names = [MLM_PREFIX + bare];
  if (bare.endsWith("LayerNorm.weight")) names.push(MLM_PREFIX + bare.replace(/weight$/, "gamma"));
  if (bare.endsWith("LayerNorm.bias")) names.push(MLM_PREFIX + bare.replace(/bias$/, "beta"));
  if (bare === "bias") names.push(`${MLM_PREFIX}decoder.bias`);
  return names;
}

let nextId = 0;

/**
 * BertLMPredictionHead in tensorflow.js: transform (dense → the config's hidden_act → LayerNorm with
 * layer_norm_eps), then the decoder, whose weight is the encoder's word embeddings (tied, as
 * transformers ties them) plus the head's own output bias `cls.predictions.bias`. It is applied to
 * the hidden states of the masked positions only, so the vocabulary projection costs
 * masked × hidden × vocab, not tokens × hidden × vocab.
 */
export class MlmHead {
  /** Bare name ("transform.dense.weight", "bias") → variable, weights in PyTorch's [out, in] layout. */
  readonly params = new Map<string, tf.Variable>();

  constructor(
    readonly config: BertConfig,
    values: Map<string, Float32Array>,
  ) {
    checkActivation(config.hidden_act);
    const id = nextId++;
    for (const [name, shape] of mlmHeadShapes(config)) {
      const t = tf.tensor(values.get(name)!, shape, "float32");
      this.params.set(name, tf.variable(t, true, `mlm${id}/${MLM_PREFIX}${name}`));
      t.dispose();
    }
  }

  /** Whether a checkpoint holds an MLM head (BertForMaskedLM, BertForPreTraining). */
  static inFile(file: SafetensorsFile): boolean {
    return storedNames("transform.dense.weight").some((n) => file.tensors.has(n));
  }

  /** The head's values of a checkpoint (any of transformers' names), or undefined when it has none. */
  static readValues(file: SafetensorsFile, config: BertConfig): Map<string, Float32Array> | undefined {
    if (!MlmHead.inFile(file)) return undefined;
    const values = new Map<string, Float32Array>();
    for (const [name, shape] of mlmHeadShapes(config)) {
      const stored = storedNames(name).find((n) => file.tensors.has(n));
      if (!stored) {
        throw new BertuneError(
          `${file.source ?? "model.safetensors"} has an MLM head without "${MLM_PREFIX}${name}"`,
          "the checkpoint's masked-LM head is incomplete: pretrain with --config for a fresh head",
        );
      }
      expectTensor(file, stored, shape);
      values.set(name, tensorToFloat32(file, stored));
    }
    return values;
  }

  /** Initial values as transformers' _init_weights: dense N(0, initializer_range²), zero biases, LayerNorm 1 and 0. */
  static initValues(config: BertConfig, seed: number): Map<string, Float32Array> {
    const rng = new Rng(seed);
    const values = new Map<string, Float32Array>();
    for (const [name, shape] of mlmHeadShapes(config)) {
      const v = new Float32Array(shape.reduce((a, b) => a * b, 1));
      if (name === "transform.dense.weight") for (let i = 0; i < v.length; i++) v[i] = rng.normal() * config.initializer_range;
      else if (name === "transform.LayerNorm.weight") v.fill(1);
      values.set(name, v);
    }
    return values;
  }

  p(name: string): tf.Variable {
    return this.params.get(name)!;
  }

  /** Vocabulary logits [n, vocab] of hidden states [n, hidden], with the tied decoder `wordEmbeddings` [vocab, hidden]. */
  logits(hidden: tf.Tensor2D, wordEmbeddings: tf.Tensor2D): tf.Tensor2D {
    const c = this.config;
    let x: tf.Tensor = linear(hidden, this.p("transform.dense.weight") as tf.Tensor2D, this.p("transform.dense.bias") as tf.Tensor1D, c.hidden_act);
    x = layerNorm(x, this.p("transform.LayerNorm.weight"), this.p("transform.LayerNorm.bias"), c.layer_norm_eps);
    // The decoder is the word-embedding table itself (tied), so its gradient flows into the embeddings.
    return linear(x as tf.Tensor2D, wordEmbeddings, this.p("bias") as tf.Tensor1D);
  }

  /** The head under transformers' names (cls.predictions.*); the tied decoder weight is not stored, as save_pretrained leaves it out. */
  async toTensors(): Promise<Record<string, TensorToWrite>> {
    const named = [...this.params];
    const values = await Promise.all(named.map(([, v]) => readFloat32(v)));
    return Object.fromEntries(named.map(([name, v], i) => [`${MLM_PREFIX}${name}`, { dtype: "F32" as const, shape: v.shape, data: values[i] }]));
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose();
    this.params.clear();
  }
}

/** Flat indices (row × vocab + label) of each row's label, for lookups in [n × vocab] tensors. */
function labelIndices(labels: Int32Array, vocab: number): tf.Tensor1D {
  return tf.tensor1d(Int32Array.from(labels, (l, i) => i * vocab + l), "int32");
}

/** The summed cross-entropy of rows of logits [n, vocab] against integer labels, forward only (evaluation). */
export function crossEntropySum(logits: tf.Tensor2D, labels: Int32Array): tf.Scalar {
  return tf.tidy(() => {
    const [n, vocab] = logits.shape;
    return tf.logSumExp(logits, 1).sub(tf.gather(logits.reshape([n * vocab]), labelIndices(labels, vocab))).sum() as tf.Scalar;
  });
}

/**
 * Mean cross-entropy over rows of logits [n, vocab] against integer labels (transformers'
 * CrossEntropyLoss over the positions whose label is not -100), with its closed-form gradient
 * (softmax − one-hot) / n: tensorflow.js' own gradient of logSumExp over a 30k vocabulary is several
 * times slower on the wasm backend than the forward pass. The one-hot rows are a float32 scatter
 * (tf.oneHot's float32 output holds int32 bits on the wasm backend, and on WebGPU an int32 → float32
 * cast only relabels the buffer).
 */
export function maskedLmLoss(logits: tf.Tensor2D, labels: Int32Array): tf.Scalar {
  const [n, vocab] = logits.shape;
  const op = tf.customGrad(((x: tf.Tensor2D, save: tf.GradSaveFunc) => {
    const flat = labelIndices(labels, vocab);
    // One exp over the logits, kept as the softmax for the gradient; the label logits by lookup.
    const max = x.max(1, true);
    const e = tf.exp(x.sub(max));
    const z = e.sum(1, true);
    const softmax = e.div(z);
    const lse = tf.log(z).add(max).reshape([n]);
    const picked = tf.gather(x.reshape([n * vocab]), flat);
    save([softmax, flat]);
    return {
      value: lse.sub(picked).sum().div(Math.max(1, n)),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const g = Array.isArray(dy) ? dy[0] : dy;
        const oneHot = tf.scatterND(saved[1].reshape([n, 1]), tf.ones([n], "float32"), [n * vocab]).reshape([n, vocab]);
        return [saved[0].sub(oneHot).mul(g.div(Math.max(1, n)))];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(logits) as tf.Scalar;
}
