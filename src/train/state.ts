import type { EvalReport } from "../metrics/report.js";
import type { TrainingArgs } from "./args.js";
import { isBetter, metricValue, type Task, type TaskEvaluation } from "./task.js";

/** One entry of trainer_state.json's log_history, as the Hugging Face Trainer writes it. */
export interface LogEntry {
  epoch: number;
  step: number;
  loss?: number;
  grad_norm?: number;
  learning_rate?: number;
  eval_loss?: number;
  /** Every metric of the evaluation, as the Trainer logs them (eval_accuracy, eval_macro_f1, eval_pearson, ...). */
  [metric: `eval_${string}`]: number | undefined;
}

/** trainer_state.json, in the Hugging Face Trainer's shape. */
export interface TrainerState {
  epoch: number;
  global_step: number;
  max_steps: number;
  num_train_epochs: number;
  train_batch_size: number;
  logging_steps: number;
  log_history: LogEntry[];
  best_metric: number | null;
  best_model_checkpoint: string | null;
}

/** What every training run reports, whatever was trained. */
export interface TrainingOutcome {
  state: TrainerState;
  /** The final evaluation on the validation split. */
  evalReport: EvalReport;
  evalLoss: number;
  /** Mean training loss over the steps taken. */
  trainLoss: number;
  trainRuntime: number;
  trainSamplesPerSecond: number;
}

export const round4 = (x: number) => Math.round(x * 1e4) / 1e4;

/** `epochs`: the epochs training takes, as the Trainer's state counts them (whole: ceil of fractional or max_steps epochs). */
export function newTrainerState(args: TrainingArgs, totalSteps: number, epochs = args.numTrainEpochs): TrainerState {
  return {
    epoch: 0,
    global_step: 0,
    max_steps: totalSteps,
    num_train_epochs: epochs,
    train_batch_size: args.perDeviceTrainBatchSize,
    logging_steps: args.loggingSteps,
    log_history: [],
    best_metric: null,
    best_model_checkpoint: null,
  };
}

/**
 * Record an evaluation in the log history and, when its metric_for_best_model beats the best so
 * far (in the task's direction), as the best metric. Returns the entry and whether it is a new best.
 */
export function recordEval(state: TrainerState, e: TaskEvaluation, task: Task): { entry: LogEntry; improved: boolean } {
  const entry: LogEntry = { epoch: round4(state.epoch), step: state.global_step, eval_loss: e.loss };
  for (const [name, value] of Object.entries(e.metrics)) entry[`eval_${name}`] = value;
  state.log_history.push(entry);
  const value = metricValue(task, e);
  const improved = isBetter(task, value, state.best_metric);
  if (improved) state.best_metric = value;
  return { entry, improved };
}

/** "eval_loss 0.6931  eval_accuracy 0.5000": the loss, the best-model metric and the problem type's headline metric. */
export function evalLine(e: TaskEvaluation, task: Task): string {
  const shown = [...new Set([task.metric, HEADLINE[task.problemType]])].filter((m) => m !== "loss");
  return [`eval_loss ${e.loss.toFixed(4)}`, ...shown.map((m) => `eval_${m} ${e.metrics[m].toFixed(4)}`)].join("  ");
}

const HEADLINE = { single_label_classification: "accuracy", multi_label_classification: "macro_f1", regression: "pearson" } as const;
