import { join } from "node:path";
import type { LoadDatasetOptions, LoadedDataset } from "../data/types.js";
import type { LoadedModel } from "../model.js";
import { argsToJson, type TrainingArgs } from "../train/args.js";
import type { TrainResult } from "../train/trainer.js";
import { writeSafetensors } from "../bert/safetensors.js";
import { writeJsonAtomic } from "../util/atomic.js";
import { RUN_FILES, type RunConfig } from "./files.js";
import { evalResultsJson } from "./eval-json.js";

export function runConfig(model: LoadedModel, dataset: LoadedDataset, args: TrainingArgs): RunConfig {
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
    problem_type: "single_label_classification",
    base_model: model.id,
    base_model_revision: model.revision,
    pooling: args.pooling,
    max_length: args.maxLength,
    bertune_mode: "frozen",
    ...(model.onnxFrom ? { onnx_from: model.onnxFrom } : {}),
  };
}

/**
 * Write a trained run in the Hugging Face layout. Every file is written atomically; the weights
 * go last but one, and config.json last, so a folder with a config always has complete weights.
 */
export function saveRun(
  dir: string,
  model: LoadedModel,
  dataset: LoadedDataset,
  args: TrainingArgs,
  result: TrainResult,
  data: { spec: string; options: LoadDatasetOptions },
): void {
  const datasetOptions = data.options;
  writeJsonAtomic(join(dir, RUN_FILES.trainingArgs), {
    ...argsToJson(args, dir),
    dataset: dataset.name,
    dataset_spec: data.spec,
    dataset_source: dataset.source,
    // Enough to rebuild the same splits at evaluation time (a carved validation split depends on them).
    dataset_options: {
      text_column: dataset.columns.text,
      text_pair_column: dataset.columns.textPair ?? null,
      label_column: dataset.columns.label,
      validation_ratio: datasetOptions.validationRatio ?? 0.1,
      encoding: datasetOptions.encoding ?? "utf8",
      seed: datasetOptions.seed ?? args.seed,
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
  writeSafetensors(join(dir, RUN_FILES.weights), result.head.toTensors(), { format: "pt" });
  writeJsonAtomic(join(dir, RUN_FILES.config), runConfig(model, dataset, args));
}
