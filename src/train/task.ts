import { BertuneError } from "../errors.js";
import type { TensorToWrite } from "../formats/safetensors.js";
import { activate, balancedWeights, objectiveLoss, type Objective } from "../heads/objective.js";
import { classificationReport } from "../metrics/classification.js";
import { multiLabelReport } from "../metrics/multilabel.js";
import { regressionReport } from "../metrics/regression.js";
import { DEFAULT_METRIC, flatMetrics, greaterIsBetter, resolveMetricName, type EvalReport } from "../metrics/report.js";
import type { ProblemType } from "../problem-type.js";
import type { TrainingArgs } from "./args.js";

/** An example's target (Example["label"]): a class id, a multi-hot row, or the regression values. */
export type Label = number | readonly number[];

/** Regression with --normalize-targets: the head learns (y − mean) / std, one pair per target. */
export interface TargetScale {
  mean: number[];
  std: number[];
}

/**
 * What a training run learns and how it is judged: the problem type's loss (with class weights
 * and label smoothing), how targets are fed to it, the decision rule and the metric that picks
 * the best model.
 */
export interface Task {
  problemType: ProblemType;
  id2label: string[];
  objective: Objective;
  scale?: TargetScale;
  /** Multi-label: a label is predicted when its sigmoid is at least this. */
  threshold: number;
  /** metric_for_best_model without the eval_ prefix ("loss" or a name of flatMetrics). */
  metric: string;
  greaterIsBetter: boolean;
}

/** The data's own problem type and labels, and the args' loss, threshold and metric choices. */
export function makeTask(data: { problemType: ProblemType; id2label: string[]; train: readonly Label[] }, args: TrainingArgs): Task {
  const { problemType, id2label } = data;
  const k = id2label.length;
  const objective: Objective = { problemType, numLabels: k };
  if (args.labelSmoothingFactor > 0) {
    if (problemType !== "single_label_classification") {
      throw new BertuneError(`--label-smoothing applies to single-label classification, not to ${problemType}`, "drop --label-smoothing");
    }
    objective.labelSmoothing = args.labelSmoothingFactor;
  }
  if (args.classWeights !== undefined) {
    if (problemType === "regression") throw new BertuneError("--class-weights applies to classification, not to regression", "drop --class-weights");
    if (args.classWeights === "balanced") {
      objective.classWeights = balancedWeights(problemType, rawTargets(problemType, data.train, k), data.train.length, k);
    } else {
      if (args.classWeights.length !== k) {
        throw new BertuneError(
          `--class-weights has ${args.classWeights.length} weights but the data has ${k} labels (${id2label.join(", ")})`,
          "give one weight per label, in id order, or --class-weights balanced",
        );
      }
      objective.classWeights = Float32Array.from(args.classWeights);
    }
  }
  let scale: TargetScale | undefined;
  if (args.normalizeTargets) {
    if (problemType !== "regression") throw new BertuneError("--normalize-targets applies to regression", "drop --normalize-targets");
    scale = targetScale(data.train, k);
  }
  const metric = args.metricForBestModel === undefined ? DEFAULT_METRIC[problemType] : resolveMetricName(args.metricForBestModel, problemType);
  return { problemType, id2label, objective, scale, threshold: args.threshold, metric, greaterIsBetter: args.greaterIsBetter ?? greaterIsBetter(metric) };
}

/** Mean and (population) standard deviation of each target over the train split; a constant target keeps std 1. */
function targetScale(train: readonly Label[], k: number): TargetScale {
  const mean = new Array<number>(k).fill(0);
  const sq = new Array<number>(k).fill(0);
  for (const l of train) (l as number[]).forEach((y, j) => (mean[j] += y / train.length));
  for (const l of train) (l as number[]).forEach((y, j) => (sq[j] += (y - mean[j]) ** 2 / train.length));
  return { mean, std: sq.map((v) => (v > 0 ? Math.sqrt(v) : 1)) };
}

function rawTargets(problemType: ProblemType, labels: readonly Label[], k: number): Float32Array | number[] {
  if (problemType === "single_label_classification") return labels.map((l) => l as number);
  const out = new Float32Array(labels.length * k);
  labels.forEach((l, r) => out.set(l as number[], r * k));
  return out;
}

/**
 * The targets of labels (all, or the rows `idx`) as the objective takes them: class ids, or a
 * row-major float matrix [rows × K] (normalised when the task has a scale).
 */
export function targetsOf(task: Task, labels: readonly Label[], idx?: readonly number[]): Float32Array | number[] {
  const rows = idx ? idx.map((i) => labels[i]) : labels;
  if (task.problemType === "single_label_classification") return rows.map((l) => l as number);
  const k = task.id2label.length;
  const out = new Float32Array(rows.length * k);
  rows.forEach((l, r) => {
    const y = l as number[];
    for (let j = 0; j < k; j++) out[r * k + j] = task.scale ? (y[j] - task.scale.mean[j]) / task.scale.std[j] : y[j];
  });
  return out;
}

/** Outputs [rows × K] in the data's units: undoes the scale of a normalised regression. */
export function unscale(task: Pick<Task, "scale">, outputs: Float32Array, k: number): Float32Array {
  const s = task.scale;
  if (!s) return outputs;
  return outputs.map((v, i) => v * s.std[i % k] + s.mean[i % k]);
}

/** Argmax of each row of scores [rows × K]. */
export function argmaxRows(scores: ArrayLike<number>, k: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < scores.length / k; r++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (scores[r * k + j] > scores[r * k + best]) best = j;
    out.push(best);
  }
  return out;
}

export interface TaskEvaluation {
  report: EvalReport;
  /** The objective's loss (on normalised targets for a normalised regression), as the Trainer's eval_loss. */
  loss: number;
  /** The report's flat metrics (no eval_ prefix). */
  metrics: Record<string, number>;
}

/** Loss, decisions and metrics of logits [rows × K] against the labels. */
export function evaluateLogits(task: Task, logits: Float32Array, labels: readonly Label[]): TaskEvaluation {
  const k = task.id2label.length;
  const rows = labels.length;
  const loss = objectiveLoss(task.objective, logits, rows, targetsOf(task, labels));
  let report: EvalReport;
  if (task.problemType === "single_label_classification") {
    report = classificationReport(
      labels.map((l) => l as number),
      argmaxRows(logits, k),
      task.id2label,
    );
  } else if (task.problemType === "multi_label_classification") {
    const probs = activate(task.problemType, logits, k);
    report = multiLabelReport(rawTargets(task.problemType, labels, k), probs.map((p) => (p >= task.threshold ? 1 : 0)), task.id2label);
  } else {
    report = regressionReport(rawTargets(task.problemType, labels, k), unscale(task, logits.slice(0, rows * k), k), task.id2label);
  }
  return { report, loss, metrics: flatMetrics(report) };
}

/** The value metric_for_best_model reads from an evaluation. */
export function metricValue(task: Task, e: { loss: number; metrics: Record<string, number> }): number {
  return task.metric === "loss" ? e.loss : e.metrics[task.metric];
}

/** Whether `value` beats `best` (NaN never does; anything beats no best yet). */
export function isBetter(task: Task, value: number, best: number | null): boolean {
  if (Number.isNaN(value)) return false;
  if (best === null || Number.isNaN(best)) return true;
  return task.greaterIsBetter ? value > best : value < best;
}

/**
 * A normalised regression's head folded back into the data's units (W' = std·W, b' = std·b + mean per
 * target), so that every loader of the saved model (transformers, transformers.js, the ONNX export)
 * predicts in the data's units with no extra step.
 */
export function foldScale(tensors: Record<string, TensorToWrite>, scale: TargetScale | undefined, prefix = ""): Record<string, TensorToWrite> {
  if (!scale) return tensors;
  const w = tensors[`${prefix}classifier.weight`];
  const b = tensors[`${prefix}classifier.bias`];
  const [k, h] = w.shape;
  const weight = Float32Array.from(w.data as Float32Array, (v, i) => v * scale.std[Math.floor(i / h)]);
  const bias = Float32Array.from(b.data as Float32Array, (v, j) => v * scale.std[j] + scale.mean[j]);
  if (k !== scale.mean.length) throw new Error(`a head of ${k} outputs cannot take the scale of ${scale.mean.length} targets`);
  return { ...tensors, [`${prefix}classifier.weight`]: { ...w, data: weight }, [`${prefix}classifier.bias`]: { ...b, data: bias } };
}

/** The task a saved run is evaluated with: its problem type's plain loss (no weights or smoothing) and decision rule. */
export function evaluationTask(problemType: ProblemType, id2label: string[], threshold = 0.5): Task {
  const metric = DEFAULT_METRIC[problemType];
  return { problemType, id2label, objective: { problemType, numLabels: id2label.length }, threshold, metric, greaterIsBetter: greaterIsBetter(metric) };
}
