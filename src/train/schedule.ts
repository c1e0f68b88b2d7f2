/** Learning-rate schedules of the Hugging Face Trainer (transformers.get_scheduler), under its names. */
export type SchedulerType = "linear" | "cosine" | "constant" | "constant_with_warmup" | "polynomial";
export const SCHEDULERS: readonly SchedulerType[] = ["linear", "cosine", "constant", "constant_with_warmup", "polynomial"];

/**
 * get_polynomial_decay_schedule_with_warmup's defaults, which the Trainer uses (get_scheduler passes
 * neither): decay to lr_end = 1e-7 with power 1.0. Its learning rate must be at least lr_end.
 */
export const POLYNOMIAL_LR_END = 1e-7;
export const POLYNOMIAL_POWER = 1.0;

export interface ScheduleOptions {
  learningRate: number;
  warmupSteps: number;
  totalSteps: number;
  type: SchedulerType;
}

/** Warmup steps as the Trainer counts them: explicit steps win, else ceil(ratio × total). */
export function warmupStepsFor(totalSteps: number, warmupRatio: number, warmupSteps = 0): number {
  return warmupSteps > 0 ? warmupSteps : Math.ceil(totalSteps * warmupRatio);
}

/**
 * How long the Trainer trains: max_steps when it is > 0 (it overrides the epochs), else
 * ceil(num_train_epochs × update steps per epoch), so 2.5 epochs of 10 steps are 25 steps; and the
 * number of epochs that takes (started ones count: ceil).
 */
export function trainingLength(stepsPerEpoch: number, numTrainEpochs: number, maxSteps = -1): { maxSteps: number; epochs: number } {
  const total = maxSteps > 0 ? maxSteps : Math.ceil(numTrainEpochs * stepsPerEpoch);
  return { maxSteps: total, epochs: Math.ceil(total / stepsPerEpoch) };
}

/**
 * The learning rate used by optimizer step `step` (0-based, as PyTorch's LambdaLR counts), as the
 * Trainer's schedules give it: linear warmup from 0 (except "constant", which as transformers'
 * get_constant_schedule ignores warmup), then linear decay to 0, half a cosine to 0, constant,
 * or polynomial decay to lr_end.
 */
export function learningRateAt(step: number, o: ScheduleOptions): number {
  if (o.type === "constant") return o.learningRate;
  if (step < o.warmupSteps) return (o.learningRate * step) / Math.max(1, o.warmupSteps);
  if (o.type === "constant_with_warmup") return o.learningRate;
  if (o.type === "polynomial") {
    if (step > o.totalSteps) return POLYNOMIAL_LR_END;
    const remaining = 1 - (step - o.warmupSteps) / Math.max(1, o.totalSteps - o.warmupSteps);
    return (o.learningRate - POLYNOMIAL_LR_END) * Math.pow(remaining, POLYNOMIAL_POWER) + POLYNOMIAL_LR_END;
  }
  const progress = (step - o.warmupSteps) / Math.max(1, o.totalSteps - o.warmupSteps);
  if (o.type === "linear") return o.learningRate * Math.max(0, 1 - progress);
  return o.learningRate * Math.max(0, 0.5 * (1 + Math.cos(Math.PI * progress)));
}
