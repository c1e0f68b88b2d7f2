import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { lineChart } from "../src/report/line-chart.js";
import { svgToPng } from "../src/report/png.js";
import { runCli } from "./helpers/cli.js";
import { DATASETS, ROOT, TINY_MODEL, tempDir, sst2Subset } from "./helpers/fixtures.js";

const json = (path: string) => JSON.parse(readFileSync(path, "utf8"));

/** Width and height from a PNG's IHDR chunk. */
function pngSize(bytes: Uint8Array): [number, number] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return [v.getUint32(16), v.getUint32(20)];
}

function polylinePoints(svg: string, series: string): string[] {
  const name = series.replace(/[()]/g, "\\$&");
  const m = svg.match(new RegExp(`data-series="${name}" points="([^"]*)"`));
  expect(m, `a polyline for ${series}`).not.toBeNull();
  return m![1] === "" ? [] : m![1].split(" ");
}

/** The inline <svg> elements of a page, by data-chart id. */
function charts(html: string): Map<string, string> {
  return new Map([...html.matchAll(/<svg [^>]*data-chart="([^"]+)"[\s\S]*?<\/svg>/g)].map((m) => [m[1], m[0]]));
}

describe("bertune report, end to end on a tiny run", () => {
  const work = tempDir("bertune-report-");
  const data = sst2Subset(join(work, "sst2-small"), 96, 40);
  const env = { BERTUNE_CACHE: join(work, "cache"), HF_HOME: join(work, "hf") };
  const runA = join(work, "runA");
  const runB = join(work, "runB");
  const train = (out: string, extra: string[]) =>
    runCli(["train", "--model", TINY_MODEL, "--dataset", data, "--freeze-backbone", "--epochs", "2", "--batch-size", "8", "--logging-steps", "5", "--output", out, "--json", ...extra], env);

  beforeAll(async () => {
    const [a, b] = await Promise.all([train(runA, ["--warmup-ratio", "0.1"]), train(runB, ["--learning-rate", "3e-3", "--lr-scheduler", "cosine"])]);
    expect(a.stderr).toBe("");
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
  });

  it("writes report.html with every section and one <svg> per chart, drawn from the log", async () => {
    const png = join(work, "png");
    const r = await runCli(["report", runA, "--png", png, "--json"], env);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.html).toBe(join(runA, "report.html"));
    expect(out.examples).toEqual({ included: true, applicable: true, what: "misclassified examples" });
    const html = readFileSync(out.html, "utf8");

    for (const id of ["summary", "curves", "learning-rate", "confusion", "misclassified", "settings"]) expect(html).toContain(`<section id="${id}">`);
    // Self-contained: no scripts, nothing fetched.
    expect(html).not.toMatch(/<script|<link|@import|url\(|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    expect(html).toContain("Content-Security-Policy");

    const svgs = charts(html);
    expect([...svgs.keys()]).toEqual(["loss", "metric", "loss-epoch", "metric-epoch", "lr", "confusion"]);

    const state = json(join(runA, "trainer_state.json"));
    const logged = (key: string) => state.log_history.filter((e: Record<string, unknown>) => e[key] !== undefined);
    // dev.tsv is the validation split, so train keeps its 96 examples: 12 steps an epoch, 24 in all.
    expect(state.global_step).toBe(24);
    expect(polylinePoints(svgs.get("loss")!, "training loss")).toHaveLength(logged("loss").length);
    expect(polylinePoints(svgs.get("loss")!, "validation loss")).toHaveLength(logged("eval_loss").length);
    // No metric_for_best_model given: the single-label default, accuracy, leads the metric chart.
    expect(polylinePoints(svgs.get("metric")!, "accuracy (best-model metric)")).toHaveLength(logged("eval_accuracy").length);
    expect(polylinePoints(svgs.get("metric")!, "macro F1")).toHaveLength(logged("eval_macro_f1").length);
    expect(polylinePoints(svgs.get("lr")!, "logged learning rate")).toHaveLength(logged("learning_rate").length);
    expect(polylinePoints(svgs.get("lr")!, "schedule (linear)")).toHaveLength(24); // every step of the schedule
    expect(polylinePoints(svgs.get("loss-epoch")!, "validation loss")).toHaveLength(2);

    // The confusion matrix cells hold eval_report.json's counts.
    const report = json(join(runA, "eval_report.json"));
    const counts = [...svgs.get("confusion")!.matchAll(/data-count="(\d+)"/g)].map((m) => Number(m[1]));
    expect(counts).toEqual(report.confusionMatrix.flat());
    for (const c of report.perClass) expect(html).toContain(`<td>${c.label}</td>`);

    // Settings from training_args.json and config.json.
    expect(html).toContain("<code>warmup_ratio</code></td><td>0.1</td>");
    expect(html).toContain(`<code>base_model</code></td><td>${json(join(runA, "config.json")).base_model}</td>`);

    // Misclassified examples: a table with probabilities, or (if the model is perfect) a sentence.
    expect(html).toMatch(/validation examples of sst2-small are misclassified|are classified correctly/);
    if (report.accuracy < 1) expect(html).toContain("<th>p(predicted)</th>");

    // PNG charts rendered from the same SVG.
    expect(out.png).toEqual(["loss", "metric", "lr", "confusion"].map((n) => join(png, `${n}.png`)));
    for (const p of out.png) {
      const bytes = readFileSync(p);
      expect([...bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      const [w, h] = pngSize(bytes);
      expect(w).toBeGreaterThan(400);
      expect(h).toBeGreaterThan(200);
    }
    const [lw, lh] = pngSize(readFileSync(join(png, "loss.png")));
    expect([lw, lh]).toEqual([1280, 640]); // 640 × 320 at scale 2
  });

  it("renders chart text into the PNG (a font was found)", async () => {
    const svg = lineChart({ title: "Loss per step", xLabel: "optimizer step", yLabel: "loss", series: [{ name: "training loss", points: [[1, 0.7], [2, 0.6]] }] });
    const without = svg.replace(/<text[^>]*>[^<]*<\/text>/g, "");
    const a = await svgToPng(svg, 1);
    const b = await svgToPng(without, 1);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
  });

  it("--compare overlays the runs' curves with a legend and tabulates their final metrics", async () => {
    const out = join(work, "cmp", "compare.html");
    const r = await runCli(["report", "--compare", runA, runB, "--out", out, "--json"], env);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ html: out, png: [] });
    const html = readFileSync(out, "utf8");
    const svgs = charts(html);
    expect([...svgs.keys()]).toEqual(["loss", "eval-loss", "metric", "lr"]);
    for (const svg of svgs.values()) {
      expect(svg.match(/class="legend-item" data-series="(runA|runB)"/g)).toHaveLength(2);
      expect(svg.match(/<polyline class="series"/g)).toHaveLength(2);
    }
    const logA = json(join(runA, "trainer_state.json")).log_history.filter((e: { loss?: number }) => e.loss !== undefined);
    expect(polylinePoints(svgs.get("loss")!, "runA")).toHaveLength(logA.length);
    const accB = json(join(runB, "eval_results.json")).eval_accuracy as number;
    expect(html).toContain('<section id="final-metrics">');
    expect(html).toContain(accB.toFixed(4));
    expect(html).toContain("<td>0.003</td>"); // runB's learning rate
  });

  it("still writes the report when the run's data set is gone, and says why", async () => {
    const moved = join(work, "moved-run");
    cpSync(runA, moved, { recursive: true });
    const args = json(join(moved, "training_args.json"));
    writeFileSync(join(moved, "training_args.json"), JSON.stringify({ ...args, dataset_spec: join(work, "deleted-data") }));
    const r = await runCli(["report", moved], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`wrote ${join(moved, "report.html")}\n`);
    expect(r.stderr).toMatch(/warning: the report has no misclassified examples: .*deleted-data/);
    const html = readFileSync(join(moved, "report.html"), "utf8");
    expect(html).toMatch(/<section id="misclassified"><h2>[^<]+<\/h2><p class="warn">Not available: .*deleted-data/);
    expect(charts(html).size).toBe(6);

    const skipped = await runCli(["report", moved, "--no-examples", "--out", join(work, "skipped.html"), "--json"], env);
    expect(JSON.parse(skipped.stdout).examples.included).toBe(false);
    expect(readFileSync(join(work, "skipped.html"), "utf8")).toContain("--no-examples");
  });

  it.each([
    [["report", "/no/such/run"], /no run folder/],
    [["report", "RUN_A", "RUN_B"], /report takes one run folder, got 2[\s\S]*--compare/],
    [["report", "--compare", "RUN_A"], /at least two run folders/],
    [["report", "RUN_A", "--x-axis", "step"], /--compare only/],
    [["report", "--compare", "RUN_A", "/no/such/run"], /no run folder/],
  ])("fails with one plain line and exit code 2: %s", async (args, message) => {
    const r = await runCli((args as string[]).map((a) => a.replace("RUN_A", runA).replace("RUN_B", runB)), env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(ROOT, "compare.html"))).toBe(false); // the default --out of --compare, in the CLI's folder
  });
});
