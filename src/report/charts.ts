/**
 * Which charts a report holds, built from run data. The same SVG goes into the HTML page and,
 * through resvg, into the PNG files, so both always agree.
 */
import { heatMap } from "./heatmap.js";
import { epochBoundaries, learningRateSchedule, type Logged } from "./history.js";
import { lineChart, PALETTE, type Point, type Series } from "./line-chart.js";
import { scheduleSettings, type RunReportData } from "./run-data.js";

export interface Chart {
  /** File-name-safe id: loss, accuracy, lr, confusion, ... */
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

/** The charts of one run: curves per step and per epoch, the learning rate, the confusion matrix. */
export function runCharts(d: RunReportData): Chart[] {
  const c = d.curves;
  const charts: Chart[] = [];
  const noEval = "no evaluation was logged (--eval-every no?)";
  charts.push({
    id: "loss",
    title: "Loss per step",
    svg: lineChart({
      id: "loss",
      title: "Loss per step",
      xLabel: X_LABEL.step,
      yLabel: "cross-entropy loss",
      integerX: true,
      xFromZero: true,
      guides: guides(d, "step"),
      series: [
        { name: "training loss", points: pts(c.trainLoss, "step") },
        { name: "validation loss", points: pts(c.evalLoss, "step") },
      ],
    }),
  });
  charts.push({
    id: "accuracy",
    title: "Validation accuracy per step",
    svg: lineChart({
      id: "accuracy",
      title: "Validation accuracy per step",
      xLabel: X_LABEL.step,
      yLabel: "score",
      integerX: true,
      xFromZero: true,
      yDomain: [0, 1],
      guides: guides(d, "step"),
      emptyMessage: noEval,
      series: [
        { name: "accuracy", points: pts(c.evalAccuracy, "step"), color: PALETTE[2] },
        { name: "macro F1", points: pts(c.evalMacroF1, "step"), color: PALETTE[3], dashed: true },
      ],
    }),
  });
  const epochs = d.epochs;
  const perEpoch = (key: "trainLoss" | "evalLoss" | "evalAccuracy" | "evalMacroF1"): Point[] =>
    epochs.filter((e) => e[key] !== undefined).map((e) => [e.epoch, e[key]!]);
  charts.push({
    id: "loss-epoch",
    title: "Loss per epoch",
    svg: lineChart({
      id: "loss-epoch",
      title: "Loss per epoch",
      xLabel: "epoch",
      yLabel: "cross-entropy loss",
      integerX: true,
      width: 480,
      height: 280,
      series: [
        { name: "training loss (epoch mean)", points: perEpoch("trainLoss") },
        { name: "validation loss", points: perEpoch("evalLoss") },
      ],
    }),
  });
  charts.push({
    id: "accuracy-epoch",
    title: "Validation accuracy per epoch",
    svg: lineChart({
      id: "accuracy-epoch",
      title: "Validation accuracy per epoch",
      xLabel: "epoch",
      yLabel: "score",
      integerX: true,
      yDomain: [0, 1],
      width: 480,
      height: 280,
      emptyMessage: noEval,
      series: [
        { name: "accuracy", points: perEpoch("evalAccuracy"), color: PALETTE[2] },
        { name: "macro F1", points: perEpoch("evalMacroF1"), color: PALETTE[3], dashed: true },
      ],
    }),
  });
  const schedule = scheduleSettings(d);
  const lrSeries: Series[] = [];
  if (schedule) lrSeries.push({ name: `schedule (${schedule.type})`, points: learningRateSchedule(schedule), color: "#999999", dashed: true, markers: false });
  lrSeries.push({ name: "logged learning rate", points: pts(c.learningRate, "step"), color: PALETTE[0] });
  charts.push({
    id: "lr",
    title: "Learning rate",
    svg: lineChart({ id: "lr", title: "Learning rate", xLabel: X_LABEL.step, yLabel: "learning rate", integerX: true, xFromZero: true, yFromZero: true, guides: guides(d, "step"), series: lrSeries }),
  });
  if (d.evalReport) {
    const r = d.evalReport;
    const title = `Confusion matrix (${r.split ?? "validation"}, ${r.numExamples} examples)`;
    charts.push({ id: "confusion", title, svg: heatMap({ id: "confusion", title, labels: r.perClass.map((m) => m.label), matrix: r.confusionMatrix }) });
  }
  return charts;
}

/** Overlaid curves of several runs: one colour per run, the legend names the runs. */
export function compareCharts(runs: readonly { name: string; data: RunReportData }[], x: XAxis): Chart[] {
  const overlay = (id: string, title: string, yLabel: string, pick: (d: RunReportData) => readonly Logged[], extra: { yDomain?: [number, number]; yFromZero?: boolean }): Chart => ({
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
      series: runs.map((r, i) => ({ name: r.name, points: pts(pick(r.data), x), color: PALETTE[i % PALETTE.length] })),
      ...extra,
    }),
  });
  return [
    overlay("loss", "Training loss", "cross-entropy loss", (d) => d.curves.trainLoss, {}),
    overlay("eval-loss", "Validation loss", "cross-entropy loss", (d) => d.curves.evalLoss, {}),
    overlay("accuracy", "Validation accuracy", "accuracy", (d) => d.curves.evalAccuracy, { yDomain: [0, 1] }),
    overlay("lr", "Learning rate", "learning rate", (d) => d.curves.learningRate, { yFromZero: true }),
  ];
}
