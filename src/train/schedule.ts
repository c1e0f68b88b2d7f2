/** Learning-rate schedules of the Hugging Face Trainer (transformers.get_scheduler). */
export type SchedulerType = "linear" | "cosine" | "constant";
export const SCHEDULERS: readonly SchedulerType[] = ["linear", "cosine", "constant"];

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
 * The learning rate used by optimizer step `step` (0-based, as PyTorch's LambdaLR counts):
 * linear warmup from 0, then linear decay to 0, half a cosine, or constant.
 */
export function learningRateAt(step: number, o: ScheduleOptions): number {
  if (step < o.warmupSteps) return (o.learningRate * step) / Math.max(1, o.warmupSteps);
  if (o.type === "constant") return o.learningRate;
  const progress = (step - o.warmupSteps) / Math.max(1, o.totalSteps - o.warmupSteps);
  if (o.type === "linear") return o.learningRate * Math.max(0, 1 - progress);
  return o.learningRate * Math.max(0, 0.5 * (1 + Math.cos(Math.PI * progress)));
}
