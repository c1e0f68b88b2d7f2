import { readSafetensors } from "../formats/safetensors.js";
import { BertClassifier, classifierLogits, padToTensors, type EncodedExample } from "../bert/sequence-classifier.js";
import { TfBertModel } from "../bert/tfjs-bert.js";
import { isNoDecay, parameterGroup } from "../bert/weights.js";
import type { LoadedDataset } from "../data/types.js";
import { BertuneError } from "../errors.js";
import type { FullModelSource } from "../model.js";
import { silentProgress, type ProgressFactory } from "../util/progress.js";
import { Rng } from "../util/rng.js";
import { AdamW, clipByGlobalNorm, type ParamGroup } from "./adamw.js";
import { argsToJson, type TrainingArgs } from "./args.js";
import { readFloat32, tf } from "../backend/tfjs.js";
import { findCheckpoint, loadCheckpoint, rotateCheckpoints, saveCheckpoint } from "./checkpoint.js";
import { ClassificationHead } from "../heads/classification-head.js";
import { LinearHead } from "../heads/linear-head.js";
import { objectiveLossTensor } from "../heads/objective.js";
import { evalLine, newTrainerState, recordEval, round4, type LogEntry, type TrainingOutcome } from "./state.js";
import { evaluateLogits, makeTask, metricValue, targetsOf, type Label, type Task, type TaskEvaluation } from "./task.js";
import { learningRateAt, trainingLength, warmupStepsFor } from "./schedule.js";
import { streamSeed, STREAM_DROPOUT, STREAM_INIT, STREAM_SHUFFLE } from "./seeds.js";

export interface FullTrainingOptions {
  source: FullModelSource;
  dataset: LoadedDataset;
  args: TrainingArgs;
  /** Run folder for checkpoints; without it no checkpoints are written. */
  outputDir?: string;
  progress?: ProgressFactory;
  log?: (line: string) => void;
  /** Aborting stops after the current optimizer step, with a checkpoint. */
  signal?: AbortSignal;
  /** The problem type, loss and best-model metric; default: the data set's problem type with the args' choices. */
  task?: Task;
}

export interface FullTrainingResult extends TrainingOutcome {
  model: BertClassifier;
  task: Task;
  trainTokensPerSecond: number;
  /** Why training ended before its last step, if it did. */
  stopped?: "early-stopping" | "interrupted";
  lastCheckpoint?: string;
}


/** a + b as a new tensor, disposing both. */
function sumAndDispose<T extends tf.Tensor>(a: T, b: T): T {
  const sum = a.add(b) as T;
  tf.dispose([a, b]);
  return sum;
}

/** Depth from the top: pooler and head 0, top encoder layer 1, …, embeddings L+1. */
function depthOf(name: string, layers: number): number {
  if (name.startsWith("classifier.")) return 0;
  const g = parameterGroup(name.slice("bert.".length));
  if (g === "pooler") return 0;
  if (g === "embeddings") return layers + 1;
  return layers - g;
}

/**
 * Which parameters learn in an epoch. --unfreeze-top K: the top K layers, pooler and head.
 * --gradual-unfreeze: pooler and head in the first epoch, one more layer from the top each epoch
 * after, the embeddings once every layer is unfrozen. Otherwise everything.
 */
export function trainableDepth(args: TrainingArgs, layers: number, epoch: number): number {
  if (args.unfreezeTop !== undefined) return Math.min(args.unfreezeTop, layers);
  if (args.gradualUnfreeze) return Math.min(epoch, layers + 1);
  return layers + 1;
}

/** Parameter groups with the Trainer's decay rule, the head multiplier and layer-wise decay. */
function paramGroups(vars: Map<string, tf.Variable>, args: TrainingArgs, layers: number): ParamGroup[] {
  return [...vars].map(([name, v]) => ({
    params: [v],
    weightDecay: isNoDecay(name) ? 0 : args.weightDecay,
    lrScale: Math.pow(args.layerwiseLrDecay, depthOf(name, layers)) * (name.startsWith("classifier.") ? args.headLrMultiplier : 1),
  }));
}

function encodeAll(source: FullModelSource, examples: LoadedDataset["splits"]["train"], maxLength: number): EncodedExample[] {
  return examples.map((e) => source.tokenizer.encodeOne(e.text, e.textPair, maxLength));
}

/** Loss and metrics of the model on encoded examples (eval mode). */
export async function evaluateClassifier(
  model: BertClassifier,
  encoded: readonly EncodedExample[],
  labels: readonly Label[],
  task: Task,
  padTokenId: number,
  batchSize: number,
): Promise<TaskEvaluation> {
  return evaluateLogits(task, await classifierLogits(model, encoded, padTokenId, batchSize), labels);
}

/** Build the model: pretrained weights converted from safetensors, or the same shape at random. */
export function buildClassifier(source: FullModelSource, numLabels: number, args: TrainingArgs): BertClassifier {
  const c = source.config;
  const bert = args.fromScratch ? TfBertModel.random(c, streamSeed(args.seed, STREAM_INIT, 1)) : TfBertModel.fromSafetensors(readSafetensors(source.weights), c);
  const head = LinearHead.init(c.hidden_size, numLabels, {
    seed: streamSeed(args.seed, STREAM_INIT),
    dropout: c.classifier_dropout ?? c.hidden_dropout_prob,
    initializerRange: c.initializer_range,
  });
  return new BertClassifier(bert, new ClassificationHead(head), args.pooling);
}

/**
 * Full fine-tuning: every (unfrozen) layer learns. The data order of each epoch and the dropout
 * masks of each micro-batch derive from the seed and their position, so a run resumed from a
 * checkpoint takes exactly the steps the uninterrupted run would have taken.
 */
export async function trainFull(o: FullTrainingOptions): Promise<FullTrainingResult> {
  const { source, dataset, args } = o;
  const log = o.log ?? (() => {});
  const c = source.config;
  const layers = c.num_hidden_layers;
  const numLabels = dataset.id2label.length;
  const maxLength = Math.min(args.maxLength, c.max_position_embeddings);
  const pad = source.tokenizer.padTokenId;

  const train = dataset.splits.train;
  const valid = dataset.splits.validation;
  const trainEnc = encodeAll(source, train, maxLength);
  const validEnc = encodeAll(source, valid, maxLength);
  const trainLabels = train.map((e) => e.label);
  const validLabels = valid.map((e) => e.label);
  const task = o.task ?? makeTask({ problemType: dataset.problemType ?? "single_label_classification", id2label: dataset.id2label, train: trainLabels }, args);

  const model = buildClassifier(source, numLabels, args);
  const vars = model.namedVariables();
  const nameOf = new Map([...vars].map(([n, v]) => [v, n]));
  const optimizer = new AdamW(paramGroups(vars, args, layers), { beta1: args.adamBeta1, beta2: args.adamBeta2, epsilon: args.adamEpsilon });

  const bs = args.perDeviceTrainBatchSize;
  const accum = args.gradientAccumulationSteps;
  const microPerEpoch = Math.ceil(train.length / bs);
  const stepsPerEpoch = Math.ceil(microPerEpoch / accum);
  const { maxSteps: totalSteps, epochs } = trainingLength(stepsPerEpoch, args.numTrainEpochs, args.maxSteps);
  const schedule = { learningRate: args.learningRate, warmupSteps: warmupStepsFor(totalSteps, args.warmupRatio, args.warmupSteps), totalSteps, type: args.lrSchedulerType };

  let state = newTrainerState(args, totalSteps, epochs);

  let patienceLeft = args.earlyStoppingPatience;
  let best: { metric: number; weights: Map<string, Float32Array> } | undefined;

  if (args.resumeFromCheckpoint) {
    if (!o.outputDir && args.resumeFromCheckpoint === "latest") throw new BertuneError("--resume-from-checkpoint latest needs --output", "point --output at the interrupted run");
    const dir = findCheckpoint(o.outputDir ?? "", args.resumeFromCheckpoint);
    const ckpt = loadCheckpoint(dir);
    if (ckpt.state.max_steps !== totalSteps) {
      throw new BertuneError(`${dir} was trained for ${ckpt.state.max_steps} steps, this run has ${totalSteps}`, "resume with the same data set, epochs (or --max-steps), batch size and accumulation");
    }
    model.assignFrom(ckpt.weights);
    optimizer.loadState(ckpt.optimizer, vars);
    state = ckpt.state;
    log(`resuming from ${dir} at step ${state.global_step}/${totalSteps}`);
  }

  const evaluate = () => evaluateClassifier(model, validEnc, validLabels, task, pad, args.perDeviceEvalBatchSize);
  let lastCheckpoint: string | undefined;
  const checkpoint = async () => {
    if (!o.outputDir) return;
    lastCheckpoint = saveCheckpoint(o.outputDir, {
      weights: await model.toTensors(),
      optimizer: await optimizer.saveState((v) => nameOf.get(v)!),
      state,
      trainingArgs: argsToJson(args, o.outputDir),
    });
    rotateCheckpoints(o.outputDir, args.saveTotalLimit, state.best_model_checkpoint);
  };
  const logEval = async (): Promise<{ entry: LogEntry; improved: boolean }> => {
    const e = await evaluate();
    const { entry, improved } = recordEval(state, e, task);
    if (improved) {
      patienceLeft = args.earlyStoppingPatience;
      if (args.loadBestModelAtEnd) {
        const names = [...vars.keys()];
        const values = await Promise.all([...vars.values()].map(readFloat32));
        best = { metric: metricValue(task, e), weights: new Map(names.map((n, i) => [n, values[i]])) };
      }
      state.best_model_checkpoint = null;
    } else if (patienceLeft !== null) {
      patienceLeft--;
    }
    log(`step ${state.global_step} (epoch ${round4(state.epoch)}): ${evalLine(e, task)}`);
    return { entry, improved };
  };

  const started = performance.now();
  let stepsDone = 0;
  let tokensSeen = 0;
  let samplesSeen = 0;
  let lossSum = 0;
  let window = { sum: 0, count: 0, norm: 0, lr: 0 };
  let stopped: FullTrainingResult["stopped"];
  const bar = (o.progress ?? silentProgress)("training", totalSteps, "step");
  bar.tick(state.global_step);

  const startEpoch = Math.floor(state.global_step / stepsPerEpoch);
  outer: for (let epoch = startEpoch; epoch < epochs; epoch++) {
    const order = new Rng(streamSeed(args.seed, STREAM_SHUFFLE, epoch)).shuffle(train.map((_, i) => i));
    const depth = trainableDepth(args, layers, epoch);
    const active = [...vars].filter(([n]) => depthOf(n, layers) <= depth).map(([, v]) => v);
    if (args.gradualUnfreeze || args.unfreezeTop !== undefined) log(`epoch ${epoch + 1}: training ${active.length}/${vars.size} tensors (pooler, head and the top ${Math.min(depth, layers)} layers${depth > layers ? " and the embeddings" : ""})`);
    const firstStep = epoch === startEpoch ? state.global_step - epoch * stepsPerEpoch : 0;
    // The last epoch may stop early (fractional epochs, max_steps): its last step ends it, as a whole epoch's would.
    const steps = Math.min(stepsPerEpoch, totalSteps - epoch * stepsPerEpoch);
    for (let s = firstStep; s < steps; s++) {
      const micro = Array.from({ length: Math.min(accum, microPerEpoch - s * accum) }, (_, j) => s * accum + j);
      let acc: Record<string, tf.Tensor> | undefined;
      let lossT: tf.Scalar | undefined;
      for (const mb of micro) {
        const idx = order.slice(mb * bs, (mb + 1) * bs);
        const inputs = padToTensors(idx.map((i) => trainEnc[i]), pad);
        tokensSeen += inputs.inputIds.size;
        samplesSeen += idx.length;
        const dropoutSeed = streamSeed(args.seed, STREAM_DROPOUT, epoch * microPerEpoch + mb);
        const { value, grads } = tf.variableGrads(() => objectiveLossTensor(task.objective, model.logits(inputs, dropoutSeed), targetsOf(task, trainLabels, idx)).div(micro.length) as tf.Scalar, active);
        tf.dispose([inputs.inputIds, inputs.tokenTypeIds, inputs.attentionMask]);
        lossT = lossT ? sumAndDispose(lossT, value) : value;
        if (!acc) acc = grads;
        else for (const k of Object.keys(grads)) acc[k] = sumAndDispose(acc[k], grads[k]);
      }
      const clipped = clipByGlobalNorm(acc!, args.maxGradNorm);
      const lr = learningRateAt(state.global_step, schedule);
      optimizer.step(clipped.grads, lr);
      tf.dispose(Object.values(clipped.grads));
      // The step's one read-back (loss and norm together), after the update is queued so that on
      // a GPU the optimizer's kernels are dispatched while the backward pass still runs. A NaN
      // then reaches the in-memory weights, but training stops here and they are never saved.
      const [stepLoss, norm] = (await Promise.all([lossT!.data(), clipped.norm.data()])).map((d) => d[0]);
      tf.dispose([lossT!, clipped.norm]);
      if (!Number.isFinite(stepLoss)) {
        throw new BertuneError(
          `the training loss became ${stepLoss} at step ${state.global_step + 1}${lastCheckpoint ? `; the last good checkpoint is ${lastCheckpoint}` : ""}`,
          "lower --learning-rate, or check the data for broken rows",
        );
      }
      state.global_step++;
      stepsDone++;
      state.epoch = state.global_step / stepsPerEpoch;
      lossSum += stepLoss;
      window = { sum: window.sum + stepLoss, count: window.count + 1, norm, lr };
      const endOfEpoch = s === steps - 1;
      if (state.global_step % args.loggingSteps === 0 || endOfEpoch) {
        state.log_history.push({ epoch: round4(state.epoch), step: state.global_step, loss: window.sum / window.count, grad_norm: window.norm, learning_rate: window.lr });
        window = { sum: 0, count: 0, norm: 0, lr: 0 };
      }
      const evalNow = typeof args.evalStrategy === "number" ? state.global_step % args.evalStrategy === 0 : args.evalStrategy === "epoch" && endOfEpoch;
      const improvedNow = evalNow && (await logEval()).improved;
      // As the Trainer: with a steps strategy the last step is saved too.
      const saveNow = typeof args.saveStrategy === "number" ? state.global_step % args.saveStrategy === 0 || state.global_step === totalSteps : args.saveStrategy === "epoch" && endOfEpoch;
      if (saveNow) {
        await checkpoint();
        // Only a checkpoint of the evaluation that set the best metric is the best checkpoint.
        if (best && improvedNow && lastCheckpoint) state.best_model_checkpoint = lastCheckpoint;
      }
      bar.tick(1, { epoch: round4(state.epoch), loss: stepLoss });
      // Let the event loop take a turn: the wasm backend's reads resolve as microtasks, so without
      // this a SIGINT/SIGTERM handler (which sets the signal) would not run until training ended.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (o.signal?.aborted) {
        if (!saveNow) await checkpoint();
        stopped = "interrupted";
        break outer;
      }
      if (patienceLeft !== null && patienceLeft <= 0) {
        log(`early stopping: no better eval_${task.metric} in ${args.earlyStoppingPatience} evaluations`);
        stopped = "early-stopping";
        break outer;
      }
    }
  }
  const trainRuntime = (performance.now() - started) / 1000;
  bar.done();
  if (best) {
    tf.tidy(() => {
      for (const [n, v] of vars) v.assign(tf.tensor(best!.weights.get(n)!, v.shape));
    });
    log(`kept the best model (eval_${task.metric} ${best.metric.toFixed(4)})`);
  }
  optimizer.dispose();
  const final = await evaluate();
  return {
    model,
    task,
    state,
    evalReport: final.report,
    evalLoss: final.loss,
    trainLoss: stepsDone ? lossSum / stepsDone : 0,
    trainRuntime,
    trainSamplesPerSecond: samplesSeen / Math.max(trainRuntime, 1e-9),
    trainTokensPerSecond: tokensSeen / Math.max(trainRuntime, 1e-9),
    stopped,
    lastCheckpoint,
  };
}
