/**
 * A fixed-width text rendering of a ClassificationReport, laid out like scikit-learn's
 * classification_report, followed by the confusion matrix (rows = true labels, columns = predictions).
 */
import type { ClassificationReport } from "./classification.js";

const DIGITS = 4;
const COLUMN = 11; // wide enough for "precision" and for "0.1234" with spacing
const CORNER = "true \\ pred";

export function formatReport(report: ClassificationReport, opts: { title?: string } = {}): string {
  const names = report.perClass.map((m) => m.label);
  const nameWidth = Math.max("macro avg".length, ...names.map((n) => n.length));
  const cell = (s: string): string => s.padStart(COLUMN);
  const num = (x: number): string => cell(x.toFixed(DIGITS));
  const int = (x: number): string => cell(String(x));
  const lines: string[] = [];

  if (opts.title) lines.push(opts.title, "");
  lines.push(" ".repeat(nameWidth) + ["precision", "recall", "f1-score", "support"].map(cell).join(""), "");
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

  lines.push("", "confusion matrix (rows = true label, columns = predicted label)", "");
  const cm = report.confusionMatrix;
  const maxCount = Math.max(0, ...cm.map((r) => Math.max(0, ...r)));
  const width = Math.max(5, String(maxCount).length, ...names.map((n) => n.length)) + 2;
  const rowWidth = Math.max(CORNER.length, ...names.map((n) => n.length));
  lines.push(CORNER.padStart(rowWidth) + names.map((n) => n.padStart(width)).join(""));
  cm.forEach((r, i) => {
    lines.push(names[i].padStart(rowWidth) + r.map((c) => String(c).padStart(width)).join(""));
  });
  return lines.map((l) => l.trimEnd()).join("\n") + "\n";
}
