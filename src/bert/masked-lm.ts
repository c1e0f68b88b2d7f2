import { readFloat32, tf } from "../backend/tfjs.js";
import { BertuneError } from "../errors.js";
import { expectTensor, tensorToFloat32, type SafetensorsFile, type TensorToWrite } from "../formats/safetensors.js";
import { maskedLmLoss, MLM_PREFIX, MlmHead } from "../heads/mlm-head.js";
import type { BertConfig } from "./config.js";
import { embeddingLookup } from "./tf-ops.js";
import { TfBertModel, type BertInputs } from "./tfjs-bert.js";
import { readBertWeights } from "./weights.js";

/** A masked batch's targets: flat positions (row × seqLen + column) of the masked tokens and their original ids. */
export interface MaskedTargets {
  positions: Int32Array;
  labels: Int32Array;
}

/** How the encoder and head of a BertForMaskedLM were obtained. */
export interface MaskedLmOrigin {
  encoder: "checkpoint" | "random";
  head: "checkpoint" | "initialised";
  /** The checkpoint had no pooler (a BertForMaskedLM saved by transformers): it was initialised. */
  poolerInitialised?: boolean;
}

/** Does a safetensors file hold the pooler (with or without "bert.")? */
function hasPooler(file: SafetensorsFile): boolean {
  return file.tensors.has("bert.pooler.dense.weight") || file.tensors.has("pooler.dense.weight");
}

/**
 * transformers' BertForMaskedLM in tensorflow.js: the BertModel encoder and the MLM head whose
 * decoder is tied to the word embeddings. Vocabulary logits are computed only at the masked
 * positions (their hidden states are gathered first, as the original BERT code does). The pooler
 * is kept (transformers' BertForMaskedLM has none): it is not trained by the MLM loss, but it stays
 * in the saved weights so that `bertune train --model` and BertForSequenceClassification find it.
 */
export class BertForMaskedLM {
  constructor(
    readonly bert: TfBertModel,
    readonly head: MlmHead,
    readonly origin: MaskedLmOrigin,
  ) {}

  get config(): BertConfig {
    return this.bert.config;
  }

  /** Random weights as transformers initialises them (encoder from TfBertModel.random, head from MlmHead.initValues). */
  static random(config: BertConfig, seeds: { encoder: number; head: number }): BertForMaskedLM {
    return new BertForMaskedLM(TfBertModel.random(config, seeds.encoder), new MlmHead(config, MlmHead.initValues(config, seeds.head)), { encoder: "random", head: "initialised" });
  }

  /**
   * The encoder from a checkpoint (BertModel, BertForMaskedLM, BertForPreTraining names; gamma/beta too),
   * and its MLM head when it has one, else a fresh head. A checkpoint without a pooler gets a random one.
   */
  static fromSafetensors(file: SafetensorsFile, config: BertConfig, seeds: { encoder: number; head: number }): BertForMaskedLM {
    const headValues = MlmHead.readValues(file, config);
    const head = new MlmHead(config, headValues ?? MlmHead.initValues(config, seeds.head));
    let bert: TfBertModel;
    let poolerInitialised = false;
    if (hasPooler(file)) bert = TfBertModel.fromSafetensors(file, config);
    else {
      // Every tensor but the pooler from the file (checked as any checkpoint), the pooler as transformers initialises a missing one.
      bert = TfBertModel.random(config, seeds.encoder);
      const values = readBertWeights(file, config, { withoutPooler: true });
      tf.tidy(() => {
        for (const [name, v] of values) bert.p(name).assign(tf.tensor(v, bert.p(name).shape));
      });
      poolerInitialised = true;
    }
    return new BertForMaskedLM(bert, head, { encoder: "checkpoint", head: headValues ? "checkpoint" : "initialised", ...(poolerInitialised ? { poolerInitialised } : {}) });
  }

  /** Vocabulary logits [masked, vocab] at the given flat positions; with a dropout seed, in training mode. */
  maskedLogits(inputs: BertInputs, positions: Int32Array, dropoutSeed?: number): tf.Tensor2D {
    const out = this.bert.forward(inputs, { dropoutSeed });
    const [b, s, h] = out.lastHiddenState.shape;
    const rows = out.lastHiddenState.reshape([b * s, h]) as tf.Tensor2D;
    // A row lookup whose gradient is a scatter-add (tf.gather's needs a kernel the wasm backend lacks).
    const picked = embeddingLookup(rows, tf.tensor1d(positions, "int32")) as tf.Tensor2D;
    return this.head.logits(picked, this.bert.p("embeddings.word_embeddings.weight") as tf.Tensor2D);
  }

  /** The masked-LM loss: mean cross-entropy over the masked positions (0 for a batch without any). */
  loss(inputs: BertInputs, targets: MaskedTargets, dropoutSeed?: number): tf.Scalar {
    if (targets.positions.length === 0) {
      // Nothing masked: a zero that still depends on every variable, so gradients exist (all zero).
      return tf.addN([...this.namedVariables().values()].map((v) => v.sum().mul(0))) as tf.Scalar;
    }
    return maskedLmLoss(this.maskedLogits(inputs, targets.positions, dropoutSeed), targets.labels);
  }

  /** Every trainable variable under its transformers name: bert.* and cls.predictions.* (the decoder is tied to bert.embeddings.word_embeddings.weight). */
  namedVariables(): Map<string, tf.Variable> {
    const vars = new Map<string, tf.Variable>();
    for (const [name, v] of this.bert.params) vars.set(`bert.${name}`, v);
    for (const [name, v] of this.head.params) vars.set(`${MLM_PREFIX}${name}`, v);
    return vars;
  }

  /** Overwrite every weight from a file in this model's own layout (a checkpoint). */
  assignFrom(file: SafetensorsFile): void {
    const values = new Map<tf.Variable, Float32Array>();
    for (const [name, v] of this.namedVariables()) {
      expectTensor(file, name, v.shape);
      values.set(v, tensorToFloat32(file, name));
    }
    tf.tidy(() => {
      for (const [v, data] of values) v.assign(tf.tensor(data, v.shape));
    });
  }

  async toTensors(): Promise<Record<string, TensorToWrite>> {
    const [bert, head] = await Promise.all([this.bert.toTensors("bert."), this.head.toTensors()]);
    return { ...bert, ...head };
  }

  /** Every weight as plain arrays, by name (for keeping the best model). */
  async snapshot(): Promise<Map<string, Float32Array>> {
    const vars = [...this.namedVariables()];
    const values = await Promise.all(vars.map(([, v]) => readFloat32(v)));
    return new Map(vars.map(([n], i) => [n, values[i]]));
  }

  dispose(): void {
    this.bert.dispose();
    this.head.dispose();
  }
}
