import { clampMaxLength, type BertConfig } from "../bert/config.js";
import type { TensorToWrite } from "../formats/safetensors.js";
import type { Example, LoadedDataset } from "../data/types.js";
import { BertuneError } from "../errors.js";
import { FeatureCache } from "../features/cache.js";
import { frozenFeatures, type FrozenFeatures } from "../features/frozen.js";
import { loadFullModelSource, loadModel, type FullModelSource, type LoadedModel, type LoadModelOptions, type ModelBase } from "../model.js";
import { silentProgress, type ProgressFactory } from "../util/progress.js";
import { resolveArgs, type TrainingArgs } from "./args.js";
import { useBackend } from "../backend/tfjs.js";
import { trainFull } from "./full-trainer.js";
import { trainHead } from "./head-trainer.js";
import type { TrainingOutcome } from "./state.js";
import { chooseStrategy } from "./strategy.js";
import { foldScale, makeTask, type Task } from "./task.js";

export type TrainingMode = "frozen" | "full";

/** What a training run produced, whatever the mode. */
export interface TrainResult extends TrainingOutcome {
  mode: TrainingMode;
  /** The model the run started from (for the run's config.json and tokenizer files). */
  base: ModelBase & { onnxFrom?: { id: string; revision: string } };
  /** Where training ran: the tensorflow.js backend (full mode), or "cpu" for the frozen head (plain arrays). */
  backend: string;
  /** Frozen mode: whether each split's features came from the cache. */
  featuresFromCache?: { train: boolean; validation: boolean };
  /** Why training ended early ("early-stopping", "interrupted"), if it did. */
  stopped?: string;
  /** With --strategy auto: what was chosen and why. */
  strategy?: string;
  /** The problem type, its loss and the metric that picked the best model. */
  task: Task;
  /** The trained weights under transformers' names: the head alone (frozen) or the whole BertForSequenceClassification (full). Asynchronous: weights on a GPU are read back without blocking. */
  tensors(): Promise<Record<string, TensorToWrite>>;
  dispose(): void;
}

export interface TrainerOptions {
  /** A Hub id or local folder (loaded as the mode needs), or an already loaded model. */
  model: string | LoadedModel | FullModelSource;
  dataset: LoadedDataset;
  args?: Partial<TrainingArgs>;
  /** Pick the mode from the data set's size (see chooseStrategy). */
  strategy?: "auto";
  /** How to load the model when given by name. */
  modelOptions?: LoadModelOptions;
  /** Run folder for checkpoints (full mode). */
  outputDir?: string;
  /** Where frozen features are kept; false disables the cache. Default: the bertune cache. */
  featureCache?: FeatureCache | false;
  progress?: ProgressFactory;
  log?: (line: string) => void;
  /** Abort to stop after the current step (full mode saves a checkpoint first). */
  signal?: AbortSignal;
}

/** The fields every mode reports, copied from a mode's own result. */
function outcome(r: TrainingOutcome): TrainingOutcome {
  const { state, evalReport, evalLoss, trainLoss, trainRuntime, trainSamplesPerSecond } = r;
  return { state, evalReport, evalLoss, trainLoss, trainRuntime, trainSamplesPerSecond };
}

/**
 * The Trainer, in one of two modes. Frozen (feature extraction): the encoder runs once per
 * example with features cached on disk, then only the head trains on them. Full: the BERT
 * encoder runs in tensorflow.js with converted weights and every unfrozen layer learns.
 */
export class Trainer {
  readonly args: TrainingArgs;
  readonly task: Task;
  readonly strategyReason?: string;
  private readonly progress: ProgressFactory;
  private readonly log: (line: string) => void;

  constructor(private readonly o: TrainerOptions) {
    let args = o.args ?? {};
    if (o.strategy === "auto") {
      const layers = typeof o.model === "string" ? undefined : o.model.config.num_hidden_layers;
      const choice = chooseStrategy(o.dataset.splits.train.length, layers ?? 12);
      args = { ...args, ...choice.args };
      this.strategyReason = choice.reason;
    }
    this.args = resolveArgs(args);
    if (this.args.freezeBackbone && this.args.resumeFromCheckpoint) {
      // Frozen training keeps no checkpoints (it takes seconds on cached features): resuming would silently start over.
      throw new BertuneError(
        `--resume-from-checkpoint does not apply to frozen-backbone training${this.strategyReason ? " (chosen by --strategy auto)" : ""}: it keeps no checkpoints`,
        "train again without --resume-from-checkpoint: the encoder's features are cached, so it starts where it matters",
      );
    }
    if (!this.args.freezeBackbone && this.args.pooling !== "pooler") {
      // A full run is saved as BertForSequenceClassification, and every loader of that (transformers,
      // transformers.js) applies the tanh pooler: a run trained on another pooling would predict differently there.
      throw new BertuneError(
        `--pooling ${this.args.pooling} works only with --freeze-backbone: a fully fine-tuned run is a BertForSequenceClassification, which always pools with the tanh pooler`,
        "drop --pooling (the default, pooler) for full fine-tuning, or add --freeze-backbone",
      );
    }
    const { dataset } = o;
    this.task = makeTask({ problemType: dataset.problemType ?? "single_label_classification", id2label: dataset.id2label, train: dataset.splits.train.map((e) => e.label) }, this.args);
    // training_args.json records the metric as resolved (an eval_ prefix or an alias dropped).
    this.args.metricForBestModel = this.task.metric;
    this.args.greaterIsBetter = this.task.greaterIsBetter;
    this.progress = o.progress ?? silentProgress;
    this.log = o.log ?? (() => {});
    if (this.strategyReason) this.log(`--strategy auto: ${this.strategyReason}`);
  }

  get mode(): TrainingMode {
    return this.args.freezeBackbone ? "frozen" : "full";
  }

  async train(): Promise<TrainResult> {
    const { train, validation } = this.o.dataset.splits;
    if (train.length === 0) throw new BertuneError("the training split is empty", "check the data set");
    if (validation.length === 0) throw new BertuneError("the validation split is empty", "pass --validation-ratio, or give a validation file");
    if (this.mode === "frozen") return this.trainFrozen();
    return this.trainFullMode(await useBackend(this.args.device, this.log));
  }

  private async frozenModel(): Promise<{ model: LoadedModel; owned: boolean }> {
    const m = this.o.model;
    // --device webgpu runs the ONNX encoder on onnxruntime's WebGPU execution provider too.
    const onnxDevice = this.args.device === "webgpu" ? "webgpu" : this.o.modelOptions?.onnxDevice;
    if (typeof m === "string") return { model: await loadModel(m, { ...this.o.modelOptions, onnxDevice, log: this.log, pooling: this.args.pooling }), owned: true };
    if ("encoder" in m) return { model: m, owned: false };
    throw new BertuneError("frozen mode needs the model's ONNX encoder", "pass the model id or loadModel(...) to the Trainer");
  }

  private async fullSource(): Promise<FullModelSource> {
    const m = this.o.model;
    if (typeof m === "string") return loadFullModelSource(m, { ...this.o.modelOptions, log: this.log });
    if ("weights" in m) return m;
    // A model loaded for the frozen path: fetch its safetensors weights too.
    return loadFullModelSource(m.id, { ...this.o.modelOptions, revision: m.local ? undefined : m.revision, log: this.log });
  }

  /** A --max-length beyond the model's positions becomes the model's limit (and is saved as such). */
  private clampMaxLength(config: BertConfig): void {
    const { maxLength, clamped } = clampMaxLength(this.args.maxLength, config);
    if (clamped) this.log(`--max-length ${this.args.maxLength} exceeds the model's ${maxLength} positions: using ${maxLength}`);
    this.args.maxLength = maxLength;
  }

  private features(model: LoadedModel, split: "train" | "validation", examples: Example[]): Promise<FrozenFeatures> {
    return frozenFeatures(model, examples, {
      datasetHash: this.o.dataset.contentHash,
      split,
      maxLength: this.args.maxLength,
      pooling: this.args.pooling,
      cache: this.o.featureCache ?? new FeatureCache(),
      progress: this.progress,
    });
  }

  private async trainFrozen(): Promise<TrainResult> {
    const { dataset } = this.o;
    const { model, owned } = await this.frozenModel();
    this.clampMaxLength(model.config);
    try {
      model.encoder.checkPooling(this.args.pooling);
      const { train, validation } = dataset.splits;
      const trainFeat = await this.features(model, "train", train);
      const valFeat = await this.features(model, "validation", validation);
      const r = trainHead(
        {
          train: { data: trainFeat.data, rows: trainFeat.rows, labels: train.map((e) => e.label) },
          validation: { data: valFeat.data, rows: valFeat.rows, labels: validation.map((e) => e.label) },
          hiddenSize: trainFeat.hiddenSize,
          id2label: dataset.id2label,
          dropout: model.config.classifier_dropout ?? model.config.hidden_dropout_prob,
          initializerRange: model.config.initializer_range,
          task: this.task,
        },
        this.args,
        { progress: this.progress, log: this.log },
      );
      const { encoder: _e, encoderIdentity: _i, close: _c, ...base } = model;
      return {
        mode: "frozen",
        base,
        ...outcome(r),
        backend: "cpu",
        featuresFromCache: { train: trainFeat.fromCache, validation: valFeat.fromCache },
        stopped: r.stopped,
        strategy: this.strategyReason,
        task: this.task,
        tensors: async () => foldScale(r.head.toTensors(), this.task.scale),
        dispose: () => {},
      };
    } finally {
      if (owned) await model.close();
    }
  }

  private async trainFullMode(backend: string): Promise<TrainResult> {
    const source = await this.fullSource();
    this.clampMaxLength(source.config);
    const r = await trainFull({
      source,
      dataset: this.o.dataset,
      args: this.args,
      outputDir: this.o.outputDir,
      progress: this.progress,
      log: this.log,
      signal: this.o.signal,
      task: this.task,
    });
    const { weights: _w, ...base } = source;
    return {
      mode: "full",
      base,
      ...outcome(r),
      backend,
      stopped: r.stopped,
      strategy: this.strategyReason,
      task: this.task,
      tensors: async () => foldScale(await r.model.toTensors(), this.task.scale),
      dispose: () => r.model.dispose(),
    };
  }
}
