import { describe, expect, it, beforeAll } from "vitest";
import { resolveArgs } from "../src/train/args.js";
import { tf, useBackend } from "../src/backend/tfjs.js";
import { evaluateHead, trainHead, type FeatureSplit } from "../src/train/head-trainer.js";
import { AdamW, clipByGlobalNorm } from "../src/train/adamw.js";
import { ArrayAdamW, clipScale, globalNorm } from "../src/train/array-adamw.js";
import { ClassificationHead, crossEntropy } from "../src/heads/classification-head.js";
import { gatherRows, headGradientBuffers, LinearHead, linearHeadGradients } from "../src/heads/linear-head.js";
import { streamSeed, STREAM_DROPOUT, STREAM_INIT, STREAM_SHUFFLE } from "../src/train/seeds.js";
import { learningRateAt, warmupStepsFor } from "../src/train/schedule.js";
import { Rng } from "../src/util/rng.js";

/** Two Gaussian blobs far apart along a random direction: linearly separable by construction. */
function separable(n: number, h: number, seed: number): FeatureSplit {
  const rng = new Rng(seed);
  const dir = Array.from({ length: h }, () => rng.normal());
  const data = new Float32Array(n * h);
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const y = i % 2;
    labels.push(y);
    for (let j = 0; j < h; j++) data[i * h + j] = (y ? 1 : -1) * dir[j] * 0.5 + rng.normal() * 0.1;
  }
  return { data, rows: n, labels };
}

beforeAll(async () => {
  await useBackend("wasm");
});

describe("head training on frozen features", () => {
  const train = separable(200, 16, 1);
  const validation = separable(60, 16, 2);
  const input = { train, validation, hiddenSize: 16, id2label: ["neg", "pos"], dropout: 0.1, initializerRange: 0.02 };
  const args = resolveArgs({ numTrainEpochs: 5, perDeviceTrainBatchSize: 16, loggingSteps: 13, learningRate: 1e-2 });

  it("reaches 100% training accuracy on linearly separable features and the loss decreases", () => {
    const r = trainHead(input, args);
    const losses = r.state.log_history.filter((e) => e.loss !== undefined).map((e) => e.loss!);
    expect(losses.length).toBeGreaterThan(3);
    expect(losses[losses.length - 1]).toBeLessThan(losses[0] * 0.5);
    expect(evaluateHead(r.head, train, input.id2label).report.accuracy).toBe(1);
    expect(r.evalReport.accuracy).toBe(1);
    // One eval entry per epoch, at the right step.
    const evals = r.state.log_history.filter((e) => e.eval_accuracy !== undefined);
    expect(evals.map((e) => e.step)).toEqual([13, 26, 39, 52, 65]);
    expect(r.state.global_step).toBe(65);
  });

  it("gives the same weights bit for bit for the same seed, and different ones for another seed", () => {
    const a = trainHead(input, args).head.toTensors();
    const b = trainHead(input, args).head.toTensors();
    const c = trainHead(input, { ...args, seed: 7 }).head.toTensors();
    expect(Buffer.from(a["classifier.weight"].data.buffer).equals(Buffer.from(b["classifier.weight"].data.buffer))).toBe(true);
    expect(Array.from(a["classifier.bias"].data)).toEqual(Array.from(b["classifier.bias"].data));
    expect(Array.from(a["classifier.weight"].data)).not.toEqual(Array.from(c["classifier.weight"].data));
  });

  it("takes exactly the steps of the tensor implementation: tfjs autodiff, clip_grad_norm_, AdamW", () => {
    // The same recipe spelled out with tensorflow.js ops (whose AdamW step matches PyTorch's
    // reference in tfjs-bert.test.ts): same init, data order, dropout masks, warmup and clipping.
    // A small max norm makes clipping act on most steps; 110 rows / batch 16 leaves a partial batch.
    const small = { ...input, train: separable(110, 16, 3) };
    // Adam's betas and epsilon away from their defaults, so that the args must reach the optimizer.
    const a = resolveArgs({ numTrainEpochs: 2, perDeviceTrainBatchSize: 16, learningRate: 5e-2, warmupSteps: 3, maxGradNorm: 0.05, weightDecay: 0.01, adamBeta1: 0.7, adamBeta2: 0.95, adamEpsilon: 1e-3 });
    const mine = trainHead(small, a).head;

    const head = new ClassificationHead(LinearHead.init(16, 2, { seed: streamSeed(a.seed, STREAM_INIT), dropout: 0.1, initializerRange: 0.02 }));
    const opt = new AdamW([{ params: [head.kernel], weightDecay: a.weightDecay }, { params: [head.bias], weightDecay: 0 }], { beta1: 0.7, beta2: 0.95, epsilon: 1e-3 });
    const steps = Math.ceil(110 / 16);
    const schedule = { learningRate: a.learningRate, warmupSteps: 3, totalSteps: steps * 2, type: a.lrSchedulerType };
    let clippedSteps = 0;
    for (let epoch = 0, step = 0; epoch < 2; epoch++) {
      const order = new Rng(streamSeed(a.seed, STREAM_SHUFFLE, epoch)).shuffle(Array.from({ length: 110 }, (_, i) => i));
      const dropRng = new Rng(streamSeed(a.seed, STREAM_DROPOUT, epoch));
      for (let s = 0; s < steps; s++, step++) {
        const idx = order.slice(s * 16, (s + 1) * 16);
        const x = tf.tensor2d(gatherRows(small.train.data, 16, idx, { rng: dropRng, p: 0.1 }), [idx.length, 16]);
        const { value, grads } = tf.variableGrads(() => crossEntropy(head.logits(x), idx.map((i) => small.train.labels[i]), 2), [head.kernel, head.bias]);
        const clipped = clipByGlobalNorm(grads, a.maxGradNorm);
        if (clipped.norm.dataSync()[0] > a.maxGradNorm) clippedSteps++;
        opt.step(clipped.grads, learningRateAt(step, schedule));
        tf.dispose([x, value, clipped.norm, ...Object.values(clipped.grads)]);
      }
    }
    expect(clippedSteps).toBeGreaterThan(steps);
    const ref = head.toTensors();
    return ref.then((t) => {
      const maxDiff = (u: Float32Array, v: Float32Array) => u.reduce((m, x, i) => Math.max(m, Math.abs(x - v[i])), 0);
      expect(maxDiff(mine.weight, t["classifier.weight"].data)).toBeLessThan(1e-6);
      expect(maxDiff(mine.bias, t["classifier.bias"].data)).toBeLessThan(1e-6);
      // And the weights moved well beyond that tolerance.
      expect(maxDiff(mine.weight, LinearHead.init(16, 2, { seed: streamSeed(a.seed, STREAM_INIT), dropout: 0, initializerRange: 0.02 }).weight)).toBeGreaterThan(1e-2);
      opt.dispose();
      head.dispose();
    });
  });

  it("stops with the step number when the loss is not finite", () => {
    const bad = { ...train, data: train.data.slice() };
    bad.data[5] = Number.NaN;
    // Row 0 holds the NaN: the step whose batch has it (its place in epoch 1's shuffle) is the one named.
    const order = new Rng(streamSeed(args.seed, STREAM_SHUFFLE, 0)).shuffle(Array.from({ length: 200 }, (_, i) => i));
    const step = Math.floor(order.indexOf(0) / 16) + 1;
    expect(() => trainHead({ ...input, train: bad }, args)).toThrow(new RegExp(`^the training loss became NaN at step ${step}$`));
  });
});

describe("AdamW and clipping match torch", () => {
  it("one AdamW step with decoupled weight decay equals the hand-computed torch update", () => {
    const p = tf.variable(tf.tensor1d([1, -2]), true, "adamw-test-p");
    const opt = new AdamW([{ params: [p], weightDecay: 0.1 }]);
    opt.step({ [p.name]: tf.tensor1d([0.5, -0.25]) }, 0.01);
    // torch: p *= 1 - lr*wd; m = 0.1 g; v = 0.001 g^2; p -= lr/(1-0.9) * m / (sqrt(v)/sqrt(1-0.999) + eps)
    const expected = [1 * (1 - 0.001), -2 * (1 - 0.001)].map((x, i) => {
      const g = [0.5, -0.25][i];
      const m = 0.1 * g;
      const v = 0.001 * g * g;
      return x - (0.01 / 0.1) * (m / (Math.sqrt(v) / Math.sqrt(0.001) + 1e-8));
    });
    const got = Array.from(p.dataSync());
    expect(got[0]).toBeCloseTo(expected[0], 6);
    expect(got[1]).toBeCloseTo(expected[1], 6);
    opt.dispose();
    p.dispose();
  });

  it("the array AdamW takes the same hand-computed torch step", () => {
    const p = Float32Array.from([1, -2]);
    const bias = Float32Array.from([0.5]);
    new ArrayAdamW([{ value: p, weightDecay: 0.1 }, { value: bias, weightDecay: 0 }]).step([Float32Array.from([0.5, -0.25]), Float32Array.from([2])], 0.01);
    const torchStep = (x: number, g: number, wd: number) => x * (1 - 0.01 * wd) - (0.01 / 0.1) * ((0.1 * g) / (Math.sqrt(0.001 * g * g) / Math.sqrt(0.001) + 1e-8));
    expect(p[0]).toBeCloseTo(torchStep(1, 0.5, 0.1), 6);
    expect(p[1]).toBeCloseTo(torchStep(-2, -0.25, 0.1), 6);
    expect(bias[0]).toBeCloseTo(torchStep(0.5, 2, 0), 6);
  });

  it("clips by global norm like clip_grad_norm_ (tensors and arrays)", () => {
    const { grads, norm } = clipByGlobalNorm({ a: tf.tensor1d([3, 0]), b: tf.tensor1d([0, 4]) }, 1);
    expect(norm.dataSync()[0]).toBeCloseTo(5, 6);
    expect(Array.from(grads.a.dataSync())[0]).toBeCloseTo(3 / (5 + 1e-6), 6);
    expect(Array.from(grads.b.dataSync())[1]).toBeCloseTo(4 / (5 + 1e-6), 6);
    const unclipped = clipByGlobalNorm({ a: tf.tensor1d([0.3, 0.4]) }, 1);
    expect(Array.from(unclipped.grads.a.dataSync())).toEqual([Math.fround(0.3), Math.fround(0.4)]);
    expect(globalNorm([Float32Array.from([3, 0]), Float32Array.from([0, 4])])).toBeCloseTo(5, 6);
    expect(clipScale(5, 1)).toBeCloseTo(1 / (5 + 1e-6), 9);
    expect(clipScale(0.5, 1)).toBe(1);
    expect(clipScale(5, 0)).toBe(1);
  });
});

describe("learning-rate schedule", () => {
  it("warms up linearly from 0 then decays linearly to 0, as get_linear_schedule_with_warmup", () => {
    const o = { learningRate: 1, warmupSteps: 10, totalSteps: 110, type: "linear" as const };
    expect(learningRateAt(0, o)).toBe(0);
    expect(learningRateAt(5, o)).toBeCloseTo(0.5);
    expect(learningRateAt(10, o)).toBe(1);
    expect(learningRateAt(60, o)).toBeCloseTo(0.5);
    expect(learningRateAt(110, o)).toBe(0);
    expect(learningRateAt(60, { ...o, type: "cosine" })).toBeCloseTo(0.5);
    expect(learningRateAt(35, { ...o, type: "cosine" })).toBeCloseTo(0.5 * (1 + Math.cos(Math.PI * 0.25)));
    expect(learningRateAt(100, { ...o, type: "constant" })).toBe(1);
    expect(warmupStepsFor(1000, 0.06)).toBe(60);
    expect(warmupStepsFor(1000, 0.06, 7)).toBe(7);
  });
});

describe("dropout on gathered features", () => {
  it("drops a fraction p of units, scales the rest by 1/(1-p), and repeats for a seed", async () => {
    const h = 1001;
    const data = Float32Array.from({ length: 120 * h }, (_, i) => 1 + (i % 7));
    const idx = Array.from({ length: 100 }, (_, i) => (i * 37) % 120);
    const m = gatherRows(data, h, idx, { rng: new Rng(5), p: 0.1 });
    const dropped = m.filter((x) => x === 0).length / m.length;
    expect(dropped).toBeGreaterThan(0.095);
    expect(dropped).toBeLessThan(0.105);
    idx.forEach((r, k) => {
      for (let j = 0; j < h; j++) {
        const v = m[k * h + j];
        if (v !== 0) expect(Math.abs(v - data[r * h + j] / 0.9)).toBeLessThan(1e-5);
      }
    });
    expect(Array.from(gatherRows(data, h, idx, { rng: new Rng(5), p: 0.1 }))).toEqual(Array.from(m));
    expect(Array.from(gatherRows(data, h, idx))).toEqual(idx.flatMap((r) => Array.from(data.subarray(r * h, (r + 1) * h))));
  });
});

describe("closed-form gradients of the linear head", () => {
  // The small shape runs the JS loops, the large one onnxruntime's products; a scale stands for
  // gatherDropped's 1/(1-p), the tensor reference multiplying x by it.
  it.each([
    [16, 24, 1],
    [64, 96, 1 / 0.9],
  ])("equal tensorflow.js autodiff of the cross-entropy (loss, dW, db): batch %i, hidden %i, input scale %f", (b, h, scale) => {
    const rng = new Rng(11);
    const k = 3;
    const xv = Float32Array.from({ length: b * h }, () => (rng.next() < 0.1 ? 0 : rng.normal()));
    const head = new LinearHead(h, k, Float32Array.from({ length: h * k }, () => rng.normal() * 0.3), Float32Array.from([0.1, -0.2, 0.05]));
    const labels = Array.from({ length: b }, (_, i) => i % k);
    const t = new ClassificationHead(head);
    const x = tf.mul(tf.tensor2d(xv, [b, h]), scale) as tf.Tensor2D;
    const { value, grads } = tf.variableGrads(() => crossEntropy(t.logits(x), labels, k), [t.kernel, t.bias]);
    const mine = headGradientBuffers(head, b);
    const loss = linearHeadGradients(head, xv, labels, mine, undefined, scale);
    expect(loss).toBeCloseTo(value.dataSync()[0], 5);
    // tfjs' kernel gradient is [h, k]; ours is PyTorch's [k, h].
    const dw = tf.transpose(grads[t.kernel.name]).dataSync();
    const db = grads[t.bias.name].dataSync();
    mine.weight.forEach((v, i) => expect(Math.abs(v - dw[i])).toBeLessThan(1e-6));
    mine.bias.forEach((v, i) => expect(Math.abs(v - db[i])).toBeLessThan(1e-6));
    // Eval-mode logits of the array head equal the tensor head's.
    const lt = t.logits(x).dataSync();
    head.scaledLogits(xv, b, scale, new Float32Array(b * k)).forEach((v, i) => expect(Math.abs(v - lt[i])).toBeLessThan(1e-5));
    tf.dispose([x, value, ...Object.values(grads)]);
    t.dispose();
  });
});

describe("early stopping and load_best_model_at_end in frozen mode", () => {
  // Validation labels unrelated to the training signal: eval accuracy wanders up and down, so the
  // best evaluation is neither the first nor the last.
  const train = separable(200, 16, 1);
  const noisy = separable(80, 16, 5);
  const rng = new Rng(9);
  const validation = { ...noisy, labels: noisy.labels.map(() => rng.int(2)) };
  const input = { train, validation, hiddenSize: 16, id2label: ["neg", "pos"], dropout: 0.1, initializerRange: 0.02 };
  const base = { numTrainEpochs: 30, perDeviceTrainBatchSize: 16, learningRate: 3e-2, freezeBackbone: true };
  const evalsOf = (r: ReturnType<typeof trainHead>) => r.state.log_history.filter((e) => e.eval_accuracy !== undefined);

  it("stops after `patience` evaluations without a better accuracy and keeps the best evaluation's head", () => {
    const all = evalsOf(trainHead(input, resolveArgs(base)));
    expect(all).toHaveLength(30);
    // Where patience 3 must stop, computed from the uninterrupted run's evaluations.
    let best = -1;
    let bestAt = -1;
    let stopAt = -1;
    for (let i = 0, left = 3; i < all.length; i++) {
      if (all[i].eval_accuracy! > best) [best, bestAt, left] = [all[i].eval_accuracy!, i, 3];
      else if (--left === 0) {
        stopAt = i;
        break;
      }
    }
    expect(bestAt).toBeGreaterThan(0); // the scenario is not trivial: best is not the first...
    expect(stopAt).toBeGreaterThan(bestAt);
    expect(stopAt).toBeLessThan(29); // ...and patience ends the run early

    const r = trainHead(input, resolveArgs({ ...base, earlyStoppingPatience: 3, loadBestModelAtEnd: true }));
    expect(r.stopped).toBe("early-stopping");
    expect(evalsOf(r).map((e) => e.eval_accuracy)).toEqual(all.slice(0, stopAt + 1).map((e) => e.eval_accuracy));
    expect(r.state.global_step).toBe((stopAt + 1) * 13);
    expect(r.state.best_metric).toBe(best);
    // The kept head is the best evaluation's: same accuracy and the very same loss.
    const kept = evaluateHead(r.head, validation, input.id2label);
    expect(kept.report.accuracy).toBe(best);
    expect(kept.loss).toBe(all[bestAt].eval_loss);
    expect(r.evalReport.accuracy).toBe(best);
  });

  it("with evaluations every N steps, stops mid-epoch once patience runs out, and says so in the log", () => {
    const every = (extra: Record<string, unknown>) => resolveArgs({ ...base, evalStrategy: 4, ...extra });
    const all = evalsOf(trainHead(input, every({})));
    let best = -1;
    let stopAt = -1;
    for (let i = 0, left = 2; i < all.length; i++) {
      if (all[i].eval_accuracy! > best) [best, left] = [all[i].eval_accuracy!, 2];
      else if (--left === 0) {
        stopAt = i;
        break;
      }
    }
    expect(stopAt).toBeGreaterThan(0);
    const lines: string[] = [];
    const r = trainHead(input, every({ earlyStoppingPatience: 2, loadBestModelAtEnd: true }), { log: (l) => lines.push(l) });
    expect(r.stopped).toBe("early-stopping");
    expect(r.state.global_step).toBe((stopAt + 1) * 4); // an eval step, not an epoch end (13 steps an epoch)
    expect(lines).toContain("early stopping: no better eval_accuracy in 2 evaluations");
    expect(lines).toContain(`kept the best model (eval_accuracy ${best.toFixed(4)})`);
  });

  it("logs each epoch's evaluation and reports progress as training steps", () => {
    const lines: string[] = [];
    const bars: { label: string; total: number; unit: string; ticks: { n: number; info: unknown }[]; done: boolean }[] = [];
    const progress = (label: string, total: number, unit: string) => {
      const bar = { label, total, unit, ticks: [] as { n: number; info: unknown }[], done: false };
      bars.push(bar);
      return { tick: (n = 1, info?: unknown) => void bar.ticks.push({ n, info }), done: () => void (bar.done = true) };
    };
    const r = trainHead(input, resolveArgs({ ...base, numTrainEpochs: 2 }), { log: (l) => lines.push(l), progress });
    const evals = evalsOf(r);
    expect(lines).toEqual(evals.map((e, i) => `epoch ${i + 1}/2: eval_loss ${e.eval_loss!.toFixed(4)}  eval_accuracy ${e.eval_accuracy!.toFixed(4)}`));
    expect(evals.map((e) => e.epoch)).toEqual([1, 2]);
    expect(bars).toHaveLength(1);
    expect([bars[0].label, bars[0].total, bars[0].unit, bars[0].done]).toEqual(["training", 26, "step", true]);
    expect(bars[0].ticks).toHaveLength(26);
    const logged = r.state.log_history.filter((e) => e.loss !== undefined);
    expect(bars[0].ticks[12]).toEqual({ n: 1, info: { epoch: 1, loss: expect.any(Number) } });
    expect(bars[0].ticks.at(-1)!.info).toEqual({ epoch: 2, loss: expect.any(Number) });
    expect(logged.length).toBeGreaterThan(0);
  });

  it("without load_best_model_at_end, the last head is kept", () => {
    const r = trainHead(input, resolveArgs({ ...base, earlyStoppingPatience: 3 }));
    const evals = evalsOf(r);
    expect(r.stopped).toBe("early-stopping");
    expect(evaluateHead(r.head, validation, input.id2label).loss).toBe(evals.at(-1)!.eval_loss);
  });
});

describe("head training's bookkeeping: log history, eval steps, train loss and throughput", () => {
  const train = separable(100, 8, 3); // 100 rows, batch 16: 7 steps an epoch (the last one of 4 rows)
  const validation = separable(20, 8, 4);
  const input = { train, validation, hiddenSize: 8, id2label: ["neg", "pos"], dropout: 0.1, initializerRange: 0.02 };
  const args = (extra: Record<string, unknown>) => resolveArgs({ numTrainEpochs: 2, perDeviceTrainBatchSize: 16, learningRate: 1e-2, ...extra });
  const losses = (r: ReturnType<typeof trainHead>) => r.state.log_history.filter((e) => e.loss !== undefined);

  it("logs every loggingSteps steps and at each epoch's end, each entry the mean loss of its window", () => {
    const every = losses(trainHead(input, args({ loggingSteps: 1 })));
    expect(every.map((e) => e.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
    const r = trainHead(input, args({ loggingSteps: 3 }));
    const windows = losses(r);
    // Steps 3 and 6, the epoch's end at 7 (a window of one step), then 9, 12 and 14.
    expect(windows.map((e) => [e.step, e.epoch])).toEqual([
      [3, round(3 / 7)],
      [6, round(6 / 7)],
      [7, 1],
      [9, round(9 / 7)],
      [12, round(12 / 7)],
      [14, 2],
    ]);
    const mean = (from: number, to: number) => every.slice(from - 1, to).reduce((a, e) => a + e.loss!, 0) / (to - from + 1);
    const expected = [mean(1, 3), mean(4, 6), mean(7, 7), mean(8, 9), mean(10, 12), mean(13, 14)];
    windows.forEach((e, i) => expect(e.loss).toBeCloseTo(expected[i], 12));
    // train_loss is the mean over every step; samples per second counts each example once per epoch.
    expect(r.trainLoss).toBeCloseTo(mean(1, 14), 12);
    expect(r.trainRuntime).toBeGreaterThan(0);
    expect(r.trainRuntime).toBeLessThan(60);
    expect(r.trainSamplesPerSecond * r.trainRuntime).toBeCloseTo(200, 6);
  });

  it("evaluates every N steps with a numeric eval strategy, and at epoch ends with 'epoch'", () => {
    const evalSteps = (r: ReturnType<typeof trainHead>) => r.state.log_history.filter((e) => e.eval_accuracy !== undefined).map((e) => e.step);
    expect(evalSteps(trainHead(input, args({ evalStrategy: 5 })))).toEqual([5, 10]);
    expect(evalSteps(trainHead(input, args({ evalStrategy: "epoch" })))).toEqual([7, 14]);
    expect(evalSteps(trainHead(input, args({ evalStrategy: "no" })))).toEqual([]);
  });
});

function round(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}
