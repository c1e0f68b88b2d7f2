import type { Command } from "commander";
import type { HfSpellings } from "../hf-args.js";
import { DEFAULT_ARGS, type EvalStrategy, type TrainingArgs } from "../../train/args.js";
import { SCHEDULERS, type SchedulerType } from "../../train/schedule.js";
import { choiceArg, intArg, invalidArg, nonNegativeIntArg, nonNegativeNumberArg, numberArg, positiveIntArg, positiveNumberArg, stepsOrWordArg } from "../common.js";

/** The options of the Trainer's step loop, shared by `train` and `pretrain`. */
export interface LoopCliOptions {
  epochs: number;
  maxSteps: number;
  batchSize: number;
  evalBatchSize: number;
  learningRate?: number;
  weightDecay: number;
  adamBeta1: number;
  adamBeta2: number;
  adamEpsilon: number;
  warmupRatio: number;
  warmupSteps: number;
  lrScheduler: SchedulerType;
  maxGradNorm: number;
  gradientAccumulationSteps: number;
  groupByLength: boolean;
  seed: number;
  evalEvery: EvalStrategy;
  loggingSteps: number;
  saveSteps: "epoch" | "no" | number;
  saveTotalLimit?: number;
  resumeFromCheckpoint?: string;
}

/** What differs between the commands: the words of a few options' help, and the learning rate's default. */
export interface LoopOptionText {
  learningRate: string;
  /** The value an invalid --learning-rate's hint suggests. */
  learningRateExample: string;
  /** Absent: the command picks it after parsing (train: by mode). */
  learningRateDefault?: number;
  seed: string;
  evalEvery: string;
  saveSteps: string;
  saveTotalLimit: string;
  resume: string;
}

/** transformers' max_steps: a whole number of steps, or -1 for off (the epochs decide). */
function maxStepsArg(value: string): number {
  const n = value.trim() === "" ? NaN : Number(value);
  if (Number.isSafeInteger(n) && (n === -1 || n >= 1)) return n;
  throw invalidArg("--max-steps must be a whole number of steps of 1 or more, or -1 (off).", "for example --max-steps 1000");
}

/** TrainingArguments' names of the loop's options (the commands add their own; snake_case comes with every option). */
export const LOOP_SPELLINGS: Required<HfSpellings> = {
  aliases: {
    "--num-train-epochs": "--epochs",
    "--per-device-train-batch-size": "--batch-size",
    "--per-device-eval-batch-size": "--eval-batch-size",
    "--lr-scheduler-type": "--lr-scheduler",
  },
  pairs: [
    // transformers: eval_steps defaults to logging_steps, save_steps to 500.
    { target: "--eval-every", strategy: ["--eval-strategy", "--evaluation-strategy"], steps: "--eval-steps", defaultSteps: (given) => given.get("--logging-steps") ?? String(DEFAULT_ARGS.loggingSteps) },
    { target: "--save-steps", strategy: ["--save-strategy"], steps: "--save-steps", defaultSteps: () => "500" },
  ],
  helpNotes: {
    "--eval-every": "or --eval-strategy no|steps|epoch with --eval-steps N, alias --evaluation-strategy",
    "--save-steps": "or --save-strategy no|steps|epoch with --save-steps N",
  },
};

const evalEveryArg = stepsOrWordArg("--eval-every", ["epoch", "no"] as const) as (v: string) => EvalStrategy;

export function addLoopOptions(cmd: Command, text: LoopOptionText): Command {
  const d = DEFAULT_ARGS;
  return cmd
    .option("--epochs <n>", "number of training epochs, may be fractional such as 2.5", positiveNumberArg("--epochs", d.numTrainEpochs), d.numTrainEpochs)
    .option("--max-steps <n>", "total optimizer steps, overriding --epochs (-1: off)", maxStepsArg, d.maxSteps)
    .option("--batch-size <n>", "training batch size", positiveIntArg("--batch-size", d.perDeviceTrainBatchSize), d.perDeviceTrainBatchSize)
    .option("--eval-batch-size <n>", "evaluation batch size", positiveIntArg("--eval-batch-size", d.perDeviceEvalBatchSize), d.perDeviceEvalBatchSize)
    .option("--gradient-accumulation-steps <n>", "micro-batches per optimizer step", positiveIntArg("--gradient-accumulation-steps", 4), d.gradientAccumulationSteps)
    .option("--group-by-length", "full mode and pretraining: batches of similar lengths (the shuffled data in megabatches of up to 50 steps, each sorted by length, as transformers' group_by_length): less padding, faster epochs (frozen training has no batches to pad)", false)
    .option("--learning-rate <lr>", text.learningRate, positiveNumberArg("--learning-rate", text.learningRateExample), text.learningRateDefault)
    .option("--weight-decay <wd>", "AdamW decoupled weight decay, not on biases and LayerNorm weights", nonNegativeNumberArg("--weight-decay", 0.01), d.weightDecay)
    .option("--adam-beta1 <b>", "AdamW beta1", numberArg("--adam-beta1", { min: 0, max: 1, maxExclusive: true, example: d.adamBeta1 }), d.adamBeta1)
    .option("--adam-beta2 <b>", "AdamW beta2", numberArg("--adam-beta2", { min: 0, max: 1, maxExclusive: true, example: d.adamBeta2 }), d.adamBeta2)
    .option("--adam-epsilon <eps>", "AdamW epsilon", nonNegativeNumberArg("--adam-epsilon", "1e-8"), d.adamEpsilon)
    .option("--warmup-ratio <r>", "fraction of steps for linear warmup", numberArg("--warmup-ratio", { min: 0, max: 1, maxExclusive: true, example: 0.1 }), d.warmupRatio)
    .option("--warmup-steps <n>", "warmup steps (overrides --warmup-ratio when > 0)", nonNegativeIntArg("--warmup-steps", 100), d.warmupSteps)
    .option("--lr-scheduler <type>", `learning-rate schedule: ${SCHEDULERS.join(", ")} (as transformers: constant ignores warmup, polynomial decays to 1e-7)`, choiceArg("--lr-scheduler", SCHEDULERS), d.lrSchedulerType)
    .option("--max-grad-norm <n>", "clip gradients to this global L2 norm (0: no clipping)", nonNegativeNumberArg("--max-grad-norm", d.maxGradNorm, `for example --max-grad-norm ${d.maxGradNorm} (the default), or 0 for no clipping`), d.maxGradNorm)
    .option("--seed <n>", text.seed, intArg("--seed", { example: d.seed }), d.seed)
    .option("--eval-every <when>", text.evalEvery, evalEveryArg, d.evalStrategy)
    .option("--logging-steps <n>", "log the training loss every N steps (and at each epoch end)", positiveIntArg("--logging-steps", d.loggingSteps), d.loggingSteps)
    .option("--save-steps <when>", text.saveSteps, stepsOrWordArg("--save-steps", ["epoch", "no"] as const), d.saveStrategy)
    .option("--save-total-limit <n>", text.saveTotalLimit, nonNegativeIntArg("--save-total-limit", 2), d.saveTotalLimit ?? undefined)
    .option("--resume-from-checkpoint <ckpt>", text.resume);
}

/** The step loop's TrainingArgs from the parsed options. */
export function loopArgs(o: LoopCliOptions): Partial<TrainingArgs> {
  return {
    numTrainEpochs: o.epochs,
    maxSteps: o.maxSteps,
    perDeviceTrainBatchSize: o.batchSize,
    perDeviceEvalBatchSize: o.evalBatchSize,
    gradientAccumulationSteps: o.gradientAccumulationSteps,
    groupByLength: o.groupByLength,
    learningRate: o.learningRate,
    weightDecay: o.weightDecay,
    adamBeta1: o.adamBeta1,
    adamBeta2: o.adamBeta2,
    adamEpsilon: o.adamEpsilon,
    warmupRatio: o.warmupRatio,
    warmupSteps: o.warmupSteps,
    lrSchedulerType: o.lrScheduler,
    maxGradNorm: o.maxGradNorm,
    seed: o.seed,
    evalStrategy: o.evalEvery,
    loggingSteps: o.loggingSteps,
    saveStrategy: o.saveSteps,
    saveTotalLimit: o.saveTotalLimit ?? null,
    resumeFromCheckpoint: o.resumeFromCheckpoint,
  };
}

const EXIT_CODES: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143 };

/** Ctrl-C and SIGTERM while a step loop runs: what `listen` returns. */
export interface StopSignals {
  /** Aborted by the first signal: the loop finishes its step, writes a checkpoint and stops. */
  signal: AbortSignal;
  /** Stop listening (after training). */
  release(): void;
  /** The exit code of the signal that stopped training: 130 (SIGINT) or 143 (SIGTERM). */
  exitCode(): number;
}

/**
 * The first SIGINT/SIGTERM asks the loop to stop after its step (with a checkpoint); the same
 * signal again quits at once. `quitAtOnce()`: nothing to keep (frozen training), exit on the first.
 */
export function stopOnSignals(log: (line: string) => void, quitAtOnce: () => boolean = () => false): StopSignals {
  const abort = new AbortController();
  const onStop = (signal: NodeJS.Signals) => {
    if (quitAtOnce()) process.exit(EXIT_CODES[signal]);
    log(`interrupted (${signal}): stopping after this step and saving a checkpoint (${signal === "SIGINT" ? "Ctrl-C" : signal} again to quit at once)`);
    abort.abort(signal);
    process.once(signal, () => process.exit(EXIT_CODES[signal]));
  };
  const signals = Object.keys(EXIT_CODES) as NodeJS.Signals[];
  for (const s of signals) process.once(s, onStop);
  return {
    signal: abort.signal,
    release: () => {
      for (const s of signals) process.removeListener(s, onStop);
    },
    exitCode: () => EXIT_CODES[abort.signal.reason as NodeJS.Signals] ?? 130,
  };
}
