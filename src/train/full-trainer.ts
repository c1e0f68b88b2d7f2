import { readSafetensors } from "../formats/safetensors.js";
import { BertClassifier, classifierLogits, padToTensors, type EncodedExample } from "../bert/sequence-classifier.js";
import { TfBertModel } from "../bert/tfjs-bert.js";
import { isNoDecay, parameterGroup } from "../bert/weights.js";
import type { LoadedDataset } from "../data/types.js";
import { BertuneError } from "../errors.js";
import type { FullModelSource } from "../model.js";
import type { ProgressFactory } from "../util/progress.js";
import { AdamW, type ParamGroup } from "./adamw.js";
import { argsToJson, type TrainingArgs } from "./args.js";
import { readFloat32, tf } from "../backend/tfjs.js";
import { ClassificationHead } from "../heads/classification-head.js";
import { LinearHead } from "../heads/linear-head.js";
import { objectiveLossTensor } from "../heads/objective.js";
import { evalLine, recordEval, round4, type TrainingOutcome } from "./state.js";
import { evaluateLogits, makeTask, metricValue, targetsOf, type Label, type Task, type TaskEvaluation } from "./task.js";
import { streamSeed, STREAM_DROPOUT, STREAM_INIT } from "./seeds.js";
import { planSteps, runSteps, startingState } from "./step-loop.js";

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
  const optimizer = new AdamW(paramGroups(vars, args, layers), { beta1: args.adamBeta1, beta2: args.adamBeta2, epsilon: args.adamEpsilon });

  const plan = planSteps(args, train.length);

  let patienceLeft = args.earlyStoppingPatience;
  let best: { metric: number; weights: Map<string, Float32Array> } | undefined;

  const state = startingState({ args, outputDir: o.outputDir, plan, hint: "resume with the same data set, epochs (or --max-steps), batch size and accumulation", model, optimizer, vars, log });

  const evaluate = () => evaluateClassifier(model, validEnc, validLabels, task, pad, args.perDeviceEvalBatchSize);
  const logEval = async (): Promise<boolean> => {
    const e = await evaluate();
    const { improved } = recordEval(state, e, task);
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
    return improved;
  };

  const loop = await runSteps({
    args,
    plan,
    state,
    optimizer,
    vars,
    label: "training",
    progress: o.progress,
    signal: o.signal,
    nanHint: "lower --learning-rate, or check the data for broken rows",
    lengths: trainEnc.map((e) => e.ids.length),
    trainable: (epoch) => {
      const depth = trainableDepth(args, layers, epoch);
      const active = [...vars].filter(([n]) => depthOf(n, layers) <= depth).map(([, v]) => v);
      if (args.gradualUnfreeze || args.unfreezeTop !== undefined) log(`epoch ${epoch + 1}: training ${active.length}/${vars.size} tensors (pooler, head and the top ${Math.min(depth, layers)} layers${depth > layers ? " and the embeddings" : ""})`);
      return active;
    },
    microBatch: (rows, micro) => {
      const enc = rows.map((i) => trainEnc[i]);
      const dropoutSeed = streamSeed(args.seed, STREAM_DROPOUT, micro);
      return {
        // Padded to the batch's longest: what the model is fed.
        tokens: enc.length * enc.reduce((m, e) => Math.max(m, e.ids.length), 0),
        loss: () => objectiveLossTensor(task.objective, model.logits(padToTensors(enc, pad), dropoutSeed), targetsOf(task, trainLabels, rows)),
      };
    },
    evaluate: logEval,
    tracksBestCheckpoint: args.loadBestModelAtEnd,
    stopEarly: () => {
      if (patienceLeft === null || patienceLeft > 0) return false;
      log(`early stopping: no better eval_${task.metric} in ${args.earlyStoppingPatience} evaluations`);
      return true;
    },
    checkpoints: o.outputDir ? { outputDir: o.outputDir, weights: () => model.toTensors(), trainingArgs: argsToJson(args, o.outputDir) } : undefined,
  });
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
    trainLoss: loop.trainLoss,
    trainRuntime: loop.runtime,
    trainSamplesPerSecond: loop.samplesPerSecond,
    trainTokensPerSecond: loop.tokensPerSecond,
    stopped: loop.stopped,
    lastCheckpoint: loop.lastCheckpoint,
  };
}
