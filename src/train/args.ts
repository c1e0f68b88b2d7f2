import type { Pooling } from "../bert/onnx-encoder.js";
import { BertuneError } from "../errors.js";
import { POLYNOMIAL_LR_END, type SchedulerType } from "./schedule.js";
import type { Device } from "../backend/tfjs.js";

/** How often to evaluate: every epoch, never, or every N optimizer steps. */
export type EvalStrategy = "epoch" | "no" | number;

/** Training settings, named after transformers.TrainingArguments (camelCase here, snake_case on disk). */
export interface TrainingArgs {
  /** May be fractional (2.5): training stops after ceil(epochs × steps per epoch) steps. */
  numTrainEpochs: number;
  /** Total optimizer steps; when > 0 it overrides numTrainEpochs (as transformers' max_steps). -1: off. */
  maxSteps: number;
  perDeviceTrainBatchSize: number;
  perDeviceEvalBatchSize: number;
  learningRate: number;
  weightDecay: number;
  warmupRatio: number;
  warmupSteps: number;
  lrSchedulerType: SchedulerType;
  maxGradNorm: number;
  adamBeta1: number;
  adamBeta2: number;
  adamEpsilon: number;
  seed: number;
  evalStrategy: EvalStrategy;
  loggingSteps: number;
  freezeBackbone: boolean;
  maxLength: number;
  pooling: Pooling;
  device: Device;
  /** Full mode: micro-batches whose gradients are summed before one optimizer step. */
  gradientAccumulationSteps: number;
  /** Full mode: train only the top K encoder layers + pooler + head (undefined: all layers). */
  unfreezeTop?: number;
  /** Full mode: the head's learning rate is this multiple of the backbone's. */
  headLrMultiplier: number;
  /** Full mode: depth d from the top (pooler and head 0, top layer 1, ..., embeddings L+1) gets lr·D^d. */
  layerwiseLrDecay: number;
  /** Full mode: head (and pooler) only in epoch 1, then one more layer from the top each epoch. */
  gradualUnfreeze: boolean;
  /** Full mode: same architecture with random weights instead of the pretrained ones. */
  fromScratch: boolean;
  /** Full mode and pretraining: batches of similar lengths (transformers' group_by_length), so less padding. */
  groupByLength: boolean;
  /** Full mode: save a checkpoint every N optimizer steps, at every epoch end, or never. */
  saveStrategy: "epoch" | "no" | number;
  /** Keep at most this many checkpoints (the best one is never deleted); null keeps all. */
  saveTotalLimit: number | null;
  /** "latest", a checkpoint folder, or undefined to start fresh. */
  resumeFromCheckpoint?: string;
  /** Stop after this many evaluations without a better accuracy; null never stops early. */
  earlyStoppingPatience: number | null;
  /** Keep the weights of the best evaluation rather than the last. */
  loadBestModelAtEnd: boolean;
  /** The metric that picks the best evaluation (early stopping, load_best_model_at_end); default by problem type. */
  metricForBestModel?: string;
  /** Default: false for names ending in "loss" and for mse/rmse/mae, else true (as transformers). */
  greaterIsBetter?: boolean;
  /** Weighted cross-entropy (multi-label: BCE pos_weight): one weight per label in id order, or "balanced". */
  classWeights?: "balanced" | number[];
  /** Single-label: cross-entropy against (1 − ε)·onehot + ε/K (transformers' label_smoothing_factor). */
  labelSmoothingFactor: number;
  /** Multi-label: a label is predicted when its sigmoid is at least this. */
  threshold: number;
  /** Regression: train on targets scaled to mean 0, std 1; the saved head predicts in the data's units. */
  normalizeTargets: boolean;
}

/** The Trainer's defaults, except the learning rate of a frozen backbone (see below). */
export const DEFAULT_ARGS: TrainingArgs = {
  numTrainEpochs: 3,
  maxSteps: -1,
  perDeviceTrainBatchSize: 8,
  perDeviceEvalBatchSize: 8,
  learningRate: 5e-5,
  weightDecay: 0,
  warmupRatio: 0,
  warmupSteps: 0,
  lrSchedulerType: "linear",
  maxGradNorm: 1,
  adamBeta1: 0.9,
  adamBeta2: 0.999,
  adamEpsilon: 1e-8,
  seed: 42,
  evalStrategy: "epoch",
  loggingSteps: 500,
  freezeBackbone: false,
  maxLength: 128,
  pooling: "pooler",
  device: "auto",
  gradientAccumulationSteps: 1,
  unfreezeTop: undefined,
  headLrMultiplier: 1,
  layerwiseLrDecay: 1,
  gradualUnfreeze: false,
  fromScratch: false,
  groupByLength: false,
  saveStrategy: "epoch",
  saveTotalLimit: 2,
  resumeFromCheckpoint: undefined,
  earlyStoppingPatience: null,
  loadBestModelAtEnd: false,
  metricForBestModel: undefined,
  greaterIsBetter: undefined,
  classWeights: undefined,
  labelSmoothingFactor: 0,
  threshold: 0.5,
  normalizeTargets: false,
};

/**
 * With a frozen backbone only a freshly initialised linear head learns; at the fine-tuning
 * default of 5e-5 it barely moves in 3 epochs, so the frozen default is that of a linear probe.
 */
export const FROZEN_DEFAULT_LEARNING_RATE = 1e-3;

export function resolveArgs(partial: Partial<TrainingArgs> = {}): TrainingArgs {
  const defined = Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) as Partial<TrainingArgs>;
  const args: TrainingArgs = { ...DEFAULT_ARGS, ...defined };
  if (defined.learningRate === undefined && args.freezeBackbone) args.learningRate = FROZEN_DEFAULT_LEARNING_RATE;
  const positive: (keyof TrainingArgs)[] = ["numTrainEpochs", "perDeviceTrainBatchSize", "perDeviceEvalBatchSize", "learningRate", "maxLength", "loggingSteps"];
  for (const k of positive) {
    const v = args[k];
    if (typeof v !== "number" || !(v > 0) || !Number.isFinite(v)) throw new BertuneError(`${k} must be a positive number, got ${String(v)}`);
  }
  for (const k of ["perDeviceTrainBatchSize", "perDeviceEvalBatchSize", "maxLength", "loggingSteps"] as const) {
    if (!Number.isInteger(args[k])) throw new BertuneError(`${k} must be a whole number, got ${args[k]}`);
  }
  if (!Number.isInteger(args.maxSteps) || !(args.maxSteps === -1 || args.maxSteps >= 1)) throw new BertuneError(`max steps must be a whole number >= 1, or -1 (off), got ${args.maxSteps}`);
  for (const k of ["adamBeta1", "adamBeta2"] as const) {
    if (!(args[k] >= 0 && args[k] < 1)) throw new BertuneError(`${k} must be in [0, 1), got ${args[k]}`);
  }
  if (!(args.adamEpsilon >= 0) || !Number.isFinite(args.adamEpsilon)) throw new BertuneError(`adamEpsilon must be >= 0, got ${args.adamEpsilon}`);
  if (args.lrSchedulerType === "polynomial" && args.learningRate < POLYNOMIAL_LR_END) {
    // As get_polynomial_decay_schedule_with_warmup, which refuses an lr below its lr_end.
    throw new BertuneError(`the polynomial schedule decays to ${POLYNOMIAL_LR_END}: the learning rate ${args.learningRate} is below it`, "raise --learning-rate, or choose another --lr-scheduler");
  }
  if (args.warmupRatio < 0 || args.warmupRatio >= 1) throw new BertuneError(`warmup ratio must be in [0, 1), got ${args.warmupRatio}`);
  if (args.weightDecay < 0) throw new BertuneError(`weight decay must be >= 0, got ${args.weightDecay}`);
  if (!Number.isSafeInteger(args.seed)) throw new BertuneError(`seed must be an integer, got ${args.seed}`);
  if (!Number.isInteger(args.gradientAccumulationSteps) || args.gradientAccumulationSteps < 1) {
    throw new BertuneError(`gradient accumulation steps must be a whole number >= 1, got ${args.gradientAccumulationSteps}`);
  }
  if (args.unfreezeTop !== undefined && (!Number.isInteger(args.unfreezeTop) || args.unfreezeTop < 0)) {
    throw new BertuneError(`--unfreeze-top must be a whole number >= 0, got ${args.unfreezeTop}`);
  }
  if (!(args.headLrMultiplier > 0)) throw new BertuneError(`--head-lr-multiplier must be > 0, got ${args.headLrMultiplier}`);
  if (!(args.layerwiseLrDecay > 0 && args.layerwiseLrDecay <= 1)) throw new BertuneError(`--layerwise-lr-decay must be in (0, 1], got ${args.layerwiseLrDecay}`);
  if (args.gradualUnfreeze && args.unfreezeTop !== undefined) throw new BertuneError("--gradual-unfreeze and --unfreeze-top exclude each other", "choose one");
  if (args.freezeBackbone && (args.unfreezeTop !== undefined || args.gradualUnfreeze || args.fromScratch)) {
    throw new BertuneError("--freeze-backbone trains only the head", "drop --unfreeze-top / --gradual-unfreeze / --from-scratch, or drop --freeze-backbone");
  }
  if (args.earlyStoppingPatience !== null && (!Number.isInteger(args.earlyStoppingPatience) || args.earlyStoppingPatience < 1)) {
    throw new BertuneError(`--early-stopping-patience must be a whole number >= 1, got ${args.earlyStoppingPatience}`);
  }
  if (!(args.labelSmoothingFactor >= 0 && args.labelSmoothingFactor < 1)) throw new BertuneError(`--label-smoothing must be in [0, 1), got ${args.labelSmoothingFactor}`);
  if (!(args.threshold > 0 && args.threshold < 1)) throw new BertuneError(`--threshold must be in (0, 1), got ${args.threshold}`);
  if (Array.isArray(args.classWeights) && !args.classWeights.every((w) => Number.isFinite(w) && w >= 0) ) {
    throw new BertuneError(`--class-weights must be numbers >= 0, got ${args.classWeights.join(",")}`, "for example --class-weights 1,3 or --class-weights balanced");
  }
  if (args.earlyStoppingPatience !== null && args.evalStrategy === "no") throw new BertuneError("early stopping needs evaluations", "set --eval-every epoch or a number of steps");
  return args;
}

/** The args as transformers writes training_args.json (snake_case names). */
export function argsToJson(args: TrainingArgs, outputDir?: string): Record<string, unknown> {
  return {
    output_dir: outputDir ?? null,
    num_train_epochs: args.numTrainEpochs,
    max_steps: args.maxSteps,
    per_device_train_batch_size: args.perDeviceTrainBatchSize,
    per_device_eval_batch_size: args.perDeviceEvalBatchSize,
    learning_rate: args.learningRate,
    weight_decay: args.weightDecay,
    warmup_ratio: args.warmupRatio,
    warmup_steps: args.warmupSteps,
    lr_scheduler_type: args.lrSchedulerType,
    max_grad_norm: args.maxGradNorm,
    adam_beta1: args.adamBeta1,
    adam_beta2: args.adamBeta2,
    adam_epsilon: args.adamEpsilon,
    optim: "adamw_torch",
    seed: args.seed,
    eval_strategy: typeof args.evalStrategy === "number" ? "steps" : args.evalStrategy,
    eval_steps: typeof args.evalStrategy === "number" ? args.evalStrategy : null,
    logging_steps: args.loggingSteps,
    freeze_backbone: args.freezeBackbone,
    max_length: args.maxLength,
    pooling: args.pooling,
    device: args.device,
    gradient_accumulation_steps: args.gradientAccumulationSteps,
    unfreeze_top: args.unfreezeTop ?? null,
    head_lr_multiplier: args.headLrMultiplier,
    layerwise_lr_decay: args.layerwiseLrDecay,
    gradual_unfreeze: args.gradualUnfreeze,
    from_scratch: args.fromScratch,
    group_by_length: args.groupByLength,
    save_strategy: typeof args.saveStrategy === "number" ? "steps" : args.saveStrategy,
    save_steps: typeof args.saveStrategy === "number" ? args.saveStrategy : null,
    save_total_limit: args.saveTotalLimit,
    early_stopping_patience: args.earlyStoppingPatience,
    load_best_model_at_end: args.loadBestModelAtEnd,
    metric_for_best_model: args.metricForBestModel ?? "accuracy",
    greater_is_better: args.greaterIsBetter ?? true,
    label_smoothing_factor: args.labelSmoothingFactor,
    class_weights: args.classWeights ?? null,
    threshold: args.threshold,
    normalize_targets: args.normalizeTargets,
  };
}
