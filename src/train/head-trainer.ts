import { BertuneError } from "../errors.js";
import { silentProgress, type ProgressFactory } from "../util/progress.js";
import { Rng } from "../util/rng.js";
import { ArrayAdamW, clipScale, globalNorm } from "./array-adamw.js";
import { DEFAULT_ARGS, type TrainingArgs } from "./args.js";
import { checkLabels, gatherDropped, headGradientBuffers, LinearHead, linearHeadGradients } from "../heads/linear-head.js";
import { learningRateAt, trainingLength, warmupStepsFor } from "./schedule.js";
import { streamSeed, STREAM_DROPOUT, STREAM_INIT, STREAM_SHUFFLE } from "./seeds.js";
import { evalLine, newTrainerState, recordEval, round4, type LogEntry, type TrainingOutcome } from "./state.js";
import { evaluateLogits, makeTask, metricValue, targetsOf, type Label, type Task, type TaskEvaluation } from "./task.js";

/** Pooled features [rows × hidden] with their labels (class ids, multi-hot rows or regression values). */
export interface FeatureSplit {
  data: Float32Array;
  rows: number;
  labels: readonly Label[];
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
  /** The problem type, loss and best-model metric; default: single-label classification over id2label. */
  task?: Task;
}

export interface HeadTrainingResult extends TrainingOutcome {
  head: LinearHead;
  task: Task;
  /** Set when early stopping ended training before the last epoch. */
  stopped?: "early-stopping";
}

/** Validation metrics of a head on precomputed features (a single-label task when given only the label names). */
export function evaluateHead(head: LinearHead, split: FeatureSplit, task: Task | string[]): TaskEvaluation {
  const t = Array.isArray(task) ? singleLabelTask(task) : task;
  return evaluateLogits(t, head.logits(split.data, split.rows), split.labels);
}

function singleLabelTask(id2label: string[]): Task {
  return makeTask({ problemType: "single_label_classification", id2label, train: [] }, DEFAULT_ARGS);
}

/**
 * Train dropout + Linear(hidden → labels) on fixed features with AdamW (no decay on the bias),
 * the Trainer's learning-rate schedule and global-norm clipping. Every random choice (init,
 * shuffles, dropout masks) comes from the seed, so a seed gives the same weights bit for bit.
 * A step works on reused buffers: gather with dropout, closed-form gradient (its two products
 * on onnxruntime's kernels where they load), norm, then the clipped AdamW update in one pass.
 */
export function trainHead(
  input: HeadTrainingInput,
  args: TrainingArgs,
  hooks: { progress?: ProgressFactory; log?: (line: string) => void } = {},
): HeadTrainingResult {
  const { train, validation, hiddenSize: h, id2label } = input;
  const task = input.task ?? makeTask({ problemType: "single_label_classification", id2label, train: train.labels }, args);
  const numLabels = id2label.length;
  if (task.problemType === "single_label_classification") {
    checkLabels(train.labels as number[], numLabels);
    checkLabels(validation.labels as number[], numLabels);
  }
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
  let lastEval: TaskEvaluation | undefined;
  const logEval = (epoch: number): LogEntry => {
    const e = evaluateHead(head, validation, task);
    state.epoch = epoch;
    const { entry, improved } = recordEval(state, e, task);
    lastEval = e;
    if (improved) {
      patienceLeft = args.earlyStoppingPatience;
      if (args.loadBestModelAtEnd) best = { weight: head.weight.slice(), bias: head.bias.slice(), metric: metricValue(task, e) };
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
      const scale = gatherDropped(train.data, h, idx, { rng: dropRng, p: head.dropout }, batch);
      const loss = linearHeadGradients(head, batch, targetsOf(task, train.labels, idx), grads, task.objective, scale);
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
      logEval(state.epoch);
      log(`epoch ${round4(state.epoch)}/${round4(totalSteps / stepsPerEpoch)}: ${evalLine(lastEval!, task)}`);
      if (outOfPatience()) {
        stopped = "early-stopping";
        break;
      }
    }
  }
  const trainRuntime = (performance.now() - started) / 1000;
  bar.done();
  if (stopped) log(`early stopping: no better eval_${task.metric} in ${args.earlyStoppingPatience} evaluations`);
  if (best) {
    head.weight.set(best.weight);
    head.bias.set(best.bias);
    log(`kept the best model (eval_${task.metric} ${best.metric.toFixed(4)})`);
  }

  const final = evaluateHead(head, validation, task);
  return {
    head,
    task,
    state,
    evalReport: final.report,
    evalLoss: final.loss,
    trainLoss: state.global_step ? lossSum / state.global_step : 0,
    trainRuntime,
    trainSamplesPerSecond: samplesSeen / Math.max(trainRuntime, 1e-9),
    stopped,
  };
}
