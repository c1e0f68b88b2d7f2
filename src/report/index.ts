/**
 * `bertune report` as library calls: a self-contained HTML report of one run (curves of the loss
 * and of metric_for_best_model, learning rate, settings, and what fits the problem type:
 * confusion matrix, per-class scores and worst mistakes for single-label runs; per-label F1 bars
 * for multi-label runs; a predicted-vs-true scatter plot and the largest errors for regression;
 * for a masked-LM run of `bertune pretrain`: loss, perplexity and tokens/s instead), or of several
 * runs overlaid; optionally PNG files of the charts.
 */
import { dirname, join, resolve } from "node:path";
import { mkdirSync } from "node:fs";
import type { ClassifierOptions } from "../classifier.js";
import { BertuneError } from "../errors.js";
import { writeFileAtomic } from "../util/atomic.js";
import { compareCharts, runCharts, type XAxis } from "./charts.js";
import { renderCompareReport, renderRunReport, type ExamplesSection } from "./html.js";
import { worstMisclassified } from "./misclassified.js";
import { regressionPredictions } from "./predicted.js";
import { writePngCharts } from "./png.js";
import { readRunReportData } from "./run-data.js";

export { readRunReportData, finalMetrics, maskedLmMetrics, runKind, type RunReportData, type RunKind, type FinalMetrics, type MaskedLmMetrics, type ReportEvalReport } from "./run-data.js";
export { worstMisclassified, type Misclassified, type MisclassifiedResult } from "./misclassified.js";
export { regressionPredictions, type RegressionPredictions, type LargestError } from "./predicted.js";
export { runCharts, compareCharts, maskedLmCharts, perplexityCurve, type Chart, type XAxis } from "./charts.js";

export const REPORT_FILE = "report.html";
/** Whether --png writes a chart of a single run: the per-step curves (a masked-LM run's perplexity too), the learning rate and the problem type's chart(s). */
const isPngChart = (id: string) => ["loss", "metric", "perplexity", "lr", "confusion", "per-label", "scatter"].includes(id) || id.startsWith("scatter-");

export interface ReportOptions extends ClassifierOptions {
  /** The HTML file (default: report.html in the run folder; compare.html in the current folder for a comparison). */
  out?: string;
  /** A folder for PNG files of the charts. */
  png?: string;
  /** How many misclassified examples to show (default 10); 0 or false skips the predictions. */
  examples?: number | false;
  /** x axis of compared curves (default "epoch": runs with other batch sizes line up). */
  xAxis?: XAxis;
}

export interface ReportResult {
  html: string;
  png: string[];
  /**
   * Whether the report holds the run's predictions on the validation split (single-label: the
   * misclassified examples; regression: the scatter plot and the largest errors), and why not.
   * `applicable` is false for multi-label runs and comparisons, whose reports predict nothing;
   * `what` names what the predictions show, for messages.
   */
  examples: { included: boolean; reason?: string; applicable: boolean; what?: string };
}

function writeHtml(path: string, html: string): string {
  const abs = resolve(path);
  try {
    mkdirSync(dirname(abs), { recursive: true });
    writeFileAtomic(abs, html);
  } catch (e) {
    throw new BertuneError(`cannot write the report to ${abs}: ${(e as Error).message}`, "pass --out with a path you can write to");
  }
  return abs;
}

export async function writeRunReport(runDir: string, o: ReportOptions = {}): Promise<ReportResult> {
  const { out, png: pngDir, examples: wanted, xAxis: _x, ...classifierOptions } = o;
  const data = readRunReportData(runDir);
  if (data.kind === "masked-lm") {
    // A pretraining run: loss, perplexity and the schedule; nothing to predict, no problem-type sections.
    const charts = runCharts(data);
    const html = writeHtml(out ?? join(data.dir, REPORT_FILE), renderRunReport(data, charts, { ok: false, skipped: true, reason: "a masked-LM run's report lists no examples" }));
    const png = pngDir ? await writePngCharts(pngDir, charts.filter((c) => isPngChart(c.id))) : [];
    return { html, png, examples: { included: false, reason: "a masked-LM pretraining run's report lists no examples", applicable: false } };
  }
  const limit = wanted === false ? 0 : (wanted ?? 10);
  const applicable = data.problemType !== "multi_label_classification";
  const skipped: ExamplesSection = { ok: false, skipped: true, reason: "Skipped: the report was written without predictions (--no-examples)." };
  let examples: ExamplesSection;
  if (!applicable) examples = { ok: false, skipped: true, reason: "a multi-label run's report lists no examples" };
  else if (limit <= 0) examples = skipped;
  else if (data.problemType === "regression") examples = await regressionPredictions(data.dir, { ...classifierOptions, limit });
  else examples = await worstMisclassified(data.dir, { ...classifierOptions, limit });
  const charts = runCharts(data, "kind" in examples ? examples : undefined);
  const html = writeHtml(out ?? join(data.dir, REPORT_FILE), renderRunReport(data, charts, examples));
  const png = pngDir ? await writePngCharts(pngDir, charts.filter((c) => isPngChart(c.id))) : [];
  const what = data.problemType === "regression" ? "predicted-vs-true scatter plot" : "misclassified examples";
  return { html, png, examples: examples.ok ? { included: true, applicable, what } : { included: false, reason: examples.reason, applicable, what } };
}

/** Run names for legends: folder names, made unique with their parent folder or a number. */
export function runNames(dirs: readonly string[]): string[] {
  const base = dirs.map((d) => resolve(d).split(/[\\/]/).filter(Boolean).slice(-1)[0] ?? d);
  const withParent = dirs.map((d) => resolve(d).split(/[\\/]/).filter(Boolean).slice(-2).join("/"));
  const names = base.map((b, i) => (base.filter((x) => x === b).length > 1 ? withParent[i] : b));
  return names.map((n, i) => (names.filter((x) => x === n).length > 1 ? `${n} (${i + 1})` : n));
}

export async function writeCompareReport(runDirs: readonly string[], o: ReportOptions = {}): Promise<ReportResult> {
  if (runDirs.length < 2) throw new BertuneError(`--compare needs at least two run folders, got ${runDirs.length}`, "pass two or more run folders");
  const names = runNames(runDirs);
  const runs = runDirs.map((d, i) => ({ name: names[i], data: readRunReportData(d) }));
  const mlm = runs.filter((r) => r.data.kind === "masked-lm");
  if (mlm.length > 0 && mlm.length < runs.length) {
    const others = runs.filter((r) => r.data.kind !== "masked-lm");
    throw new BertuneError(
      `--compare cannot mix masked-LM pretraining runs (${mlm.map((r) => r.name).join(", ")}) with fine-tuning runs (${others.map((r) => r.name).join(", ")}): their losses are not comparable; compare each kind on its own`,
    );
  }
  const charts = compareCharts(runs, o.xAxis ?? "epoch");
  const html = writeHtml(o.out ?? "compare.html", renderCompareReport(runs, charts));
  const png = o.png ? await writePngCharts(o.png, charts) : [];
  return { html, png, examples: { included: false, reason: "a comparison shows no examples", applicable: false } };
}
