import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { tf, useBackend } from "../src/backend/tfjs.js";
import type { SafetensorsFile } from "../src/formats/safetensors.js";
import { BertuneError } from "../src/errors.js";
import { AdamW } from "../src/train/adamw.js";
import { resolveArgs, type TrainingArgs } from "../src/train/args.js";
import { listCheckpoints } from "../src/train/checkpoint.js";
import { streamSeed, STREAM_SHUFFLE } from "../src/train/seeds.js";
import { newTrainerState, type TrainerState } from "../src/train/state.js";
import { lengthGroupedOrder } from "../src/train/length-grouped.js";
import { checkpointToResume, planSteps, runSteps, startingState, type StepLoopOptions } from "../src/train/step-loop.js";
import { Rng } from "../src/util/rng.js";
import { tempDir } from "./helpers/fixtures.js";

// The shared step loop's bookkeeping, on a model of one scalar w = 1 whose micro-batch loss is
// w · mean(row values) with row i worth i + 1. At a learning rate of 1e-12, w stays 1 in float32
// (AdamW moves it by ~1e-12 a step, under float32's 6e-8 at 1), so every number the loop reports
// can be written out from the rows it handed to microBatch: a step's loss is the mean of its
// micro-batches' means, and so is its gradient (the norm before clipping).

beforeAll(async () => {
  await useBackend("wasm");
});

const value = (row: number) => row + 1;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const round4 = (x: number) => Math.round(x * 1e4) / 1e4;

interface Harness {
  options: StepLoopOptions;
  /** The rows of each micro-batch, in the order microBatch saw them, with its run-wide index. */
  micro: { rows: number[]; micro: number }[];
  evals: number[];
  ticks: { n: number; payload?: Record<string, unknown> }[];
  bars: { label: string; total: number; unit: string }[];
  done: number;
  w: tf.Variable;
}

function harness(examples: number, over: Partial<TrainingArgs>, extra: Partial<StepLoopOptions> = {}, state?: TrainerState): Harness {
  const args = resolveArgs({ learningRate: 1e-12, weightDecay: 0, saveStrategy: "no", evalStrategy: "no", ...over });
  const plan = planSteps(args, examples);
  const w = tf.variable(tf.scalar(1), true, `w${Math.random()}`);
  const h: Harness = { micro: [], evals: [], ticks: [], bars: [], done: 0, w, options: undefined as unknown as StepLoopOptions };
  h.options = {
    args,
    plan,
    state: state ?? newTrainerState(args, plan.totalSteps, plan.epochs),
    optimizer: new AdamW([{ params: [w], weightDecay: 0 }]),
    vars: new Map([["w", w]]),
    trainable: () => [w],
    microBatch: (rows, micro) => {
      h.micro.push({ rows: [...rows], micro });
      return { tokens: 10 * rows.length, loss: () => w.mul(mean(rows.map(value))) as tf.Scalar };
    },
    label: "training",
    nanHint: "lower --learning-rate",
    progress: (label, total, unit) => {
      h.bars.push({ label, total, unit });
      return { tick: (n, payload) => h.ticks.push({ n, payload }), done: () => h.done++ };
    },
    ...extra,
  };
  return h;
}

/** The loss of each optimizer step, from the micro-batches the loop handed out (accumulation `accum`, `microPerEpoch`). */
function stepLosses(h: Harness): number[] {
  const { accumulation, microPerEpoch } = h.options.plan;
  const steps = new Map<number, number[]>();
  for (const m of h.micro) {
    const key = Math.floor(m.micro / microPerEpoch) * 1e6 + Math.floor((m.micro % microPerEpoch) / accumulation);
    steps.set(key, [...(steps.get(key) ?? []), mean(m.rows.map(value))]);
  }
  return [...steps.values()].map(mean);
}

const losses = (s: TrainerState) => s.log_history.filter((e) => e.loss !== undefined);

describe("planSteps: the run's shape, as the Trainer computes it", () => {
  it("micro-batches, accumulation, fractional epochs, max_steps and warmup", () => {
    const p = planSteps(resolveArgs({ perDeviceTrainBatchSize: 3, gradientAccumulationSteps: 2, numTrainEpochs: 2, warmupRatio: 0.25 }), 10);
    expect([p.examples, p.batchSize, p.accumulation, p.microPerEpoch, p.stepsPerEpoch, p.totalSteps, p.epochs]).toEqual([10, 3, 2, 4, 2, 4, 2]);
    expect(p.schedule).toEqual({ learningRate: 5e-5, warmupSteps: 1, totalSteps: 4, type: "linear" });
    const half = planSteps(resolveArgs({ perDeviceTrainBatchSize: 2, numTrainEpochs: 1.5 }), 10);
    expect([half.stepsPerEpoch, half.totalSteps, half.epochs]).toEqual([5, 8, 2]);
    const capped = planSteps(resolveArgs({ perDeviceTrainBatchSize: 2, maxSteps: 13, warmupSteps: 3 }), 20);
    expect([capped.stepsPerEpoch, capped.totalSteps, capped.epochs, capped.schedule.warmupSteps]).toEqual([10, 13, 2, 3]);
  });
});

describe("the step loop's bookkeeping", () => {
  it("hands out each epoch's seeded shuffle in batches, accumulating micro-batches into steps", async () => {
    // 10 rows, batch 3, accumulation 2: micro-batches of 3, 3 | 3, 1 rows; 2 steps an epoch.
    const h = harness(10, { perDeviceTrainBatchSize: 3, gradientAccumulationSteps: 2, numTrainEpochs: 2, loggingSteps: 1 });
    const r = await runSteps(h.options);
    expect(h.micro.map((m) => m.micro)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(h.micro.map((m) => m.rows.length)).toEqual([3, 3, 3, 1, 3, 3, 3, 1]);
    for (const epoch of [0, 1]) {
      const order = new Rng(streamSeed(42, STREAM_SHUFFLE, epoch)).shuffle(Array.from({ length: 10 }, (_, i) => i));
      expect(h.micro.slice(epoch * 4, epoch * 4 + 4).flatMap((m) => m.rows)).toEqual(order);
    }
    expect(h.micro.slice(0, 4).flatMap((m) => m.rows)).not.toEqual(h.micro.slice(4).flatMap((m) => m.rows));
    // A step's loss is the mean of its micro-batches' means (each divided by the step's micro-batch count).
    const expected = stepLosses(h);
    expect(expected).toHaveLength(4);
    losses(h.options.state).forEach((e, i) => {
      expect(e.loss).toBeCloseTo(expected[i], 5);
      expect(e.grad_norm).toBeCloseTo(expected[i], 5);
    });
    expect(r.stepsDone).toBe(4);
    expect(r.trainLoss).toBeCloseTo(mean(expected), 5);
    expect(h.options.state.global_step).toBe(4);
    expect(h.options.state.epoch).toBe(2);
    expect(h.w.dataSync()[0]).toBe(1);
  });

  it("logs every loggingSteps steps and at each epoch's end: the window's mean loss, its last step's norm and learning rate", async () => {
    // 14 rows, batch 2: 7 steps an epoch, 2 epochs; loggingSteps 3 → steps 3, 6, 7 (epoch end), 9, 12, 14.
    const h = harness(14, { perDeviceTrainBatchSize: 2, numTrainEpochs: 2, loggingSteps: 3 });
    await runSteps(h.options);
    const step = stepLosses(h);
    const windows = losses(h.options.state);
    expect(windows.map((e) => [e.step, e.epoch])).toEqual([
      [3, round4(3 / 7)],
      [6, round4(6 / 7)],
      [7, 1],
      [9, round4(9 / 7)],
      [12, round4(12 / 7)],
      [14, 2],
    ]);
    const bounds = [[1, 3], [4, 6], [7, 7], [8, 9], [10, 12], [13, 14]];
    windows.forEach((e, i) => {
      const [from, to] = bounds[i];
      expect(e.loss).toBeCloseTo(mean(step.slice(from - 1, to)), 5);
      expect(e.grad_norm).toBeCloseTo(step[to - 1], 5);
      // Linear decay from 1e-12 over 14 steps, no warmup: the rate the window's last step used.
      expect(e.learning_rate).toBeCloseTo(1e-12 * (1 - (to - 1) / 14), 20);
    });
  });

  it("evaluates on a numeric strategy's steps or at epoch ends; saves likewise, and a steps strategy saves the last step", async () => {
    const run = async (over: Partial<TrainingArgs>, withEval = true) => {
      const out = tempDir();
      const h = harness(10, { perDeviceTrainBatchSize: 2, numTrainEpochs: 2, saveTotalLimit: 0, ...over }, { checkpoints: { outputDir: out, weights: async () => ({ w: { dtype: "F32", shape: [], data: Float32Array.of(1) } }), trainingArgs: { seed: 42 } } });
      if (withEval) h.options.evaluate = async () => (h.evals.push(h.options.state.global_step), false);
      await runSteps(h.options);
      return { evals: h.evals, saved: listCheckpoints(out).map((c) => c.step) };
    };
    expect(await run({ evalStrategy: 4, saveStrategy: 3 })).toEqual({ evals: [4, 8], saved: [3, 6, 9, 10] });
    expect(await run({ evalStrategy: "epoch", saveStrategy: "epoch" })).toEqual({ evals: [5, 10], saved: [5, 10] });
    expect(await run({ evalStrategy: "no", saveStrategy: "no" })).toEqual({ evals: [], saved: [] });
    // Without an evaluate callback (pretraining without validation text) no strategy evaluates.
    expect((await run({ evalStrategy: 2 }, false)).evals).toEqual([]);
  });

  it("writes checkpoints with the state, the optimizer's moments and training_args.json, and rotates them", async () => {
    const out = tempDir();
    const h = harness(10, { perDeviceTrainBatchSize: 2, numTrainEpochs: 1, saveStrategy: 2, saveTotalLimit: 2 }, {
      checkpoints: { outputDir: out, weights: async () => ({ w: { dtype: "F32", shape: [], data: Float32Array.of(7) } }), trainingArgs: { marker: "args" } },
    });
    const r = await runSteps(h.options);
    expect(listCheckpoints(out).map((c) => c.step)).toEqual([4, 5]);
    expect(r.lastCheckpoint).toBe(join(out, "checkpoint-5"));
    const state = JSON.parse(readFileSync(join(out, "checkpoint-4", "trainer_state.json"), "utf8")) as TrainerState;
    expect([state.global_step, state.max_steps]).toEqual([4, 5]);
    expect(JSON.parse(readFileSync(join(out, "checkpoint-4", "training_args.json"), "utf8"))).toEqual({ marker: "args" });
  });

  it("counts samples and tokens per second from what each micro-batch fed the model", async () => {
    const h = harness(10, { perDeviceTrainBatchSize: 3, numTrainEpochs: 2 });
    const t0 = performance.now();
    const r = await runSteps(h.options);
    const wall = (performance.now() - t0) / 1000;
    expect(r.runtime).toBeGreaterThan(0);
    expect(r.runtime).toBeLessThanOrEqual(wall);
    expect(r.samplesPerSecond * r.runtime).toBeCloseTo(20, 6);
    expect(r.tokensPerSecond * r.runtime).toBeCloseTo(200, 6);
  });

  it("reports progress: one bar over every step, started at the resumed step, ticked with the epoch and the step's loss", async () => {
    const h = harness(6, { perDeviceTrainBatchSize: 2, numTrainEpochs: 2 }, { label: "pretraining" });
    await runSteps(h.options);
    expect(h.bars).toEqual([{ label: "pretraining", total: 6, unit: "step" }]);
    expect(h.ticks[0]).toEqual({ n: 0, payload: undefined });
    const step = stepLosses(h);
    expect(h.ticks.slice(1).map((t) => t.n)).toEqual([1, 1, 1, 1, 1, 1]);
    h.ticks.slice(1).forEach((t, i) => {
      expect(t.payload!.epoch).toBe(round4((i + 1) / 3));
      expect(t.payload!.loss as number).toBeCloseTo(step[i], 5);
    });
    expect(h.done).toBe(1);
  });

  it("stops on a non-finite loss with the step's number and the last good checkpoint, in one line with the caller's hint", async () => {
    const out = tempDir();
    const h = harness(10, { perDeviceTrainBatchSize: 2, numTrainEpochs: 2, saveStrategy: 2 }, {
      checkpoints: { outputDir: out, weights: async () => ({ w: { dtype: "F32", shape: [], data: Float32Array.of(1) } }), trainingArgs: {} },
    });
    const plain = h.options.microBatch;
    h.options.microBatch = (rows, micro) => (micro === 6 ? { tokens: 1, loss: () => h.w.mul(NaN) as tf.Scalar } : plain(rows, micro));
    const err = await runSteps(h.options).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BertuneError);
    expect((err as BertuneError).message).toBe(`the training loss became NaN at step 7; the last good checkpoint is ${join(out, "checkpoint-6")}`);
    expect((err as BertuneError).hint).toBe("lower --learning-rate");
    // Without checkpoints the message names none.
    const bare = harness(4, { perDeviceTrainBatchSize: 2 });
    bare.options.microBatch = () => ({ tokens: 1, loss: () => bare.w.mul(Infinity) as tf.Scalar });
    await expect(runSteps(bare.options)).rejects.toThrow(/^the training loss became Infinity at step 1$/);
  });

  it("resumed at a state mid-epoch, takes exactly the remaining micro-batches of the uninterrupted run", async () => {
    const full = harness(10, { perDeviceTrainBatchSize: 2, gradientAccumulationSteps: 2, numTrainEpochs: 3, loggingSteps: 1 });
    await runSteps(full.options);
    // 5 micro-batches, 3 steps an epoch (the last of one micro-batch), 9 steps; resume after step 4.
    const state = { ...full.options.state, global_step: 4, epoch: 4 / 3, log_history: full.options.state.log_history.slice(0, 4) };
    const resumed = harness(10, { perDeviceTrainBatchSize: 2, gradientAccumulationSteps: 2, numTrainEpochs: 3, loggingSteps: 1 }, {}, state);
    const r = await runSteps(resumed.options);
    expect(r.stepsDone).toBe(5);
    const cut = full.micro.findIndex((m) => m.micro === resumed.micro[0].micro);
    expect(resumed.micro[0].micro).toBe(7); // epoch 1's micro-batches 2 and 3 (step 5 of 9): 5 + 2
    expect(resumed.micro).toEqual(full.micro.slice(cut));
    expect(resumed.ticks[0].n).toBe(4);
    expect(resumed.options.state.log_history.map((e) => e.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    resumed.options.state.log_history.forEach((e, i) => expect(e.loss).toBeCloseTo(full.options.state.log_history[i].loss!, 6));
    // train_loss covers the steps of this call only.
    expect(r.trainLoss).toBeCloseTo(mean(stepLosses(full).slice(4)), 5);
  });

  it("on abort, stops after the step with a checkpoint (one, when the step saved anyway)", async () => {
    // saveStrategy 2 saved step 2, then the abort at step 3 wrote checkpoint-3 too.
    for (const [saveStrategy, expected, writes] of [["no", [3], 1], [3, [3], 1], [2, [2, 3], 2]] as const) {
      const out = tempDir();
      const abort = new AbortController();
      let written = 0;
      const h = harness(10, { perDeviceTrainBatchSize: 2, numTrainEpochs: 2, saveStrategy, saveTotalLimit: 0 }, {
        signal: abort.signal,
        checkpoints: { outputDir: out, weights: async () => (written++, { w: { dtype: "F32", shape: [], data: Float32Array.of(1) } }), trainingArgs: {} },
      });
      const plain = h.options.microBatch;
      h.options.microBatch = (rows, micro) => {
        if (micro === 2) abort.abort();
        return plain(rows, micro);
      };
      const r = await runSteps(h.options);
      expect(r.stopped).toBe("interrupted");
      expect(r.stepsDone).toBe(3);
      expect(listCheckpoints(out).map((c) => c.step)).toEqual(expected);
      expect(written).toBe(writes);
    }
  });

  it("ends a run cut by max_steps or fractional epochs at its last step, logging and saving it as an epoch's end", async () => {
    const out = tempDir();
    // 10 rows, batch 2: 5 steps an epoch; max_steps 7 ends 2 steps into epoch 2.
    const h = harness(10, { perDeviceTrainBatchSize: 2, maxSteps: 7, loggingSteps: 4, evalStrategy: "epoch", saveStrategy: "epoch", saveTotalLimit: 0 }, {
      checkpoints: { outputDir: out, weights: async () => ({ w: { dtype: "F32", shape: [], data: Float32Array.of(1) } }), trainingArgs: {} },
    });
    h.options.evaluate = async () => (h.evals.push(h.options.state.global_step), false);
    const r = await runSteps(h.options);
    expect([r.stepsDone, h.options.state.global_step, h.options.state.epoch]).toEqual([7, 7, 1.4]);
    expect(h.micro).toHaveLength(7);
    expect(losses(h.options.state).map((e) => e.step)).toEqual([4, 5, 7]);
    expect(h.evals).toEqual([5, 7]);
    expect(listCheckpoints(out).map((c) => c.step)).toEqual([5, 7]);
    const half = harness(10, { perDeviceTrainBatchSize: 2, numTrainEpochs: 1.5 });
    expect((await runSteps(half.options)).stepsDone).toBe(8);
  });

  it("stops early when the caller says so, after that step", async () => {
    const h = harness(10, { perDeviceTrainBatchSize: 2, numTrainEpochs: 3 });
    h.options.stopEarly = () => h.options.state.global_step === 7;
    const r = await runSteps(h.options);
    expect([r.stopped, r.stepsDone, h.options.state.global_step]).toEqual(["early-stopping", 7, 7]);
    const never = harness(10, { perDeviceTrainBatchSize: 2, numTrainEpochs: 1 }, { stopEarly: () => false });
    expect((await runSteps(never.options)).stopped).toBeUndefined();
  });

  it("names best_model_checkpoint only for a checkpoint saved with an improving evaluation, and only when asked to", async () => {
    for (const tracks of [true, false]) {
      const out = tempDir();
      const h = harness(10, { perDeviceTrainBatchSize: 2, numTrainEpochs: 2, evalStrategy: 2, saveStrategy: 2, saveTotalLimit: 0 }, {
        tracksBestCheckpoint: tracks,
        checkpoints: { outputDir: out, weights: async () => ({ w: { dtype: "F32", shape: [], data: Float32Array.of(1) } }), trainingArgs: {} },
      });
      // Improves at steps 2 and 6, not at 4, 8, 10.
      h.options.evaluate = async () => [2, 6].includes(h.options.state.global_step);
      await runSteps(h.options);
      expect(h.options.state.best_model_checkpoint).toBe(tracks ? join(out, "checkpoint-6") : null);
    }
  });

  it("updates only the epoch's trainable variables, asking for them once an epoch", async () => {
    const u = tf.variable(tf.scalar(1), true, `u${Math.random()}`);
    const asked: number[] = [];
    const h = harness(4, { perDeviceTrainBatchSize: 2, numTrainEpochs: 2, learningRate: 0.1 });
    h.options.optimizer = new AdamW([{ params: [h.w, u], weightDecay: 0 }]);
    h.options.trainable = (epoch) => (asked.push(epoch), epoch === 0 ? [h.w] : [h.w, u]);
    h.options.microBatch = () => ({ tokens: 1, loss: () => h.w.add(u) as tf.Scalar });
    // Epoch 1 starts after step 2: record u there.
    let uAfterEpoch0 = NaN;
    h.options.stopEarly = () => {
      if (h.options.state.global_step === 2) uAfterEpoch0 = u.dataSync()[0];
      return false;
    };
    await runSteps(h.options);
    expect(asked).toEqual([0, 1]);
    expect(uAfterEpoch0).toBe(1);
    expect(u.dataSync()[0]).toBeLessThan(1);
    expect(h.w.dataSync()[0]).toBeLessThan(u.dataSync()[0]);
  });

  it("keeps tensor memory flat across steps", async () => {
    const counts: number[] = [];
    const h = harness(20, { perDeviceTrainBatchSize: 2, gradientAccumulationSteps: 2, numTrainEpochs: 1 });
    h.options.progress = () => ({ tick: () => counts.push(tf.memory().numTensors), done() {} });
    await runSteps(h.options);
    expect(new Set(counts.slice(2)).size).toBe(1);
  });
});

describe("startingState", () => {
  it("starts fresh without --resume-from-checkpoint; with it, loads the checkpoint's weights, moments and state, and says so", async () => {
    const out = tempDir();
    const h = harness(10, { perDeviceTrainBatchSize: 2, numTrainEpochs: 1, saveStrategy: 3, learningRate: 0.1, loggingSteps: 1 }, {
      checkpoints: { outputDir: out, weights: async () => ({ w: { dtype: "F32", shape: [], data: Float32Array.of(h.w.dataSync()[0]) } }), trainingArgs: {} },
    });
    await runSteps(h.options);
    const log: string[] = [];
    const loaded: number[] = [];
    const model = { assignFrom: (f: SafetensorsFile) => void loaded.push(f.tensors.size) };
    const fresh = startingState({ args: h.options.args, outputDir: out, plan: h.options.plan, hint: "h", model, optimizer: h.options.optimizer, vars: h.options.vars, log: (l) => log.push(l) });
    expect(fresh).toEqual(newTrainerState(h.options.args, 5, 1));
    expect([loaded, log]).toEqual([[], []]);
    const w = tf.variable(tf.scalar(0), true, `w${Math.random()}`);
    const optimizer = new AdamW([{ params: [w], weightDecay: 0 }]);
    const state = startingState({
      args: { ...h.options.args, resumeFromCheckpoint: join(out, "checkpoint-3") },
      outputDir: out,
      plan: h.options.plan,
      hint: "h",
      model,
      optimizer,
      vars: new Map([["w", w]]),
      log: (l) => log.push(l),
    });
    expect(state.global_step).toBe(3);
    expect(state.log_history.map((e) => e.step)).toEqual([1, 2, 3]);
    expect(loaded).toEqual([1]);
    expect(optimizer.statefulParams).toBe(1);
    expect(log).toEqual([`resuming from ${join(out, "checkpoint-3")} at step 3/5`]);
  });
});

describe("checkpointToResume", () => {
  it("finds the checkpoint, refuses one of another run length, and needs --output for 'latest'", async () => {
    const args = resolveArgs({});
    expect(checkpointToResume(args, undefined, 10, "hint")).toBeUndefined();
    expect(() => checkpointToResume({ ...args, resumeFromCheckpoint: "latest" }, undefined, 10, "hint")).toThrow(/^--resume-from-checkpoint latest needs --output$/);
    const out = tempDir();
    const h = harness(10, { perDeviceTrainBatchSize: 2, numTrainEpochs: 1, saveStrategy: 5 }, {
      checkpoints: { outputDir: out, weights: async () => ({ w: { dtype: "F32", shape: [], data: Float32Array.of(3) } }), trainingArgs: {} },
    });
    await runSteps(h.options);
    const ckpt = checkpointToResume({ ...args, resumeFromCheckpoint: "latest" }, out, 5, "hint")!;
    expect(ckpt.dir).toBe(join(out, "checkpoint-5"));
    expect(ckpt.state.global_step).toBe(5);
    expect(existsSync(join(ckpt.dir, "model.safetensors"))).toBe(true);
    // A checkpoint folder named outright needs no --output.
    expect(checkpointToResume({ ...args, resumeFromCheckpoint: ckpt.dir }, undefined, 5, "hint")!.dir).toBe(ckpt.dir);
    let err: unknown;
    try {
      checkpointToResume({ ...args, resumeFromCheckpoint: "latest" }, out, 6, "use the same batch size");
    } catch (e) {
      err = e;
    }
    expect((err as BertuneError).message).toBe(`${join(out, "checkpoint-5")} was trained for 5 steps, this run has 6`);
    expect((err as BertuneError).hint).toBe("use the same batch size");
    // The checkpoint's training_args.json has no group_by_length: it was trained without.
    expect(() => checkpointToResume({ ...args, resumeFromCheckpoint: "latest", groupByLength: true }, out, 5, "hint")).toThrow(/^.*checkpoint-5 was trained without --group-by-length, this run is with it$/);
    const grouped = tempDir();
    const g = harness(10, { perDeviceTrainBatchSize: 2, numTrainEpochs: 1, saveStrategy: 5, groupByLength: true }, {
      checkpoints: { outputDir: grouped, weights: async () => ({ w: { dtype: "F32", shape: [], data: Float32Array.of(3) } }), trainingArgs: { group_by_length: true } },
    });
    await runSteps(g.options);
    expect(checkpointToResume({ ...args, resumeFromCheckpoint: "latest", groupByLength: true }, grouped, 5, "hint")!.state.global_step).toBe(5);
    expect(() => checkpointToResume({ ...args, resumeFromCheckpoint: "latest" }, grouped, 5, "hint")).toThrow(/trained with --group-by-length, this run is without it$/);
    // A checkpoint without a readable training_args.json (written by hand, or older): nothing to compare.
    rmSync(join(grouped, "checkpoint-5", "training_args.json"));
    expect(checkpointToResume({ ...args, resumeFromCheckpoint: "latest" }, grouped, 5, "hint")!.state.global_step).toBe(5);
  });
});

describe("--group-by-length: transformers' get_length_grouped_indices", () => {
  const lengths = [5, 9, 2, 7, 1, 8, 3, 4];
  const perm = [3, 1, 4, 0, 2, 5, 7, 6];

  it("sorts megabatches of mult × batch examples by length, longest first, and moves the longest of all to the front", () => {
    // n = 8, batch 1: mult = min(⌊8 / 4⌋, 50) = 2 → megabatches [3,1] [4,0] [2,5] [7,6], sorted: [1,3] [0,4] [5,2] [7,6].
    expect(lengthGroupedOrder(perm, lengths, 1)).toEqual([1, 3, 0, 4, 5, 2, 7, 6]);
    // Example 5 the longest (10): its megabatch's head swaps with the first megabatch's head.
    const longer = [...lengths];
    longer[5] = 10;
    expect(lengthGroupedOrder(perm, longer, 1)).toEqual([5, 3, 0, 4, 1, 2, 7, 6]);
    // Fewer than 4 batches: mult is at least 1 (one megabatch of `batch`); batch 4 of 8 → mult 0 → 1: [3,1,4,0] [2,5,7,6] → [1,3,0,4] [5,7,6,2].
    expect(lengthGroupedOrder(perm, lengths, 4)).toEqual([1, 3, 0, 4, 5, 7, 6, 2]);
    // Ties keep the permutation's order (Python's sorted is stable).
    expect(lengthGroupedOrder([2, 0, 1, 3], [4, 4, 4, 4], 1)).toEqual([2, 0, 1, 3]);
    expect(lengthGroupedOrder([], [], 8)).toEqual([]);
  });

  it("caps megabatches at 50 batches", () => {
    const n = 1000;
    const rng = new Rng(7);
    const ls = Array.from({ length: n }, () => 1 + Math.floor(rng.next() * 60));
    const p = rng.shuffle(Array.from({ length: n }, (_, i) => i));
    const order = lengthGroupedOrder(p, ls, 2); // mult = min(125, 50) = 50: megabatches of 100
    for (let m = 0; m < 10; m++) {
      const block = order.slice(m * 100, (m + 1) * 100);
      // The megabatch holds the permutation's 100 examples there (but for the one swapped head).
      const from = new Set(p.slice(m * 100, (m + 1) * 100));
      expect(block.slice(1).every((i) => from.has(i))).toBe(true);
      for (let i = 2; i < 100; i++) expect(ls[block[i - 1]]).toBeGreaterThanOrEqual(ls[block[i]]);
    }
    expect(ls[order[0]]).toBe(Math.max(...ls));
    expect(new Set(order).size).toBe(n);
  });

  it("the loop cuts its batches from the grouped order (over one optimizer step's examples) only when asked, and pads less", async () => {
    const ls = Array.from({ length: 24 }, (_, i) => 1 + ((i * 7) % 24));
    const run = async (group: boolean, withLengths = true) => {
      const h = harness(24, { perDeviceTrainBatchSize: 2, gradientAccumulationSteps: 2, numTrainEpochs: 1, groupByLength: group }, withLengths ? { lengths: ls } : {});
      await runSteps(h.options);
      return h.micro.flatMap((m) => m.rows);
    };
    const shuffled = new Rng(streamSeed(42, STREAM_SHUFFLE, 0)).shuffle(Array.from({ length: 24 }, (_, i) => i));
    expect(await run(false)).toEqual(shuffled);
    expect(await run(true, false)).toEqual(shuffled);
    const grouped = await run(true);
    expect(grouped).toEqual(lengthGroupedOrder(shuffled, ls, 4));
    const padded = (order: number[]) => [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11].reduce((t, b) => t + 2 * Math.max(ls[order[2 * b]], ls[order[2 * b + 1]]), 0);
    expect(padded(grouped)).toBeLessThan(padded(shuffled));
  });
});
