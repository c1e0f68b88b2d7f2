/**
 * Everything a report shows about one run, read from its folder. trainer_state.json is required
 * (it holds the curves); the other files are optional and their absence is noted, so a partial
 * run still gives a partial report.
 */
import { existsSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { BertuneError } from "../errors.js";
import type { ClassificationReport } from "../metrics/classification.js";
import { RUN_FILES } from "../run/files.js";
import { runDir } from "../run/load.js";
import { SCHEDULERS, type SchedulerType } from "../train/schedule.js";
import { curvesFromLogHistory, epochSummaries, type EpochSummary, type ScheduleSettings, type TrainingCurves } from "./history.js";

type Json = Record<string, unknown>;

export interface RunReportData {
  dir: string;
  /** Shown in titles and legends: the folder's name. */
  name: string;
  config?: Json;
  trainingArgs?: Json;
  trainerState: Json;
  trainResults?: Json;
  evalResults?: Json;
  /** The full validation report of the final model (eval_report.json). */
  evalReport?: ClassificationReport & { split?: string; dataset?: string };
  curves: TrainingCurves;
  epochs: EpochSummary[];
  /** Why parts of the report are missing. */
  notes: string[];
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch {
    throw new BertuneError(`${path} is not valid JSON`, "the run folder is damaged: train it again");
  }
}

const isObject = (v: unknown): v is Json => v !== null && typeof v === "object" && !Array.isArray(v);

/** A ClassificationReport as saved by `bertune train`, checked enough to draw it safely. */
export function asClassificationReport(v: unknown): (ClassificationReport & { split?: string; dataset?: string }) | undefined {
  if (!isObject(v)) return undefined;
  const cm = v.confusionMatrix;
  const per = v.perClass;
  if (!Array.isArray(cm) || !Array.isArray(per) || per.length === 0 || cm.length !== per.length) return undefined;
  const k = per.length;
  const rowsOk = cm.every((r) => Array.isArray(r) && r.length === k && r.every((x) => typeof x === "number" && Number.isFinite(x)));
  const perOk = per.every((m) => isObject(m) && typeof m.label === "string" && ["precision", "recall", "f1", "support"].every((f) => typeof m[f] === "number"));
  if (!rowsOk || !perOk || typeof v.accuracy !== "number") return undefined;
  return v as unknown as ClassificationReport;
}

export function readRunReportData(dir: string): RunReportData {
  const abs = runDir(dir);
  const notes: string[] = [];
  const optional = (file: string): Json | undefined => {
    const path = join(abs, file);
    if (!existsSync(path)) {
      notes.push(`${file} is missing`);
      return undefined;
    }
    const v = readJson(path);
    if (!isObject(v)) {
      notes.push(`${file} is not a JSON object`);
      return undefined;
    }
    return v;
  };
  const statePath = join(abs, RUN_FILES.trainerState);
  if (!existsSync(statePath)) {
    throw new BertuneError(`the run folder ${abs} has no ${RUN_FILES.trainerState}`, "point at a folder written by `bertune train --output` after training finished");
  }
  const trainerState = readJson(statePath);
  if (!isObject(trainerState) || !Array.isArray(trainerState.log_history)) {
    throw new BertuneError(`${statePath} has no log_history`, "the run folder is damaged: train it again");
  }
  const config = optional(RUN_FILES.config);
  const trainingArgs = optional(RUN_FILES.trainingArgs);
  const trainResults = optional(RUN_FILES.trainResults);
  const evalResults = optional(RUN_FILES.evalResults);
  const rawReport = optional(RUN_FILES.evalReport);
  const evalReport = rawReport && asClassificationReport(rawReport);
  if (rawReport && !evalReport) notes.push(`${RUN_FILES.evalReport} does not hold a classification report`);
  const curves = curvesFromLogHistory(trainerState.log_history);
  return { dir: abs, name: basename(abs), config, trainingArgs, trainerState, trainResults, evalResults, evalReport, curves, epochs: epochSummaries(curves), notes };
}

const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);

/** The schedule settings of a run, when training_args.json and trainer_state.json say enough. */
export function scheduleSettings(d: RunReportData): ScheduleSettings | undefined {
  const a = d.trainingArgs;
  const learningRate = num(a?.learning_rate);
  const totalSteps = num(d.trainerState.max_steps);
  const type = a?.lr_scheduler_type;
  if (learningRate === undefined || totalSteps === undefined || !SCHEDULERS.includes(type as SchedulerType)) return undefined;
  return { learningRate, totalSteps, type: type as SchedulerType, warmupRatio: num(a?.warmup_ratio) ?? 0, warmupSteps: num(a?.warmup_steps) ?? 0 };
}

/** The run's final numbers, for the comparison table. */
export interface FinalMetrics {
  evalAccuracy?: number;
  evalMacroF1?: number;
  evalLoss?: number;
  trainLoss?: number;
  bestMetric?: number;
  globalStep?: number;
  epochs?: number;
}

export function finalMetrics(d: RunReportData): FinalMetrics {
  const lastOf = (l: { value: number }[]) => (l.length ? l[l.length - 1].value : undefined);
  const r = d.evalResults;
  return {
    evalAccuracy: num(r?.eval_accuracy) ?? d.evalReport?.accuracy ?? lastOf(d.curves.evalAccuracy),
    evalMacroF1: num(r?.eval_macro_f1) ?? d.evalReport?.macroF1 ?? lastOf(d.curves.evalMacroF1),
    evalLoss: num(r?.eval_loss) ?? lastOf(d.curves.evalLoss),
    trainLoss: num(d.trainResults?.train_loss) ?? lastOf(d.curves.trainLoss),
    bestMetric: num(d.trainerState.best_metric),
    globalStep: num(d.trainerState.global_step),
    epochs: num(d.trainerState.epoch),
  };
}
