import { readFileSync } from "node:fs";
import { BertuneError } from "../errors.js";

/** The fields of a Hugging Face BertConfig that bertune uses (names as in config.json). */
export interface BertConfig {
  model_type: string;
  vocab_size: number;
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  intermediate_size: number;
  hidden_act: string;
  hidden_dropout_prob: number;
  attention_probs_dropout_prob: number;
  max_position_embeddings: number;
  type_vocab_size: number;
  initializer_range: number;
  layer_norm_eps: number;
  pad_token_id: number;
  classifier_dropout: number | null;
  /** Everything else in the file, kept so a saved config round-trips. */
  [key: string]: unknown;
}

const DEFAULTS: Omit<BertConfig, "model_type"> = {
  vocab_size: 30522,
  hidden_size: 768,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  intermediate_size: 3072,
  hidden_act: "gelu",
  hidden_dropout_prob: 0.1,
  attention_probs_dropout_prob: 0.1,
  max_position_embeddings: 512,
  type_vocab_size: 2,
  initializer_range: 0.02,
  layer_norm_eps: 1e-12,
  pad_token_id: 0,
  classifier_dropout: null,
};

const POSITIVE_INTS = [
  "vocab_size",
  "hidden_size",
  "num_hidden_layers",
  "num_attention_heads",
  "intermediate_size",
  "max_position_embeddings",
  "type_vocab_size",
] as const;

/** Parse and check config.json, filling the defaults BertConfig has in Python. */
export function parseBertConfig(text: string, source: string): BertConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new BertuneError(`config.json at ${source} is not valid JSON`, "the file is corrupt or truncated: download the model again");
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new BertuneError(`config.json at ${source} is not a JSON object`, "download the model again");
  }
  const config = { model_type: "bert", ...DEFAULTS, ...(raw as Record<string, unknown>) } as BertConfig;
  if (config.model_type !== "bert") {
    throw new BertuneError(
      `config.json at ${source}: model_type "${String(config.model_type)}" is not BERT`,
      'bertune fine-tunes BERT encoders (model_type "bert", e.g. bert-base-uncased); other families (DistilBERT, RoBERTa, ...) name and shape their weights differently',
    );
  }
  for (const key of POSITIVE_INTS) {
    const v = config[key];
    if (!Number.isSafeInteger(v) || v <= 0) {
      throw new BertuneError(`config.json at ${source}: "${key}" must be a positive integer, got ${JSON.stringify(v)}`, "the config is malformed");
    }
  }
  for (const key of ["hidden_dropout_prob", "attention_probs_dropout_prob", "classifier_dropout"] as const) {
    const v = config[key];
    if (key === "classifier_dropout" && v === null) continue;
    if (typeof v !== "number" || !(v >= 0 && v < 1)) {
      throw new BertuneError(`config.json at ${source}: "${key}" must be a probability in [0, 1), got ${JSON.stringify(v)}`, "the config is malformed");
    }
  }
  if (config.hidden_size % config.num_attention_heads !== 0) {
    throw new BertuneError(
      `config.json at ${source}: hidden_size ${config.hidden_size} is not a multiple of num_attention_heads ${config.num_attention_heads}`,
      "the config is malformed",
    );
  }
  return config;
}

export function readBertConfig(path: string): BertConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw new BertuneError(`cannot read config.json at ${path}`, "check the model folder, or download the model again");
  }
  return parseBertConfig(text, path);
}

/**
 * The sequence length to tokenize to: the requested one, or the model's max_position_embeddings
 * when the request is longer — a longer sequence would index past the position embeddings (the
 * ONNX graph fails with a broadcast error). `clamped` tells callers to log that it was cut.
 */
export function clampMaxLength(requested: number, config: Pick<BertConfig, "max_position_embeddings">): { maxLength: number; clamped: boolean } {
  const limit = config.max_position_embeddings;
  return requested > limit ? { maxLength: limit, clamped: true } : { maxLength: requested, clamped: false };
}
