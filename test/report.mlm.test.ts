/**
 * The report of masked-LM pretraining runs (`bertune pretrain`, a tiny config from scratch on a
 * slice of imdb-unlabelled, through the CLI): the perplexity chart's points, read back from the
 * SVG's pixels through its log axis, are the logged eval_perplexity = exp(eval_loss); the summary
 * is eval_results.json's; no classification section, example or warning; --compare of two
 * pretraining runs overlays their perplexities, and refuses a mix with a fine-tuning run.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { lineChart } from "../src/report/line-chart.js";
import { readRunReportData } from "../src/report/run-data.js";
import { logScale, logTicks } from "../src/report/scale.js";
import { runCli } from "./helpers/cli.js";
import { DATASETS, TINY_MODEL, tempDir } from "./helpers/fixtures.js";

type Json = Record<string, any>;
const json = (path: string): Json => JSON.parse(readFileSync(path, "utf8"));

const work = tempDir("bertune-report-mlm-");
const env = { BERTUNE_CACHE: join(work, "cache"), HF_HOME: join(work, "hf") };
const text = join(work, "slice.txt");
writeFileSync(text, readFileSync(join(DATASETS, "imdb-unlabelled/reviews-1-of-4.txt"), "utf8").split("\n").slice(0, 400).join("\n") + "\n");
// bert-random-tiny's shape, trained from scratch (as test/pretrain.cli.test.ts does).
const config = join(work, "config.json");
writeFileSync(config, JSON.stringify({ ...json(join(TINY_MODEL, "config.json")), architectures: ["BertForMaskedLM"] }));
const A = join(work, "mlm-a");
const B = join(work, "mlm-b");
// A fine-tuning run's folder, as far as the report reads it.
const CLS = join(work, "cls");
mkdirSync(CLS, { recursive: true });
writeFileSync(join(CLS, "trainer_state.json"), JSON.stringify({ global_step: 1, log_history: [{ epoch: 1, step: 1, eval_loss: 0.5, eval_accuracy: 0.7 }] }));
writeFileSync(join(CLS, "config.json"), JSON.stringify({ architectures: ["BertForSequenceClassification"], id2label: { 0: "neg", 1: "pos" } }));
const pretrain = (out: string, extra: string[]) => [
  "pretrain", "--config", config, "--tokenizer", TINY_MODEL, "--dataset", text, "--output", out,
  "--eval-every", "20", "--save-steps", "no", "--logging-steps", "10", "--max-seq-length", "32", "--batch-size", "8", "--device", "wasm", "-q", "--json", ...extra,
];

beforeAll(async () => {
  for (const [out, extra] of [[A, ["--max-steps", "60", "--learning-rate", "2e-3", "--warmup-ratio", "0.05"]], [B, ["--max-steps", "40", "--learning-rate", "5e-4", "--lr-scheduler", "cosine"]]] as const) {
    const r = await runCli(pretrain(out, [...extra]), env);
    expect(r.code, r.stderr).toBe(0);
  }
}, 240_000);

/** The ids of the page's sections, in order. */
const sections = (html: string) => [...html.matchAll(/<section id="([^"]+)">/g)].map((m) => m[1]);
/** The inline <svg> elements of a page, by data-chart id. */
const charts = (html: string) => new Map([...html.matchAll(/<svg [^>]*data-chart="([^"]+)"[\s\S]*?<\/svg>/g)].map((m) => [m[1], m[0]]));
/** The summary's cards, label → shown value. */
const summaryCards = (html: string) =>
  Object.fromEntries([...html.matchAll(/<div class="card"><div class="k">([^<]*)<\/div><div class="v">([^<]*)<\/div>/g)].map((m) => [m[1], m[2]]));
const f4 = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(4));

/**
 * A line chart's series read back from its pixels: the plot's mapping (g.plot's data-*
 * attributes) inverts the polyline's coordinates into (x, y) values, through a log y axis when
 * data-y-scale says so. Also the largest error the 2-decimal coordinates allow, per axis.
 */
function seriesValues(svg: string, series: string) {
  const g = svg.match(/<g class="plot" data-x-domain="([^"]+)" data-y-domain="([^"]+)" data-y-scale="(log|linear)" data-plot="([^"]+)"\/>/);
  expect(g, "the chart's g.plot mapping").not.toBeNull();
  const [xa, xb] = g![1].split(" ").map(Number);
  const [ya, yb] = g![2].split(" ").map(Number);
  const log = g![3] === "log";
  const [x0, y0, x1, y1] = g![4].split(" ").map(Number);
  const m = svg.match(new RegExp(`data-series="${series.replace(/[()]/g, "\\$&")}" points="([^"]*)"`));
  expect(m, `a polyline for ${series}`).not.toBeNull();
  const [ta, tb] = log ? [Math.log10(ya), Math.log10(yb)] : [ya, yb];
  const points = m![1].split(" ").map((p) => {
    const [cx, cy] = p.split(",").map(Number);
    const t = ta + ((y0 - cy) / (y0 - y1)) * (tb - ta);
    return [xa + ((cx - x0) / (x1 - x0)) * (xb - xa), log ? 10 ** t : t] as const;
  });
  // Half a unit of the last of 2 decimals (0.005 px), in values (log10 of them on a log axis).
  return { points, log, xTol: ((xb - xa) / (x1 - x0)) * 0.006, yTol: ((tb - ta) / (y0 - y1)) * 0.006, domain: [ya, yb] };
}

async function report(run: string, extra: string[] = []) {
  const r = await runCli(["report", run, "--json", ...extra], env);
  expect(r.code, r.stderr).toBe(0);
  const out = JSON.parse(r.stdout);
  return { out, stderr: r.stderr, html: readFileSync(out.html, "utf8") };
}

describe("the report of a masked-LM pretraining run", () => {
  let html: string;
  let out: Json;
  let stderr: string;
  beforeAll(async () => {
    ({ html, out, stderr } = await report(A, ["--png", join(work, "png-a")]));
  }, 120_000);

  it("draws the validation perplexity on a log axis: its points are the logged eval_perplexity, exp(eval_loss), at their steps", () => {
    const evals = json(join(A, "trainer_state.json")).log_history.filter((e: Json) => e.eval_loss !== undefined);
    expect(evals.map((e: Json) => e.step)).toEqual([20, 40, 60]);
    const svg = charts(html).get("perplexity")!;
    const { points, log, xTol, yTol, domain } = seriesValues(svg, "validation perplexity");
    expect(log).toBe(true);
    expect(points).toHaveLength(evals.length);
    points.forEach(([step, ppl], i) => {
      expect(Math.abs(step - evals[i].step)).toBeLessThanOrEqual(xTol);
      // The logged perplexity is exp(eval_loss); the plotted one is both, to the pixel.
      expect(evals[i].eval_perplexity).toBeCloseTo(Math.exp(evals[i].eval_loss), 6);
      expect(Math.abs(Math.log10(ppl) - Math.log10(evals[i].eval_perplexity))).toBeLessThanOrEqual(yTol);
      expect(Math.abs(Math.log10(ppl) - evals[i].eval_loss / Math.LN10)).toBeLessThanOrEqual(yTol);
    });
    // The axis covers every point, and its tick labels are round values inside it.
    const ppls = evals.map((e: Json) => e.eval_perplexity);
    expect(domain[0]).toBeLessThanOrEqual(Math.min(...ppls));
    expect(domain[1]).toBeGreaterThanOrEqual(Math.max(...ppls));
    expect(svg).toContain("perplexity (log scale)");
    // The loss chart: the logged training losses and the validation losses, per step.
    const loss = charts(html).get("loss")!;
    const valLoss = seriesValues(loss, "validation loss");
    expect(valLoss.log).toBe(false);
    valLoss.points.forEach(([, v], i) => expect(Math.abs(v - evals[i].eval_loss)).toBeLessThanOrEqual(valLoss.yTol));
    const trainLogs = json(join(A, "trainer_state.json")).log_history.filter((e: Json) => e.loss !== undefined);
    expect(seriesValues(loss, "training loss").points).toHaveLength(trainLogs.length);
    expect(loss).toContain("masked-LM cross-entropy loss");
  });

  it("summarises eval_results.json's loss and perplexity, train_results.json's loss and tokens/s, and the steps", () => {
    const r = json(join(A, "eval_results.json"));
    const t = json(join(A, "train_results.json"));
    const state = json(join(A, "trainer_state.json"));
    expect(Object.keys(r)).toEqual(expect.arrayContaining(["eval_loss", "perplexity"]));
    const cards = summaryCards(html);
    expect(cards).toMatchObject({
      "validation loss": f4(r.eval_loss),
      perplexity: f4(r.perplexity),
      "training loss": f4(t.train_loss),
      "tokens per second": t.train_tokens_per_second.toFixed(1),
      "tokens trained on": Math.round(t.train_tokens_per_second * t.train_runtime).toLocaleString("en-US"),
      steps: String(state.global_step),
    });
    expect(state.global_step).toBe(60);
    // 60 steps of 8 sequences of 32 tokens.
    expect(cards["tokens trained on"]).toBe((60 * 8 * 32).toLocaleString("en-US"));
    // The evaluations table: one row per evaluation, the last one the final evaluation.
    const rows = [...html.matchAll(/<h3>Evaluations<\/h3><table>[\s\S]*?<tbody>([\s\S]*?)<\/tbody>/g)][0][1].split("</tr>").filter(Boolean);
    expect(rows).toHaveLength(3);
    expect(rows[2]).toContain(`<td class="n">${f4(r.eval_loss)}</td><td class="n">${f4(r.perplexity)}</td>`);
  });

  it("has no classification section, example, warning or fine-tuning-only setting", () => {
    expect(sections(html)).toEqual(["summary", "curves", "learning-rate", "settings"]);
    expect([...charts(html).keys()]).toEqual(["loss", "perplexity", "lr"]);
    for (const word of ["confusion", "misclassified", "per-label", "scatter", "eval_report.json", "accuracy", "Not available"]) expect(html, word).not.toContain(word);
    expect(stderr).toBe("");
    expect(out.examples).toMatchObject({ included: false, applicable: false });
    expect(out.png.map((p: string) => p.split("/").at(-1))).toEqual(["loss.png", "perplexity.png", "lr.png"]);
    // The settings: the masked-LM arguments and the architecture, not metric_for_best_model & co.
    const settings = html.slice(html.indexOf('<section id="settings">'));
    for (const k of ["mlm_probability", "max_seq_length", "learning_rate", "architectures", "BertForMaskedLM"]) expect(settings, k).toContain(k);
    expect(settings).not.toMatch(/<td><code>(metric_for_best_model|pooling|threshold|class_weights)<\/code>/);
    expect(html).toMatch(/<title>bertune pretrain run mlm-a<\/title>/);
  });

  it("recognises a pretraining run by its files when config.json has no architectures", () => {
    const copy = join(work, "no-arch");
    cpSync(A, copy, { recursive: true });
    const cfg = json(join(copy, "config.json"));
    delete cfg.architectures;
    writeFileSync(join(copy, "config.json"), JSON.stringify(cfg));
    expect(readRunReportData(copy).kind).toBe("masked-lm");
    rmSync(join(copy, "config.json"));
    const d = readRunReportData(copy);
    expect(d.kind).toBe("masked-lm");
    expect(d.notes).toEqual(["config.json is missing"]);
    // A fine-tuned classifier stays one.
    expect(readRunReportData(CLS).kind).toBe("classifier");
  });
});

describe("--compare of pretraining runs", () => {
  it("overlays both runs' validation perplexity (log axis) and losses, and tabulates loss, perplexity and tokens/s", async () => {
    const r = await runCli(["report", "--compare", A, B, "--x-axis", "step", "--out", join(work, "compare.html"), "--json"], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    const html = readFileSync(JSON.parse(r.stdout).html, "utf8");
    expect([...charts(html).keys()]).toEqual(["loss", "eval-loss", "perplexity", "lr"]);
    const svg = charts(html).get("perplexity")!;
    for (const [name, dir] of [["mlm-a", A], ["mlm-b", B]]) {
      const evals = json(join(dir, "trainer_state.json")).log_history.filter((e: Json) => e.eval_perplexity !== undefined);
      const { points, log, yTol } = seriesValues(svg, name);
      expect(log).toBe(true);
      expect(points).toHaveLength(evals.length);
      points.forEach(([, ppl], i) => expect(Math.abs(Math.log10(ppl) - Math.log10(evals[i].eval_perplexity))).toBeLessThanOrEqual(yTol));
      const res = json(join(dir, "eval_results.json"));
      expect(html).toContain(`<td class="n">${f4(res.eval_loss)}</td><td class="n">${f4(res.perplexity)}</td>`);
    }
    expect(html).not.toMatch(/accuracy|best-model metric/);
  });

  it("refuses to mix a pretraining run with a fine-tuning run: one error line, exit 2", async () => {
    const r = await runCli(["report", "--compare", A, CLS, "--out", join(work, "mixed.html")], env);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toEqual([expect.stringMatching(/^error: --compare cannot mix masked-LM pretraining runs \(mlm-a\) with fine-tuning runs \(cls\)/)]);
    expect(existsSync(join(work, "mixed.html"))).toBe(false);
  });
});

describe("the log axis", () => {
  it("puts equal ratios at equal distances and covers the data with round ticks", () => {
    const s = logScale([10, 1000], [200, 0]);
    expect(s(10)).toBe(200);
    expect(s(100)).toBeCloseTo(100, 9);
    expect(s(1000)).toBeCloseTo(0, 9);
    expect(logTicks(600, 30000)!.values).toEqual([500, 1000, 2000, 5000, 10000, 20000, 50000]);
    expect(logTicks(3, 2e6)!.values).toEqual([1, 10, 100, 1000, 1e4, 1e5, 1e6, 1e7]);
    const narrow = logTicks(5501, 14627)!;
    expect(narrow.min).toBeLessThanOrEqual(5501);
    expect(narrow.max).toBeGreaterThanOrEqual(14627);
    expect(narrow.min).toBeGreaterThan(0);
    expect(logTicks(0, 10)).toBeUndefined();
  });

  it("falls back to a linear axis when a value is not positive", () => {
    const chart = (ys: number[]) => lineChart({ title: "t", xLabel: "x", yLabel: "y", yScale: "log", series: [{ name: "s", points: ys.map((y, i) => [i, y] as const) }] });
    expect(chart([100, 10, 1])).toContain('data-y-scale="log"');
    expect(chart([1, 0, -1])).toContain('data-y-scale="linear"');
  });
});
