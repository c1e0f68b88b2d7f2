/**
 * Which charts a report holds, built from run data. The same SVG goes into the HTML page and,
 * through resvg, into the PNG files, so both always agree.
 */
import type { ProblemType } from "../problem-type.js";
import { barChart } from "./bars.js";
import { heatMap } from "./heatmap.js";
import { epochBoundaries, learningRateSchedule, type Logged } from "./history.js";
import { lineChart, PALETTE, type Point, type Series } from "./line-chart.js";
import { curveMetrics, isErrorMetric, metricLabel } from "./metric-names.js";
import type { RegressionPredictions } from "./predicted.js";
import { scheduleSettings, type RunReportData } from "./run-data.js";
import { scatterChart } from "./scatter.js";

export interface Chart {
  /** File-name-safe id: loss, metric, lr, confusion, per-label, scatter, ... */
  id: string;
  title: string;
  svg: string;
}

export type XAxis = "step" | "epoch";

const pts = (l: readonly Logged[], x: XAxis): Point[] => l.map((e) => [x === "step" ? e.step : e.epoch, e.value]);

function guides(d: RunReportData, x: XAxis): { x: number; label: string }[] | undefined {
  if (x !== "step") return undefined;
  const b = epochBoundaries(d.curves);
  // One guide per epoch end except the last (the axis ends there anyway); too many would clutter.
  return b.length > 1 && b.length <= 30 ? b.slice(0, -1).map((e) => ({ x: e.step, label: `epoch ${e.epoch}` })) : undefined;
}

const X_LABEL: Record<XAxis, string> = { step: "optimizer step", epoch: "epoch" };

/** The loss each problem type trains with, for axis labels. */
export const LOSS_NAME: Record<ProblemType, string> = {
  single_label_classification: "cross-entropy loss",
  multi_label_classification: "binary cross-entropy loss",
  regression: "mean squared error",
};

/** The number of labels (targets) of a run, from config.json. */
export function numLabels(d: RunReportData): number | undefined {
  const m = d.config?.id2label;
  return m && typeof m === "object" ? Object.keys(m).length : undefined;
}

/** The metrics the validation curves of a run plot: metric_for_best_model first (see curveMetrics). */
export function plottedMetrics(d: RunReportData): string[] {
  return curveMetrics(d.problemType, d.bestMetricName, (n) => (d.curves.evalMetrics[n]?.length ?? 0) > 0);
}

/** The evaluation where metric_for_best_model was best (the first such one), as trainer_state.json's best_metric says. */
export function bestEvaluation(d: RunReportData): Logged | undefined {
  const best = d.trainerState.best_metric;
  const list = d.curves.evalMetrics[d.bestMetricName];
  if (typeof best !== "number" || !list) return undefined;
  return list.find((l) => l.value === best);
}

/** The loss a masked-LM run trains and evaluates with, for axis labels. */
export const MLM_LOSS_NAME = "masked-LM cross-entropy loss";

/**
 * The validation perplexity of a masked-LM run at each evaluation: the logged eval_perplexity,
 * or exp(eval_loss) where a log has the loss only.
 */
export function perplexityCurve(d: RunReportData): Logged[] {
  const logged = d.curves.evalMetrics.perplexity;
  return logged?.length ? logged : d.curves.evalLoss.map((l) => ({ ...l, value: Math.exp(l.value) }));
}

/** The learning-rate chart: the schedule computed from the settings, and the logged rates. */
function learningRateChart(d: RunReportData): Chart {
  const schedule = scheduleSettings(d);
  const lrSeries: Series[] = [];
  if (schedule) lrSeries.push({ name: `schedule (${schedule.type})`, points: learningRateSchedule(schedule), color: "#999999", dashed: true, markers: false });
  lrSeries.push({ name: "logged learning rate", points: pts(d.curves.learningRate, "step"), color: PALETTE[0] });
  return {
    id: "lr",
    title: "Learning rate",
    svg: lineChart({ id: "lr", title: "Learning rate", xLabel: X_LABEL.step, yLabel: "learning rate", integerX: true, xFromZero: true, yFromZero: true, guides: guides(d, "step"), series: lrSeries }),
  };
}

/** The charts of a masked-LM pretraining run: the losses per step, the validation perplexity (log axis) and the learning rate. */
export function maskedLmCharts(d: RunReportData): Chart[] {
  const c = d.curves;
  const noEval = "no evaluation was logged (--eval-every no, or no validation text)";
  return [
    {
      id: "loss",
      title: "Loss per step",
      svg: lineChart({
        id: "loss",
        title: "Loss per step",
        xLabel: X_LABEL.step,
        yLabel: MLM_LOSS_NAME,
        integerX: true,
        xFromZero: true,
        guides: guides(d, "step"),
        series: [
          { name: "training loss", points: pts(c.trainLoss, "step") },
          { name: "validation loss", points: pts(c.evalLoss, "step") },
        ],
      }),
    },
    {
      id: "perplexity",
      title: "Validation perplexity per step",
      svg: lineChart({
        id: "perplexity",
        title: "Validation perplexity per step",
        xLabel: X_LABEL.step,
        yLabel: "perplexity (log scale)",
        yScale: "log",
        integerX: true,
        xFromZero: true,
        guides: guides(d, "step"),
        emptyMessage: noEval,
        series: [{ name: "validation perplexity", points: pts(perplexityCurve(d), "step"), color: PALETTE[2] }],
      }),
    },
    learningRateChart(d),
  ];
}

/** The charts of one run: curves per step and per epoch, the learning rate, and what fits the problem type. */
export function runCharts(d: RunReportData, predictions?: RegressionPredictions): Chart[] {
  if (d.kind === "masked-lm") return maskedLmCharts(d);
  const c = d.curves;
  const charts: Chart[] = [];
  const noEval = "no evaluation was logged (--eval-every no?)";
  const lossName = LOSS_NAME[d.problemType];
  const selectedByLoss = d.bestMetricName === "loss";
  const validationLoss = selectedByLoss ? "validation loss (best-model metric)" : "validation loss";
  const best = bestEvaluation(d);
  charts.push({
    id: "loss",
    title: "Loss per step",
    svg: lineChart({
      id: "loss",
      title: "Loss per step",
      xLabel: X_LABEL.step,
      yLabel: lossName,
      integerX: true,
      xFromZero: true,
      guides: guides(d, "step"),
      highlight: selectedByLoss && best ? { x: best.step, y: best.value, label: `best ${best.value.toFixed(4)}` } : undefined,
      series: [
        { name: "training loss", points: pts(c.trainLoss, "step") },
        { name: validationLoss, points: pts(c.evalLoss, "step") },
      ],
    }),
  });

  const metrics = plottedMetrics(d);
  const k = numLabels(d);
  const label = (n: string) => metricLabel(n, d.problemType, k);
  const seriesName = (n: string, i: number) => (i === 0 && n === d.bestMetricName ? `${label(n)} (best-model metric)` : label(n));
  const values = metrics.flatMap((n) => c.evalMetrics[n].map((l) => l.value));
  const errors = metrics.length > 0 && isErrorMetric(metrics[0]);
  const unit = values.every((v) => v >= 0 && v <= 1) && !errors;
  const yLabel = errors ? "error (lower is better)" : "score";
  const style = (i: number): Pick<Series, "color" | "dashed"> => ({ color: PALETTE[(i + 2) % PALETTE.length], dashed: i > 0 });
  charts.push({
    id: "metric",
    title: "Validation metrics per step",
    svg: lineChart({
      id: "metric",
      title: "Validation metrics per step",
      xLabel: X_LABEL.step,
      yLabel,
      integerX: true,
      xFromZero: true,
      yDomain: unit ? [0, 1] : undefined,
      yFromZero: errors,
      guides: guides(d, "step"),
      emptyMessage: noEval,
      highlight: !selectedByLoss && best && metrics[0] === d.bestMetricName ? { x: best.step, y: best.value, label: `best ${best.value.toFixed(4)}` } : undefined,
      series: metrics.map((n, i) => ({ name: seriesName(n, i), points: pts(c.evalMetrics[n], "step"), ...style(i) })),
    }),
  });
  const epochs = d.epochs;
  const perEpoch = (key: "trainLoss" | "evalLoss"): Point[] => epochs.filter((e) => e[key] !== undefined).map((e) => [e.epoch, e[key]!]);
  const perEpochMetric = (name: string): Point[] => epochs.filter((e) => e.eval[name] !== undefined).map((e) => [e.epoch, e.eval[name]]);
  charts.push({
    id: "loss-epoch",
    title: "Loss per epoch",
    svg: lineChart({
      id: "loss-epoch",
      title: "Loss per epoch",
      xLabel: "epoch",
      yLabel: lossName,
      integerX: true,
      width: 480,
      height: 280,
      series: [
        { name: "training loss (epoch mean)", points: perEpoch("trainLoss") },
        { name: validationLoss, points: perEpoch("evalLoss") },
      ],
    }),
  });
  charts.push({
    id: "metric-epoch",
    title: "Validation metrics per epoch",
    svg: lineChart({
      id: "metric-epoch",
      title: "Validation metrics per epoch",
      xLabel: "epoch",
      yLabel,
      integerX: true,
      yDomain: unit ? [0, 1] : undefined,
      yFromZero: errors,
      width: 480,
      height: 280,
      emptyMessage: noEval,
      series: metrics.map((n, i) => ({ name: seriesName(n, i), points: perEpochMetric(n), ...style(i) })),
    }),
  });
  charts.push(learningRateChart(d));
  const r = d.evalReport;
  if (r?.problemType === "single_label_classification") {
    const title = `Confusion matrix (${r.split ?? "validation"}, ${r.numExamples} examples)`;
    charts.push({ id: "confusion", title, svg: heatMap({ id: "confusion", title, labels: r.perClass.map((m) => m.label), matrix: r.confusionMatrix }) });
  }
  if (r?.problemType === "multi_label_classification") {
    const title = `F1 per label (${r.split ?? "validation"}, ${r.numExamples} examples)`;
    charts.push({
      id: "per-label",
      title,
      svg: barChart({
        id: "per-label",
        title,
        xLabel: "F1 (the label's support: examples where it is true)",
        items: r.perLabel.map((m) => ({ label: m.label, value: m.f1, support: m.support })),
        reference: { value: r.macroF1, label: `macro F1 ${r.macroF1.toFixed(3)}` },
      }),
    });
  }
  if (predictions?.ok) charts.push(...scatterCharts(predictions));
  return charts;
}

/** One predicted-vs-true scatter plot per target: `scatter` for a single target, `scatter-1`, `scatter-2`, ... for several. */
export function scatterCharts(p: Extract<RegressionPredictions, { ok: true }>): Chart[] {
  return p.targets.map((name, j) => {
    const id = p.targets.length === 1 ? "scatter" : `scatter-${j + 1}`;
    const title = p.targets.length === 1 ? `Predicted vs true (${p.split}, ${p.total} examples)` : `${name}: predicted vs true (${p.split})`;
    const points = p.trueValues[j].map((t, i) => [t, p.predicted[j][i]] as const);
    return { id, title, svg: scatterChart({ id, title, xLabel: `true ${name === "LABEL_0" ? "value" : name}`, yLabel: `predicted ${name === "LABEL_0" ? "value" : name}`, points }) };
  });
}

/**
 * Overlaid curves of several runs: one colour per run, the legend names the runs. Masked-LM
 * runs (all of them: the caller refuses a mix) overlay their losses, validation perplexity and
 * learning rate.
 */
export function compareCharts(runs: readonly { name: string; data: RunReportData }[], x: XAxis): Chart[] {
  const overlay = (id: string, title: string, yLabel: string, pick: (d: RunReportData) => readonly Logged[], extra: { yDomain?: [number, number]; yFromZero?: boolean; yScale?: "log" }, legend = (r: { name: string; data: RunReportData }) => r.name): Chart => ({
    id,
    title,
    svg: lineChart({
      id,
      title,
      xLabel: X_LABEL[x],
      yLabel,
      integerX: x === "step",
      xFromZero: true,
      width: 640,
      height: 320,
      series: runs.map((r, i) => ({ name: legend(r), points: pts(pick(r.data), x), color: PALETTE[i % PALETTE.length] })),
      ...extra,
    }),
  });
  if (runs.every((r) => r.data.kind === "masked-lm")) {
    return [
      overlay("loss", "Training loss", MLM_LOSS_NAME, (d) => d.curves.trainLoss, {}),
      overlay("eval-loss", "Validation loss", MLM_LOSS_NAME, (d) => d.curves.evalLoss, {}),
      overlay("perplexity", "Validation perplexity", "perplexity (log scale)", perplexityCurve, { yScale: "log" }),
      overlay("lr", "Learning rate", "learning rate", (d) => d.curves.learningRate, { yFromZero: true }),
    ];
  }
  const types = new Set(runs.map((r) => r.data.problemType));
  const lossName = types.size === 1 ? LOSS_NAME[runs[0].data.problemType] : "loss";
  // Each run's own metric_for_best_model (the problem type's usual metric when that is the loss).
  const metricOf = (d: RunReportData) => plottedMetrics(d)[0];
  const names = new Set(runs.map((r) => metricOf(r.data)));
  const same = names.size === 1 && types.size === 1;
  const first = runs[0].data;
  const sameName = same && metricOf(first) !== undefined ? metricLabel(metricOf(first)!, first.problemType, numLabels(first)) : undefined;
  const values = runs.flatMap((r) => {
    const m = metricOf(r.data);
    return m ? r.data.curves.evalMetrics[m].map((l) => l.value) : [];
  });
  const allErrors = runs.every((r) => {
    const m = metricOf(r.data);
    return m === undefined || isErrorMetric(m);
  });
  const unit = !allErrors && values.every((v) => v >= 0 && v <= 1);
  return [
    overlay("loss", "Training loss", lossName, (d) => d.curves.trainLoss, {}),
    overlay("eval-loss", "Validation loss", lossName, (d) => d.curves.evalLoss, {}),
    overlay(
      "metric",
      sameName ? `Validation ${sameName}` : "Validation metric (each run's metric for the best model)",
      sameName ?? "metric",
      (d) => {
        const m = metricOf(d);
        return m ? d.curves.evalMetrics[m] : [];
      },
      unit ? { yDomain: [0, 1] } : allErrors ? { yFromZero: true } : {},
      (r) => {
        const m = metricOf(r.data);
        return sameName || !m ? r.name : `${r.name} (${metricLabel(m, r.data.problemType, numLabels(r.data))})`;
      },
    ),
    overlay("lr", "Learning rate", "learning rate", (d) => d.curves.learningRate, { yFromZero: true }),
  ];
}
