import { existsSync } from "node:fs";
import { basename, resolve } from "node:path";
import { Command } from "commander";
import { POOLINGS, type Pooling } from "../../bert/onnx-encoder.js";
import { loadDataset } from "../../data/dataset.js";
import { FeatureCache } from "../../features/cache.js";
import { exportRun } from "../../run/export.js";
import { saveRun } from "../../run/save.js";
import { lockRunFolder } from "../../run/lock.js";
import { checkOutputDir, clearOutputDir } from "../../run/output-dir.js";
import { logExport } from "./export.js";
import { FROZEN_DEFAULT_LEARNING_RATE, DEFAULT_ARGS } from "../../train/args.js";
import { Trainer } from "../../train/trainer.js";
import { formatReport } from "../../metrics/format.js";
import { flatMetrics } from "../../metrics/report.js";
import type { ProblemType } from "../../problem-type.js";
import { formatDuration } from "../progress.js";
import { action, addModelOptions, booleanArg, choiceArg, epochDetails, fileLines, formatSummary, intArg, invalidArg, logger, nonNegativeIntArg, numberArg, thresholdArg, positiveIntArg, positiveNumberArg, progressFactory, verboseLogger, warn, type ModelCliOptions } from "../common.js";
import { acceptHfSpellings, type HfSpellings } from "../hf-args.js";
import { addLoopOptions, LOOP_SPELLINGS, loopArgs, stopOnSignals, type LoopCliOptions } from "./loop-options.js";
import { addDatasetOptions, datasetOptions, datasetSpec, type DatasetCliOptions } from "./dataset-options.js";
import { BertuneError } from "../../errors.js";

interface TrainCliOptions extends ModelCliOptions, DatasetCliOptions, LoopCliOptions {
  model: string;
  exportOnnx?: boolean;
  dataset: string;
  output?: string;
  overwriteOutputDir: boolean;
  freezeBackbone: boolean;
  seed: number;
  maxLength: number;
  maxTrainSamples?: number;
  maxEvalSamples?: number;
  pooling: Pooling;
  cacheDir?: string;
  cache: boolean;
  json?: boolean;
  strategy?: "auto";
  unfreezeTop?: number;
  headLrMultiplier: number;
  layerwiseLrDecay: number;
  gradualUnfreeze: boolean;
  fromScratch: boolean;
  earlyStoppingPatience?: number;
  loadBestModelAtEnd: boolean;
  metricForBestModel?: string;
  greaterIsBetter?: boolean;
  classWeights?: "balanced" | number[];
  labelSmoothing: number;
  threshold: number;
  normalizeTargets: boolean;
}

/** "balanced", or comma-separated non-negative weights. */
function classWeightsArg(value: string): "balanced" | number[] {
  if (value.trim().toLowerCase() === "balanced") return "balanced";
  const ws = value.split(",").map((w) => Number(w.trim()));
  if (ws.length === 0 || ws.some((w) => !Number.isFinite(w) || w < 0) || value.trim() === "") {
    throw invalidArg(`--class-weights must be "balanced" or numbers >= 0 separated by commas, got "${value}".`, "for example --class-weights balanced, or --class-weights 1,3");
  }
  return ws;
}

/** The headline metrics of each problem type, for the summary line. */
const HEADLINE: Record<ProblemType, string[]> = {
  single_label_classification: ["accuracy", "macro_f1"],
  multi_label_classification: ["micro_f1", "macro_f1", "subset_accuracy"],
  regression: ["pearson", "spearman", "mse"],
};

/** "0.8125 (best 0.8250), macro_f1 0.8000, loss 0.4321": the best-model metric first, then the type's headline metrics. */
function evalSummary(metric: string, metrics: Record<string, number>, best: number | null, loss: number, problemType: ProblemType): string {
  const value = metric === "loss" ? loss : metrics[metric];
  const others = HEADLINE[problemType].filter((m) => m !== metric).map((m) => `${m} ${metrics[m].toFixed(4)}`);
  return [`${value.toFixed(4)}${best !== null ? ` (best ${best.toFixed(4)})` : ""}`, ...others, ...(metric === "loss" ? [] : [`loss ${loss.toFixed(4)}`])].join(", ");
}

/**
 * TrainingArguments' names (and run_glue.py's) beside bertune's own; with snake_case for every option
 * (--num_train_epochs 3). See ../hf-args.ts.
 */
export const TRAIN_SPELLINGS: HfSpellings = {
  ...LOOP_SPELLINGS,
  aliases: {
    "--model-name-or-path": "--model",
    "--dataset-name": "--dataset",
    "--output-dir": "--output",
    "--max-seq-length": "--max-length",
    ...LOOP_SPELLINGS.aliases,
  },
};

function defaultOutput(model: string, dataset: string): string {
  const name = (s: string) => basename(s).replace(/\.[a-z]+$/i, "").replace(/[^A-Za-z0-9_.-]+/g, "-");
  return `runs/${name(model)}-${name(dataset)}`;
}

export function trainCommand(): Command {
  const cmd = new Command("train")
    .description("fine-tune a pretrained BERT encoder with a new head: single-label, multi-label or regression (detected from the labels)")
    .requiredOption("-m, --model <id|dir>", "Hub model id (bert-base-uncased, org/name) or a local folder in Hub layout")
    .requiredOption("-d, --dataset <name|path>", "built-in data set (sst2, rotten_tomatoes, subj, trec, imdb; goemotions multi-label; stsb pair regression; mrpc pairs) or a .tsv/.csv/.jsonl/.txt file or folder")
    .option("-o, --output <dir>", "run folder for config.json, model.safetensors, logs (default: runs/<model>-<dataset>); one training at a time, and a folder that holds files is refused (see --overwrite-output-dir)")
    .option("--overwrite-output-dir", "train into an --output that holds files: first delete EVERY file and folder in it (not only an old run's), as a fresh folder", false)
    .option("--freeze-backbone", "feature extraction: the encoder stays frozen and only the head learns (default: full fine-tuning)", false)
    .option("--strategy <auto>", "choose by training-set size: frozen below 1,000 examples, top-2-layer fine-tuning up to 10,000, full above", choiceArg("--strategy", ["auto"] as const))
    .option("--unfreeze-top <k>", "train only the top K encoder layers + pooler + head (default: all layers)", nonNegativeIntArg("--unfreeze-top", 2))
    .option("--gradual-unfreeze", "ULMFiT-style: head and pooler in epoch 1, then one more layer from the top each epoch", false)
    .option("--head-lr-multiplier <x>", "the head learns at X times the backbone's learning rate", positiveNumberArg("--head-lr-multiplier", 10), DEFAULT_ARGS.headLrMultiplier)
    .option("--layerwise-lr-decay <d>", "depth d from the top (head/pooler 0, top layer 1, ..., embeddings L+1) learns at lr·D^d", numberArg("--layerwise-lr-decay", { min: 0, minExclusive: true, max: 1, example: 0.9 }), DEFAULT_ARGS.layerwiseLrDecay)
    .option("--from-scratch", "same architecture with random weights (std initializer_range), to measure what pretraining buys", false)
    .option("--max-length <n>", "truncate inputs to this many tokens (batches pad only to their longest)", intArg("--max-length", { min: 2, example: DEFAULT_ARGS.maxLength, hint: `a length in tokens that leaves room for [CLS] and [SEP], for example --max-length ${DEFAULT_ARGS.maxLength}` }), DEFAULT_ARGS.maxLength)
    .option("--max-train-samples <n>", "train on the first N training examples only (as HF's example scripts)", positiveIntArg("--max-train-samples", 1000))
    .option("--max-eval-samples <n>", "evaluate on the first N validation examples only (as HF's example scripts)", positiveIntArg("--max-eval-samples", 500))
    .option("--pooling <how>", `head input: ${POOLINGS.join(", ")} (pooler = BERT's tanh pooler on [CLS])`, choiceArg("--pooling", POOLINGS), DEFAULT_ARGS.pooling)
    .option("--early-stopping-patience <n>", "stop after N evaluations without a better --metric-for-best-model (keeps the best model)", positiveIntArg("--early-stopping-patience", 3))
    .option("--load-best-model-at-end", "keep the weights of the best evaluation, not the last", false)
    .option("--metric-for-best-model <name>", "the eval metric that picks the best model and drives early stopping, with or without eval_ (default: accuracy; macro_f1 for multi-label; mse for regression; loss, f1, matthews_correlation, pearson, ... see docs)")
    .option("--greater-is-better <bool>", "whether a larger --metric-for-best-model is better (default: false for loss, mse, rmse, mae and names ending in loss, else true)", booleanArg("--greater-is-better"))
    .option("--class-weights <w>", '"balanced" (n / (K · count), as scikit-learn; multi-label: pos_weight = negatives / positives) or one weight per label in id order, e.g. 1,3 (default: none)', classWeightsArg)
    .option("--label-smoothing <eps>", "single-label: cross-entropy against (1 − eps)·one-hot + eps/K, transformers' label_smoothing_factor", numberArg("--label-smoothing", { min: 0, max: 1, maxExclusive: true, example: 0.1 }), DEFAULT_ARGS.labelSmoothingFactor)
    .option("--threshold <p>", "multi-label: a label is predicted when its sigmoid reaches P (saved with the run)", thresholdArg, DEFAULT_ARGS.threshold)
    .option("--normalize-targets", "regression: train on targets scaled to mean 0 and std 1; the saved model still predicts in the data's units", false)
    .option("--cache-dir <dir>", "where frozen features are cached (default: $BERTUNE_CACHE or $HF_HOME/bertune)")
    .option("--no-cache", "always run the encoder; do not read or write cached features")
    .option("--export-onnx", "at the end, also write onnx/model.onnx and the int8 onnx/model_quantized.onnx for transformers.js (as `bertune export --quantize`)", false)
    .option("--json", "print the final summary as JSON", false);
  addLoopOptions(cmd, {
    learningRateExample: "2e-5",
    learningRate: `peak learning rate (default: ${DEFAULT_ARGS.learningRate}, or ${FROZEN_DEFAULT_LEARNING_RATE} with --freeze-backbone)`,
    seed: "random seed for init, shuffling, dropout and the validation split",
    evalEvery: 'evaluate on the validation split every "epoch", every N steps, or "no"',
    saveSteps: 'full mode: checkpoint every "epoch", every N steps, or "no"',
    saveTotalLimit: "keep at most N checkpoints, 0 for no limit (the best is never deleted)",
    resume: '"latest" or a checkpoint-N folder: continue with the same optimizer state, schedule and data order',
  });
  addDatasetOptions(cmd);
  addModelOptions(cmd);
  acceptHfSpellings(cmd, TRAIN_SPELLINGS);
  cmd.addHelpText(
    "after",
    `
Every option also takes transformers' snake_case spelling: --num_train_epochs 3 --learning_rate 2e-5
--per_device_train_batch_size 16 --output_dir runs/x (and --flag True / False for flags).

Examples:
  $ bertune train --model bert-base-uncased --dataset sst2 --freeze-backbone --output runs/sst2
  $ bertune train --model bert-base-uncased --dataset sst2 --output runs/sst2-full
  $ bertune train --model bert-base-uncased --dataset sst2 --unfreeze-top 2 --head-lr-multiplier 10
  $ bertune train --model bert-base-uncased --dataset trec --strategy auto
  $ bertune train --model bert-base-uncased --dataset goemotions --freeze-backbone --threshold 0.3
  $ bertune train --model bert-base-uncased --dataset stsb --normalize-targets
  $ bertune train --model bert-base-uncased --dataset mrpc --metric-for-best-model f1 --load-best-model-at-end
  $ bertune train --model bert-base-uncased --dataset sst2 --output runs/sst2-full --resume-from-checkpoint latest
  $ bertune train --model ./my-bert --dataset reviews.csv --text-column body --label-column stars --freeze-backbone
  $ HF_HUB_OFFLINE=1 bertune train --model bert-base-uncased --dataset trec --freeze-backbone --epochs 10`,
  );
  cmd.action(
    action(async (o: TrainCliOptions) => {
      const log = logger(o.quiet || o.json);
      const verbose = verboseLogger(o);
      const output = resolve(o.output ?? defaultOutput(o.model, o.dataset));
      const started = performance.now();
      // One training per folder (a second is refused, naming the first); released at exit.
      // SIGINT and SIGTERM are the training's own (stop after the step, keep a checkpoint); the lock goes at exit.
      const lock = lockRunFolder(output, { signals: ["SIGHUP"] });
      try {
        await train(o, output, started, log, verbose);
      } finally {
        lock.release();
      }
    }),
  );
  return cmd;
}

/** The training itself, while this process holds the output folder. */
async function train(o: TrainCliOptions, output: string, started: number, log: (line: string) => void, verbose: (line: string) => void): Promise<void> {
  const resume = o.resumeFromCheckpoint !== undefined;
  const inputs = [o.dataset, o.model].filter((p) => existsSync(p)).map((p) => resolve(p));
  const toRemove = checkOutputDir(output, { overwrite: o.overwriteOutputDir, resume, inputs });
  const dataOptions = { ...datasetOptions(o), maxTrainSamples: o.maxTrainSamples, maxEvalSamples: o.maxEvalSamples };
  const dataset = await loadDataset(o.dataset, { ...dataOptions, hub: { offline: o.offline || undefined, log } });
  if (toRemove.length > 0) {
    clearOutputDir(output, toRemove);
    log(`--overwrite-output-dir: removed ${toRemove.length} ${toRemove.length === 1 ? "entry" : "entries"} from ${output}`);
  }
  log(`data set ${dataset.name}: ${dataset.splits.train.length} train / ${dataset.splits.validation.length} validation (${dataset.validationSource === "carved" ? `carved with seed ${o.seed}` : "from the data"}), labels: ${dataset.id2label.join(", ")}`);
  log(`problem type ${dataset.problemType}: ${dataset.problemTypeReason}`);
  for (const w of dataset.warnings ?? []) warn(o.quiet || o.json, w);
  verbose(`data source ${dataset.source}; columns ${JSON.stringify(dataset.columns)}; feature cache ${o.cache ? new FeatureCache(o.cacheDir).dir : "off (--no-cache)"}`);
  // Ctrl-C or SIGTERM: full mode finishes the current step, saves a checkpoint, then exits (130 / 143);
  // frozen mode has nothing to keep and exits at once. The same signal again quits at once.
  let frozen = o.freezeBackbone;
  const stop = stopOnSignals(log, () => frozen);
  const trainer = new Trainer({
    model: o.model,
    modelOptions: { revision: o.revision, offline: o.offline || undefined, threads: o.threads },
    dataset,
    strategy: o.strategy,
    outputDir: output,
    args: {
      ...loopArgs(o),
      freezeBackbone: o.freezeBackbone,
      maxLength: o.maxLength,
      pooling: o.pooling,
      device: o.device,
      unfreezeTop: o.unfreezeTop,
      headLrMultiplier: o.headLrMultiplier,
      layerwiseLrDecay: o.layerwiseLrDecay,
      gradualUnfreeze: o.gradualUnfreeze,
      fromScratch: o.fromScratch,
      earlyStoppingPatience: o.earlyStoppingPatience ?? null,
      loadBestModelAtEnd: o.loadBestModelAtEnd || o.earlyStoppingPatience !== undefined,
      metricForBestModel: o.metricForBestModel,
      greaterIsBetter: o.greaterIsBetter,
      classWeights: o.classWeights,
      labelSmoothingFactor: o.labelSmoothing,
      threshold: o.threshold,
      normalizeTargets: o.normalizeTargets,
    },
    featureCache: o.cache ? new FeatureCache(o.cacheDir) : false,
    progress: progressFactory(o.quiet || o.json),
    log,
    signal: stop.signal,
  });
  frozen = trainer.mode === "frozen"; // --strategy auto may have chosen it
  if (trainer.args.lrSchedulerType === "constant" && (trainer.args.warmupSteps > 0 || trainer.args.warmupRatio > 0)) {
    warn(o.quiet || o.json, "--lr-scheduler constant ignores warmup (as transformers' get_constant_schedule): use constant_with_warmup to warm up");
  }
  const result = await trainer.train();
  stop.release();
  try {
    if (result.stopped === "interrupted") {
      log(`interrupted at step ${result.state.global_step}; continue with --resume-from-checkpoint latest --output ${output}`);
      process.exitCode = stop.exitCode();
      return;
    }
    await saveRun(output, dataset, trainer.args, result, { spec: datasetSpec(o.dataset), options: dataOptions });
  } finally {
    result.dispose();
  }
  const exported = o.exportOnnx ? await exportRun(output, { quantize: true, revision: o.revision, offline: o.offline || undefined, log }) : undefined;
  if (exported) logExport(exported, log);
  for (const line of [...fileLines("model file", result.base.files), ...epochDetails(result.state.log_history)]) verbose(line);
  const elapsed = (performance.now() - started) / 1000;
  const r = result.evalReport;
  const metrics = flatMetrics(r);
  const base = result.base;
  if (o.json) {
    process.stdout.write(
      JSON.stringify({
        output,
        model: base.id,
        revision: base.revision,
        dataset: dataset.name,
        mode: result.mode,
        strategy: result.strategy ?? null,
        backend: result.backend,
        features_from_cache: result.featuresFromCache ?? null,
        train_samples: dataset.splits.train.length,
        eval_samples: dataset.splits.validation.length,
        global_step: result.state.global_step,
        stopped: result.stopped ?? null,
        train_loss: result.trainLoss,
        train_runtime: result.trainRuntime,
        train_samples_per_second: result.trainSamplesPerSecond,
        total_runtime: elapsed,
        problem_type: dataset.problemType,
        eval_loss: result.evalLoss,
        ...Object.fromEntries(Object.entries(metrics).map(([k, v]) => [`eval_${k}`, v])),
        metric_for_best_model: result.task.metric,
        best_metric: result.state.best_metric,
        ...(result.task.metric === "accuracy" ? { best_eval_accuracy: result.state.best_metric } : {}),
        onnx: exported?.files.map((f) => f.path) ?? null,
      }) + "\n",
    );
    return;
  }
  const a = trainer.args;
  const mode =
    result.mode === "frozen"
      ? `frozen encoder, ${a.pooling} pooling`
      : `full fine-tuning${a.unfreezeTop !== undefined ? `, top ${a.unfreezeTop} layer${a.unfreezeTop === 1 ? "" : "s"}` : ""}${a.gradualUnfreeze ? ", gradual unfreezing" : ""}${a.fromScratch ? ", from scratch" : ""}`;
  const rows: [string, string][] = [
    ["model", `${base.id}${base.local ? "" : ` @ ${base.revision.slice(0, 12)}`} (${mode})`],
    ["data set", `${dataset.name}: ${dataset.splits.train.length} train / ${dataset.splits.validation.length} validation`],
  ];
  if (result.featuresFromCache) {
    const fromCache = result.featuresFromCache.train && result.featuresFromCache.validation;
    rows.push(["features", fromCache ? "from cache" : o.cache ? "computed and cached" : "computed (cache off)"]);
  }
  rows.push(
    ["training", `${result.state.global_step} steps, ${result.state.epoch.toFixed(2)} epochs on ${result.backend}, ${formatDuration(result.trainRuntime)} (${Math.round(result.trainSamplesPerSecond)} ex/s)${result.stopped ? `, ${result.stopped}` : ""}`],
    ["train loss", result.trainLoss.toFixed(4)],
    [`eval ${result.task.metric}`, evalSummary(result.task.metric, metrics, result.state.best_metric, result.evalLoss, dataset.problemType)],
    ["total time", formatDuration(elapsed)],
    ["saved to", output],
  );
  process.stdout.write("\n" + formatReport(r, { title: `validation (${r.numExamples} examples)` }) + "\n");
  process.stdout.write(formatSummary("done", rows));
}
