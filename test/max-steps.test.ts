/**
 * --max-steps and fractional --epochs in both trainers, as the Trainer counts them: max_steps
 * overrides the epochs, 2.5 epochs are ceil(2.5 × steps per epoch) steps, the last (partial)
 * epoch ends like a whole one (loss logged, "epoch" evaluation and checkpoint), the fractional
 * epoch is logged, and the schedule spans exactly max_steps.
 */
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { useBackend } from "../src/backend/tfjs.js";
import { loadFullModelSource, type FullModelSource } from "../src/model.js";
import { resolveArgs, type TrainingArgs } from "../src/train/args.js";
import { listCheckpoints } from "../src/train/checkpoint.js";
import { trainFull } from "../src/train/full-trainer.js";
import { trainHead, type FeatureSplit } from "../src/train/head-trainer.js";
import { Rng } from "../src/util/rng.js";
import { keywordDataset } from "./helpers/datasets.js";
import { TINY_MODEL, tempDir } from "./helpers/fixtures.js";

function separable(n: number, h: number, seed: number): FeatureSplit {
  const rng = new Rng(seed);
  const dir = Array.from({ length: h }, () => rng.normal());
  const data = new Float32Array(n * h);
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    labels.push(i % 2);
    for (let j = 0; j < h; j++) data[i * h + j] = (i % 2 ? 1 : -1) * dir[j] * 0.5 + rng.normal() * 0.1;
  }
  return { data, rows: n, labels };
}

const stepsOf = (log: { step: number; epoch: number }[]) => log.map((e) => [e.step, e.epoch]);
const evals = <E extends { eval_accuracy?: number; step: number; epoch: number }>(h: E[]) => stepsOf(h.filter((e) => e.eval_accuracy !== undefined));
const losses = <E extends { loss?: number; step: number; epoch: number }>(h: E[]) => stepsOf(h.filter((e) => e.loss !== undefined));

describe("frozen head: --max-steps and fractional epochs", () => {
  // 100 rows, batch 16: 7 steps an epoch (the last of 4 rows).
  const input = { train: separable(100, 8, 3), validation: separable(20, 8, 4), hiddenSize: 8, id2label: ["neg", "pos"], dropout: 0.1, initializerRange: 0.02 };
  const args = (over: Partial<TrainingArgs>) => resolveArgs({ freezeBackbone: true, perDeviceTrainBatchSize: 16, learningRate: 1e-2, ...over });

  it("2.5 epochs are ceil(2.5 × 7) = 18 steps over 3 epochs, the last one of 4 steps", () => {
    const r = trainHead(input, args({ numTrainEpochs: 2.5 }));
    expect(r.state).toMatchObject({ global_step: 18, max_steps: 18, num_train_epochs: 3, epoch: 18 / 7 });
    expect(evals(r.state.log_history)).toEqual([[7, 1], [14, 2], [18, 2.5714]]);
    expect(losses(r.state.log_history)).toEqual([[7, 1], [14, 2], [18, 2.5714]]);
    // The linear schedule spans the 18 steps: the last step (index 17) runs at lr × 1/18.
    expect(r.state.log_history.at(-2)!.learning_rate).toBeCloseTo(1e-2 / 18, 15);
  });

  it("--max-steps overrides the epochs, stops mid-epoch and still ends that epoch (log, evaluation)", () => {
    const r = trainHead(input, args({ numTrainEpochs: 5, maxSteps: 10, loggingSteps: 4 }));
    expect(r.state).toMatchObject({ global_step: 10, max_steps: 10, num_train_epochs: 2, epoch: 10 / 7 });
    expect(evals(r.state.log_history)).toEqual([[7, 1], [10, 1.4286]]);
    expect(losses(r.state.log_history)).toEqual([[4, 0.5714], [7, 1], [8, 1.1429], [10, 1.4286]]);
    expect(r.state.log_history.find((e) => e.step === 10 && e.loss !== undefined)!.learning_rate).toBeCloseTo(1e-2 / 10, 15);
    // And beyond --epochs: 25 steps are 4 epochs (7, 14, 21, then 4 steps).
    const longer = trainHead(input, args({ numTrainEpochs: 1, maxSteps: 25 }));
    expect(longer.state).toMatchObject({ global_step: 25, num_train_epochs: 4 });
    expect(evals(longer.state.log_history).map(([s]) => s)).toEqual([7, 14, 21, 25]);
  });

  it("takes the very steps of an epoch-based run (constant schedule, same seed): 7 steps = 1 epoch, 14 = 2", () => {
    const constant = { lrSchedulerType: "constant" as const };
    for (const [maxSteps, epochs] of [[7, 1], [14, 2]]) {
      const a = trainHead(input, args({ ...constant, numTrainEpochs: 3, maxSteps })).head;
      const b = trainHead(input, args({ ...constant, numTrainEpochs: epochs })).head;
      expect(Buffer.from(a.weight.buffer).equals(Buffer.from(b.weight.buffer)), `${maxSteps} steps`).toBe(true);
    }
    const short = trainHead(input, args({ ...constant, numTrainEpochs: 3, maxSteps: 6 })).head;
    const epoch = trainHead(input, args({ ...constant, numTrainEpochs: 1 })).head;
    expect(Buffer.from(short.weight.buffer).equals(Buffer.from(epoch.weight.buffer))).toBe(false);
  });
});

describe("full fine-tuning: --max-steps and fractional epochs", () => {
  let source: FullModelSource;
  beforeAll(async () => {
    await useBackend("wasm");
    source = await loadFullModelSource(TINY_MODEL);
  });
  const data = keywordDataset(160, 1); // batch 16: 10 steps an epoch
  const base = (over: Partial<TrainingArgs>) => resolveArgs({ perDeviceTrainBatchSize: 16, learningRate: 2e-3, maxLength: 32, saveTotalLimit: null, ...over });

  it("--max-steps 13 of 10-step epochs: checkpoints every 5 steps and at the last step, 'epoch' evaluations at 10 and 13; resumed from checkpoint-10 it ends the same", async () => {
    const out = tempDir();
    const args = base({ numTrainEpochs: 3, maxSteps: 13, saveStrategy: 5 });
    const r = await trainFull({ source, dataset: data, args, outputDir: out });
    expect(r.state).toMatchObject({ global_step: 13, max_steps: 13, num_train_epochs: 2, epoch: 1.3 });
    expect(listCheckpoints(out).map((c) => c.step)).toEqual([5, 10, 13]); // as the Trainer: a steps strategy also saves the last step
    expect(evals(r.state.log_history)).toEqual([[10, 1], [13, 1.3]]);
    expect(r.state.log_history.find((e) => e.step === 13 && e.loss !== undefined)!.learning_rate).toBeCloseTo(2e-3 / 13, 15);

    const resumed = await trainFull({ source, dataset: data, args: { ...args, resumeFromCheckpoint: join(out, "checkpoint-10") }, outputDir: out });
    expect(resumed.state.global_step).toBe(13);
    const [wa, wb] = await Promise.all([r.model.toTensors(), resumed.model.toTensors()]);
    for (const name of Object.keys(wa)) expect(Buffer.from(wb[name].data.buffer).equals(Buffer.from(wa[name].data.buffer)), name).toBe(true);
    // A checkpoint of another length is refused, naming --max-steps.
    await expect(trainFull({ source, dataset: data, args: { ...args, maxSteps: 12, resumeFromCheckpoint: join(out, "checkpoint-10") }, outputDir: out })).rejects.toThrow(/trained for 13 steps, this run has 12/);
    r.model.dispose();
    resumed.model.dispose();
  });

  it("1.5 epochs are 15 steps; the half epoch ends with its evaluation and its 'epoch' checkpoint", async () => {
    const out = tempDir();
    const r = await trainFull({ source, dataset: data, args: base({ numTrainEpochs: 1.5, saveStrategy: "epoch" }), outputDir: out });
    expect(r.state).toMatchObject({ global_step: 15, max_steps: 15, num_train_epochs: 2, epoch: 1.5 });
    expect(listCheckpoints(out).map((c) => c.step)).toEqual([10, 15]);
    expect(evals(r.state.log_history)).toEqual([[10, 1], [15, 1.5]]);
    r.model.dispose();
  });
});
