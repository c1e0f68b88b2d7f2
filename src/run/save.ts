import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { LoadDatasetOptions, LoadedDataset } from "../data/types.js";
import { argsToJson, type TrainingArgs } from "../train/args.js";
import type { TrainResult } from "../train/trainer.js";
import { writeSafetensors } from "../formats/safetensors.js";
import { writeFileAtomic, writeJsonAtomic } from "../util/atomic.js";
import { ONNX_EXPORT, RUN_FILES, type RunConfig } from "./files.js";
import { evalResultsJson } from "./eval-json.js";
import { portablePath, toRunRelative } from "./paths.js";
import { writeRunManifest } from "./manifest.js";

/** The tokenizer files a full run carries, so `from_pretrained(run)` finds everything in one folder. */
const TOKENIZER_FILES = ["tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"];

export function runConfig(result: TrainResult, dataset: LoadedDataset, args: TrainingArgs, dir: string): RunConfig {
  const model = result.base;
  const id2label = Object.fromEntries(dataset.id2label.map((name, i) => [String(i), name]));
  const label2id = Object.fromEntries(dataset.id2label.map((name, i) => [name, i]));
  const { architectures: _a, id2label: _i, label2id: _l, ...base } = model.config;
  return {
    ...base,
    architectures: ["BertForSequenceClassification"],
    model_type: model.config.model_type,
    hidden_size: model.config.hidden_size,
    id2label,
    label2id,
    problem_type: dataset.problemType,
    ...(dataset.problemType === "multi_label_classification" ? { threshold: args.threshold } : {}),
    // A local base model is recorded relative to the run, so the run still works when both move together.
    base_model: model.local ? toRunRelative(dir, model.id) : model.id,
    base_model_revision: model.revision,
    pooling: args.pooling,
    max_length: args.maxLength,
    bertune_mode: result.mode,
    ...(args.fromScratch ? { from_scratch: true } : {}),
    ...(model.onnxFrom ? { onnx_from: model.onnxFrom } : {}),
  };
}

/**
 * Write a trained run in the Hugging Face layout: for a frozen run the head alone, for a full
 * run the whole BertForSequenceClassification plus its tokenizer files, loadable by
 * `from_pretrained`. Every file is written atomically; the weights
 * go last but one, and config.json last, so a folder with a config always has complete weights.
 */
export async function saveRun(
  dir: string,
  dataset: LoadedDataset,
  args: TrainingArgs,
  result: TrainResult,
  data: { spec: string; options: LoadDatasetOptions },
): Promise<void> {
  const datasetOptions = data.options;
  writeJsonAtomic(join(dir, RUN_FILES.trainingArgs), {
    // No absolute local path goes into the run (it would be pushed with it): the run itself is ".".
    ...argsToJson(args, "."),
    // --strategy auto: what it chose and why (the chosen mode is in the args above).
    ...(result.strategy !== undefined ? { strategy: "auto", strategy_decision: result.strategy } : {}),
    // The HF example scripts' DataTrainingArguments names (null: the whole split).
    max_train_samples: datasetOptions.maxTrainSamples ?? null,
    max_eval_samples: datasetOptions.maxEvalSamples ?? null,
    dataset: dataset.name,
    dataset_spec: portablePath(dir, data.spec),
    dataset_source: portablePath(dir, dataset.source),
    // Enough to rebuild the same splits at evaluation time (a carved validation split depends on them).
    dataset_options: {
      text_column: dataset.columns.text,
      text_pair_column: dataset.columns.textPair ?? null,
      label_column: dataset.columns.labelColumns ? null : dataset.columns.label,
      label_columns: dataset.columns.labelColumns ?? null,
      problem_type: dataset.problemType,
      label_separator: datasetOptions.labelSeparator ?? ",",
      validation_ratio: datasetOptions.validationRatio ?? 0.1,
      encoding: datasetOptions.encoding ?? "utf8",
      seed: datasetOptions.seed ?? args.seed,
      max_train_samples: datasetOptions.maxTrainSamples ?? null,
      max_eval_samples: datasetOptions.maxEvalSamples ?? null,
    },
  });
  writeJsonAtomic(join(dir, RUN_FILES.trainerState), result.state);
  writeJsonAtomic(join(dir, RUN_FILES.evalResults), evalResultsJson(result.evalReport, result.evalLoss, result.state.epoch, "validation"));
  writeJsonAtomic(join(dir, RUN_FILES.evalReport), { split: "validation", dataset: dataset.name, ...result.evalReport });
  writeJsonAtomic(join(dir, RUN_FILES.trainResults), {
    epoch: result.state.epoch,
    train_loss: result.trainLoss,
    train_runtime: result.trainRuntime,
    train_samples: dataset.splits.train.length,
    train_samples_per_second: result.trainSamplesPerSecond,
  });
  if (result.mode === "full") {
    for (const f of TOKENIZER_FILES) {
      const from = result.base.files[f];
      if (from) writeFileAtomic(join(dir, f), readFileSync(from));
    }
  }
  // An ONNX export of earlier weights in this folder would no longer match them.
  for (const f of Object.values(ONNX_EXPORT)) rmSync(join(dir, f), { force: true });
  writeSafetensors(join(dir, RUN_FILES.weights), await result.tensors(), { format: "pt" });
  writeJsonAtomic(join(dir, RUN_FILES.config), runConfig(result, dataset, args, dir));
  writeRunManifest(dir);
}
