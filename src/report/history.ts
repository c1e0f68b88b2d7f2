/**
 * The curves of a run, read from trainer_state.json's log_history (the Hugging Face Trainer's
 * shape: training entries {epoch, step, loss, grad_norm, learning_rate}, evaluation entries
 * {epoch, step, eval_loss, eval_accuracy, ...}). Entries or values that are not finite numbers
 * are skipped, so a hand-edited or foreign log still gives what it can.
 */
import { learningRateAt, warmupStepsFor, type SchedulerType } from "../train/schedule.js";

export interface Logged {
  step: number;
  epoch: number;
  value: number;
}

export interface TrainingCurves {
  trainLoss: Logged[];
  learningRate: Logged[];
  gradNorm: Logged[];
  evalLoss: Logged[];
  evalAccuracy: Logged[];
  evalMacroF1: Logged[];
  /**
   * Every evaluation metric logged, by its name without the `eval_` prefix (accuracy, f1,
   * matthews_correlation, micro_f1, hamming_loss, mse, pearson, ...; loss included); the
   * Trainer's timings (runtime, samples_per_second, ...) are left out.
   */
  evalMetrics: Record<string, Logged[]>;
}

export interface EpochSummary {
  /** 1-based epoch. */
  epoch: number;
  /** Mean training loss over the epoch's steps (logging windows weighted by their steps). */
  trainLoss?: number;
  /** The last evaluation logged during the epoch. */
  evalLoss?: number;
  evalAccuracy?: number;
  evalMacroF1?: number;
  /** The last value logged during the epoch of every evaluation metric (names without `eval_`). */
  eval: Record<string, number>;
  /** The last step of the epoch that was logged. */
  lastStep: number;
}

const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

/** eval_* keys that are timings or counts, not metrics. */
const NOT_METRICS = new Set(["runtime", "samples_per_second", "steps_per_second", "samples", "split", "jit_compilation_time"]);

export function curvesFromLogHistory(history: unknown): TrainingCurves {
  const curves: TrainingCurves = { trainLoss: [], learningRate: [], gradNorm: [], evalLoss: [], evalAccuracy: [], evalMacroF1: [], evalMetrics: {} };
  if (!Array.isArray(history)) return curves;
  const fields: [Exclude<keyof TrainingCurves, "evalMetrics">, string][] = [
    ["trainLoss", "loss"],
    ["learningRate", "learning_rate"],
    ["gradNorm", "grad_norm"],
    ["evalLoss", "eval_loss"],
    ["evalAccuracy", "eval_accuracy"],
    ["evalMacroF1", "eval_macro_f1"],
  ];
  for (const entry of history) {
    if (entry === null || typeof entry !== "object") continue;
    const e = entry as Record<string, unknown>;
    if (!isNum(e.step) || !isNum(e.epoch)) continue;
    for (const [curve, key] of fields) {
      const v = e[key];
      if (isNum(v)) curves[curve].push({ step: e.step, epoch: e.epoch, value: v });
    }
    for (const [key, v] of Object.entries(e)) {
      if (!key.startsWith("eval_") || !isNum(v)) continue;
      const name = key.slice("eval_".length);
      if (NOT_METRICS.has(name) || name === "__proto__") continue;
      (curves.evalMetrics[name] ??= []).push({ step: e.step, epoch: e.epoch, value: v });
    }
  }
  const bySteps = (list: Logged[]) => list.sort((a, b) => a.step - b.step);
  for (const [k, list] of Object.entries(curves)) if (k !== "evalMetrics") bySteps(list as Logged[]);
  for (const list of Object.values(curves.evalMetrics)) bySteps(list);
  return curves;
}

/** The epoch (1-based) a log entry belongs to: epoch 0.4 and epoch 1 are both in epoch 1. */
export function epochIndex(epoch: number): number {
  return Math.max(1, Math.ceil(epoch - 1e-6));
}

/** One row per epoch that has anything logged. */
export function epochSummaries(c: TrainingCurves): EpochSummary[] {
  const rows = new Map<number, EpochSummary & { lossSum: number; lossSteps: number }>();
  const row = (epoch: number) => {
    const i = epochIndex(epoch);
    let r = rows.get(i);
    if (!r) rows.set(i, (r = { epoch: i, lastStep: 0, eval: {}, lossSum: 0, lossSteps: 0 }));
    return r;
  };
  let prevStep = 0;
  for (const l of c.trainLoss) {
    // A logged loss is the mean over the steps since the previous log line.
    const steps = Math.max(1, l.step - prevStep);
    prevStep = l.step;
    const r = row(l.epoch);
    r.lossSum += l.value * steps;
    r.lossSteps += steps;
    r.lastStep = Math.max(r.lastStep, l.step);
  }
  const last = (list: Logged[], key: "evalLoss" | "evalAccuracy" | "evalMacroF1") => {
    for (const l of list) {
      const r = row(l.epoch);
      r[key] = l.value; // sorted by step, so the last one wins
      r.lastStep = Math.max(r.lastStep, l.step);
    }
  };
  last(c.evalLoss, "evalLoss");
  last(c.evalAccuracy, "evalAccuracy");
  last(c.evalMacroF1, "evalMacroF1");
  for (const [name, list] of Object.entries(c.evalMetrics ?? {})) {
    for (const l of list) {
      const r = row(l.epoch);
      r.eval[name] = l.value;
      r.lastStep = Math.max(r.lastStep, l.step);
    }
  }
  return [...rows.values()]
    .sort((a, b) => a.epoch - b.epoch)
    .map(({ lossSum, lossSteps, ...r }) => (lossSteps > 0 ? { ...r, trainLoss: lossSum / lossSteps } : r));
}

/** Steps at which epochs end, from the entries logged exactly at a whole epoch (the Trainer logs there). */
export function epochBoundaries(c: TrainingCurves): { step: number; epoch: number }[] {
  const seen = new Map<number, number>();
  for (const list of [c.trainLoss, c.evalLoss, c.evalAccuracy]) {
    for (const l of list) if (Number.isInteger(l.epoch) && l.epoch > 0 && !seen.has(l.epoch)) seen.set(l.epoch, l.step);
  }
  return [...seen.entries()].sort((a, b) => a[0] - b[0]).map(([epoch, step]) => ({ epoch, step }));
}

/** What the schedule needs from training_args.json and trainer_state.json. */
export interface ScheduleSettings {
  learningRate: number;
  type: SchedulerType;
  warmupRatio: number;
  warmupSteps: number;
  totalSteps: number;
}

/**
 * The learning rate of every step 1..totalSteps, as the Trainer applies it (step s uses the
 * rate of 0-based step s − 1, which is also what it logs at step s).
 */
export function learningRateSchedule(s: ScheduleSettings, maxPoints = 400): [number, number][] {
  const o = { learningRate: s.learningRate, type: s.type, totalSteps: s.totalSteps, warmupSteps: warmupStepsFor(s.totalSteps, s.warmupRatio, s.warmupSteps) };
  if (!(s.totalSteps >= 1)) return [];
  const stride = Math.max(1, Math.ceil(s.totalSteps / maxPoints));
  // Sampled steps, plus the corners of the warmup, so a long run keeps its exact shape.
  const steps = new Set<number>([1, s.totalSteps]);
  for (let step = 1; step <= s.totalSteps; step += stride) steps.add(step);
  for (const w of [o.warmupSteps, o.warmupSteps + 1]) if (w >= 1 && w <= s.totalSteps) steps.add(w);
  const out = [...steps].sort((a, b) => a - b).map((step): [number, number] => [step, learningRateAt(step - 1, o)]);
  return out;
}
