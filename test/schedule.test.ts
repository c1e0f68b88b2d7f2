/**
 * The learning-rate schedules against transformers' formulas (transformers/optimization.py, the
 * lr_lambda of each get_*_schedule; LambdaLR multiplies it by the peak lr), evaluated by hand at a
 * few steps; and how long training is (Trainer: max_steps, or ceil(num_train_epochs × steps per epoch)).
 */
import { describe, expect, it } from "vitest";
import { resolveArgs } from "../src/train/args.js";
import { learningRateAt, trainingLength, type SchedulerType } from "../src/train/schedule.js";

// Peak 1e-3, 10 warmup steps, 110 steps in all: the decay spans steps 10..110 (100 steps).
const lr = (type: SchedulerType, step: number) => learningRateAt(step, { learningRate: 1e-3, warmupSteps: 10, totalSteps: 110, type });

describe("learning-rate schedules, as transformers.get_scheduler builds them", () => {
  it("linear: step/warmup during warmup, then max(0, (total - step) / (total - warmup))", () => {
    expect(lr("linear", 0)).toBe(0);
    expect(lr("linear", 4)).toBeCloseTo(4e-4, 15); // 4/10
    expect(lr("linear", 10)).toBe(1e-3);
    expect(lr("linear", 35)).toBeCloseTo(7.5e-4, 15); // (110 - 35) / 100 = 0.75
    expect(lr("linear", 110)).toBe(0);
    expect(lr("linear", 130)).toBe(0); // max(0, ...)
  });

  it("cosine: after warmup, max(0, 0.5 × (1 + cos(π × 2 × 0.5 × progress))), progress = (step - warmup) / (total - warmup)", () => {
    expect(lr("cosine", 5)).toBeCloseTo(5e-4, 15);
    expect(lr("cosine", 35)).toBeCloseTo(8.535533905932737e-4, 15); // progress 0.25: 0.5 × (1 + cos(π/4)) = 0.85355339...
    expect(lr("cosine", 60)).toBeCloseTo(5e-4, 15); // progress 0.5: 0.5 × (1 + 0)
    expect(lr("cosine", 110)).toBeCloseTo(0, 15);
  });

  it("constant: get_constant_schedule's lambda is 1 at every step — it ignores warmup", () => {
    expect(lr("constant", 0)).toBe(1e-3);
    expect(lr("constant", 5)).toBe(1e-3);
    expect(lr("constant", 500)).toBe(1e-3);
  });

  it("constant_with_warmup: step / max(1, warmup) during warmup, then 1", () => {
    expect(lr("constant_with_warmup", 0)).toBe(0);
    expect(lr("constant_with_warmup", 5)).toBeCloseTo(5e-4, 15);
    expect(lr("constant_with_warmup", 10)).toBe(1e-3);
    expect(lr("constant_with_warmup", 109)).toBe(1e-3);
  });

  it("polynomial (lr_end 1e-7, power 1): warmup, then (lr - lr_end) × (1 - (step - warmup) / (total - warmup))^power + lr_end; lr_end past the end", () => {
    expect(lr("polynomial", 0)).toBe(0);
    expect(lr("polynomial", 5)).toBeCloseTo(5e-4, 15);
    expect(lr("polynomial", 10)).toBeCloseTo(1e-3, 15); // (1e-3 - 1e-7) × 1 + 1e-7
    expect(lr("polynomial", 60)).toBeCloseTo(5.0005e-4, 15); // (1e-3 - 1e-7) × 0.5 + 1e-7
    expect(lr("polynomial", 85)).toBeCloseTo(2.50075e-4, 15); // (1e-3 - 1e-7) × 0.25 + 1e-7
    expect(lr("polynomial", 110)).toBeCloseTo(1e-7, 18); // pct_remaining 0
    expect(lr("polynomial", 111)).toBe(1e-7); // current_step > num_training_steps: lr_end
    // Unlike linear, it never reaches 0: the last step of a 110-step run (index 109) is lr_end + 1/100 of the range.
    expect(lr("polynomial", 109)).toBeCloseTo(1.0099e-5, 15); // (1e-3 - 1e-7) × 0.01 + 1e-7
  });

  it("polynomial refuses a peak below its lr_end, as transformers does", () => {
    expect(() => resolveArgs({ lrSchedulerType: "polynomial", learningRate: 1e-8 })).toThrow(/polynomial schedule decays to 1e-7/);
    expect(resolveArgs({ lrSchedulerType: "polynomial", learningRate: 1e-7 }).lrSchedulerType).toBe("polynomial");
  });
});

describe("training length (Trainer.set_initial_training_values)", () => {
  it("max_steps = ceil(num_train_epochs × update steps per epoch); epochs = ceil of it", () => {
    expect(trainingLength(10, 3)).toEqual({ maxSteps: 30, epochs: 3 });
    expect(trainingLength(10, 2.5)).toEqual({ maxSteps: 25, epochs: 3 });
    expect(trainingLength(7, 0.5)).toEqual({ maxSteps: 4, epochs: 1 }); // ceil(3.5)
    expect(trainingLength(7, 1.1)).toEqual({ maxSteps: 8, epochs: 2 }); // ceil(7.700000000000001), as math.ceil(1.1 * 7) in Python
  });

  it("max_steps > 0 overrides the epochs: max_steps // steps + (max_steps % steps > 0) epochs", () => {
    expect(trainingLength(10, 3, 7)).toEqual({ maxSteps: 7, epochs: 1 });
    expect(trainingLength(10, 3, 10)).toEqual({ maxSteps: 10, epochs: 1 });
    expect(trainingLength(10, 1, 25)).toEqual({ maxSteps: 25, epochs: 3 }); // more than --epochs asks for
    expect(trainingLength(10, 2, -1)).toEqual({ maxSteps: 20, epochs: 2 });
  });

  it("resolveArgs takes fractional epochs and max_steps of -1 or >= 1, and refuses the rest", () => {
    expect(resolveArgs({ numTrainEpochs: 2.5 }).numTrainEpochs).toBe(2.5);
    expect(resolveArgs({}).maxSteps).toBe(-1);
    expect(resolveArgs({ maxSteps: 7 }).maxSteps).toBe(7);
    expect(() => resolveArgs({ maxSteps: 0 })).toThrow(/max steps must be a whole number >= 1, or -1/);
    expect(() => resolveArgs({ maxSteps: 2.5 })).toThrow(/max steps/);
    expect(() => resolveArgs({ numTrainEpochs: 0 })).toThrow(/numTrainEpochs must be a positive number/);
    expect(() => resolveArgs({ adamBeta2: 1 })).toThrow(/adamBeta2 must be in \[0, 1\)/);
    expect(() => resolveArgs({ adamEpsilon: -1 })).toThrow(/adamEpsilon must be >= 0/);
  });
});
