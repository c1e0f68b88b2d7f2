import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BertuneError } from "../src/errors.js";
import { runCharts } from "../src/report/charts.js";
import { curvesFromLogHistory, epochBoundaries, epochSummaries, learningRateSchedule } from "../src/report/history.js";
import { renderRunReport } from "../src/report/html.js";
import { runNames } from "../src/report/index.js";
import { asClassificationReport, finalMetrics, readRunReportData, scheduleSettings } from "../src/report/run-data.js";
import { tempDir } from "./helpers/fixtures.js";

/** A log as the Trainer writes it: 2 epochs of 10 steps, loss every 4 steps and at epoch ends, eval per epoch. */
const LOG = [
  { epoch: 0.4, step: 4, loss: 0.7, grad_norm: 1, learning_rate: 1e-3 },
  { epoch: 0.8, step: 8, loss: 0.6, grad_norm: 1, learning_rate: 8e-4 },
  { epoch: 1, step: 10, loss: 0.5, grad_norm: 1, learning_rate: 6e-4 },
  { epoch: 1, step: 10, eval_loss: 0.55, eval_accuracy: 0.7, eval_macro_f1: 0.65 },
  { epoch: 1.2, step: 12, loss: 0.45, grad_norm: 1, learning_rate: 4e-4 },
  { epoch: 1.6, step: 16, loss: 0.4, grad_norm: 1, learning_rate: 2e-4 },
  { epoch: 2, step: 20, loss: 0.3, grad_norm: 1, learning_rate: 1e-4 },
  { epoch: 2, step: 20, eval_loss: 0.5, eval_accuracy: 0.8, eval_macro_f1: 0.78 },
];

const REPORT = {
  split: "validation",
  dataset: "toy",
  accuracy: 0.8,
  macroPrecision: 0.8,
  macroRecall: 0.8,
  macroF1: 0.78,
  perClass: [
    { label: "neg", precision: 0.9, recall: 0.7, f1: 0.79, support: 10 },
    { label: "pos", precision: 0.74, recall: 0.9, f1: 0.81, support: 10 },
  ],
  confusionMatrix: [
    [7, 3],
    [1, 9],
  ],
  numExamples: 20,
};

function fakeRun(dir: string, files: Record<string, unknown>): string {
  mkdirSync(dir, { recursive: true });
  for (const [name, value] of Object.entries(files)) writeFileSync(join(dir, name), typeof value === "string" ? value : JSON.stringify(value));
  return dir;
}

const STATE = { epoch: 2, global_step: 20, max_steps: 20, num_train_epochs: 2, logging_steps: 4, log_history: LOG, best_metric: 0.8 };
const ARGS = { learning_rate: 1e-3, lr_scheduler_type: "linear", warmup_ratio: 0, warmup_steps: 0, dataset: "toy", num_train_epochs: 2 };
const CONFIG = { base_model: "tiny", id2label: { 0: "neg", 1: "pos" }, pooling: "pooler", max_length: 128, bertune_mode: "frozen" };

describe("curves from log_history", () => {
  it("splits training and evaluation entries into curves, by step", () => {
    const c = curvesFromLogHistory(LOG);
    expect(c.trainLoss.map((l) => l.step)).toEqual([4, 8, 10, 12, 16, 20]);
    expect(c.learningRate.map((l) => l.value)).toEqual([1e-3, 8e-4, 6e-4, 4e-4, 2e-4, 1e-4]);
    expect(c.evalAccuracy).toEqual([
      { step: 10, epoch: 1, value: 0.7 },
      { step: 20, epoch: 2, value: 0.8 },
    ]);
    expect(c.evalLoss.map((l) => l.value)).toEqual([0.55, 0.5]);
    expect(c.evalMacroF1).toHaveLength(2);
    // Every eval_ metric, by its bare name.
    expect(Object.keys(c.evalMetrics).sort()).toEqual(["accuracy", "loss", "macro_f1"]);
    expect(c.evalMetrics.accuracy).toEqual(c.evalAccuracy);
  });

  it("skips entries and values that are not finite numbers", () => {
    const c = curvesFromLogHistory([null, 3, { step: "1", epoch: 1, loss: 1 }, { step: 2, epoch: 0.5, loss: "x", learning_rate: 1e-3 }, { step: 3, epoch: 1, loss: null }]);
    expect(c.trainLoss).toEqual([]);
    expect(c.learningRate).toEqual([{ step: 2, epoch: 0.5, value: 1e-3 }]);
    expect(curvesFromLogHistory("not a list").trainLoss).toEqual([]);
  });

  it("summarises each epoch: step-weighted mean training loss and the epoch's last evaluation", () => {
    const e = epochSummaries(curvesFromLogHistory(LOG));
    expect(e).toHaveLength(2);
    // Epoch 1: windows of 4, 4 and 2 steps.
    expect(e[0].trainLoss).toBeCloseTo((0.7 * 4 + 0.6 * 4 + 0.5 * 2) / 10, 12);
    expect(e[0]).toMatchObject({ epoch: 1, lastStep: 10, evalLoss: 0.55, evalAccuracy: 0.7, evalMacroF1: 0.65 });
    expect(e[1].trainLoss).toBeCloseTo((0.45 * 2 + 0.4 * 4 + 0.3 * 4) / 10, 12);
    expect(e[1]).toMatchObject({ epoch: 2, lastStep: 20, evalAccuracy: 0.8 });
    expect(epochBoundaries(curvesFromLogHistory(LOG))).toEqual([
      { epoch: 1, step: 10 },
      { epoch: 2, step: 20 },
    ]);
  });

  it("rebuilds the learning-rate schedule the Trainer follows (warmup, then linear decay)", () => {
    const s = learningRateSchedule({ learningRate: 1e-3, type: "linear", warmupRatio: 0, warmupSteps: 2, totalSteps: 10 });
    expect(s.map(([x]) => x)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(s[0][1]).toBe(0); // step 1 uses the rate of step 0: the start of warmup
    expect(s[1][1]).toBeCloseTo(5e-4, 12);
    expect(s[2][1]).toBeCloseTo(1e-3, 12);
    expect(s[9][1]).toBeCloseTo(1e-3 * (1 - 7 / 8), 12);
    // A long run is sampled, but keeps its first and last steps and the corner of the warmup.
    const long = learningRateSchedule({ learningRate: 1, type: "cosine", warmupRatio: 0.1, warmupSteps: 0, totalSteps: 100_000 }, 100);
    expect(long.length).toBeLessThanOrEqual(104);
    expect(long[0][0]).toBe(1);
    expect(long[long.length - 1][0]).toBe(100_000);
    expect(long.some(([x, y]) => x === 10_001 && y === 1)).toBe(true);
  });
});

describe("run folder data", () => {
  it("reads every file of a run and derives the final metrics and the schedule", () => {
    const dir = fakeRun(join(tempDir(), "toy-run"), {
      "trainer_state.json": STATE,
      "training_args.json": ARGS,
      "config.json": CONFIG,
      "eval_report.json": REPORT,
      "eval_results.json": { eval_accuracy: 0.8, eval_macro_f1: 0.78, eval_loss: 0.5 },
      "train_results.json": { train_loss: 0.49 },
    });
    const d = readRunReportData(dir);
    expect(d.name).toBe("toy-run");
    expect(d.notes).toEqual([]);
    expect(d.evalReport?.confusionMatrix).toEqual([[7, 3], [1, 9]]);
    expect(d.problemType).toBe("single_label_classification"); // an old run: no problem_type, no problemType in the report
    expect(d.bestMetricName).toBe("accuracy"); // no metric_for_best_model recorded: the single-label default
    expect(finalMetrics(d)).toEqual({
      evalAccuracy: 0.8,
      evalMacroF1: 0.78,
      evalLoss: 0.5,
      trainLoss: 0.49,
      bestMetric: 0.8,
      globalStep: 20,
      epochs: 2,
      metricName: "accuracy",
      metric: 0.8,
      metrics: { loss: 0.5, accuracy: 0.8, macro_f1: 0.78 },
    });
    expect(scheduleSettings(d)).toEqual({ learningRate: 1e-3, type: "linear", totalSteps: 20, warmupRatio: 0, warmupSteps: 0 });

    const charts = runCharts(d);
    expect(charts.map((c) => c.id)).toEqual(["loss", "metric", "loss-epoch", "metric-epoch", "lr", "confusion"]);
    const loss = charts[0].svg;
    const trainPoints = loss.match(/data-series="training loss" points="([^"]*)"/)![1].split(" ");
    expect(trainPoints).toHaveLength(6);
    expect(loss.match(/data-series="validation loss" points="([^"]*)"/)![1].split(" ")).toHaveLength(2);
    const html = renderRunReport(d, charts, { ok: false, reason: "no model here" });
    expect(html).toContain("Not available: no model here.");
    expect(html).toContain("<code>learning_rate</code>");
  });

  it("escapes every text from the data and the run (no markup gets through)", () => {
    const evil = "<script>alert(1)</script>";
    const dir = fakeRun(join(tempDir(), "evil"), {
      "trainer_state.json": STATE,
      "training_args.json": { ...ARGS, dataset: evil },
      "config.json": { ...CONFIG, id2label: { 0: evil, 1: "pos" } },
      "eval_report.json": { ...REPORT, perClass: [{ ...REPORT.perClass[0], label: evil }, REPORT.perClass[1]] },
    });
    const d = readRunReportData(dir);
    const html = renderRunReport(d, runCharts(d), {
      ok: true,
      dataset: evil,
      split: "validation",
      total: 1,
      errors: 1,
      examples: [{ text: evil, textPair: `"&'`, trueLabel: evil, predictedLabel: "pos", confidence: 0.9, trueProbability: 0.1, probabilities: { [evil]: 0.1, pos: 0.9 } }],
    });
    expect(html).not.toContain("<script");
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(html).toContain("&quot;&amp;&#39;");
  });

  it("still reports a run without eval_report.json or training_args.json, and says so", () => {
    const dir = fakeRun(join(tempDir(), "partial"), { "trainer_state.json": STATE, "config.json": CONFIG });
    const d = readRunReportData(dir);
    expect(d.notes).toEqual(["training_args.json is missing", "train_results.json is missing", "eval_results.json is missing", "eval_report.json is missing"]);
    expect(d.evalReport).toBeUndefined();
    expect(scheduleSettings(d)).toBeUndefined();
    expect(finalMetrics(d).evalAccuracy).toBe(0.8); // from the last logged evaluation
    expect(runCharts(d).map((c) => c.id)).not.toContain("confusion");
  });

  it("refuses a folder without trainer_state.json, or a damaged one, with a BertuneError", () => {
    const empty = fakeRun(join(tempDir(), "empty"), {});
    expect(() => readRunReportData(empty)).toThrow(BertuneError);
    expect(() => readRunReportData(empty)).toThrow(/no trainer_state\.json/);
    expect(() => readRunReportData(fakeRun(join(tempDir(), "bad"), { "trainer_state.json": "{ oops" }))).toThrow(/not valid JSON/);
    expect(() => readRunReportData(fakeRun(join(tempDir(), "nolog"), { "trainer_state.json": { epoch: 1 } }))).toThrow(/no log_history/);
    expect(() => readRunReportData("/no/such/run")).toThrow(/no run folder/);
  });

  it("accepts only a well-formed classification report for the heat map", () => {
    expect(asClassificationReport(REPORT)).toBeDefined();
    expect(asClassificationReport({ ...REPORT, confusionMatrix: [[1, 2]] })).toBeUndefined();
    expect(asClassificationReport({ ...REPORT, confusionMatrix: [[1, "2"], [3, 4]] })).toBeUndefined();
    expect(asClassificationReport({ ...REPORT, perClass: [] })).toBeUndefined();
    expect(asClassificationReport([])).toBeUndefined();
  });

  it("names compared runs by folder, disambiguating equal names", () => {
    expect(runNames(["/a/run1", "/b/run2"])).toEqual(["run1", "run2"]);
    expect(runNames(["/a/run", "/b/run"])).toEqual(["a/run", "b/run"]);
    expect(runNames(["/a/run", "/a/run"])).toEqual(["a/run (1)", "a/run (2)"]);
  });
});
