import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { BertConfig } from "../bert/config.js";
import { writeSafetensors } from "../formats/safetensors.js";
import type { PretrainResult } from "../pretrain/trainer.js";
import { writeFileAtomic, writeJsonAtomic } from "../util/atomic.js";
import { ONNX_EXPORT, RUN_FILES } from "./files.js";
import { writeRunManifest } from "./manifest.js";
import { portablePath } from "./paths.js";

const TOKENIZER_FILES = ["tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"];

/** Fine-tuning keys that describe a classifier, not a masked-LM model. */
const CLASSIFIER_KEYS = ["id2label", "label2id", "problem_type", "threshold", "pooling", "max_length", "bertune_mode", "base_model", "base_model_revision", "from_scratch", "onnx_from", "finetuning_task"];

/** config.json of a BertForMaskedLM: the encoder's config under transformers' names, architectures ["BertForMaskedLM"]. */
export function maskedLmConfig(config: BertConfig, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const out: Record<string, unknown> = { ...config };
  for (const k of CLASSIFIER_KEYS) delete out[k];
  return { ...out, architectures: ["BertForMaskedLM"], model_type: "bert", tie_word_embeddings: true, ...extra };
}

export interface SaveMaskedLmOptions {
  config: BertConfig;
  /** Repo-relative tokenizer file name → local path (copied into the folder). */
  tokenizerFiles: Record<string, string>;
  /** training_args.json's contents. */
  trainingArgs: Record<string, unknown>;
  /** Where the weights came from ("scratch" or the model id), recorded in config.json as bertune_pretrained_from. */
  from: string;
  /** The text pretrained on, for the record (training_args.json). */
  dataset: { name: string; spec: string; source: string };
}

/**
 * Write a pretrained BertForMaskedLM in transformers' layout: model.safetensors with `bert.*` and
 * `cls.predictions.*` (the decoder weight is tied to the word embeddings and, as save_pretrained does,
 * not stored), config.json with architectures ["BertForMaskedLM"], the tokenizer files,
 * training_args.json, trainer_state.json, eval_results.json (eval_loss and perplexity) and
 * train_results.json. `bertune train --model DIR` fine-tunes it; Python's
 * `BertForMaskedLM.from_pretrained(DIR)` loads it. config.json goes last.
 */
export async function saveMaskedLm(dir: string, result: PretrainResult, o: SaveMaskedLmOptions): Promise<void> {
  writeJsonAtomic(join(dir, RUN_FILES.trainingArgs), {
    ...o.trainingArgs,
    output_dir: ".",
    dataset: o.dataset.name,
    dataset_spec: portablePath(dir, o.dataset.spec),
    dataset_source: portablePath(dir, o.dataset.source),
  });
  writeJsonAtomic(join(dir, RUN_FILES.trainerState), result.state);
  const e = result.eval;
  writeJsonAtomic(join(dir, RUN_FILES.evalResults), {
    epoch: result.state.epoch,
    eval_split: "validation",
    eval_samples: result.evalSamples,
    ...(e ? { eval_loss: e.loss, perplexity: e.perplexity, eval_masked_tokens: e.maskedTokens, eval_runtime: e.runtime } : {}),
  });
  writeJsonAtomic(join(dir, RUN_FILES.trainResults), {
    epoch: result.state.epoch,
    train_loss: result.trainLoss,
    train_runtime: result.trainRuntime,
    train_samples: result.trainSamples,
    train_samples_per_second: result.trainSamplesPerSecond,
    train_tokens: result.trainTokens,
    train_tokens_per_second: result.trainTokensPerSecond,
  });
  for (const f of TOKENIZER_FILES) {
    const from = o.tokenizerFiles[f];
    if (from) writeFileAtomic(join(dir, f), readFileSync(from));
  }
  for (const f of Object.values(ONNX_EXPORT)) rmSync(join(dir, f), { force: true });
  writeSafetensors(join(dir, RUN_FILES.weights), await result.model.toTensors(), { format: "pt" });
  writeJsonAtomic(join(dir, RUN_FILES.config), maskedLmConfig(o.config, { bertune_pretrained_from: o.from }));
  writeRunManifest(dir);
}
