import { basename, resolve } from "node:path";
import { Command } from "commander";
import { POOLINGS, type Pooling } from "../../bert/onnx-encoder.js";
import { loadDataset } from "../../data/dataset.js";
import { FeatureCache } from "../../features/cache.js";
import { loadModel } from "../../model.js";
import { saveRun } from "../../run/save.js";
import { FROZEN_DEFAULT_LEARNING_RATE, DEFAULT_ARGS, type EvalStrategy } from "../../train/args.js";
import { SCHEDULERS, type SchedulerType } from "../../train/schedule.js";
import { Trainer } from "../../train/trainer.js";
import { formatReport } from "../../metrics/format.js";
import { formatDuration } from "../progress.js";
import { action, addModelOptions, choiceArg, formatSummary, intArg, logger, numberArg, progressFactory, type ModelCliOptions } from "../common.js";
import { addDatasetOptions, datasetOptions, datasetSpec, type DatasetCliOptions } from "./dataset-options.js";
import { BertuneError } from "../../errors.js";

interface TrainCliOptions extends ModelCliOptions, DatasetCliOptions {
  model: string;
  dataset: string;
  output?: string;
  freezeBackbone: boolean;
  epochs: number;
  batchSize: number;
  evalBatchSize: number;
  learningRate?: number;
  weightDecay: number;
  warmupRatio: number;
  warmupSteps: number;
  lrScheduler: SchedulerType;
  maxGradNorm: number;
  seed: number;
  evalEvery: EvalStrategy;
  loggingSteps: number;
  maxLength: number;
  pooling: Pooling;
  cacheDir?: string;
  cache: boolean;
  json?: boolean;
}

function evalEveryArg(value: string): EvalStrategy {
  if (value === "epoch" || value === "no") return value;
  const n = Number(value);
  if (Number.isInteger(n) && n > 0) return n;
  throw new BertuneError(`--eval-every must be "epoch", "no" or a number of steps, got "${value}"`);
}

function defaultOutput(model: string, dataset: string): string {
  const name = (s: string) => basename(s).replace(/\.[a-z]+$/i, "").replace(/[^A-Za-z0-9_.-]+/g, "-");
  return `runs/${name(model)}-${name(dataset)}`;
}

export function trainCommand(): Command {
  const cmd = new Command("train")
    .description("fine-tune a classification head on a pretrained BERT encoder")
    .requiredOption("-m, --model <id|dir>", "Hub model id (bert-base-uncased, org/name) or a local folder in Hub layout")
    .requiredOption("-d, --dataset <name|path>", "built-in data set (sst2, rotten_tomatoes, subj, trec, imdb) or a .tsv/.csv/.jsonl/.txt file or folder")
    .option("-o, --output <dir>", "run folder for config.json, model.safetensors, logs (default: runs/<model>-<dataset>)")
    .option("--freeze-backbone", "feature extraction: the encoder stays frozen and only the head learns", false)
    .option("--epochs <n>", "number of training epochs", intArg("--epochs"), DEFAULT_ARGS.numTrainEpochs)
    .option("--batch-size <n>", "training batch size", intArg("--batch-size"), DEFAULT_ARGS.perDeviceTrainBatchSize)
    .option("--eval-batch-size <n>", "evaluation batch size", intArg("--eval-batch-size"), DEFAULT_ARGS.perDeviceEvalBatchSize)
    .option("--learning-rate <lr>", `peak learning rate (default: ${DEFAULT_ARGS.learningRate}, or ${FROZEN_DEFAULT_LEARNING_RATE} with --freeze-backbone)`, numberArg("--learning-rate"))
    .option("--weight-decay <wd>", "AdamW decoupled weight decay, not applied to biases", numberArg("--weight-decay"), DEFAULT_ARGS.weightDecay)
    .option("--warmup-ratio <r>", "fraction of steps for linear warmup", numberArg("--warmup-ratio"), DEFAULT_ARGS.warmupRatio)
    .option("--warmup-steps <n>", "warmup steps (overrides --warmup-ratio when > 0)", intArg("--warmup-steps"), DEFAULT_ARGS.warmupSteps)
    .option("--lr-scheduler <type>", `learning-rate schedule: ${SCHEDULERS.join(", ")}`, choiceArg("--lr-scheduler", SCHEDULERS), DEFAULT_ARGS.lrSchedulerType)
    .option("--max-grad-norm <n>", "clip gradients to this global L2 norm (0: no clipping)", numberArg("--max-grad-norm"), DEFAULT_ARGS.maxGradNorm)
    .option("--seed <n>", "random seed for init, shuffling, dropout and the validation split", intArg("--seed"), DEFAULT_ARGS.seed)
    .option("--eval-every <when>", 'evaluate on the validation split every "epoch", every N steps, or "no"', evalEveryArg, DEFAULT_ARGS.evalStrategy)
    .option("--logging-steps <n>", "log the training loss every N steps (and at each epoch end)", intArg("--logging-steps"), DEFAULT_ARGS.loggingSteps)
    .option("--max-length <n>", "truncate inputs to this many tokens (batches pad only to their longest)", intArg("--max-length"), DEFAULT_ARGS.maxLength)
    .option("--pooling <how>", `head input: ${POOLINGS.join(", ")} (pooler = BERT's tanh pooler on [CLS])`, choiceArg("--pooling", POOLINGS), DEFAULT_ARGS.pooling)
    .option("--cache-dir <dir>", "where frozen features are cached (default: $BERTUNE_CACHE or $HF_HOME/bertune)")
    .option("--no-cache", "always run the encoder; do not read or write cached features")
    .option("--json", "print the final summary as JSON", false);
  addDatasetOptions(cmd);
  addModelOptions(cmd);
  cmd.addHelpText(
    "after",
    `
Examples:
  $ bertune train --model bert-base-uncased --dataset sst2 --freeze-backbone --output runs/sst2
  $ bertune train --model ./my-bert --dataset reviews.csv --text-column body --label-column stars --freeze-backbone
  $ HF_HUB_OFFLINE=1 bertune train --model bert-base-uncased --dataset trec --freeze-backbone --epochs 10`,
  );
  cmd.action(
    action(async (o: TrainCliOptions) => {
      const log = logger(o.quiet || o.json);
      if (!o.freezeBackbone) {
        throw new BertuneError("full-backbone fine-tuning is not available yet in this version", "pass --freeze-backbone to train the head on frozen features");
      }
      const output = resolve(o.output ?? defaultOutput(o.model, o.dataset));
      const started = performance.now();
      const dataOptions = datasetOptions(o);
      const dataset = await loadDataset(o.dataset, dataOptions);
      log(`data set ${dataset.name}: ${dataset.splits.train.length} train / ${dataset.splits.validation.length} validation (${dataset.validationSource === "carved" ? `carved with seed ${o.seed}` : "from the data"}), labels: ${dataset.id2label.join(", ")}`);
      const model = await loadModel(o.model, { revision: o.revision, offline: o.offline || undefined, threads: o.threads, log });
      log(`model ${model.id}${model.local ? "" : ` @ ${model.revision.slice(0, 12)}`}: hidden ${model.config.hidden_size}, ${model.config.num_hidden_layers} layers`);
      try {
        const trainer = new Trainer({
          model,
          dataset,
          args: {
            numTrainEpochs: o.epochs,
            perDeviceTrainBatchSize: o.batchSize,
            perDeviceEvalBatchSize: o.evalBatchSize,
            learningRate: o.learningRate,
            weightDecay: o.weightDecay,
            warmupRatio: o.warmupRatio,
            warmupSteps: o.warmupSteps,
            lrSchedulerType: o.lrScheduler,
            maxGradNorm: o.maxGradNorm,
            seed: o.seed,
            evalStrategy: o.evalEvery,
            loggingSteps: o.loggingSteps,
            freezeBackbone: o.freezeBackbone,
            maxLength: o.maxLength,
            pooling: o.pooling,
            device: o.device,
          },
          featureCache: o.cache ? new FeatureCache(o.cacheDir) : false,
          progress: progressFactory(o.quiet || o.json),
          log,
        });
        const result = await trainer.train();
        saveRun(output, model, dataset, trainer.args, result, { spec: datasetSpec(o.dataset), options: dataOptions });
        const elapsed = (performance.now() - started) / 1000;
        const r = result.evalReport;
        if (o.json) {
          process.stdout.write(
            JSON.stringify({
              output,
              model: model.id,
              revision: model.revision,
              dataset: dataset.name,
              mode: "frozen",
              backend: result.backend,
              features_from_cache: result.featuresFromCache,
              train_samples: dataset.splits.train.length,
              eval_samples: dataset.splits.validation.length,
              global_step: result.state.global_step,
              train_loss: result.trainLoss,
              train_runtime: result.trainRuntime,
              total_runtime: elapsed,
              eval_loss: result.evalLoss,
              eval_accuracy: r.accuracy,
              eval_macro_f1: r.macroF1,
              best_eval_accuracy: result.state.best_metric,
            }) + "\n",
          );
          return;
        }
        process.stdout.write("\n" + formatReport(r, { title: `validation (${r.numExamples} examples)` }) + "\n");
        process.stdout.write(
          formatSummary("done", [
            ["model", `${model.id} (frozen, ${trainer.args.pooling} pooling)`],
            ["data set", `${dataset.name}: ${dataset.splits.train.length} train / ${dataset.splits.validation.length} validation`],
            ["features", result.featuresFromCache.train && result.featuresFromCache.validation ? "from cache" : "computed and cached"],
            ["training", `${result.state.global_step} steps, ${trainer.args.numTrainEpochs} epochs on ${result.backend}, ${formatDuration(result.trainRuntime)} (${Math.round(result.trainSamplesPerSecond)} ex/s)`],
            ["train loss", result.trainLoss.toFixed(4)],
            ["eval accuracy", `${r.accuracy.toFixed(4)} (best ${(result.state.best_metric ?? r.accuracy).toFixed(4)}), macro F1 ${r.macroF1.toFixed(4)}, loss ${result.evalLoss.toFixed(4)}`],
            ["total time", formatDuration(elapsed)],
            ["saved to", output],
          ]),
        );
      } finally {
        await model.close();
      }
    }),
  );
  return cmd;
}
