/** The report pages: one run in detail, or several runs side by side. */
import type { Chart } from "./charts.js";
import type { MisclassifiedResult } from "./misclassified.js";
import { barCell, cards, figure, fmt, page, table, type Cell, type Section } from "./page.js";
import { finalMetrics, type RunReportData } from "./run-data.js";
import { PALETTE } from "./line-chart.js";
import { esc } from "./svg.js";

/** Either predictions were attempted (with their result), or the user skipped them. */
export type ExamplesSection = MisclassifiedResult | { ok: false; skipped: true; reason: string };

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

function examplesSection(x: ExamplesSection): Section {
  const title = "Worst misclassified validation examples";
  if (!x.ok) {
    const why = "skipped" in x ? x.reason : `Not available: ${x.reason}.`;
    return { id: "misclassified", title, body: `<p class="warn">${esc(why)}</p>` };
  }
  if (x.examples.length === 0) {
    return { id: "misclassified", title, body: `<p>No mistakes: all ${x.total} validation examples of ${esc(x.dataset)} are classified correctly.</p>` };
  }
  const rows: Cell[][] = x.examples.map((e, i) => {
    const probs = Object.entries(e.probabilities)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 4)
      .map(([k, v]) => `${k} ${v.toFixed(3)}`)
      .join(" · ");
    const textHtml = esc(e.text) + (e.textPair !== undefined ? `<br><span class="note">[SEP]</span> ${esc(e.textPair)}` : "");
    return [i + 1, { className: "text", html: textHtml }, e.trueLabel, e.predictedLabel, { className: "n", html: esc(e.confidence.toFixed(4)) }, { className: "n", html: esc(e.trueProbability.toFixed(4)) }, probs];
  });
  const intro = `<p>${x.errors} of ${x.total} validation examples of ${esc(x.dataset)} are misclassified; the ${x.examples.length} the model is most sure of:</p>`;
  return { id: "misclassified", title, body: intro + table(["#", "text", "true", "predicted", "p(predicted)", "p(true)", "probabilities"], rows) };
}

export function renderRunReport(d: RunReportData, charts: readonly Chart[], examples: ExamplesSection): string {
  const m = finalMetrics(d);
  const sections: Section[] = [];
  sections.push({
    id: "summary",
    title: "Summary",
    body: cards([
      ["validation accuracy", fmt(m.evalAccuracy)],
      ["macro F1", fmt(m.evalMacroF1)],
      ["validation loss", fmt(m.evalLoss)],
      ["training loss", fmt(m.trainLoss)],
      ["steps", fmt(m.globalStep)],
      ["epochs", fmt(m.epochs, 2)],
    ]),
  });
  const epochRows: Cell[][] = d.epochs.map((e) => [e.epoch, e.lastStep, e.trainLoss, e.evalLoss, e.evalAccuracy, e.evalMacroF1]);
  sections.push({
    id: "curves",
    title: "Training curves",
    body:
      `<div class="charts">${chartOf(charts, "loss", `Training loss as logged every ${value(d.trainerState.logging_steps)} steps (mean over the steps since the previous point) and validation loss at each evaluation.`)}${chartOf(charts, "accuracy")}</div>` +
      `<div class="charts">${chartOf(charts, "loss-epoch", "Training loss averaged over each epoch's steps; the last validation of each epoch.")}${chartOf(charts, "accuracy-epoch")}</div>` +
      `<h3>Per epoch</h3>${table(["epoch", "last step", "training loss", "validation loss", "accuracy", "macro F1"], epochRows)}`,
  });
  sections.push({ id: "learning-rate", title: "Learning-rate schedule", body: `<div class="charts">${chartOf(charts, "lr", "The schedule computed from training_args.json (dashed) and the rates logged during training (dots).")}</div>` });
  if (d.evalReport) {
    const r = d.evalReport;
    const rows: Cell[][] = r.perClass.map((c) => [c.label, barCell(c.precision), barCell(c.recall), barCell(c.f1), c.support]);
    rows.push([{ html: "<b>macro avg</b>" }, barCell(r.macroPrecision), barCell(r.macroRecall), barCell(r.macroF1), r.numExamples]);
    sections.push({
      id: "confusion",
      title: "Confusion matrix and per-class scores",
      body:
        `<div class="charts">${chartOf(charts, "confusion", "Rows are true labels, columns predictions; the shade is the share of the true class's examples.")}` +
        `<div><h3>Per class (${esc(r.split ?? "validation")})</h3>${table(["label", "precision", "recall", "F1", "support"], rows)}</div></div>`,
    });
  } else {
    sections.push({ id: "confusion", title: "Confusion matrix and per-class scores", body: `<p class="warn">Not available: eval_report.json is missing or unreadable.</p>` });
  }
  sections.push(examplesSection(examples));
  sections.push(settingsSection(d));
  if (d.notes.length) sections.push({ id: "notes", title: "Notes", body: `<ul>${d.notes.map((n) => `<li class="note">${esc(n)}</li>`).join("")}</ul>` });
  const model = typeof d.config?.base_model === "string" ? d.config.base_model : "?";
  const dataset = typeof d.trainingArgs?.dataset === "string" ? d.trainingArgs.dataset : "?";
  return page(`bertune run ${d.name}`, `${d.dir} · ${model} on ${dataset} · report written ${new Date().toISOString()}`, sections);
}

export function renderCompareReport(runs: readonly { name: string; data: RunReportData }[], charts: readonly Chart[]): string {
  const rows: Cell[][] = runs.map((r, i) => {
    const m = finalMetrics(r.data);
    const a = r.data.trainingArgs ?? {};
    const swatch = `<span class="swatch" style="background:${PALETTE[i % PALETTE.length]}"></span>`;
    return [
      { html: `${swatch}${esc(r.name)}` },
      value(r.data.config?.base_model),
      value(a.dataset),
      value(a.learning_rate),
      value(a.per_device_train_batch_size),
      m.epochs,
      m.globalStep,
      m.trainLoss,
      m.evalLoss,
      m.evalAccuracy === undefined ? undefined : barCell(m.evalAccuracy),
      m.evalMacroF1 === undefined ? undefined : barCell(m.evalMacroF1),
      m.bestMetric,
    ];
  });
  const sections: Section[] = [
    {
      id: "final-metrics",
      title: "Final metrics",
      body: table(["run", "model", "data set", "learning rate", "batch size", "epochs", "steps", "training loss", "validation loss", "accuracy", "macro F1", "best accuracy"], rows),
    },
    { id: "curves", title: "Curves", body: `<div class="charts">${charts.map((c) => figure(c.svg)).join("")}</div>` },
    { id: "runs", title: "Run folders", body: `<ul>${runs.map((r) => `<li><b>${esc(r.name)}</b>: <code>${esc(r.data.dir)}</code>${r.data.notes.length ? ` <span class="note">(${esc(r.data.notes.join("; "))})</span>` : ""}</li>`).join("")}</ul>` },
  ];
  return page(`bertune: ${runs.length} runs compared`, `${runs.map((r) => r.name).join(" · ")} · report written ${new Date().toISOString()}`, sections);
}
