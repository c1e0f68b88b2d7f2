import { statSync } from "node:fs";
import { readBertConfig, type BertConfig } from "./bert/config.js";
import { OnnxEncoder } from "./bert/onnx-encoder.js";
import { resolveModel, type ResolveOptions, type ResolvedModel } from "./hub/resolve.js";
import { Tokenizer } from "./tokenizer/tokenizer.js";
import { sha256File } from "./util/hash.js";

export interface LoadModelOptions extends ResolveOptions {
  /** Where the frozen encoder runs: onnxruntime's CPU or WebGPU execution provider. */
  onnxDevice?: "cpu" | "webgpu";
  /** Intra-op threads for onnxruntime (default: all cores). */
  threads?: number;
}

/** A pretrained encoder ready for feature extraction: its config, tokenizer and ONNX graph. */
export interface LoadedModel {
  /** Canonical Hub id, or the absolute path of a local folder. */
  id: string;
  /** Hub commit, or "local". */
  revision: string;
  local: boolean;
  config: BertConfig;
  tokenizer: Tokenizer;
  encoder: OnnxEncoder;
  files: Record<string, string>;
  /** Where the ONNX export came from when it was not the model's own repo. */
  onnxFrom?: { id: string; revision: string };
  /** A string that changes whenever the encoder weights change (for the feature cache). */
  encoderIdentity(): Promise<string>;
  close(): Promise<void>;
}

export const FROZEN_FILES = {
  required: ["config.json", "tokenizer.json", "onnx/model.onnx"],
  optional: ["tokenizer_config.json", "vocab.txt", "special_tokens_map.json"],
};

/** Resolve a Hub id or local folder and load what the frozen path needs. */
export async function loadModel(model: string, options: LoadModelOptions = {}): Promise<LoadedModel> {
  const resolved: ResolvedModel = await resolveModel(model, FROZEN_FILES, options);
  const config = readBertConfig(resolved.files["config.json"]);
  const tokenizer = Tokenizer.fromFiles({
    tokenizer: resolved.files["tokenizer.json"],
    tokenizerConfig: resolved.files["tokenizer_config.json"],
  });
  const onnxPath = resolved.files["onnx/model.onnx"];
  const encoder = await OnnxEncoder.load(onnxPath, config.hidden_size, { device: options.onnxDevice, threads: options.threads });
  let identity: string | undefined;
  return {
    id: resolved.id,
    revision: resolved.revision,
    local: resolved.local,
    config,
    tokenizer,
    encoder,
    files: resolved.files,
    onnxFrom: resolved.onnxFrom,
    async encoderIdentity() {
      if (identity === undefined) {
        if (!resolved.local) {
          const from = resolved.onnxFrom ?? resolved;
          identity = `${from.id}@${from.revision}`;
        } else {
          // A local folder has no commit: hash the weights, so an edited model never reuses stale features.
          identity = `sha256:${await sha256File(onnxPath)}:${statSync(onnxPath).size}`;
        }
      }
      return identity;
    },
    close: () => encoder.close(),
  };
}
