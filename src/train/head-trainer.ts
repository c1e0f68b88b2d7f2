import { BertuneError } from "../errors.js";
import { classificationReport, type ClassificationReport } from "../metrics/classification.js";
import { silentProgress, type ProgressFactory } from "../util/progress.js";
import { Rng } from "../util/rng.js";
import { ArrayAdamW, clipScale, globalNorm } from "./array-adamw.js";
import type { TrainingArgs } from "./args.js";
import { checkLabels, gatherRows, headGradientBuffers, LinearHead, linearHeadGradients, scoreLogits } from "../heads/linear-head.js";
import { learningRateAt, trainingLength, warmupStepsFor } from "./schedule.js";
import { streamSeed, STREAM_DROPOUT, STREAM_INIT, STREAM_SHUFFLE } from "./seeds.js";
import { newTrainerState, recordEval, round4, type LogEntry, type TrainingOutcome } from "./state.js";

/** Pooled features [rows × hidden] with their labels. */
export interface FeatureSplit {
  data: Float32Array;
  rows: number;
  labels: number[];
}

export interface HeadTrainingInput {
  train: FeatureSplit;
  validation: FeatureSplit;
  hiddenSize: number;
  id2label: string[];
  /** Dropout before the linear layer (classifier_dropout, else hidden_dropout_prob). */
  dropout: number;
  /** Std of the normal init of the weight (config.initializer_range). */
  initializerRange: number;
}

export interface HeadTrainingResult extends TrainingOutcome {
  head: LinearHead;
  /** Set when early stopping ended training before the last epoch. */
  stopped?: "early-stopping";
}

/** Validation metrics of a head on precomputed features. */
export function evaluateHead(head: LinearHead, split: FeatureSplit, id2label: string[]): { report: ClassificationReport; loss: number } {
  const logits = head.logits(split.data, split.rows);
  const { predictions, loss } = scoreLogits(logits, head.numLabels, split.labels);
  return { report: classificationReport(split.labels, predictions, id2label), loss };
}

/**
 * Train dropout + Linear(hidden → labels) on fixed features with AdamW (no decay on the bias),
 * the Trainer's learning-rate schedule and global-norm clipping. Every random choice (init,
 * shuffles, dropout masks) comes from the seed, so a seed gives the same weights bit for bit.
 * A step is plain arithmetic on reused buffers: gather with dropout, closed-form gradient,
 * norm, then the clipped AdamW update in one pass.
 */
export function trainHead(
  input: HeadTrainingInput,
  args: TrainingArgs,
  hooks: { progress?: ProgressFactory; log?: (line: string) => void } = {},
): HeadTrainingResult {
  const { train, validation, hiddenSize: h, id2label } = input;
  const numLabels = id2label.length;
  checkLabels(train.labels, numLabels);
  checkLabels(validation.labels, numLabels);
  const log = hooks.log ?? (() => {});

  const head = LinearHead.init(h, numLabels, {
    seed: streamSeed(args.seed, STREAM_INIT),
    dropout: input.dropout,
    initializerRange: input.initializerRange,
  });
  const optimizer = new ArrayAdamW(
    [
      { value: head.weight, weightDecay: args.weightDecay },
      { value: head.bias, weightDecay: 0 },
    ],
    { beta1: args.adamBeta1, beta2: args.adamBeta2, epsilon: args.adamEpsilon },
  );

  const n = train.rows;
  const bs = args.perDeviceTrainBatchSize;
  const stepsPerEpoch = Math.ceil(n / bs);
  const { maxSteps: totalSteps, epochs } = trainingLength(stepsPerEpoch, args.numTrainEpochs, args.maxSteps);
  const schedule = {
    learningRate: args.learningRate,
    warmupSteps: warmupStepsFor(totalSteps, args.warmupRatio, args.warmupSteps),
    totalSteps,
    type: args.lrSchedulerType,
  };
  const state = newTrainerState(args, totalSteps, epochs);
  const batch = new Float32Array(bs * h);
  const grads = headGradientBuffers(head, bs);

  // Early stopping and load_best_model_at_end, as in full mode: the best evaluation's weights are
  // copied (a head is small) and put back at the end; patience counts evaluations without a better one.
  let patienceLeft = args.earlyStoppingPatience;
  let best: { weight: Float32Array; bias: Float32Array; metric: number } | undefined;
  const logEval = (epoch: number): LogEntry => {
    const { report, loss } = evaluateHead(head, validation, id2label);
    state.epoch = epoch;
    const { entry, improved } = recordEval(state, report, loss);
    if (improved) {
      patienceLeft = args.earlyStoppingPatience;
      if (args.loadBestModelAtEnd) best = { weight: head.weight.slice(), bias: head.bias.slice(), metric: report.accuracy };
    } else if (patienceLeft !== null) {
      patienceLeft--;
    }
    return entry;
  };
  const outOfPatience = () => patienceLeft !== null && patienceLeft <= 0;
  let stopped: HeadTrainingResult["stopped"];

  let lossSum = 0;
  let samplesSeen = 0;
  let window = { sum: 0, count: 0 };
  let lastNorm = 0;
  const flushLog = (epoch: number, lr: number) => {
    if (window.count === 0) return;
    state.log_history.push({ epoch: round4(epoch), step: state.global_step, loss: window.sum / window.count, grad_norm: lastNorm, learning_rate: lr });
    window = { sum: 0, count: 0 };
  };

  const started = performance.now();
  const bar = (hooks.progress ?? silentProgress)("training", totalSteps, "step");
  outer: for (let epoch = 0; epoch < epochs; epoch++) {
    const order = new Rng(streamSeed(args.seed, STREAM_SHUFFLE, epoch)).shuffle(Array.from({ length: n }, (_, i) => i));
    const dropRng = new Rng(streamSeed(args.seed, STREAM_DROPOUT, epoch));
    let lr = 0;
    // The last epoch may stop early: fractional epochs, or max_steps within an epoch.
    const steps = Math.min(stepsPerEpoch, totalSteps - epoch * stepsPerEpoch);
    for (let s = 0; s < steps; s++) {
      const idx = order.slice(s * bs, (s + 1) * bs);
      lr = learningRateAt(state.global_step, schedule);
      const x = gatherRows(train.data, h, idx, { rng: dropRng, p: head.dropout }, batch);
      const loss = linearHeadGradients(head, x, idx.map((i) => train.labels[i]), grads);
      if (!Number.isFinite(loss)) {
        throw new BertuneError(`the training loss became ${loss} at step ${state.global_step + 1}`, "lower --learning-rate, or check the data for broken rows");
      }
      lastNorm = globalNorm([grads.weight, grads.bias]);
      optimizer.step([grads.weight, grads.bias], lr, clipScale(lastNorm, args.maxGradNorm));
      state.global_step++;
      state.epoch = state.global_step / stepsPerEpoch;
      samplesSeen += idx.length;
      lossSum += loss;
      window.sum += loss;
      window.count++;
      if (state.global_step % args.loggingSteps === 0) flushLog(state.epoch, lr);
      if (typeof args.evalStrategy === "number" && state.global_step % args.evalStrategy === 0) logEval(state.epoch);
      bar.tick(1, { epoch: round4(state.epoch), loss });
      if (outOfPatience()) {
        flushLog(state.epoch, lr);
        stopped = "early-stopping";
        break outer;
      }
    }
    flushLog(state.epoch, lr);
    if (args.evalStrategy === "epoch") {
      const e = logEval(state.epoch);
      log(`epoch ${round4(state.epoch)}/${round4(totalSteps / stepsPerEpoch)}: eval_loss ${e.eval_loss!.toFixed(4)}  eval_accuracy ${e.eval_accuracy!.toFixed(4)}`);
      if (outOfPatience()) {
        stopped = "early-stopping";
        break;
      }
    }
  }
  const trainRuntime = (performance.now() - started) / 1000;
  bar.done();
  if (stopped) log(`early stopping: no better eval_accuracy in ${args.earlyStoppingPatience} evaluations`);
  if (best) {
    head.weight.set(best.weight);
    head.bias.set(best.bias);
    log(`kept the best model (eval_accuracy ${best.metric.toFixed(4)})`);
  }

  const final = evaluateHead(head, validation, id2label);
  return {
    head,
    state,
    evalReport: final.report,
    evalLoss: final.loss,
    trainLoss: state.global_step ? lossSum / state.global_step : 0,
    trainRuntime,
    trainSamplesPerSecond: samplesSeen / Math.max(trainRuntime, 1e-9),
    stopped,
  };
}
