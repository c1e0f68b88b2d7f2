import * as ort from "onnxruntime-node";
import { BertuneError } from "../errors.js";
import { WEBGPU_HINT, webgpuUnavailableReason } from "../backend/vulkan.js";
import type { EncodedBatch } from "../tokenizer/tokenizer.js";

/** How the encoder's output becomes one vector per example (the head's input). */
export type Pooling = "pooler" | "cls" | "mean";
export const POOLINGS: readonly Pooling[] = ["pooler", "cls", "mean"];

export interface OnnxEncoderOptions {
  /** Execution provider: "cpu" (default) or "webgpu" (bundled with onnxruntime-node). */
  device?: "cpu" | "webgpu";
  /** Intra-op threads; default: onnxruntime's own choice (all cores). */
  threads?: number;
}

function int64Tensor(rows: number[][]): ort.Tensor {
  const b = rows.length;
  const s = rows[0]?.length ?? 0;
  const data = new BigInt64Array(b * s);
  for (let i = 0; i < b; i++) for (let j = 0; j < s; j++) data[i * s + j] = BigInt(rows[i][j]);
  return new ort.Tensor("int64", data, [b, s]);
}

/**
 * Pool last_hidden_state [B, S, H] into [B, H]: the [CLS] row, or the mean over real
 * (mask = 1) tokens, as sentence-transformers computes it.
 */
export function poolHidden(hidden: Float32Array, mask: number[][], hiddenSize: number, pooling: "cls" | "mean"): Float32Array {
  const b = mask.length;
  const s = mask[0]?.length ?? 0;
  const out = new Float32Array(b * hiddenSize);
  for (let i = 0; i < b; i++) {
    if (pooling === "cls") {
      out.set(hidden.subarray(i * s * hiddenSize, i * s * hiddenSize + hiddenSize), i * hiddenSize);
      continue;
    }
    const acc = new Float64Array(hiddenSize);
    let count = 0;
    for (let j = 0; j < s; j++) {
      if (!mask[i][j]) continue;
      count++;
      const base = (i * s + j) * hiddenSize;
      for (let h = 0; h < hiddenSize; h++) acc[h] += hidden[base + h];
    }
    for (let h = 0; h < hiddenSize; h++) out[i * hiddenSize + h] = acc[h] / Math.max(count, 1e-9);
  }
  return out;
}

/**
 * An onnxruntime session over a BERT-style graph (inputs input_ids, attention_mask and
 * optionally token_type_ids), or a one-line error naming the file.
 */
export async function openBertSession(path: string, options: OnnxEncoderOptions = {}): Promise<ort.InferenceSession> {
  const sessionOptions: ort.InferenceSession.SessionOptions = {
    executionProviders: [options.device ?? "cpu"],
    graphOptimizationLevel: "all",
    // Errors only: on WebGPU onnxruntime warns at every load that shape ops stay on the CPU, by design.
    logSeverityLevel: 3,
  };
  if (options.threads) sessionOptions.intraOpNumThreads = options.threads;
  const unavailable = options.device === "webgpu" ? webgpuUnavailableReason() : undefined;
  if (unavailable) throw new BertuneError(`--device webgpu: ${unavailable}`, WEBGPU_HINT);
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(path, sessionOptions);
  } catch (e) {
    const message = (e as Error).message;
    if (options.device === "webgpu" && /WebGPU|adapter/i.test(message)) {
      throw new BertuneError(`--device webgpu: onnxruntime found no WebGPU adapter (${message.split(/\.\s|\n/).at(-1)?.trim() || "no GPU"})`, WEBGPU_HINT);
    }
    throw new BertuneError(
      `cannot load the ONNX graph ${path}: ${message.split("\n")[0]}`,
      "the file is missing or corrupt: download the model (or export the run) again",
    );
  }
  for (const name of ["input_ids", "attention_mask"]) {
    if (!session.inputNames.includes(name)) {
      await session.release();
      throw new BertuneError(`the ONNX graph ${path} has no "${name}" input`, "it is not a BERT-style encoder export");
    }
  }
  return session;
}

/** A tokenized batch as the session's int64 inputs. */
export function bertFeeds(session: ort.InferenceSession, batch: EncodedBatch): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {
    input_ids: int64Tensor(batch.inputIds),
    attention_mask: int64Tensor(batch.attentionMask),
  };
  if (session.inputNames.includes("token_type_ids")) feeds.token_type_ids = int64Tensor(batch.tokenTypeIds);
  return feeds;
}

/** The [CLS] position's last hidden state [batch, hidden]: an output of bertune's first-token feature graph. */
export const FIRST_TOKEN_OUTPUT = "cls_hidden_state";

/** The outputs each pooling can read, in order of preference. */
const POOLING_OUTPUTS: Record<Pooling, readonly string[]> = {
  pooler: ["pooler_output"],
  cls: [FIRST_TOKEN_OUTPUT, "last_hidden_state"],
  mean: ["last_hidden_state"],
};

/** What the frozen path asks of an encoder: one pooled vector per example. */
export interface FeatureEncoder {
  readonly hiddenSize: number;
  /** Refuse, in one line, a pooling this encoder cannot give. */
  checkPooling(pooling: Pooling): void;
  /** One pooled vector per example, row-major [B × hiddenSize]. */
  encode(batch: EncodedBatch, pooling: Pooling): Promise<Float32Array>;
  close(): Promise<void>;
}

/**
 * The pretrained encoder as an ONNX graph with transformers.js's feature-extraction outputs
 * (`last_hidden_state`, `pooler_output`), run by onnxruntime-node: bertune's own graph, or a
 * repo's export.
 */
export class OnnxEncoder implements FeatureEncoder {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly hiddenSize: number,
    readonly path: string,
  ) {}

  static async load(path: string, hiddenSize: number, options: OnnxEncoderOptions = {}): Promise<OnnxEncoder> {
    return new OnnxEncoder(await openBertSession(path, options), hiddenSize, path);
  }

  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  /** Refuse a pooling whose output the graph lacks (a fill-mask export has only `logits`). */
  checkPooling(pooling: Pooling): void {
    this.outputFor(pooling);
  }

  /** The output a pooling reads from this graph, or a one-line error. */
  private outputFor(pooling: Pooling): string {
    const found = POOLING_OUTPUTS[pooling].find((name) => this.session.outputNames.includes(name));
    if (found) return found;
    const needed = POOLING_OUTPUTS[pooling].at(-1)!;
    const hasHidden = this.session.outputNames.includes("last_hidden_state");
    throw new BertuneError(
      `the ONNX export ${this.path} has no ${needed} output (its outputs: ${this.session.outputNames.join(", ")}), so it cannot give --pooling ${pooling}`,
      hasHidden
        ? "use --pooling cls or --pooling mean, or a model that has model.safetensors (bertune then writes its own graph with every output)"
        : "it is not a feature-extraction export; use a model repo or folder that has model.safetensors, from which bertune writes its own graph",
    );
  }

  /** One pooled vector per example, row-major [B × hiddenSize]. */
  async encode(batch: EncodedBatch, pooling: Pooling): Promise<Float32Array> {
    const name = this.outputFor(pooling);
    const out = (await this.session.run(bertFeeds(this.session, batch), [name]))[name];
    // config.json's hidden_size must be the graph's width, or every row would be misaligned.
    const width = out.dims[out.dims.length - 1];
    if (width !== this.hiddenSize) {
      throw new BertuneError(
        `the ONNX graph ${this.path} gives ${name} of width ${width}, but config.json says hidden_size ${this.hiddenSize}`,
        "the config does not belong to this model: download the model again, or fix config.json",
      );
    }
    const data = out.data as Float32Array;
    // pooler_output and cls_hidden_state are already one row per example.
    return name !== "last_hidden_state" ? new Float32Array(data) : poolHidden(data, batch.attentionMask, this.hiddenSize, pooling as "cls" | "mean");
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
