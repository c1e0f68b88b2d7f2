/**
 * `bertune report` as library calls: a self-contained HTML report of one run (curves, learning
 * rate, confusion matrix, per-class scores, settings, worst mistakes), or of several runs
 * overlaid; optionally PNG files of the charts.
 */
import { dirname, join, resolve } from "node:path";
import { mkdirSync } from "node:fs";
import type { ClassifierOptions } from "../classifier.js";
import { BertuneError } from "../errors.js";
import { writeFileAtomic } from "../util/atomic.js";
import { compareCharts, runCharts, type XAxis } from "./charts.js";
import { renderCompareReport, renderRunReport, type ExamplesSection } from "./html.js";
import { worstMisclassified } from "./misclassified.js";
import { writePngCharts } from "./png.js";
import { readRunReportData } from "./run-data.js";

export { readRunReportData, finalMetrics, type RunReportData, type FinalMetrics } from "./run-data.js";
export { worstMisclassified, type Misclassified, type MisclassifiedResult } from "./misclassified.js";
export { runCharts, compareCharts, type Chart, type XAxis } from "./charts.js";

export const REPORT_FILE = "report.html";
/** The charts of a single run that --png writes. */
const PNG_CHARTS = ["loss", "accuracy", "lr", "confusion"];

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
  /** Whether the misclassified examples are in the report, and why not. */
  examples: { included: boolean; reason?: string };
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
  const limit = wanted === false ? 0 : (wanted ?? 10);
  const examples: ExamplesSection =
    limit > 0
      ? await worstMisclassified(data.dir, { ...classifierOptions, limit })
      : { ok: false, skipped: true, reason: "Skipped: the report was written without predictions (--no-examples)." };
  const charts = runCharts(data);
  const html = writeHtml(out ?? join(data.dir, REPORT_FILE), renderRunReport(data, charts, examples));
  const png = pngDir ? await writePngCharts(pngDir, charts.filter((c) => PNG_CHARTS.includes(c.id))) : [];
  return { html, png, examples: examples.ok ? { included: true } : { included: false, reason: examples.reason } };
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
  const charts = compareCharts(runs, o.xAxis ?? "epoch");
  const html = writeHtml(o.out ?? "compare.html", renderCompareReport(runs, charts));
  const png = o.png ? await writePngCharts(o.png, charts) : [];
  return { html, png, examples: { included: false, reason: "a comparison shows no examples" } };
}
