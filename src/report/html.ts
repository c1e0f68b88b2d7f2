/** The report pages: one run in detail, or several runs side by side. */
import { numLabels, perplexityCurve, plottedMetrics, type Chart } from "./charts.js";
import type { MisclassifiedResult } from "./misclassified.js";
import { metricLabel } from "./metric-names.js";
import type { RegressionPredictions } from "./predicted.js";
import { barCell, cards, figure, fmt, page, table, type Cell, type Section } from "./page.js";
import { finalMetrics, maskedLmMetrics, problemTypeWords, type FinalMetrics, type RunReportData } from "./run-data.js";
import { PALETTE } from "./line-chart.js";
import { esc } from "./svg.js";

/**
 * The run's predictions on its validation split: the misclassified examples of a single-label
 * run or the predicted values of a regression run (each with its result or why it failed), or
 * the user skipped them. Multi-label runs predict nothing for the report.
 */
export type ExamplesSection = MisclassifiedResult | RegressionPredictions | { ok: false; skipped: true; reason: string };

const CONFIG_KEYS = [
  "base_model",
  "base_model_revision",
  "bertune_mode",
  "pooling",
  "max_length",
  "model_type",
  "hidden_size",
  "num_hidden_layers",
  "num_attention_heads",
  "max_position_embeddings",
  "vocab_size",
  "problem_type",
];

function value(v: unknown): string {
  if (v === null || v === undefined) return "—";
  return typeof v === "string" ? v : JSON.stringify(v);
}

function chartOf(charts: readonly Chart[], id: string, caption?: string): string {
  const c = charts.find((x) => x.id === id);
  return c ? figure(c.svg, caption) : "";
}

function settingsSection(d: RunReportData): Section {
  const parts: string[] = [];
  if (d.config) {
    const rows: Cell[][] = CONFIG_KEYS.filter((k) => d.config![k] !== undefined).map((k) => [{ html: `<code>${esc(k)}</code>` }, value(d.config![k])]);
    const labels = d.config.id2label;
    if (labels && typeof labels === "object") rows.push([{ html: "<code>id2label</code>" }, Object.entries(labels).map(([i, n]) => `${i}: ${value(n)}`).join(", ")]);
    if (d.config.onnx_from) rows.push([{ html: "<code>onnx_from</code>" }, value(d.config.onnx_from)]);
    parts.push(`<h3>Model (config.json)</h3>${table(["key", "value"], rows)}`);
  }
  if (d.trainingArgs) {
    const rows: Cell[][] = Object.entries(d.trainingArgs).map(([k, v]) => [{ html: `<code>${esc(k)}</code>` }, value(v)]);
    parts.push(`<h3>Training arguments (training_args.json)</h3>${table(["key", "value"], rows)}`);
  }
  if (!parts.length) parts.push(`<p class="warn">Neither config.json nor training_args.json could be read.</p>`);
  return { id: "settings", title: "Settings", body: parts.join("") };
}

function whyNot(x: { ok: false; reason: string }): string {
  return "skipped" in x ? x.reason : `Not available: ${x.reason}.`;
}

function examplesSection(x: ExamplesSection): Section {
  const title = "Worst misclassified validation examples";
  if (!x.ok) return { id: "misclassified", title, body: `<p class="warn">${esc(whyNot(x))}</p>` };
  if ("kind" in x) return { id: "misclassified", title, body: `<p class="warn">Not available: the predictions are a regression run's.</p>` };
  if (x.examples.length === 0) {
    return { id: "misclassified", title, body: `<p>No mistakes: all ${x.total} validation examples of ${esc(x.dataset)} are classified correctly.</p>` };
  }
  const rows: Cell[][] = x.examples.map((e, i) => {
    const probs = Object.entries(e.probabilities)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 4)
      .map(([k, v]) => `${k} ${v.toFixed(3)}`)
      .join(" · ");
    return [i + 1, { className: "text", html: textCell(e) }, e.trueLabel, e.predictedLabel, { className: "n", html: esc(e.confidence.toFixed(4)) }, { className: "n", html: esc(e.trueProbability.toFixed(4)) }, probs];
  });
  const intro = `<p>${x.errors} of ${x.total} validation examples of ${esc(x.dataset)} are misclassified; the ${x.examples.length} the model is most sure of:</p>`;
  return { id: "misclassified", title, body: intro + table(["#", "text", "true", "predicted", "p(predicted)", "p(true)", "probabilities"], rows) };
}

function textCell(e: { text: string; textPair?: string }): string {
  return esc(e.text) + (e.textPair !== undefined ? `<br><span class="note">[SEP]</span> ${esc(e.textPair)}` : "");
}

/** A metric value as a table cell: a bar for scores in [0, 1], the plain number otherwise (errors, NaN). */
function scoreCell(v: number | undefined): Cell {
  if (v === undefined || !Number.isFinite(v)) return undefined;
  return v >= 0 && v <= 1 ? barCell(v) : v;
}

const n = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);

function summaryCards(d: RunReportData, m: FinalMetrics): [string, string][] {
  const k = numLabels(d);
  const label = (name: string) => metricLabel(name, d.problemType, k);
  const out: [string, string][] = [];
  const add = (name: string, v: number | undefined, always = false) => {
    if (v !== undefined || always) out.push([name, fmt(v)]);
  };
  const x = m.metrics;
  if (d.problemType === "single_label_classification") {
    add("validation accuracy", m.evalAccuracy, true);
    add("macro F1", m.evalMacroF1, true);
    if (k === 2) {
      const positive = d.evalReport?.problemType === "single_label_classification" ? d.evalReport.perClass[1]?.label : undefined;
      add(positive ? `F1 of class 1 (${positive})` : "F1 of class 1", x.f1);
    }
    add("MCC", x.matthews_correlation);
    add("weighted F1", x.weighted_f1);
    add("validation loss", m.evalLoss, true);
  } else if (d.problemType === "multi_label_classification") {
    for (const name of ["micro_f1", "macro_f1", "subset_accuracy", "hamming_loss"]) add(label(name), x[name], true);
    add("threshold", n(d.config?.threshold) ?? n(d.trainingArgs?.threshold));
    add("validation loss", m.evalLoss, true);
  } else {
    for (const name of ["mse", "rmse", "mae", "pearson", "spearman", "r2"]) add(label(name), x[name], true);
  }
  add("training loss", m.trainLoss, true);
  if (m.bestMetric !== undefined) out.push([`best ${label(m.metricName)} (best-model metric)`, fmt(m.bestMetric)]);
  add("steps", m.globalStep, true);
  out.push(["epochs", fmt(m.epochs, 2)]);
  return out;
}

/** Single-label: the confusion matrix, per-class scores, the macro and weighted averages. */
function confusionSection(d: RunReportData, charts: readonly Chart[]): Section {
  const r = d.evalReport;
  const title = "Confusion matrix and per-class scores";
  if (r?.problemType !== "single_label_classification") return { id: "confusion", title, body: `<p class="warn">Not available: eval_report.json is missing or unreadable.</p>` };
  const rows: Cell[][] = r.perClass.map((c) => [c.label, barCell(c.precision), barCell(c.recall), barCell(c.f1), c.support]);
  rows.push([{ html: "<b>macro avg</b>" }, barCell(r.macroPrecision), barCell(r.macroRecall), barCell(r.macroF1), r.numExamples]);
  if (n(r.weightedF1) !== undefined) rows.push([{ html: "<b>weighted avg</b>" }, barCell(r.weightedPrecision), barCell(r.weightedRecall), barCell(r.weightedF1), r.numExamples]);
  const extra: string[] = [];
  if (n(r.mcc) !== undefined) extra.push(`Matthews correlation (MCC): <b>${esc(fmt(r.mcc))}</b>.`);
  if (r.binary && r.perClass.length === 2) {
    extra.push(`Class 1 (<b>${esc(r.perClass[1].label)}</b>) as the positive class (sklearn's average="binary", what GLUE reports as F1 for MRPC and QQP): precision ${esc(fmt(r.binary.precision))}, recall ${esc(fmt(r.binary.recall))}, F1 ${esc(fmt(r.binary.f1))}.`);
  }
  return {
    id: "confusion",
    title,
    body:
      `<div class="charts">${chartOf(charts, "confusion", "Rows are true labels, columns predictions; the shade is the share of the true class's examples.")}` +
      `<div><h3>Per class (${esc(r.split ?? "validation")})</h3>${table(["label", "precision", "recall", "F1", "support"], rows)}${extra.map((e) => `<p>${e}</p>`).join("")}</div></div>`,
  };
}

/** Multi-label: per-label F1 bars with support, the micro/macro averages, subset accuracy and Hamming loss. */
function perLabelSection(d: RunReportData, charts: readonly Chart[]): Section {
  const r = d.evalReport;
  const title = "Per-label scores";
  if (r?.problemType !== "multi_label_classification") return { id: "per-label", title, body: `<p class="warn">Not available: eval_report.json is missing or unreadable.</p>` };
  const rows: Cell[][] = r.perLabel.map((c) => [c.label, barCell(c.precision), barCell(c.recall), barCell(c.f1), c.support]);
  const positives = r.perLabel.reduce((s, c) => s + c.support, 0);
  rows.push([{ html: "<b>micro avg</b>" }, barCell(r.microPrecision), barCell(r.microRecall), barCell(r.microF1), positives]);
  rows.push([{ html: "<b>macro avg</b>" }, barCell(r.macroPrecision), barCell(r.macroRecall), barCell(r.macroF1), positives]);
  if (n(r.samplesF1) !== undefined) rows.push([{ html: "<b>samples avg</b>" }, barCell(r.samplesPrecision), barCell(r.samplesRecall), barCell(r.samplesF1), positives]);
  const explain =
    `<p class="note">A label is predicted when its sigmoid reaches the threshold. Subset accuracy counts an example only when all ${r.perLabel.length} labels are right; ` +
    `the Hamming loss is the share of the ${r.numExamples} × ${r.perLabel.length} (example, label) cells that are wrong. Support: the examples where the label is true.</p>`;
  return {
    id: "per-label",
    title,
    body:
      explain +
      `<div class="charts">${chartOf(charts, "per-label", "Each label's F1 on the validation split, with its support; the dashed line is the macro F1 (their mean).")}` +
      `<div><h3>Per label (${esc(r.split ?? "validation")})</h3>${table(["label", "precision", "recall", "F1", "support"], rows)}</div></div>`,
  };
}

const REGRESSION_COLUMNS = ["mse", "rmse", "mae", "pearson", "spearman", "r2"] as const;

/** Regression: the predicted-vs-true scatter plot(s) and the metrics per target. */
function scatterSection(d: RunReportData, charts: readonly Chart[], x: ExamplesSection): Section {
  const title = "Predicted vs true";
  const parts: string[] = [];
  const scatters = charts.filter((c) => c.id === "scatter" || c.id.startsWith("scatter-"));
  if (x.ok && "kind" in x && scatters.length) {
    const caption = `Each dot is one of the ${x.total} validation examples of ${x.dataset}: its true value across, the run's prediction up; a perfect model puts every dot on the dashed line y = x.`;
    parts.push(`<div class="charts">${scatters.map((c) => figure(c.svg, caption)).join("")}</div>`);
  } else if (!x.ok) {
    parts.push(`<p class="warn">${esc(whyNot(x))}</p>`);
  }
  const r = d.evalReport;
  if (r?.problemType === "regression") {
    const headers = ["target", ...REGRESSION_COLUMNS.map((c) => metricLabel(c))];
    const rows: Cell[][] = r.perTarget.map((t) => [t.name, ...REGRESSION_COLUMNS.map((c) => (Number.isFinite(t[c]) ? t[c] : "undefined"))]);
    if (r.perTarget.length > 1) rows.push([{ html: "<b>mean</b>" }, ...REGRESSION_COLUMNS.map((c) => (Number.isFinite(r[c]) ? r[c] : "undefined"))]);
    parts.push(
      `<h3>Metrics per target (${esc(r.split ?? "validation")}, ${r.numExamples} examples)</h3>${table(headers, rows)}` +
        `<p class="note">MSE, RMSE and MAE are in the targets' units (lower is better); Pearson r and Spearman ρ are correlations of the predictions with the truth, R² the share of the variance explained (higher is better). "undefined": a correlation of a constant vector.</p>`,
    );
  } else {
    parts.push(`<p class="warn">Not available: eval_report.json is missing or unreadable.</p>`);
  }
  return { id: "scatter", title, body: parts.join("") };
}

function largestErrorsSection(x: ExamplesSection): Section {
  const title = "Largest errors on the validation split";
  if (!x.ok) return { id: "largest-errors", title, body: `<p class="warn">${esc(whyNot(x))}</p>` };
  if (!("kind" in x)) return { id: "largest-errors", title, body: `<p class="warn">Not available: the predictions are a classification run's.</p>` };
  const several = x.targets.length > 1;
  const rows: Cell[][] = x.largest.map((e, i) => [i + 1, { className: "text", html: textCell(e) }, ...(several ? [e.target] : []), e.trueValue, e.predicted, e.error]);
  const intro = `<p>The ${x.largest.length} of ${x.total} validation examples of ${esc(x.dataset)} whose prediction is furthest from the truth${several ? " (in the target furthest off)" : ""}:</p>`;
  return { id: "largest-errors", title, body: intro + table(["#", "text", ...(several ? ["target"] : []), "true", "predicted", "error (predicted − true)"], rows) };
}

/** config.json keys of a masked-LM run the settings show: the architecture and its shape. */
const MLM_CONFIG_KEYS = [
  "architectures",
  "model_type",
  "bertune_pretrained_from",
  "vocab_size",
  "hidden_size",
  "num_hidden_layers",
  "num_attention_heads",
  "intermediate_size",
  "max_position_embeddings",
  "hidden_dropout_prob",
  "attention_probs_dropout_prob",
  "tie_word_embeddings",
];

/**
 * training_args.json keys `bertune pretrain` records (it shares the fine-tuning arguments) but
 * does not use: model selection, heads, freezing, labels. Its settings table leaves them out.
 */
const UNUSED_BY_PRETRAIN = new Set([
  "freeze_backbone",
  "max_length",
  "pooling",
  "unfreeze_top",
  "head_lr_multiplier",
  "layerwise_lr_decay",
  "gradual_unfreeze",
  "early_stopping_patience",
  "load_best_model_at_end",
  "metric_for_best_model",
  "greater_is_better",
  "label_smoothing_factor",
  "class_weights",
  "threshold",
  "normalize_targets",
]);

function maskedLmSettingsSection(d: RunReportData): Section {
  const parts: string[] = [];
  const key = (k: string): Cell => ({ html: `<code>${esc(k)}</code>` });
  if (d.config) {
    const rows: Cell[][] = MLM_CONFIG_KEYS.filter((k) => d.config![k] !== undefined).map((k) => [key(k), value(d.config![k])]);
    parts.push(`<h3>Model (config.json)</h3>${table(["key", "value"], rows)}`);
  }
  if (d.trainingArgs) {
    const entries = Object.entries(d.trainingArgs);
    const rows: Cell[][] = entries.filter(([k]) => !UNUSED_BY_PRETRAIN.has(k)).map(([k, v]) => [key(k), value(v)]);
    const left = entries.filter(([k]) => UNUSED_BY_PRETRAIN.has(k)).map(([k]) => k);
    parts.push(`<h3>Training arguments (training_args.json)</h3>${table(["key", "value"], rows)}`);
    if (left.length) parts.push(`<p class="note">Not shown: fine-tuning arguments the file records that pretraining does not use (${left.map((k) => `<code>${esc(k)}</code>`).join(", ")}).</p>`);
  }
  if (!parts.length) parts.push(`<p class="warn">Neither config.json nor training_args.json could be read.</p>`);
  return { id: "settings", title: "Settings", body: parts.join("") };
}

/** A count with thousands separators: 123,936. */
const count = (v: number | undefined) => (v === undefined ? "—" : Math.round(v).toLocaleString("en-US"));

/** The report of a masked-LM pretraining run (`bertune pretrain`): loss, perplexity, throughput, schedule and settings. */
export function renderMaskedLmReport(d: RunReportData, charts: readonly Chart[]): string {
  const m = maskedLmMetrics(d);
  const items: [string, string][] = [
    ["validation loss", fmt(m.evalLoss)],
    ["perplexity", fmt(m.perplexity)],
    ["training loss", fmt(m.trainLoss)],
  ];
  if (m.tokensSeen !== undefined) items.push(["tokens trained on", count(m.tokensSeen)]);
  if (m.tokensPerSecond !== undefined) items.push(["tokens per second", fmt(m.tokensPerSecond, 1)]);
  items.push(["steps", m.maxSteps !== undefined && m.maxSteps !== m.globalStep ? `${fmt(m.globalStep)} of ${fmt(m.maxSteps)}` : fmt(m.globalStep)]);
  items.push(["epochs", fmt(m.epochs, 2)]);
  const notes: string[] = [];
  if (m.maskedTokens !== undefined) notes.push(`The final evaluation scored ${count(m.maskedTokens)} masked validation tokens; the perplexity is exp(validation loss).`);
  if (m.tokensSeen !== undefined) notes.push(`Tokens trained on: tokens per second × training time of the last <code>bertune pretrain</code> session (a resumed run counts from where it resumed)${m.trainTokens !== undefined ? `; the training text holds ${count(m.trainTokens)} tokens` : ""}.`);
  const sections: Section[] = [{ id: "summary", title: "Summary", body: cards(items) + notes.map((x) => `<p class="note">${x}</p>`).join("") }];
  const ppl = new Map(perplexityCurve(d).map((l) => [l.step, l.value]));
  const trainAt = new Map(d.curves.trainLoss.map((l) => [l.step, l.value]));
  const evalRows: Cell[][] = d.curves.evalLoss.map((l) => [l.step, { className: "n", html: esc(fmt(l.epoch, 4)) }, trainAt.get(l.step), l.value, ppl.get(l.step)]);
  const best = m.bestEvalLoss;
  sections.push({
    id: "curves",
    title: "Training curves",
    body:
      `<div class="charts">${chartOf(charts, "loss", `Training loss (masked tokens only) as logged every ${value(d.trainerState.logging_steps)} steps (mean over the steps since the previous point) and validation loss at each evaluation.`)}` +
      `${chartOf(charts, "perplexity", `Validation perplexity, exp(validation loss), at each evaluation, on a log axis; a model at random scores about its vocabulary size${typeof d.config?.vocab_size === "number" ? ` (${count(d.config.vocab_size)})` : ""}.`)}</div>` +
      `<h3>Evaluations</h3>${evalRows.length ? table(["step", "epoch", "training loss", "validation loss", "perplexity"], evalRows) : `<p class="warn">No evaluation was logged.</p>`}` +
      (best ? `<p class="note">Lowest validation loss ${esc(fmt(best.value))} (perplexity ${esc(fmt(Math.exp(best.value)))}) at step ${best.step}.</p>` : ""),
  });
  sections.push({ id: "learning-rate", title: "Learning-rate schedule", body: `<div class="charts">${chartOf(charts, "lr", "The schedule computed from training_args.json (dashed) and the rates logged during training (dots).")}</div>` });
  sections.push(maskedLmSettingsSection(d));
  if (d.notes.length) sections.push({ id: "notes", title: "Notes", body: `<ul>${d.notes.map((n) => `<li class="note">${esc(n)}</li>`).join("")}</ul>` });
  const from = typeof d.config?.bertune_pretrained_from === "string" ? d.config.bertune_pretrained_from : typeof d.trainingArgs?.pretrained_from === "string" ? d.trainingArgs.pretrained_from : "?";
  const dataset = typeof d.trainingArgs?.dataset === "string" ? d.trainingArgs.dataset : "?";
  return page(`bertune pretrain run ${d.name}`, `${d.dir} · ${from === "scratch" ? "from scratch" : from} on ${dataset} · masked-LM pretraining · report written ${new Date().toISOString()}`, sections);
}

export function renderRunReport(d: RunReportData, charts: readonly Chart[], examples: ExamplesSection): string {
  if (d.kind === "masked-lm") return renderMaskedLmReport(d, charts);
  const m = finalMetrics(d);
  const sections: Section[] = [];
  sections.push({ id: "summary", title: "Summary", body: cards(summaryCards(d, m)) });
  const metrics = plottedMetrics(d);
  const k = numLabels(d);
  // The per-epoch table: the plotted metrics, then the problem type's headline ones (regression's MSE is the validation loss).
  const headline: Record<typeof d.problemType, string[]> = { single_label_classification: ["accuracy", "macro_f1"], multi_label_classification: ["micro_f1", "macro_f1"], regression: ["pearson", "spearman"] };
  const columns = [...new Set([...metrics, ...headline[d.problemType]])].filter((x) => d.epochs.some((e) => e.eval[x] !== undefined));
  const epochRows: Cell[][] = d.epochs.map((e) => [e.epoch, e.lastStep, e.trainLoss, e.evalLoss, ...columns.map((name) => e.eval[name])]);
  const metricCaption =
    d.bestMetricName === "loss"
      ? `The run keeps the model with the lowest validation loss (metric_for_best_model = loss, in the loss chart); this chart shows the usual metrics of ${problemTypeWords(d.problemType)}.`
      : `metric_for_best_model (${d.bestMetricName}, ${d.greaterIsBetter ? "higher" : "lower"} is better) at each evaluation, the best one ringed${metrics.length > 1 ? `, with ${metrics.slice(1).map((x) => metricLabel(x, d.problemType, k)).join(" and ")}` : ""}.`;
  sections.push({
    id: "curves",
    title: "Training curves",
    body:
      `<div class="charts">${chartOf(charts, "loss", `Training loss as logged every ${value(d.trainerState.logging_steps)} steps (mean over the steps since the previous point) and validation loss at each evaluation.`)}${chartOf(charts, "metric", metricCaption)}</div>` +
      `<div class="charts">${chartOf(charts, "loss-epoch", "Training loss averaged over each epoch's steps; the last validation of each epoch.")}${chartOf(charts, "metric-epoch")}</div>` +
      `<h3>Per epoch</h3>${table(["epoch", "last step", "training loss", "validation loss", ...columns.map((x) => metricLabel(x, d.problemType, k))], epochRows)}`,
  });
  sections.push({ id: "learning-rate", title: "Learning-rate schedule", body: `<div class="charts">${chartOf(charts, "lr", "The schedule computed from training_args.json (dashed) and the rates logged during training (dots).")}</div>` });
  if (d.problemType === "single_label_classification") {
    sections.push(confusionSection(d, charts));
    sections.push(examplesSection(examples));
  } else if (d.problemType === "multi_label_classification") {
    sections.push(perLabelSection(d, charts));
  } else {
    sections.push(scatterSection(d, charts, examples));
    sections.push(largestErrorsSection(examples));
  }
  sections.push(settingsSection(d));
  if (d.notes.length) sections.push({ id: "notes", title: "Notes", body: `<ul>${d.notes.map((n) => `<li class="note">${esc(n)}</li>`).join("")}</ul>` });
  const model = typeof d.config?.base_model === "string" ? d.config.base_model : "?";
  const dataset = typeof d.trainingArgs?.dataset === "string" ? d.trainingArgs.dataset : "?";
  return page(`bertune run ${d.name}`, `${d.dir} · ${model} on ${dataset} · ${problemTypeWords(d.problemType)} · report written ${new Date().toISOString()}`, sections);
}

/** The comparison of masked-LM pretraining runs: their final loss, perplexity and throughput side by side. */
function renderMaskedLmCompare(runs: readonly { name: string; data: RunReportData }[], charts: readonly Chart[]): string {
  const rows: Cell[][] = runs.map((r, i) => {
    const m = maskedLmMetrics(r.data);
    const a = r.data.trainingArgs ?? {};
    const swatch = `<span class="swatch" style="background:${PALETTE[i % PALETTE.length]}"></span>`;
    return [
      { html: `${swatch}${esc(r.name)}` },
      value(r.data.config?.bertune_pretrained_from ?? a.pretrained_from),
      value(a.dataset),
      value(a.learning_rate),
      value(a.per_device_train_batch_size),
      value(a.max_seq_length),
      m.epochs,
      m.globalStep,
      m.trainLoss,
      m.evalLoss,
      m.perplexity,
      m.tokensPerSecond === undefined ? undefined : { className: "n", html: esc(fmt(m.tokensPerSecond, 1)) },
    ];
  });
  const headers = ["run", "from", "data set", "learning rate", "batch size", "sequence length", "epochs", "steps", "training loss", "validation loss", "perplexity", "tokens/s"];
  const sections: Section[] = [
    { id: "final-metrics", title: "Final metrics", body: table(headers, rows) + `<p class="note">Masked-LM pretraining runs: the validation loss and perplexity (exp of the loss) are eval_results.json's; tokens/s is train_results.json's.</p>` },
    { id: "curves", title: "Curves", body: `<div class="charts">${charts.map((c) => figure(c.svg)).join("")}</div>` },
    { id: "runs", title: "Run folders", body: `<ul>${runs.map((r) => `<li><b>${esc(r.name)}</b>: <code>${esc(r.data.dir)}</code>${r.data.notes.length ? ` <span class="note">(${esc(r.data.notes.join("; "))})</span>` : ""}</li>`).join("")}</ul>` },
  ];
  return page(`bertune: ${runs.length} pretrain runs compared`, `${runs.map((r) => r.name).join(" · ")} · masked-LM pretraining · report written ${new Date().toISOString()}`, sections);
}

export function renderCompareReport(runs: readonly { name: string; data: RunReportData }[], charts: readonly Chart[]): string {
  if (runs.every((r) => r.data.kind === "masked-lm")) return renderMaskedLmCompare(runs, charts);
  const allSingle = runs.every((r) => r.data.problemType === "single_label_classification");
  const rows: Cell[][] = runs.map((r, i) => {
    const m = finalMetrics(r.data);
    const a = r.data.trainingArgs ?? {};
    const swatch = `<span class="swatch" style="background:${PALETTE[i % PALETTE.length]}"></span>`;
    const k = numLabels(r.data);
    return [
      { html: `${swatch}${esc(r.name)}` },
      value(r.data.config?.base_model),
      value(a.dataset),
      problemTypeWords(r.data.problemType),
      value(a.learning_rate),
      value(a.per_device_train_batch_size),
      m.epochs,
      m.globalStep,
      m.trainLoss,
      m.evalLoss,
      ...(allSingle ? [scoreCell(m.evalAccuracy), scoreCell(m.evalMacroF1)] : []),
      `${metricLabel(m.metricName, r.data.problemType, k)}${r.data.greaterIsBetter ? " ↑" : " ↓"}`,
      m.metricName === "loss" ? m.evalLoss : scoreCell(m.metric),
      m.bestMetric,
    ];
  });
  const headers = [
    "run", "model", "data set", "problem type", "learning rate", "batch size", "epochs", "steps", "training loss", "validation loss",
    ...(allSingle ? ["accuracy", "macro F1"] : []),
    "best-model metric", "final", "best",
  ];
  const sections: Section[] = [
    { id: "final-metrics", title: "Final metrics", body: table(headers, rows) + `<p class="note">The best-model metric is each run's metric_for_best_model (↑: higher is better, ↓: lower); "best" is its best value at an evaluation (trainer_state.json's best_metric).</p>` },
    { id: "curves", title: "Curves", body: `<div class="charts">${charts.map((c) => figure(c.svg)).join("")}</div>` },
    { id: "runs", title: "Run folders", body: `<ul>${runs.map((r) => `<li><b>${esc(r.name)}</b>: <code>${esc(r.data.dir)}</code>${r.data.notes.length ? ` <span class="note">(${esc(r.data.notes.join("; "))})</span>` : ""}</li>`).join("")}</ul>` },
  ];
  return page(`bertune: ${runs.length} runs compared`, `${runs.map((r) => r.name).join(" · ")} · report written ${new Date().toISOString()}`, sections);
}
