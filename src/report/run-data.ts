/**
 * Everything a report shows about one run, read from its folder. trainer_state.json is required
 * (it holds the curves); the other files are optional and their absence is noted, so a partial
 * run still gives a partial report.
 */
import { existsSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { BertuneError } from "../errors.js";
import type { ClassificationReport } from "../metrics/classification.js";
import type { MultiLabelReport } from "../metrics/multilabel.js";
import type { RegressionReport, TargetMetrics } from "../metrics/regression.js";
import { DEFAULT_METRIC, greaterIsBetter } from "../metrics/report.js";
import { PROBLEM_TYPES, type ProblemType } from "../problem-type.js";
import { RUN_FILES } from "../run/files.js";
import { runDir } from "../run/load.js";
import { SCHEDULERS, type SchedulerType } from "../train/schedule.js";
import { curvesFromLogHistory, epochSummaries, type EpochSummary, type ScheduleSettings, type TrainingCurves } from "./history.js";

type Json = Record<string, unknown>;

/** eval_report.json: the final model's evaluation report of the run's problem type, with where it was measured. */
export type ReportEvalReport = (ClassificationReport | MultiLabelReport | RegressionReport) & { split?: string; dataset?: string };

/**
 * What a run folder holds: a fine-tuned classifier or regressor (`bertune train`), or a
 * BertForMaskedLM pretrained by `bertune pretrain` (whose report shows loss and perplexity, and
 * no problem-type sections).
 */
export type RunKind = "classifier" | "masked-lm";

export interface RunReportData {
  dir: string;
  /** Shown in titles and legends: the folder's name. */
  name: string;
  /** A fine-tuning run or a masked-LM pretraining run (see runKind). */
  kind: RunKind;
  config?: Json;
  trainingArgs?: Json;
  trainerState: Json;
  trainResults?: Json;
  evalResults?: Json;
  /** config.json's problem_type; a run saved before problem types existed is single-label. Not meaningful for a masked-LM run. */
  problemType: ProblemType;
  /** metric_for_best_model without the eval_ prefix (the problem type's default when not recorded); may be "loss". */
  bestMetricName: string;
  /** Whether a larger bestMetricName is better (training_args.json's greater_is_better). */
  greaterIsBetter: boolean;
  /** The full validation report of the final model (eval_report.json), of the run's problem type. */
  evalReport?: ReportEvalReport;
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

const finite = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

/**
 * A single-label ClassificationReport as saved by `bertune train`, checked enough to draw it
 * safely; one saved before problem types existed (no problemType, no weighted averages or MCC)
 * is accepted and gets problemType single_label_classification.
 */
export function asClassificationReport(v: unknown): (ClassificationReport & { split?: string; dataset?: string }) | undefined {
  if (!isObject(v)) return undefined;
  if (v.problemType !== undefined && v.problemType !== "single_label_classification") return undefined;
  const cm = v.confusionMatrix;
  const per = v.perClass;
  if (!Array.isArray(cm) || !Array.isArray(per) || per.length === 0 || cm.length !== per.length) return undefined;
  const k = per.length;
  const rowsOk = cm.every((r) => Array.isArray(r) && r.length === k && r.every((x) => typeof x === "number" && Number.isFinite(x)));
  const perOk = per.every((m) => isObject(m) && typeof m.label === "string" && ["precision", "recall", "f1", "support"].every((f) => typeof m[f] === "number"));
  if (!rowsOk || !perOk || typeof v.accuracy !== "number") return undefined;
  return { ...(v as unknown as ClassificationReport), problemType: "single_label_classification" };
}

/** A MultiLabelReport as saved by `bertune train`: per-label scores and the averages the report shows. */
export function asMultiLabelReport(v: unknown): (MultiLabelReport & { split?: string; dataset?: string }) | undefined {
  if (!isObject(v) || v.problemType !== "multi_label_classification") return undefined;
  const per = v.perLabel;
  if (!Array.isArray(per) || per.length === 0) return undefined;
  const perOk = per.every((m) => isObject(m) && typeof m.label === "string" && ["precision", "recall", "f1", "support"].every((f) => finite(m[f])));
  const topOk = ["numExamples", "subsetAccuracy", "hammingLoss", "microPrecision", "microRecall", "microF1", "macroPrecision", "macroRecall", "macroF1"].every((f) => finite(v[f]));
  return perOk && topOk ? (v as unknown as MultiLabelReport) : undefined;
}

const REGRESSION_METRICS = ["mse", "rmse", "mae", "pearson", "spearman", "r2"] as const;
/** JSON writes NaN (an undefined correlation) as null: read it back as NaN. */
const nanable = (v: unknown): number | undefined => (v === null ? NaN : finite(v) ? v : undefined);

/** A RegressionReport as saved by `bertune train`; null metrics (NaN in JSON) come back as NaN. */
export function asRegressionReport(v: unknown): (RegressionReport & { split?: string; dataset?: string }) | undefined {
  if (!isObject(v) || v.problemType !== "regression" || !finite(v.numExamples)) return undefined;
  const per = v.perTarget;
  if (!Array.isArray(per) || per.length === 0) return undefined;
  const perTarget: TargetMetrics[] = [];
  for (const t of per) {
    if (!isObject(t) || typeof t.name !== "string") return undefined;
    const m = Object.fromEntries(REGRESSION_METRICS.map((k) => [k, nanable(t[k])]));
    if (REGRESSION_METRICS.some((k) => m[k] === undefined)) return undefined;
    perTarget.push({ name: t.name, ...(m as Record<(typeof REGRESSION_METRICS)[number], number>) });
  }
  const top = Object.fromEntries(REGRESSION_METRICS.map((k) => [k, nanable(v[k])]));
  if (REGRESSION_METRICS.some((k) => top[k] === undefined)) return undefined;
  return { ...(v as unknown as RegressionReport), ...(top as Record<(typeof REGRESSION_METRICS)[number], number>), perTarget };
}

/** eval_report.json as a report of the given problem type, or undefined when it is not one. */
export function asEvalReport(v: unknown, problemType: ProblemType): ReportEvalReport | undefined {
  switch (problemType) {
    case "single_label_classification":
      return asClassificationReport(v);
    case "multi_label_classification":
      return asMultiLabelReport(v);
    case "regression":
      return asRegressionReport(v);
  }
}

const PROBLEM_TYPE_WORDS: Record<ProblemType, string> = {
  single_label_classification: "single-label classification",
  multi_label_classification: "multi-label classification",
  regression: "regression",
};

/** The problem type in words, for titles and notes. */
export function problemTypeWords(t: ProblemType): string {
  return PROBLEM_TYPE_WORDS[t];
}

function runProblemType(config: Json | undefined, rawReport: Json | undefined): ProblemType {
  const known = (v: unknown) => PROBLEM_TYPES.find((p) => p === v);
  return known(config?.problem_type) ?? known(rawReport?.problemType) ?? "single_label_classification";
}

/**
 * Whether a run folder holds a masked-LM pretraining run: config.json's architectures name a
 * *ForMaskedLM class (as `bertune pretrain` and transformers' run_mlm.py save it); without
 * architectures, the files say so: training_args.json's mlm_probability, eval_results.json's
 * perplexity, or eval_perplexity in the log.
 */
export function runKind(config: Json | undefined, trainingArgs: Json | undefined, evalResults: Json | undefined, logHistory: readonly unknown[]): RunKind {
  const arch = config?.architectures;
  if (Array.isArray(arch) && arch.some((a) => typeof a === "string")) {
    return arch.some((a) => typeof a === "string" && a.endsWith("ForMaskedLM")) ? "masked-lm" : "classifier";
  }
  if (config && (config.id2label !== undefined || config.problem_type !== undefined)) return "classifier";
  const logged = logHistory.some((e) => isObject(e) && finite(e.eval_perplexity));
  return trainingArgs?.mlm_probability !== undefined || finite(evalResults?.perplexity) || logged ? "masked-lm" : "classifier";
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
    throw new BertuneError(`the run folder ${abs} has no ${RUN_FILES.trainerState}`, "point at a folder written by `bertune train --output` or `bertune pretrain --output` after training finished");
  }
  const trainerState = readJson(statePath);
  if (!isObject(trainerState) || !Array.isArray(trainerState.log_history)) {
    throw new BertuneError(`${statePath} has no log_history`, "the run folder is damaged: train it again");
  }
  const config = optional(RUN_FILES.config);
  const trainingArgs = optional(RUN_FILES.trainingArgs);
  const trainResults = optional(RUN_FILES.trainResults);
  const evalResults = optional(RUN_FILES.evalResults);
  const kind = runKind(config, trainingArgs, evalResults, trainerState.log_history);
  // A masked-LM run has no eval_report.json (nor a problem type): not a missing file.
  const rawReport = kind === "classifier" ? optional(RUN_FILES.evalReport) : undefined;
  const problemType = runProblemType(config, rawReport);
  const evalReport = rawReport && asEvalReport(rawReport, problemType);
  if (rawReport && !evalReport) notes.push(`${RUN_FILES.evalReport} does not hold a ${problemTypeWords(problemType)} report`);
  const curves = curvesFromLogHistory(trainerState.log_history);
  const recorded = typeof trainingArgs?.metric_for_best_model === "string" ? trainingArgs.metric_for_best_model.replace(/^eval_/, "") : "";
  // Pretraining evaluates the loss (and its exp, the perplexity) only; its training_args.json
  // carries the fine-tuning default metric_for_best_model, which it does not use.
  const bestMetricName = kind === "masked-lm" ? "loss" : recorded || DEFAULT_METRIC[problemType];
  const greater = kind === "masked-lm" ? false : typeof trainingArgs?.greater_is_better === "boolean" ? trainingArgs.greater_is_better : greaterIsBetter(bestMetricName);
  return {
    dir: abs,
    name: basename(abs),
    kind,
    config,
    trainingArgs,
    trainerState,
    trainResults,
    evalResults,
    problemType,
    bestMetricName,
    greaterIsBetter: greater,
    evalReport,
    curves,
    epochs: epochSummaries(curves),
    notes,
  };
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

/** The run's final numbers, for the summary and the comparison table. */
export interface FinalMetrics {
  /** eval_accuracy (multi-label: the subset accuracy). */
  evalAccuracy?: number;
  evalMacroF1?: number;
  evalLoss?: number;
  trainLoss?: number;
  /** trainer_state.json's best_metric: the best value of metricName seen at an evaluation. */
  bestMetric?: number;
  globalStep?: number;
  epochs?: number;
  /** metric_for_best_model, without eval_ (see RunReportData.bestMetricName). */
  metricName: string;
  /** Its final value. */
  metric?: number;
  /**
   * Every final evaluation metric by name without eval_ (loss included): eval_results.json's,
   * else the last one logged; NaN where a metric was undefined (a null in eval_results.json).
   */
  metrics: Record<string, number>;
}

export function finalMetrics(d: RunReportData): FinalMetrics {
  const lastOf = (l: { value: number }[] | undefined) => (l?.length ? l[l.length - 1].value : undefined);
  const r = d.evalResults;
  const metrics: Record<string, number> = {};
  for (const [name, list] of Object.entries(d.curves.evalMetrics)) {
    const v = lastOf(list);
    if (v !== undefined) metrics[name] = v;
  }
  for (const [key, v] of Object.entries(r ?? {})) {
    if (!key.startsWith("eval_") || key === "eval_samples" || key === "eval_split") continue;
    const n = nanable(v);
    if (n !== undefined) metrics[key.slice("eval_".length)] = n;
  }
  const report = d.evalReport;
  const single = report?.problemType === "single_label_classification" ? report : undefined;
  const accuracy = num(r?.eval_accuracy) ?? single?.accuracy ?? (report?.problemType === "multi_label_classification" ? report.subsetAccuracy : undefined) ?? lastOf(d.curves.evalAccuracy);
  const macroF1 = num(r?.eval_macro_f1) ?? (report && "macroF1" in report ? report.macroF1 : undefined) ?? lastOf(d.curves.evalMacroF1);
  return {
    evalAccuracy: accuracy,
    evalMacroF1: macroF1,
    evalLoss: num(r?.eval_loss) ?? lastOf(d.curves.evalLoss),
    trainLoss: num(d.trainResults?.train_loss) ?? lastOf(d.curves.trainLoss),
    bestMetric: num(d.trainerState.best_metric),
    globalStep: num(d.trainerState.global_step),
    epochs: num(d.trainerState.epoch),
    metricName: d.bestMetricName,
    metric: metrics[d.bestMetricName],
    metrics,
  };
}

/** The final numbers of a masked-LM pretraining run, for its summary and the comparison table. */
export interface MaskedLmMetrics {
  /** eval_results.json's eval_loss (else the last one logged): the mean cross-entropy over the masked validation tokens. */
  evalLoss?: number;
  /** eval_results.json's perplexity (else the last eval_perplexity logged, else exp(evalLoss)). */
  perplexity?: number;
  /** The lowest validation loss logged, and its step. */
  bestEvalLoss?: { step: number; value: number };
  /** train_results.json's train_loss (else the last one logged). */
  trainLoss?: number;
  globalStep?: number;
  maxSteps?: number;
  epochs?: number;
  /** train_results.json's train_tokens_per_second (of the last `bertune pretrain` session). */
  tokensPerSecond?: number;
  /** Tokens trained on in that session: tokens/s × train_runtime. */
  tokensSeen?: number;
  /** Tokens in the training text (train_results.json's train_tokens). */
  trainTokens?: number;
  /** Masked validation tokens the final evaluation scored (eval_results.json's eval_masked_tokens). */
  maskedTokens?: number;
}

export function maskedLmMetrics(d: RunReportData): MaskedLmMetrics {
  const lastOf = (l: { value: number }[] | undefined) => (l?.length ? l[l.length - 1].value : undefined);
  const r = d.evalResults;
  const t = d.trainResults;
  const fromResults = num(r?.eval_loss);
  const evalLoss = fromResults ?? lastOf(d.curves.evalLoss);
  const loggedPerplexity = lastOf(d.curves.evalMetrics.perplexity);
  const perplexity =
    num(r?.perplexity) ?? num(r?.eval_perplexity) ?? (fromResults !== undefined ? Math.exp(fromResults) : (loggedPerplexity ?? (evalLoss !== undefined ? Math.exp(evalLoss) : undefined)));
  const best = d.curves.evalLoss.reduce<{ step: number; value: number } | undefined>((b, l) => (b === undefined || l.value < b.value ? { step: l.step, value: l.value } : b), undefined);
  const tokensPerSecond = num(t?.train_tokens_per_second);
  const runtime = num(t?.train_runtime);
  return {
    evalLoss,
    perplexity,
    bestEvalLoss: best,
    trainLoss: num(t?.train_loss) ?? lastOf(d.curves.trainLoss),
    globalStep: num(d.trainerState.global_step),
    maxSteps: num(d.trainerState.max_steps),
    epochs: num(d.trainerState.epoch),
    tokensPerSecond,
    tokensSeen: tokensPerSecond !== undefined && runtime !== undefined ? Math.round(tokensPerSecond * runtime) : undefined,
    trainTokens: num(t?.train_tokens),
    maskedTokens: num(r?.eval_masked_tokens),
  };
}
