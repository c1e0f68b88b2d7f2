/**
 * Fixed-width text renderings of an EvalReport:
 * - single-label: laid out like scikit-learn's classification_report (per-class rows,
 *   accuracy, macro avg, weighted avg), then the MCC (and class 1's binary scores for two
 *   classes), then the confusion matrix (rows = true labels, columns = predictions);
 * - multi-label: the per-label table of classification_report on indicator matrices, with
 *   micro / macro / samples avg rows (support = the number of true positive cells), then
 *   subset accuracy and Hamming loss;
 * - regression: one row per target (plus their mean when there are several) of
 *   mse, rmse, mae, pearson, spearman, r2; NaN prints as "nan".
 */
import type { ClassificationReport } from "./classification.js";
import type { MultiLabelReport } from "./multilabel.js";
import type { RegressionReport } from "./regression.js";
import { problemTypeOf, type EvalReport } from "./report.js";

const DIGITS = 4;
const COLUMN = 11; // wide enough for "precision" and for "0.1234" with spacing
const CORNER = "true \\ pred";

const cell = (s: string, width = COLUMN): string => s.padStart(width);
const fixed = (x: number): string => (Number.isNaN(x) ? "nan" : x.toFixed(DIGITS));
const num = (x: number, width = COLUMN): string => cell(fixed(x), width);
const int = (x: number): string => cell(String(x));
const finish = (lines: string[]): string => lines.map((l) => l.trimEnd()).join("\n") + "\n";
const HEADER = ["precision", "recall", "f1-score", "support"];

export function formatReport(report: EvalReport, opts: { title?: string } = {}): string {
  const type = problemTypeOf(report);
  if (type === "multi_label_classification") return formatMultiLabel(report as MultiLabelReport, opts);
  if (type === "regression") return formatRegression(report as RegressionReport, opts);
  return formatSingleLabel(report as ClassificationReport, opts);
}

function formatSingleLabel(report: ClassificationReport, opts: { title?: string }): string {
  const names = report.perClass.map((m) => m.label);
  const nameWidth = Math.max("weighted avg".length, ...names.map((n) => n.length));
  const lines: string[] = [];

  if (opts.title) lines.push(opts.title, "");
  lines.push(" ".repeat(nameWidth) + HEADER.map((h) => cell(h)).join(""), "");
  for (const m of report.perClass) {
    lines.push(m.label.padStart(nameWidth) + num(m.precision) + num(m.recall) + num(m.f1) + int(m.support));
  }
  lines.push("");
  lines.push("accuracy".padStart(nameWidth) + cell("") + cell("") + num(report.accuracy) + int(report.numExamples));
  lines.push(
    "macro avg".padStart(nameWidth) +
      num(report.macroPrecision) +
      num(report.macroRecall) +
      num(report.macroF1) +
      int(report.numExamples),
  );
  // A report saved by an older bertune has no weighted averages or MCC: print what it has.
  if (typeof report.weightedF1 === "number") {
    lines.push(
      "weighted avg".padStart(nameWidth) +
        num(report.weightedPrecision) +
        num(report.weightedRecall) +
        num(report.weightedF1) +
        int(report.numExamples),
    );
  }
  if (typeof report.mcc === "number") lines.push("", `matthews correlation (MCC): ${fixed(report.mcc)}`);
  if (report.binary && names.length === 2) {
    const b = report.binary;
    lines.push(
      `binary (positive class "${names[1]}"): precision ${fixed(b.precision)}, recall ${fixed(b.recall)}, f1 ${fixed(b.f1)}`,
    );
  }

  lines.push("", "confusion matrix (rows = true label, columns = predicted label)", "");
  const cm = report.confusionMatrix;
  const maxCount = Math.max(0, ...cm.map((r) => Math.max(0, ...r)));
  const width = Math.max(5, String(maxCount).length, ...names.map((n) => n.length)) + 2;
  const rowWidth = Math.max(CORNER.length, ...names.map((n) => n.length));
  lines.push(CORNER.padStart(rowWidth) + names.map((n) => n.padStart(width)).join(""));
  cm.forEach((r, i) => {
    lines.push(names[i].padStart(rowWidth) + r.map((c) => String(c).padStart(width)).join(""));
  });
  return finish(lines);
}

function formatMultiLabel(report: MultiLabelReport, opts: { title?: string }): string {
  const names = report.perLabel.map((m) => m.label);
  const nameWidth = Math.max("samples avg".length, "subset accuracy".length, ...names.map((n) => n.length));
  const positives = report.perLabel.reduce((s, m) => s + m.support, 0);
  const lines: string[] = [];
  if (opts.title) lines.push(opts.title, "");
  lines.push(" ".repeat(nameWidth) + HEADER.map((h) => cell(h)).join(""), "");
  for (const m of report.perLabel) {
    lines.push(m.label.padStart(nameWidth) + num(m.precision) + num(m.recall) + num(m.f1) + int(m.support));
  }
  lines.push("");
  const avg = (name: string, p: number, r: number, f: number): string => name.padStart(nameWidth) + num(p) + num(r) + num(f) + int(positives);
  lines.push(avg("micro avg", report.microPrecision, report.microRecall, report.microF1));
  lines.push(avg("macro avg", report.macroPrecision, report.macroRecall, report.macroF1));
  lines.push(avg("samples avg", report.samplesPrecision, report.samplesRecall, report.samplesF1));
  lines.push("");
  lines.push("subset accuracy".padStart(nameWidth) + cell("") + cell("") + num(report.subsetAccuracy) + int(report.numExamples));
  lines.push("Hamming loss".padStart(nameWidth) + cell("") + cell("") + num(report.hammingLoss) + int(report.numExamples));
  return finish(lines);
}

function formatRegression(report: RegressionReport, opts: { title?: string }): string {
  const cols = ["mse", "rmse", "mae", "pearson", "spearman", "r2"] as const;
  const rows: { name: string; m: Record<(typeof cols)[number], number> }[] = report.perTarget.map((t) => ({ name: t.name, m: t }));
  if (report.perTarget.length > 1) rows.push({ name: "mean", m: report });
  const nameWidth = Math.max("target".length, ...rows.map((r) => r.name.length));
  const width = Math.max(COLUMN, ...rows.flatMap((r) => cols.map((c) => fixed(r.m[c]).length + 2)));
  const lines: string[] = [];
  if (opts.title) lines.push(opts.title, "");
  lines.push("target".padStart(nameWidth) + cols.map((c) => cell(c, width)).join(""), "");
  rows.forEach((r, i) => {
    if (i === report.perTarget.length && i > 0) lines.push("");
    lines.push(r.name.padStart(nameWidth) + cols.map((c) => num(r.m[c], width)).join(""));
  });
  lines.push("", `${report.numExamples} examples`);
  return finish(lines);
}
