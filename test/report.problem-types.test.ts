/**
 * The report and the model card of real runs of each problem type (STS-B regression, GoEmotions
 * multi-label, MRPC single-label selected by F1), trained by the CLI on the tiny random model:
 * each report has the sections of its type and their numbers are the run's (the scatter plot's
 * dots are the predictions of the validation split, the per-label bars eval_report.json's), and
 * each card's model-index metrics are eval_results.json's under the Hub's metric ids.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { buildModelCard } from "../src/card/card.js";
import { predict } from "../src/classifier.js";
import { loadDataset } from "../src/data/dataset.js";
import { regressionReport } from "../src/metrics/regression.js";
import { preparePush } from "../src/push/plan.js";
import { runCli } from "./helpers/cli.js";
import { TINY_MODEL, tempDir } from "./helpers/fixtures.js";
import { parseFrontMatter } from "./helpers/yaml-subset.js";

type Json = Record<string, any>;
const json = (path: string): Json => JSON.parse(readFileSync(path, "utf8"));

const work = tempDir("bertune-report-types-");
const env = { BERTUNE_CACHE: join(work, "cache"), HF_HOME: join(work, "hf") };
const STSB = join(work, "stsb");
const GO = join(work, "go");
const MRPC = join(work, "mrpc");
const common = ["--model", TINY_MODEL, "--freeze-backbone", "--logging-steps", "10", "-q", "--json"];

beforeAll(async () => {
  const runs = await Promise.all([
    runCli(["train", ...common, "--dataset", "stsb", "--epochs", "3", "--max-train-samples", "300", "--max-eval-samples", "120", "--output", STSB], env),
    runCli(["train", ...common, "--dataset", "goemotions", "--epochs", "2", "--batch-size", "32", "--threshold", "0.1", "--max-train-samples", "400", "--max-eval-samples", "150", "--output", GO], env),
    runCli(["train", ...common, "--dataset", "mrpc", "--epochs", "2", "--metric-for-best-model", "f1", "--max-train-samples", "300", "--max-eval-samples", "100", "--output", MRPC], env),
  ]);
  for (const r of runs) expect(r.code, r.stderr).toBe(0);
}, 240_000);

/** The ids of the page's sections, in order. */
const sections = (html: string) => [...html.matchAll(/<section id="([^"]+)">/g)].map((m) => m[1]);
/** The inline <svg> elements of a page, by data-chart id. */
const charts = (html: string) => new Map([...html.matchAll(/<svg [^>]*data-chart="([^"]+)"[\s\S]*?<\/svg>/g)].map((m) => [m[1], m[0]]));
/** The summary's cards, label → shown value. */
const summaryCards = (html: string) =>
  Object.fromEntries([...html.matchAll(/<div class="card"><div class="k">([^<]*)<\/div><div class="v">([^<]*)<\/div>/g)].map((m) => [m[1], m[2]]));
const polyline = (svg: string, series: string) => {
  const m = svg.match(new RegExp(`data-series="${series.replace(/[()]/g, "\\$&")}" points="([^"]*)"`));
  expect(m, `a polyline for ${series}`).not.toBeNull();
  return m![1].split(" ");
};
const f4 = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(4));

async function report(run: string, extra: string[] = []) {
  const r = await runCli(["report", run, "--json", ...extra], env);
  expect(r.code, r.stderr).toBe(0);
  const out = JSON.parse(r.stdout);
  return { out, stderr: r.stderr, html: readFileSync(out.html, "utf8") };
}

describe("the report of a regression run (STS-B)", () => {
  let html: string;
  let out: Json;
  beforeAll(async () => {
    ({ html, out } = await report(STSB, ["--png", join(work, "png-stsb")]));
  }, 120_000);

  it("has a predicted-vs-true section and the largest errors instead of a confusion matrix", () => {
    expect(sections(html)).toEqual(["summary", "curves", "learning-rate", "scatter", "largest-errors", "settings"]);
    expect([...charts(html).keys()]).toEqual(["loss", "metric", "loss-epoch", "metric-epoch", "lr", "scatter"]);
    expect(out.examples).toMatchObject({ included: true, applicable: true });
    expect(out.png.map((p: string) => p.split("/").at(-1))).toEqual(["loss.png", "metric.png", "lr.png", "scatter.png"]);
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
  });

  it("plots one dot per validation example at (true, predicted), around the y = x line", async () => {
    const svg = charts(html).get("scatter")!;
    const g = svg.match(/<g class="points" data-domain="([^"]+)" data-plot="([^"]+)" data-n="(\d+)" data-shown="(\d+)">([\s\S]*?)<\/g>/);
    expect(g).not.toBeNull();
    const [lo, hi] = g![1].split(" ").map(Number);
    const [x0, y0, x1, y1] = g![2].split(" ").map(Number);
    const dots = [...g![5].matchAll(/<circle cx="([^"]+)" cy="([^"]+)"/g)].map((m) => [Number(m[1]), Number(m[2])]);
    const evalReport = json(join(STSB, "eval_report.json"));
    expect(evalReport.numExamples).toBe(120);
    expect(Number(g![3])).toBe(120);
    expect(dots).toHaveLength(120);

    // The run's own predictions of the same 120 examples (--max-eval-samples: the first 120).
    const data = await loadDataset("stsb", { maxEvalSamples: 120 });
    const examples = data.splits.validation;
    const predictions = await predict(STSB, examples.map((e) => ({ text: e.text, textPair: e.textPair })));
    const values = predictions.map((p) => (p.problemType === "regression" ? p.value : NaN));
    const truth = examples.map((e) => (Array.isArray(e.label) ? e.label[0] : e.label));
    // They are the run's evaluation: their metrics are eval_report.json's.
    const again = regressionReport(truth, values, ["LABEL_0"]);
    expect(again.mse).toBeCloseTo(evalReport.mse, 6);
    expect(again.pearson).toBeCloseTo(evalReport.pearson, 6);

    // Pixels back to values: coordinates have 2 decimals on a plot of ~380 px.
    const tol = ((hi - lo) / (x1 - x0)) * 0.01;
    dots.forEach(([cx, cy], i) => {
      expect(Math.abs(lo + ((cx - x0) / (x1 - x0)) * (hi - lo) - truth[i])).toBeLessThanOrEqual(tol);
      expect(Math.abs(lo + ((y0 - cy) / (y0 - y1)) * (hi - lo) - values[i])).toBeLessThanOrEqual(tol);
    });
    // Every dot is inside the plot, and the diagonal runs from (lo, lo) to (hi, hi).
    expect(Math.min(...truth, ...values)).toBeGreaterThanOrEqual(lo);
    expect(Math.max(...truth, ...values)).toBeLessThanOrEqual(hi);
    const line = svg.match(/<line class="identity" x1="([^"]+)" y1="([^"]+)" x2="([^"]+)" y2="([^"]+)"/)!.slice(1).map(Number);
    expect(line).toEqual([x0, y0, x1, y1]);

    // The largest-errors table starts with the worst prediction.
    const errors = values.map((v, i) => v - truth[i]);
    const worst = errors.reduce((a, e) => (Math.abs(e) > Math.abs(a) ? e : a), 0);
    const largest = html.match(/<section id="largest-errors">[\s\S]*?<tbody><tr>([\s\S]*?)<\/tr>/)![1];
    expect(largest).toContain(`<td class="n">${f4(worst)}</td>`);
  });

  it("shows MSE, RMSE, MAE, Pearson, Spearman and R² per target, and the curves of metric_for_best_model (mse)", () => {
    const r = json(join(STSB, "eval_results.json"));
    const cards = summaryCards(html);
    expect(cards).toMatchObject({ MSE: f4(r.eval_mse), RMSE: f4(r.eval_rmse), MAE: f4(r.eval_mae), "Pearson r": f4(r.eval_pearson), "Spearman ρ": f4(r.eval_spearman), "R²": f4(r.eval_r2) });
    expect(cards).not.toHaveProperty("validation accuracy");
    const t = json(join(STSB, "eval_report.json")).perTarget[0];
    const row = html.match(/<h3>Metrics per target[\s\S]*?<tbody><tr>([\s\S]*?)<\/tr>/)![1];
    expect(row).toBe(`<td>LABEL_0</td>${[t.mse, t.rmse, t.mae, t.pearson, t.spearman, t.r2].map((v) => `<td class="n">${f4(v)}</td>`).join("")}`);

    const state = json(join(STSB, "trainer_state.json"));
    const evals = state.log_history.filter((e: Json) => e.eval_mse !== undefined);
    const metric = charts(html).get("metric")!;
    expect(polyline(metric, "MSE (best-model metric)")).toHaveLength(evals.length);
    expect(polyline(metric, "MAE")).toHaveLength(evals.length);
    expect(metric).toContain("error (lower is better)");
    // The best evaluation is ringed: trainer_state.json's best_metric, the lowest MSE.
    const ring = metric.match(/<g class="highlight" data-x="([^"]+)" data-y="([^"]+)"/)!;
    expect(Number(ring[2])).toBe(state.best_metric);
    expect(state.best_metric).toBe(Math.min(...evals.map((e: Json) => e.eval_mse)));
    expect(charts(html).get("loss")).toContain("mean squared error");
  });
});

describe("the report of a multi-label run (GoEmotions)", () => {
  let html: string;
  let out: Json;
  let stderr: string;
  beforeAll(async () => {
    ({ html, out, stderr } = await report(GO, ["--png", join(work, "png-go")]));
  }, 120_000);

  it("has per-label scores, no confusion matrix and no examples (and does not warn about them)", () => {
    expect(sections(html)).toEqual(["summary", "curves", "learning-rate", "per-label", "settings"]);
    expect([...charts(html).keys()]).toEqual(["loss", "metric", "loss-epoch", "metric-epoch", "lr", "per-label"]);
    expect(html).not.toContain('data-chart="confusion"');
    expect(out.examples).toMatchObject({ included: false, applicable: false });
    expect(stderr).not.toContain("warning");
    expect(out.png.map((p: string) => p.split("/").at(-1))).toEqual(["loss.png", "metric.png", "lr.png", "per-label.png"]);
  });

  it("draws one F1 bar per label with its support, as eval_report.json has them", () => {
    const r = json(join(GO, "eval_report.json"));
    expect(r.perLabel).toHaveLength(28);
    const bars = [...charts(html).get("per-label")!.matchAll(/<g class="bar" data-label="([^"]*)" data-value="([^"]*)" data-support="([^"]*)">[\s\S]*?<rect [^>]*width="([^"]+)"/g)];
    expect(bars.map((b) => [b[1], Number(b[2]), Number(b[3])])).toEqual(r.perLabel.map((l: Json) => [l.label, l.f1, l.support]));
    // Bar lengths are proportional to F1 (320 px for 1).
    bars.forEach((b, i) => expect(Math.abs(Number(b[4]) - 320 * r.perLabel[i].f1)).toBeLessThanOrEqual(0.01));
    // The per-label table and the averages.
    for (const l of r.perLabel) expect(html).toContain(`<td>${l.label}</td>`);
    expect(html).toMatch(/<b>micro avg<\/b>/);
    expect(html).toContain(r.microF1.toFixed(4));
  });

  it("summarises micro/macro F1, subset accuracy, Hamming loss and the threshold; the curve follows macro_f1", () => {
    const r = json(join(GO, "eval_results.json"));
    expect(summaryCards(html)).toMatchObject({
      "micro F1": f4(r.eval_micro_f1),
      "macro F1": f4(r.eval_macro_f1),
      "subset accuracy": f4(r.eval_subset_accuracy),
      "Hamming loss": f4(r.eval_hamming_loss),
      threshold: "0.1000",
    });
    const evals = json(join(GO, "trainer_state.json")).log_history.filter((e: Json) => e.eval_macro_f1 !== undefined);
    expect(evals).toHaveLength(2);
    const metric = charts(html).get("metric")!;
    expect(polyline(metric, "macro F1 (best-model metric)")).toHaveLength(2);
    expect(polyline(metric, "micro F1")).toHaveLength(2);
    expect(charts(html).get("loss")).toContain("binary cross-entropy loss");
  });
});

describe("the report of a single-label run selected by F1 (MRPC)", () => {
  let html: string;
  beforeAll(async () => {
    ({ html } = await report(MRPC));
  }, 120_000);

  it("keeps the confusion matrix and adds MCC and the weighted averages", () => {
    expect(sections(html)).toEqual(["summary", "curves", "learning-rate", "confusion", "misclassified", "settings"]);
    const r = json(join(MRPC, "eval_results.json"));
    const report = json(join(MRPC, "eval_report.json"));
    expect(summaryCards(html)).toMatchObject({
      "validation accuracy": f4(r.eval_accuracy),
      "macro F1": f4(r.eval_macro_f1),
      "F1 of class 1 (equivalent)": f4(r.eval_f1),
      MCC: f4(r.eval_matthews_correlation),
      "weighted F1": f4(r.eval_weighted_f1),
    });
    const counts = [...charts(html).get("confusion")!.matchAll(/data-count="(\d+)"/g)].map((m) => Number(m[1]));
    expect(counts).toEqual(report.confusionMatrix.flat());
    expect(html).toMatch(new RegExp(`<b>weighted avg</b></td><td class="n bar">.*?${report.weightedPrecision.toFixed(4)}`));
  });

  it("plots metric_for_best_model (f1 of class 1) with accuracy and macro F1", () => {
    const state = json(join(MRPC, "trainer_state.json"));
    const evals = state.log_history.filter((e: Json) => e.eval_f1 !== undefined);
    const metric = charts(html).get("metric")!;
    const points = polyline(metric, "F1 (class 1) (best-model metric)");
    expect(points).toHaveLength(evals.length);
    expect(polyline(metric, "accuracy")).toHaveLength(evals.length);
    expect(polyline(metric, "macro F1")).toHaveLength(evals.length);
    expect(Number(metric.match(/<g class="highlight" data-x="[^"]+" data-y="([^"]+)"/)![1])).toBe(state.best_metric);
  });
});

describe("the model card of each problem type", () => {
  const card = (run: string, repo: string) => parseFrontMatter(preparePush(run, { repo, bertuneVersion: "0.1.0" }).card);
  type Metric = { type: string; name: string; value: number; args?: Json };
  const index = (meta: Json) => meta["model-index"][0].results[0] as { task: Json; dataset: Json; metrics: Metric[] };

  it("regression: the Hub's regression metric ids with eval_results.json's values, and the raw outputs in the snippet", () => {
    const { meta, body } = card(STSB, "alice/stsb-head");
    const r = json(join(STSB, "eval_results.json"));
    expect(meta.pipeline_tag).toBe("text-classification");
    expect(meta.tags).toContain("regression");
    const res = index(meta);
    expect(res.task).toEqual({ type: "text-classification", name: "Text Classification" });
    expect(res.dataset).toEqual({ name: "stsb", type: "nyu-mll/glue", config: "stsb", split: "validation" });
    expect(res.metrics.map((m) => [m.type, m.name, m.value])).toEqual([
      ["mse", "MSE", r.eval_mse],
      ["mse", "RMSE", r.eval_rmse],
      ["mae", "MAE", r.eval_mae],
      ["pearsonr", "Pearson", r.eval_pearson],
      ["spearmanr", "Spearman", r.eval_spearman],
      ["r_squared", "R-squared", r.eval_r2],
    ]);
    expect(meta.metrics).toEqual(["mse", "mae", "pearsonr", "spearmanr", "r_squared"]);
    // Python: the logits are the values (no pipeline: it would put a sigmoid on one output); the pair goes in as a pair.
    expect(body).toContain("logits = model(**inputs).logits");
    expect(body).toContain("print(logits[0, 0].item())");
    expect(body).toContain('problem_type="regression"');
    expect(body).toContain('tokenizer(["A man is playing a guitar."], ["A man plays the guitar."]');
    expect(body).not.toMatch(/pipeline\(|\.softmax\(|\.sigmoid\(/);
    expect(body).toContain("| Training Loss | Epoch | Step | Validation Loss | MSE | RMSE | MAE | Pearson | Spearman | R2 |");
  });

  it("multi-label: micro/macro F1, subset accuracy and Hamming loss; the pipeline with top_k=None and a sigmoid at the run's threshold", () => {
    const { meta, body } = card(GO, "alice/go-head");
    const r = json(join(GO, "eval_results.json"));
    expect(meta.tags).toContain("multi-label-classification");
    const res = index(meta);
    expect(res.task.type).toBe("text-classification");
    expect(res.metrics.map((m) => [m.type, m.name, m.value, m.args])).toEqual([
      ["f1", "Micro F1", r.eval_micro_f1, { average: "micro" }],
      ["f1", "Macro F1", r.eval_macro_f1, { average: "macro" }],
      ["accuracy", "Subset Accuracy", r.eval_subset_accuracy, undefined],
      ["hamming_loss", "Hamming Loss", r.eval_hamming_loss, undefined],
    ]);
    expect(body).toContain('problem_type="multi_label_classification"');
    expect(body).toContain("probs = logits.sigmoid()[0]");
    expect(body).toContain("if p >= 0.1]");
    // eval_report.json's per-label table.
    const report = json(join(GO, "eval_report.json"));
    expect(body).toContain(`| ${report.perLabel[0].label} | ${f4(report.perLabel[0].precision)} | ${f4(report.perLabel[0].recall)} | ${f4(report.perLabel[0].f1)} | ${report.perLabel[0].support} |`);
    // A full run with its ONNX export: the pipeline, every label's sigmoid.
    const configFull = { ...json(join(GO, "config.json")), bertune_mode: "full" };
    const full = parseFrontMatter(buildModelCard({ repo: "alice/go", config: configFull, evalResults: r, files: ["model.safetensors", "tokenizer.json", "onnx/model.onnx"], bertuneVersion: "0.1.0" })).body;
    expect(full).toContain('scores = classifier(["a gripping, beautifully acted film"], top_k=None, function_to_apply="sigmoid")[0]');
    expect(full).toContain('print([s["label"] for s in scores if s["score"] >= 0.1])');
    expect(full).toContain('await classifier("a gripping, beautifully acted film", { top_k: null })');
    expect(full).toContain("scores.filter((s) => s.score >= 0.1)");
  });

  it("single-label with two classes: accuracy, macro F1, the positive class's F1, weighted F1 and MCC", () => {
    const { meta, body } = card(MRPC, "alice/mrpc-head");
    const r = json(join(MRPC, "eval_results.json"));
    const res = index(meta);
    expect(res.metrics.map((m) => [m.type, m.name, m.value, m.args])).toEqual([
      ["accuracy", "Accuracy", r.eval_accuracy, undefined],
      ["f1", "Macro F1", r.eval_macro_f1, { average: "macro" }],
      ["f1", "F1", r.eval_f1, { average: "binary", pos_label: 1 }],
      ["f1", "Weighted F1", r.eval_weighted_f1, { average: "weighted" }],
      ["matthews_correlation", "Matthews Correlation", r.eval_matthews_correlation, undefined],
    ]);
    expect(meta.metrics).toEqual(["accuracy", "f1", "matthews_correlation"]);
    expect(body).toContain(`| F1 (class 1: equivalent) | ${f4(r.eval_f1)} |`);
    expect(body).toContain(`| Matthews Correlation | ${f4(r.eval_matthews_correlation)} |`);
    expect(body).toContain("probs = logits.softmax(-1)");
  });
});

describe("report --compare across problem types", () => {
  it("overlays each run's own metric_for_best_model and names it", async () => {
    const out = join(work, "compare.html");
    const r = await runCli(["report", "--compare", STSB, GO, MRPC, "--out", out, "-q"], env);
    expect(r.code, r.stderr).toBe(0);
    const html = readFileSync(out, "utf8");
    const metric = charts(html).get("metric")!;
    expect(metric.match(/class="legend-item" data-series="([^"]+)"/g)).toEqual([
      'class="legend-item" data-series="stsb (MSE)"',
      'class="legend-item" data-series="go (macro F1)"',
      'class="legend-item" data-series="mrpc (F1 (class 1))"',
    ]);
    const go = json(join(GO, "eval_results.json"));
    expect(html).toContain(go.eval_macro_f1.toFixed(4));
    expect(html).toContain("<td>regression</td>");
  });
});
