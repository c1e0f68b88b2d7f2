import { readFileSync } from "node:fs";
import { join } from "node:path";
import { tf } from "../backend/tfjs.js";
import { BertuneError } from "../errors.js";
import type { TensorToWrite } from "../formats/safetensors.js";
import { silentProgress, type ProgressFactory } from "../util/progress.js";
import { Rng } from "../util/rng.js";
import { clipByGlobalNorm, type AdamW } from "./adamw.js";
import type { TrainingArgs } from "./args.js";
import { findCheckpoint, loadCheckpoint, rotateCheckpoints, saveCheckpoint, type LoadedCheckpoint } from "./checkpoint.js";
import { lengthGroupedOrder } from "./length-grouped.js";
import { learningRateAt, trainingLength, warmupStepsFor, type ScheduleOptions } from "./schedule.js";
import { streamSeed, STREAM_SHUFFLE } from "./seeds.js";
import { newTrainerState, round4, type TrainerState } from "./state.js";

/**
 * The Trainer's optimizer-step loop over tensorflow.js models, shared by full fine-tuning and
 * masked-LM pretraining: epochs of seeded shuffles, micro-batches accumulated into optimizer steps,
 * global-norm clipping, the learning-rate schedule, logging windows, the evaluation and save
 * strategies, checkpoints, exact resume, early stopping and Ctrl-C. What a step computes (the model,
 * its loss, its evaluation) is the caller's.
 */

/** How a training set of `examples` rows splits into steps, and the schedule over them. */
export interface StepPlan {
  examples: number;
  batchSize: number;
  accumulation: number;
  microPerEpoch: number;
  stepsPerEpoch: number;
  totalSteps: number;
  /** Epochs the run touches (the last may be partial: fractional epochs, max_steps). */
  epochs: number;
  schedule: ScheduleOptions;
}

export function planSteps(args: TrainingArgs, examples: number): StepPlan {
  const batchSize = args.perDeviceTrainBatchSize;
  const accumulation = args.gradientAccumulationSteps;
  const microPerEpoch = Math.ceil(examples / batchSize);
  const stepsPerEpoch = Math.ceil(microPerEpoch / accumulation);
  const { maxSteps: totalSteps, epochs } = trainingLength(stepsPerEpoch, args.numTrainEpochs, args.maxSteps);
  const schedule = { learningRate: args.learningRate, warmupSteps: warmupStepsFor(totalSteps, args.warmupRatio, args.warmupSteps), totalSteps, type: args.lrSchedulerType };
  return { examples, batchSize, accumulation, microPerEpoch, stepsPerEpoch, totalSteps, epochs, schedule };
}

/**
 * The checkpoint --resume-from-checkpoint names, checked to belong to a run of the same length;
 * undefined when the args do not resume. `hint` says what must match.
 */
export function checkpointToResume(args: TrainingArgs, outputDir: string | undefined, totalSteps: number, hint: string): LoadedCheckpoint | undefined {
  if (!args.resumeFromCheckpoint) return undefined;
  if (!outputDir && args.resumeFromCheckpoint === "latest") throw new BertuneError("--resume-from-checkpoint latest needs --output", "point --output at the interrupted run");
  const dir = findCheckpoint(outputDir ?? "", args.resumeFromCheckpoint);
  const ckpt = loadCheckpoint(dir);
  if (ckpt.state.max_steps !== totalSteps) throw new BertuneError(`${dir} was trained for ${ckpt.state.max_steps} steps, this run has ${totalSteps}`, hint);
  // The rest of the run's data order depends on it: resuming across a change would not be the same run.
  const grouped = savedGroupByLength(dir);
  if (grouped !== undefined && grouped !== args.groupByLength) {
    throw new BertuneError(`${dir} was trained ${grouped ? "with" : "without"} --group-by-length, this run is ${args.groupByLength ? "with" : "without"} it`, `resume ${grouped ? "with" : "without"} --group-by-length`);
  }
  return ckpt;
}

/**
 * The state a run starts from: a fresh one, or (with --resume-from-checkpoint) the checkpoint's,
 * after loading its weights into the model and its moments into the optimizer.
 */
export function startingState(o: {
  args: TrainingArgs;
  outputDir: string | undefined;
  plan: StepPlan;
  /** What must match to resume (the refusal's hint). */
  hint: string;
  model: { assignFrom(weights: LoadedCheckpoint["weights"]): void };
  optimizer: AdamW;
  vars: Map<string, tf.Variable>;
  log: (line: string) => void;
}): TrainerState {
  const resumed = checkpointToResume(o.args, o.outputDir, o.plan.totalSteps, o.hint);
  if (!resumed) return newTrainerState(o.args, o.plan.totalSteps, o.plan.epochs);
  o.model.assignFrom(resumed.weights);
  o.optimizer.loadState(resumed.optimizer, o.vars);
  o.log(`resuming from ${resumed.dir} at step ${resumed.state.global_step}/${o.plan.totalSteps}`);
  return resumed.state;
}

/** group_by_length from a checkpoint's training_args.json (false when it predates the option); undefined when unreadable. */
function savedGroupByLength(dir: string): boolean | undefined {
  try {
    const args = JSON.parse(readFileSync(join(dir, "training_args.json"), "utf8")) as { group_by_length?: unknown };
    return args.group_by_length === true;
  } catch {
    return undefined;
  }
}

export interface StepLoopOptions {
  args: TrainingArgs;
  plan: StepPlan;
  /** The Trainer's state, advanced in place (a resumed run's state starts past step 0). */
  state: TrainerState;
  optimizer: AdamW;
  /** Every variable by its checkpoint name. */
  vars: Map<string, tf.Variable>;
  /** Each training example's length in tokens: with --group-by-length, batches are cut from lengthGroupedOrder. */
  lengths?: readonly number[];
  /** The variables that learn in an epoch (0-based). */
  trainable: (epoch: number) => tf.Variable[];
  /**
   * One micro-batch: `rows` index the training set, `micro` counts micro-batches over the whole
   * run (the key of its random streams). `loss` runs inside the gradient tape (tensors it makes
   * are freed with it) and returns the batch's mean loss; `tokens` is what it feeds the model.
   */
  microBatch: (rows: number[], micro: number) => { tokens: number; loss: () => tf.Scalar };
  /** An evaluation at the strategy's points; resolves to whether it set a new best. Absent: none. */
  evaluate?: () => Promise<boolean>;
  /** Whether a checkpoint saved right after a new best becomes best_model_checkpoint (load_best_model_at_end). */
  tracksBestCheckpoint?: boolean;
  /** Checked after every step: a reason to stop early (it logs its own line). */
  stopEarly?: () => boolean;
  /** Where checkpoints go (none without it), with the weights to write and training_args.json. */
  checkpoints?: { outputDir: string; weights: () => Promise<Record<string, TensorToWrite>>; trainingArgs: Record<string, unknown> };
  progress?: ProgressFactory;
  /** The progress bar's label. */
  label: string;
  /** Aborting stops after the current optimizer step, with a checkpoint. */
  signal?: AbortSignal;
  /** The hint of the non-finite-loss error. */
  nanHint: string;
}

export interface StepLoopResult {
  stepsDone: number;
  /** Mean loss of the steps this call took. */
  trainLoss: number;
  /** Seconds. */
  runtime: number;
  samplesPerSecond: number;
  tokensPerSecond: number;
  stopped?: "early-stopping" | "interrupted";
  lastCheckpoint?: string;
}

/** a + b as a new tensor, disposing both. */
function sumAndDispose<T extends tf.Tensor>(a: T, b: T): T {
  const sum = a.add(b) as T;
  tf.dispose([a, b]);
  return sum;
}

/**
 * Run the steps from state.global_step to the plan's end. The data order of each epoch derives from
 * the seed and the epoch, so a run resumed from a checkpoint takes exactly the steps the
 * uninterrupted run would have taken.
 */
export async function runSteps(o: StepLoopOptions): Promise<StepLoopResult> {
  const { args, plan, state, optimizer } = o;
  const { batchSize: bs, accumulation: accum, microPerEpoch, stepsPerEpoch, totalSteps } = plan;
  const nameOf = new Map([...o.vars].map(([n, v]) => [v, n]));

  let lastCheckpoint: string | undefined;
  const checkpoint = async () => {
    const c = o.checkpoints;
    if (!c) return;
    lastCheckpoint = saveCheckpoint(c.outputDir, {
      weights: await c.weights(),
      optimizer: await optimizer.saveState((v) => nameOf.get(v)!),
      state,
      trainingArgs: c.trainingArgs,
    });
    rotateCheckpoints(c.outputDir, args.saveTotalLimit, state.best_model_checkpoint);
  };

  const started = performance.now();
  let stepsDone = 0;
  let tokensSeen = 0;
  let samplesSeen = 0;
  let lossSum = 0;
  let window = { sum: 0, count: 0, norm: 0, lr: 0 };
  let stopped: StepLoopResult["stopped"];
  const bar = (o.progress ?? silentProgress)(o.label, totalSteps, "step");
  bar.tick(state.global_step);

  const startEpoch = Math.floor(state.global_step / stepsPerEpoch);
  outer: for (let epoch = startEpoch; epoch < plan.epochs; epoch++) {
    const shuffled = new Rng(streamSeed(args.seed, STREAM_SHUFFLE, epoch)).shuffle(Array.from({ length: plan.examples }, (_, i) => i));
    // As transformers' LengthGroupedSampler: grouped over the examples of one optimizer step.
    const order = args.groupByLength && o.lengths ? lengthGroupedOrder(shuffled, o.lengths, bs * accum) : shuffled;
    const active = o.trainable(epoch);
    const firstStep = epoch === startEpoch ? state.global_step - epoch * stepsPerEpoch : 0;
    // The last epoch may stop early (fractional epochs, max_steps): its last step ends it, as a whole epoch's would.
    const steps = Math.min(stepsPerEpoch, totalSteps - epoch * stepsPerEpoch);
    for (let s = firstStep; s < steps; s++) {
      const micro = Array.from({ length: Math.min(accum, microPerEpoch - s * accum) }, (_, j) => s * accum + j);
      let acc: Record<string, tf.Tensor> | undefined;
      let lossT: tf.Scalar | undefined;
      for (const mb of micro) {
        const rows = order.slice(mb * bs, (mb + 1) * bs);
        const batch = o.microBatch(rows, epoch * microPerEpoch + mb);
        tokensSeen += batch.tokens;
        samplesSeen += rows.length;
        const { value, grads } = tf.variableGrads(() => batch.loss().div(micro.length) as tf.Scalar, active);
        lossT = lossT ? sumAndDispose(lossT, value) : value;
        if (!acc) acc = grads;
        else for (const k of Object.keys(grads)) acc[k] = sumAndDispose(acc[k], grads[k]);
      }
      const clipped = clipByGlobalNorm(acc!, args.maxGradNorm);
      const lr = learningRateAt(state.global_step, plan.schedule);
      optimizer.step(clipped.grads, lr);
      tf.dispose(Object.values(clipped.grads));
      // The step's one read-back (loss and norm together), after the update is queued so that on
      // a GPU the optimizer's kernels are dispatched while the backward pass still runs. A NaN
      // then reaches the in-memory weights, but training stops here and they are never saved.
      const [stepLoss, norm] = (await Promise.all([lossT!.data(), clipped.norm.data()])).map((d) => d[0]);
      tf.dispose([lossT!, clipped.norm]);
      if (!Number.isFinite(stepLoss)) {
        throw new BertuneError(`the training loss became ${stepLoss} at step ${state.global_step + 1}${lastCheckpoint ? `; the last good checkpoint is ${lastCheckpoint}` : ""}`, o.nanHint);
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
      const evalNow = o.evaluate !== undefined && (typeof args.evalStrategy === "number" ? state.global_step % args.evalStrategy === 0 : args.evalStrategy === "epoch" && endOfEpoch);
      const improvedNow = evalNow && (await o.evaluate!());
      // As the Trainer: with a steps strategy the last step is saved too.
      const saveNow = typeof args.saveStrategy === "number" ? state.global_step % args.saveStrategy === 0 || state.global_step === totalSteps : args.saveStrategy === "epoch" && endOfEpoch;
      if (saveNow) {
        await checkpoint();
        // Only a checkpoint of the evaluation that set the best metric is the best checkpoint.
        if (o.tracksBestCheckpoint && improvedNow && lastCheckpoint) state.best_model_checkpoint = lastCheckpoint;
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
      if (o.stopEarly?.()) {
        stopped = "early-stopping";
        break outer;
      }
    }
  }
  const runtime = (performance.now() - started) / 1000;
  bar.done();
  return {
    stepsDone,
    trainLoss: stepsDone ? lossSum / stepsDone : 0,
    runtime,
    samplesPerSecond: samplesSeen / Math.max(runtime, 1e-9),
    tokensPerSecond: tokensSeen / Math.max(runtime, 1e-9),
    stopped,
    lastCheckpoint,
  };
}
