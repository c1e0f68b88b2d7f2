import { readBertConfig, type BertConfig } from "./bert/config.js";
import { OnnxEncoder, type FeatureEncoder, type Pooling } from "./bert/onnx-encoder.js";
import { resolveModel, type ResolveOptions, type ResolvedModel } from "./hub/resolve.js";
import { FeatureGraphEncoder } from "./onnx/feature-graph.js";
import { Tokenizer } from "./tokenizer/tokenizer.js";
import { sha256File } from "./util/hash.js";

export interface LoadModelOptions extends ResolveOptions {
  /** Where the frozen encoder runs: onnxruntime's CPU or WebGPU execution provider. */
  onnxDevice?: "cpu" | "webgpu";
  /** Intra-op threads for onnxruntime (default: all cores). */
  threads?: number;
  /** Where bertune's own ONNX graphs are cached (default: the bertune cache). */
  graphCacheDir?: string;
  /** The pooling about to be used, whose graph is then opened at load (others open on first use). */
  pooling?: Pooling;
}

/** What every mode needs of a pretrained model: where it came from, its config and tokenizer. */
export interface ModelBase {
  /** Canonical Hub id, or the absolute path of a local folder. */
  id: string;
  /** Hub commit, or "local". */
  revision: string;
  local: boolean;
  config: BertConfig;
  tokenizer: Tokenizer;
  /** Repo-relative name → local path of every file fetched. */
  files: Record<string, string>;
}

/** A pretrained encoder ready for feature extraction (frozen mode): an ONNX graph on onnxruntime. */
export interface LoadedModel extends ModelBase {
  encoder: FeatureEncoder;
  /**
   * Which graph runs: bertune's own, written from model.safetensors ("bertune"), or an export
   * from the repo or its transformers.js mirror ("export"), for repos without safetensors.
   */
  graph: "bertune" | "export";
  /** Where the ONNX export came from when it was not the model's own repo. */
  onnxFrom?: { id: string; revision: string };
  /** A string that changes whenever the encoder weights change (for the feature cache). */
  encoderIdentity(): Promise<string>;
  close(): Promise<void>;
}

/** A pretrained model for full fine-tuning: the PyTorch weights, to convert into tensorflow.js. */
export interface FullModelSource extends ModelBase {
  weights: string;
}

const TOKENIZER_FILES = ["tokenizer_config.json", "vocab.txt", "special_tokens_map.json"];

/** The frozen path's files: bertune writes the encoder graph from the weights. */
export const FROZEN_FILES = {
  required: ["config.json", "tokenizer.json", "model.safetensors"],
  optional: TOKENIZER_FILES,
};

/** For a repo without safetensors: its ONNX export (or its transformers.js mirror's), when it has the outputs. */
export const FROZEN_EXPORT_FILES = {
  required: ["config.json", "tokenizer.json", "onnx/model.onnx"],
  optional: TOKENIZER_FILES,
};

/** Full fine-tuning needs the same files as the frozen path. */
export const FULL_FILES = FROZEN_FILES;

function base(resolved: ResolvedModel): ModelBase {
  return {
    id: resolved.id,
    revision: resolved.revision,
    local: resolved.local,
    config: readBertConfig(resolved.files["config.json"]),
    tokenizer: Tokenizer.fromFiles({ tokenizer: resolved.files["tokenizer.json"], tokenizerConfig: resolved.files["tokenizer_config.json"] }),
    files: resolved.files,
  };
}

/**
 * Resolve a Hub id or local folder and load what the frozen path needs: the encoder graph bertune
 * writes from model.safetensors, or — only for a repo without safetensors — its ONNX export.
 */
export async function loadModel(model: string, options: LoadModelOptions = {}): Promise<LoadedModel> {
  // Safetensors optional at first: a repo without them falls back to its ONNX export below.
  const first = await resolveModel(model, { required: ["config.json", "tokenizer.json"], optional: ["model.safetensors", ...TOKENIZER_FILES] }, options);
  const sessionOptions = { device: options.onnxDevice, threads: options.threads };
  if (first.files["model.safetensors"]) {
    const b = base(first);
    const weights = first.files["model.safetensors"];
    const encoder = new FeatureGraphEncoder(b.config, weights, { cacheDir: options.graphCacheDir, log: options.log, session: sessionOptions });
    if (options.pooling) await encoder.open(options.pooling);
    return { ...b, encoder, graph: "bertune", encoderIdentity: async () => `bertune-graph:${await encoder.key()}`, close: () => encoder.close() };
  }
  const resolved = await resolveModel(model, FROZEN_EXPORT_FILES, options);
  const b = base(resolved);
  const onnxPath = resolved.files["onnx/model.onnx"];
  const encoder = await OnnxEncoder.load(onnxPath, b.config.hidden_size, sessionOptions);
  let identity: string | undefined;
  return {
    ...b,
    encoder,
    graph: "export",
    onnxFrom: resolved.onnxFrom,
    async encoderIdentity() {
      if (identity === undefined) {
        const from = resolved.onnxFrom ?? resolved;
        // A local folder has no commit: hash the graph, so an edited model never reuses stale features.
        identity = resolved.local ? `sha256:${await sha256File(onnxPath)}` : `${from.id}@${from.revision}`;
      }
      return identity;
    },
    close: () => encoder.close(),
  };
}

/** Resolve a Hub id or local folder and fetch what full fine-tuning needs (model.safetensors). */
export async function loadFullModelSource(model: string, options: ResolveOptions = {}): Promise<FullModelSource> {
  const resolved = await resolveModel(model, FULL_FILES, options);
  return { ...base(resolved), weights: resolved.files["model.safetensors"] };
}
