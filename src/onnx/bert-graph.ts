/**
 * Hugging Face's BertModel as an ONNX graph (opset 17), written from a checkpoint's weights and
 * config.json: the same computation as src/bert/tfjs-bert.ts — embeddings (absolute positions,
 * token types), post-LayerNorm self-attention with the additive padding mask, the configured
 * activation, layer_norm_eps from the config, the tanh pooler — with the outputs a use needs:
 *
 * - "features": `last_hidden_state` [batch, seq, hidden] and `pooler_output` [batch, hidden], as
 *   transformers.js's feature-extraction exports name them (the frozen path's mean pooling);
 * - "first-token-features": `cls_hidden_state` (the [CLS] row of last_hidden_state) and
 *   `pooler_output`, for the frozen path's pooler and cls poolings, with the last layer computed
 *   for the [CLS] position alone;
 * - a classifier: `logits` [batch, labels] of BertForSequenceClassification, pooling as the run
 *   was trained (`pooler`, the [CLS] row, or the masked mean), for transformers.js's
 *   text-classification pipeline (with the [CLS]-only last layer unless it pools the mean).
 *
 * With `quantize`, every weight matrix is stored as int8 (symmetric, one scale per output column)
 * and multiplied by MatMulInteger after DynamicQuantizeLinear of its input — the dynamic int8
 * quantisation onnxruntime's quantize_dynamic produces, which transformers.js loads as "q8" —
 * and the word embeddings as int8 rows with one scale each.
 */
import { BertuneError } from "../errors.js";
import type { BertConfig } from "../bert/config.js";
import { FIRST_TOKEN_OUTPUT } from "../bert/onnx-encoder.js";
import { attr, GraphBuilder } from "./graph.js";
import { DataType, encodeModel, type ModelProto } from "./proto.js";

export type GraphPooling = "pooler" | "cls" | "mean";

export interface ClassifierSpec {
  pooling: GraphPooling;
  /** [numLabels, hidden] row-major, PyTorch's layout. */
  weight: Float32Array;
  bias: Float32Array;
  numLabels: number;
}

export interface BertGraphOptions {
  /**
   * "features" (every position's last hidden state and the pooler's output),
   * "first-token-features" (the [CLS] position's and the pooler's only, whose last layer then
   * runs on [CLS] alone) or a classification head.
   */
  head: "features" | "first-token-features" | ClassifierSpec;
  quantize?: boolean;
  /** Recorded in the model's metadata. */
  producerVersion?: string;
  metadata?: Record<string, string>;
}

export const OPSET = 17;
/** ONNX IR version 8 goes with opset 17. */
const IR_VERSION = 8;
/** The additive mask value transformers uses for padding: the smallest float32. */
const MASK_VALUE = -3.4028234663852886e38;

/** The graph's activations, by config.json's hidden_act (the names transformers' ACT2FN uses). */
export const GRAPH_ACTIVATIONS = ["gelu", "gelu_new", "gelu_pytorch_tanh", "relu", "silu", "swish", "tanh"] as const;

/** [rows, cols] row-major → [cols, rows]: PyTorch's [out, in] weight as MatMul's [in, out]. */
function transpose(w: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(w.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = w[r * cols + c];
  return t;
}

/** Symmetric int8 with one scale per column of a [rows, cols] matrix. */
function quantizeColumns(wT: Float32Array, rows: number, cols: number): { q: Int8Array; scale: Float32Array } {
  const scale = new Float32Array(cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) scale[c] = Math.max(scale[c], Math.abs(wT[r * cols + c]));
  for (let c = 0; c < cols; c++) scale[c] = scale[c] / 127 || 1;
  const q = new Int8Array(wT.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) q[r * cols + c] = Math.round(wT[r * cols + c] / scale[c]);
  return { q, scale };
}

function quantizeRows(table: Float32Array, rows: number, cols: number): { q: Int8Array; scale: Float32Array } {
  const scale = new Float32Array(rows);
  const q = new Int8Array(table.length);
  for (let r = 0; r < rows; r++) {
    let m = 0;
    for (let c = 0; c < cols; c++) m = Math.max(m, Math.abs(table[r * cols + c]));
    const s = m / 127 || 1;
    scale[r] = s;
    for (let c = 0; c < cols; c++) q[r * cols + c] = Math.round(table[r * cols + c] / s);
  }
  return { q, scale };
}

class BertGraphWriter {
  readonly g = new GraphBuilder("bert");
  private readonly one: string;
  private readonly half: string;

  constructor(
    private readonly config: BertConfig,
    private readonly weights: Map<string, Float32Array>,
    private readonly quantize: boolean,
  ) {
    this.one = this.g.scalar("one", 1);
    this.half = this.g.scalar("half", 0.5);
  }

  w(name: string): Float32Array {
    const v = this.weights.get(name);
    if (!v) throw new Error(`missing weight ${name}`);
    return v;
  }

  /** x [.., in] · Wᵀ + b with PyTorch's [out, in] weight `prefix.weight`. */
  linear(x: string, prefix: string, weight = this.w(`${prefix}.weight`), bias = this.w(`${prefix}.bias`)): string {
    const out = bias.length;
    const inp = weight.length / out;
    const wT = transpose(weight, out, inp);
    const b = this.g.float(`${prefix}.bias`, [out], bias);
    if (!this.quantize) {
      const y = this.g.op("MatMul", [x, this.g.float(`${prefix}.weight`, [inp, out], wT)]);
      return this.g.op("Add", [y, b]);
    }
    const { q, scale } = quantizeColumns(wT, inp, out);
    const wq = this.g.tensor(`${prefix}.weight_quantized`, DataType.INT8, [inp, out], q);
    const wZero = this.g.tensor(`${prefix}.weight_zero_point`, DataType.INT8, [], new Int8Array(1));
    const wScale = this.g.float(`${prefix}.weight_scale`, [out], scale);
    const [xq, xScale, xZero] = this.g.ops("DynamicQuantizeLinear", [x], [], 3);
    const acc = this.g.op("MatMulInteger", [xq, wq, xZero, wZero]);
    const accF = this.g.op("Cast", [acc], [attr.int("to", DataType.FLOAT)]);
    const y = this.g.op("Mul", [accF, this.g.op("Mul", [xScale, wScale])]);
    return this.g.op("Add", [y, b]);
  }

  layerNorm(x: string, prefix: string): string {
    const gamma = this.g.float(`${prefix}.weight`, [this.config.hidden_size], this.w(`${prefix}.weight`));
    const beta = this.g.float(`${prefix}.bias`, [this.config.hidden_size], this.w(`${prefix}.bias`));
    return this.g.op("LayerNormalization", [x, gamma, beta], [attr.int("axis", -1), attr.float("epsilon", this.config.layer_norm_eps)]);
  }

  activation(x: string): string {
    const g = this.g;
    switch (this.config.hidden_act) {
      case "gelu": {
        // Exact GELU: x · ½(1 + erf(x / √2)).
        const e = g.op("Erf", [g.op("Div", [x, g.scalar("sqrt2", Math.SQRT2)])]);
        return g.op("Mul", [g.op("Mul", [x, g.op("Add", [e, this.one])]), this.half]);
      }
      case "gelu_new":
      case "gelu_pytorch_tanh": {
        // ½x(1 + tanh(√(2/π)(x + 0.044715x³))).
        const cube = g.op("Mul", [g.op("Mul", [x, x]), x]);
        const inner = g.op("Mul", [g.op("Add", [x, g.op("Mul", [cube, g.scalar("c0044715", 0.044715)])]), g.scalar("sqrt2_over_pi", Math.sqrt(2 / Math.PI))]);
        return g.op("Mul", [g.op("Mul", [x, g.op("Add", [g.op("Tanh", [inner]), this.one])]), this.half]);
      }
      case "relu":
        return g.op("Relu", [x]);
      case "silu":
      case "swish":
        return g.op("Mul", [x, g.op("Sigmoid", [x])]);
      case "tanh":
        return g.op("Tanh", [x]);
      default:
        throw new BertuneError(`hidden_act "${this.config.hidden_act}" is not supported`, `supported: ${GRAPH_ACTIVATIONS.join(", ")}`);
    }
  }

  embeddings(inputIds: string, tokenTypeIds: string): string {
    const c = this.config;
    const g = this.g;
    const h = c.hidden_size;
    let words: string;
    if (this.quantize) {
      const { q, scale } = quantizeRows(this.w("embeddings.word_embeddings.weight"), c.vocab_size, h);
      const table = g.tensor("embeddings.word_embeddings.weight_quantized", DataType.INT8, [c.vocab_size, h], q);
      const scales = g.float("embeddings.word_embeddings.weight_scale", [c.vocab_size, 1], scale);
      const rows = g.op("Cast", [g.op("Gather", [table, inputIds], [attr.int("axis", 0)])], [attr.int("to", DataType.FLOAT)]);
      words = g.op("Mul", [rows, g.op("Gather", [scales, inputIds], [attr.int("axis", 0)])]);
    } else {
      words = g.op("Gather", [g.float("embeddings.word_embeddings.weight", [c.vocab_size, h], this.w("embeddings.word_embeddings.weight")), inputIds], [attr.int("axis", 0)]);
    }
    // Absolute positions 0..seq-1: the first seq rows of the table.
    const seqLen = g.op("Shape", [inputIds], [attr.int("start", 1), attr.int("end", 2)], "sequence_length");
    const positionTable = g.float("embeddings.position_embeddings.weight", [c.max_position_embeddings, h], this.w("embeddings.position_embeddings.weight"));
    const positions = g.op("Slice", [positionTable, g.int64("zero_1d", [0]), seqLen, g.int64("axis0_1d", [0])]);
    const typeTable = g.float("embeddings.token_type_embeddings.weight", [c.type_vocab_size, h], this.w("embeddings.token_type_embeddings.weight"));
    const types = g.op("Gather", [typeTable, tokenTypeIds], [attr.int("axis", 0)]);
    const sum = g.op("Add", [g.op("Add", [words, positions]), types]);
    return this.layerNorm(sum, "embeddings.LayerNorm");
  }

  /**
   * The encoder layers over x [batch, seq, hidden]. With `firstTokenOnly`, the last layer computes
   * only the [CLS] position's output (keys and values still from every token): the pooler and the
   * [CLS] row read nothing else, and the rest of that layer is 1/seq of its work. Returns
   * [batch, seq, hidden], or [batch, 1, hidden] with `firstTokenOnly`.
   */
  encoder(x: string, maskAdd: string, firstTokenOnly = false): string {
    const c = this.config;
    const g = this.g;
    const nh = c.num_attention_heads;
    const dh = c.hidden_size / nh;
    const splitShape = g.int64("split_heads_shape", [0, 0, nh, dh]);
    const mergeShape = g.int64("merge_heads_shape", [0, 0, c.hidden_size]);
    const scale = g.scalar("attention_scale", Math.sqrt(dh));
    for (let l = 0; l < c.num_hidden_layers; l++) {
      const p = `encoder.layer.${l}`;
      const heads = (t: string, perm: number[]) => g.op("Transpose", [g.op("Reshape", [t, splitShape])], [attr.ints("perm", perm)]);
      // The rows this layer outputs: every position, or (last layer, firstTokenOnly) position 0 alone.
      const rows = firstTokenOnly && l === c.num_hidden_layers - 1 ? this.firstRow(x) : x;
      const q = heads(this.linear(rows, `${p}.attention.self.query`), [0, 2, 1, 3]);
      const kT = heads(this.linear(x, `${p}.attention.self.key`), [0, 2, 3, 1]);
      const v = heads(this.linear(x, `${p}.attention.self.value`), [0, 2, 1, 3]);
      const scores = g.op("Add", [g.op("Div", [g.op("MatMul", [q, kT]), scale]), maskAdd]);
      const probs = g.op("Softmax", [scores], [attr.int("axis", -1)]);
      const context = g.op("Reshape", [g.op("Transpose", [g.op("MatMul", [probs, v])], [attr.ints("perm", [0, 2, 1, 3])]), mergeShape]);
      const attn = this.linear(context, `${p}.attention.output.dense`);
      x = this.layerNorm(g.op("Add", [attn, rows]), `${p}.attention.output.LayerNorm`);
      const inter = this.activation(this.linear(x, `${p}.intermediate.dense`));
      const out = this.linear(inter, `${p}.output.dense`);
      x = this.layerNorm(g.op("Add", [out, x]), `${p}.output.LayerNorm`);
    }
    return x;
  }

  /** x[:, 0:1, :]: the [CLS] position, keeping the sequence axis. */
  firstRow(x: string): string {
    const g = this.g;
    return g.op("Slice", [x, g.int64("zero_1d", [0]), g.int64("one_1d", [1]), g.int64("axis1_1d", [1])]);
  }

  firstToken(x: string): string {
    return this.g.op("Gather", [x, this.g.int64("cls_index", [0], [])], [attr.int("axis", 1)]);
  }

  pooler(x: string): string {
    return this.g.op("Tanh", [this.linear(this.firstToken(x), "pooler.dense")]);
  }

  /** The mean over real tokens (mask = 1), as sentence-transformers and the tfjs model compute it. */
  meanPool(x: string, maskF: string): string {
    const g = this.g;
    const m = g.op("Unsqueeze", [maskF, g.int64("last_axis", [-1])]);
    const axis1 = g.int64("seq_axis", [1]);
    const sum = g.op("ReduceSum", [g.op("Mul", [x, m]), axis1], [attr.int("keepdims", 0)]);
    const count = g.op("Max", [g.op("ReduceSum", [m, axis1], [attr.int("keepdims", 0)]), g.scalar("min_count", 1e-9)]);
    return g.op("Div", [sum, count]);
  }
}

/** The BertModel graph (with the requested outputs), serialised as an ONNX ModelProto. */
export function writeBertOnnx(config: BertConfig, weights: Map<string, Float32Array>, o: BertGraphOptions): Uint8Array {
  if (!(GRAPH_ACTIVATIONS as readonly string[]).includes(config.hidden_act)) {
    throw new BertuneError(`hidden_act "${config.hidden_act}" is not supported`, `supported: ${GRAPH_ACTIVATIONS.join(", ")}`);
  }
  const w = new BertGraphWriter(config, weights, o.quantize ?? false);
  const g = w.g;
  const dims = ["batch_size", "sequence_length"];
  const inputIds = g.input("input_ids", DataType.INT64, dims);
  const attentionMask = g.input("attention_mask", DataType.INT64, dims);
  const tokenTypeIds = g.input("token_type_ids", DataType.INT64, dims);

  const maskF = g.op("Cast", [attentionMask], [attr.int("to", DataType.FLOAT)]);
  // Additive mask [batch, 1, 1, seq]: 0 for tokens, the smallest float for padding.
  const ext = g.op("Unsqueeze", [maskF, g.int64("mask_axes", [1, 2])]);
  const maskAdd = g.op("Mul", [g.op("Sub", [g.scalar("mask_one", 1), ext]), g.scalar("mask_value", MASK_VALUE)]);

  const embedded = w.embeddings(inputIds, tokenTypeIds);
  const H = config.hidden_size;
  if (o.head === "features") {
    const hidden = w.encoder(embedded, maskAdd);
    g.output(hidden, "last_hidden_state", DataType.FLOAT, [...dims, H]);
    g.output(w.pooler(hidden), "pooler_output", DataType.FLOAT, ["batch_size", H]);
  } else if (o.head === "first-token-features") {
    const first = w.encoder(embedded, maskAdd, true);
    g.output(w.firstToken(first), FIRST_TOKEN_OUTPUT, DataType.FLOAT, ["batch_size", H]);
    g.output(w.pooler(first), "pooler_output", DataType.FLOAT, ["batch_size", H]);
  } else {
    const head = o.head;
    const hidden = w.encoder(embedded, maskAdd, head.pooling !== "mean");
    const pooled = head.pooling === "pooler" ? w.pooler(hidden) : head.pooling === "cls" ? w.firstToken(hidden) : w.meanPool(hidden, maskF);
    const logits = w.linear(pooled, "classifier", head.weight, head.bias);
    g.output(logits, "logits", DataType.FLOAT, ["batch_size", head.numLabels]);
  }
  const model: ModelProto = {
    irVersion: IR_VERSION,
    producerName: "bertune",
    producerVersion: o.producerVersion ?? "0",
    opsetImport: [{ domain: "", version: OPSET }],
    graph: g.build(),
    metadataProps: Object.entries(o.metadata ?? {}).map(([key, value]) => ({ key, value })),
  };
  return encodeModel(model);
}
