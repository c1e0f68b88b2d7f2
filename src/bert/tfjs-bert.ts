import { BertuneError } from "../errors.js";
import { readFloat32, tf } from "../backend/tfjs.js";
import { Rng } from "../util/rng.js";
import type { BertConfig } from "./config.js";
import type { SafetensorsFile, TensorToWrite } from "../formats/safetensors.js";
import { bertParameterShapes, readBertWeights } from "./weights.js";
import { checkActivation, dropout, embeddingLookup, layerNorm, linear, matMulNN, scaledMaskedSoftmax, swapLast } from "./tf-ops.js";

/** Inputs of one batch, [batch, seq]. */
export interface BertInputs {
  /** int32 */
  inputIds: tf.Tensor2D;
  /** int32 */
  tokenTypeIds: tf.Tensor2D;
  /**
   * float32 (1 = token, 0 = padding), made as float on the host: tfjs' int32 → float32 cast
   * only relabels the buffer, and on WebGPU kernels then read int bits as floats.
   */
  attentionMask: tf.Tensor2D;
}

export interface BertOutputs {
  lastHiddenState: tf.Tensor3D;
  poolerOutput: tf.Tensor2D;
}

export interface ForwardOptions {
  /** Training mode: dropout is applied, with masks drawn from this seed. */
  dropoutSeed?: number;
}

let nextModelId = 0;

/**
 * Hugging Face's BertModel in TensorFlow.js: embeddings, post-LayerNorm self-attention
 * layers with the additive padding mask, feed-forward with the configured activation, and
 * the tanh pooler. Weights are tf.Variables keyed by their Hugging Face names, kept in
 * PyTorch's [out, in] layout (matmuls transpose on the fly) so loading and saving copy nothing.
 */
export class TfBertModel {
  readonly params = new Map<string, tf.Variable>();
  private readonly uid = nextModelId++;

  private constructor(
    readonly config: BertConfig,
    values: Map<string, Float32Array>,
  ) {
    checkActivation(config.hidden_act);
    for (const [name, shape] of bertParameterShapes(config)) {
      const t = tf.tensor(values.get(name)!, shape, "float32");
      this.params.set(name, tf.variable(t, true, `bert${this.uid}/${name}`));
      t.dispose();
    }
  }

  /** Load the BertModel weights of a Hugging Face safetensors file (with or without the "bert." prefix). */
  static fromSafetensors(file: SafetensorsFile, config: BertConfig): TfBertModel {
    return new TfBertModel(config, readBertWeights(file, config));
  }

  /** Random weights as BertPreTrainedModel._init_weights: N(0, initializer_range²), zero biases, unit LayerNorm, zero padding row. */
  static random(config: BertConfig, seed: number): TfBertModel {
    const rng = new Rng(seed);
    const values = new Map<string, Float32Array>();
    for (const [name, shape] of bertParameterShapes(config)) {
      const size = shape.reduce((a, b) => a * b, 1);
      const v = new Float32Array(size);
      if (name.includes("LayerNorm.weight")) v.fill(1);
      else if (!name.endsWith(".bias")) {
        for (let i = 0; i < size; i++) {
          // Truncated at 2 std, as trunc_normal_ in recent transformers.
          let x: number;
          do x = rng.normal();
          while (Math.abs(x) > 2);
          v[i] = x * config.initializer_range;
        }
        if (name === "embeddings.word_embeddings.weight" && config.pad_token_id >= 0 && config.pad_token_id < shape[0]) {
          v.fill(0, config.pad_token_id * shape[1], (config.pad_token_id + 1) * shape[1]);
        }
      }
      values.set(name, v);
    }
    return new TfBertModel(config, values);
  }

  p(name: string): tf.Variable {
    return this.params.get(name)!;
  }

  /** activation(x [.., in] · Wᵀ + b) with PyTorch's [out, in] weight. */
  private linear(x: tf.Tensor, prefix: string, activation?: string): tf.Tensor {
    const w = this.p(`${prefix}.weight`);
    const shape = x.shape;
    const y = linear(x.reshape([-1, shape[shape.length - 1]]) as tf.Tensor2D, w as tf.Tensor2D, this.p(`${prefix}.bias`) as tf.Tensor1D, activation);
    return y.reshape([...shape.slice(0, -1), w.shape[0]]);
  }

  private layerNorm(x: tf.Tensor, prefix: string): tf.Tensor {
    return layerNorm(x, this.p(`${prefix}.weight`), this.p(`${prefix}.bias`), this.config.layer_norm_eps);
  }

  private dropout(x: tf.Tensor, rate: number, seeds: { next(): number } | undefined): tf.Tensor {
    return seeds && rate > 0 ? dropout(x, rate, seeds.next()) : x;
  }

  /** The encoder's forward pass. Without a dropout seed it runs in eval mode. */
  forward(inputs: BertInputs, o: ForwardOptions = {}): BertOutputs {
    const c = this.config;
    const [b, s] = inputs.inputIds.shape;
    if (s > c.max_position_embeddings) {
      throw new BertuneError(`a sequence of ${s} tokens exceeds the model's ${c.max_position_embeddings} positions`, `use --max-length ${c.max_position_embeddings} or less`);
    }
    const h = c.hidden_size;
    const nh = c.num_attention_heads;
    const dh = h / nh;
    const seedRng = o.dropoutSeed === undefined ? undefined : new Rng(o.dropoutSeed);
    const seeds = seedRng && { next: () => Math.floor(seedRng.next() * 2 ** 31) };
    const hp = c.hidden_dropout_prob;

    // Positions 0..s-1 are the first s rows: a slice, whose gradient every backend has.
    let x = embeddingLookup(this.p("embeddings.word_embeddings.weight") as tf.Tensor2D, inputs.inputIds)
      .add(this.p("embeddings.position_embeddings.weight").slice([0, 0], [s, h]).expandDims(0))
      .add(embeddingLookup(this.p("embeddings.token_type_embeddings.weight") as tf.Tensor2D, inputs.tokenTypeIds));
    x = this.dropout(this.layerNorm(x, "embeddings.LayerNorm"), hp, seeds);

    // Additive mask [b, 1, 1, s]: 0 for real tokens, a very large negative number for padding.
    const maskAdd = tf.sub(1, inputs.attentionMask).mul(-1e9).reshape([b, 1, 1, s]);
    const heads = (t: tf.Tensor) => t.reshape([b, s, nh, dh]).transpose([0, 2, 1, 3]);
    for (let l = 0; l < c.num_hidden_layers; l++) {
      const p = `encoder.layer.${l}`;
      const q = heads(this.linear(x, `${p}.attention.self.query`)) as tf.Tensor4D;
      const k = heads(this.linear(x, `${p}.attention.self.key`)) as tf.Tensor4D;
      const v = heads(this.linear(x, `${p}.attention.self.value`)) as tf.Tensor4D;
      const probs = this.dropout(scaledMaskedSoftmax(matMulNN(q, swapLast(k)), maskAdd, 1 / Math.sqrt(dh)), c.attention_probs_dropout_prob, seeds) as tf.Tensor4D;
      const context = matMulNN(probs, v).transpose([0, 2, 1, 3]).reshape([b, s, h]);
      const attnOut = this.dropout(this.linear(context, `${p}.attention.output.dense`), hp, seeds);
      x = this.layerNorm(attnOut.add(x), `${p}.attention.output.LayerNorm`);
      const inter = this.linear(x, `${p}.intermediate.dense`, c.hidden_act);
      const out = this.dropout(this.linear(inter, `${p}.output.dense`), hp, seeds);
      x = this.layerNorm(out.add(x), `${p}.output.LayerNorm`);
    }
    const first = x.slice([0, 0, 0], [b, 1, h]).reshape([b, h]);
    const pooled = tf.tanh(this.linear(first, "pooler.dense")) as tf.Tensor2D;
    return { lastHiddenState: x as tf.Tensor3D, poolerOutput: pooled };
  }

  /** The weights in Hugging Face names (with a prefix such as "bert."), for safetensors. */
  async toTensors(prefix = ""): Promise<Record<string, TensorToWrite>> {
    const named = [...this.params];
    const values = await Promise.all(named.map(([, v]) => readFloat32(v)));
    return Object.fromEntries(named.map(([name, v], i) => [`${prefix}${name}`, { dtype: "F32", shape: v.shape, data: values[i] }]));
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose();
    this.params.clear();
  }
}

/** Pool [b, s, h] hidden states as the head expects: the pooler, the [CLS] row, or the masked mean. */
export function poolTensor(out: BertOutputs, attentionMask: tf.Tensor2D, pooling: "pooler" | "cls" | "mean"): tf.Tensor2D {
  if (pooling === "pooler") return out.poolerOutput;
  const [b, , h] = out.lastHiddenState.shape;
  if (pooling === "cls") return out.lastHiddenState.slice([0, 0, 0], [b, 1, h]).reshape([b, h]);
  const m = attentionMask.expandDims(2);
  return out.lastHiddenState.mul(m).sum(1).div(m.sum(1).maximum(1e-9)) as tf.Tensor2D;
}
