import type { ClassificationReport } from "../metrics/classification.js";
import type { TrainingArgs } from "./args.js";

/** One entry of trainer_state.json's log_history, as the Hugging Face Trainer writes it. */
export interface LogEntry {
  epoch: number;
  step: number;
  loss?: number;
  grad_norm?: number;
  learning_rate?: number;
  eval_loss?: number;
  eval_accuracy?: number;
  eval_macro_f1?: number;
  eval_macro_precision?: number;
  eval_macro_recall?: number;
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
  evalReport: ClassificationReport;
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
 * Record an evaluation in the log history and the best metric (accuracy, as
 * metric_for_best_model). Returns the entry and whether it is a new best.
 */
export function recordEval(state: TrainerState, report: ClassificationReport, loss: number): { entry: LogEntry; improved: boolean } {
  const entry: LogEntry = {
    epoch: round4(state.epoch),
    step: state.global_step,
    eval_loss: loss,
    eval_accuracy: report.accuracy,
    eval_macro_f1: report.macroF1,
    eval_macro_precision: report.macroPrecision,
    eval_macro_recall: report.macroRecall,
  };
  state.log_history.push(entry);
  const improved = state.best_metric === null || report.accuracy > state.best_metric;
  if (improved) state.best_metric = report.accuracy;
  return { entry, improved };
}
