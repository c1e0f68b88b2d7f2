/**
 * The three problem types through the CLI, in both modes, on real subsets: GoEmotions
 * (multi-label), STS-B (pair regression) and MRPC (pair classification with
 * --metric-for-best-model f1). Every metric the run reports is recomputed here from what
 * `bertune predict` says for the same examples (counts and formulas written out in this file),
 * and the saved config is read by transformers.js, which must apply the problem type's activation.
 */
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadDataset } from "../src/data/dataset.js";
import { runCli } from "./helpers/cli.js";
import { DATASETS, TINY_MODEL, tempDir } from "./helpers/fixtures.js";

const work = tempDir("bertune-ptypes-");
const env = { BERTUNE_CACHE: join(work, "cache"), HF_HOME: join(work, "hf") };
const json = (path: string) => JSON.parse(readFileSync(path, "utf8"));

function head(file: string, rows: number, skipHeader = false): string {
  const lines = readFileSync(file, "utf8").split("\n").filter((l) => l !== "");
  return (skipHeader ? [lines[0], ...lines.slice(1, rows + 1)] : lines.slice(0, rows)).join("\n") + "\n";
}

function subset(name: string, files: Record<string, [string, number, boolean]>): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  for (const [out, [src, rows, header]] of Object.entries(files)) writeFileSync(join(dir, out), head(join(DATASETS, src), rows, header));
  return dir;
}

const goemotions = subset("goemotions", { "train.jsonl": ["goemotions/train.jsonl", 400, false], "validation.jsonl": ["goemotions/validation.jsonl", 120, false] });
const stsb = subset("stsb", { "train.tsv": ["stsb/train.tsv", 300, true], "validation.tsv": ["stsb/validation.tsv", 100, true] });
const mrpc = subset("mrpc", { "train.tsv": ["mrpc/train.tsv", 400, true] });

async function ok(args: string[]) {
  const r = await runCli(args, env);
  expect(r.stderr).not.toMatch(/error/i);
  expect(r.code, r.stderr).toBe(0);
  return r;
}

async function predictJson(run: string, texts: { text: string; textPair?: string }[]): Promise<Record<string, unknown>[]> {
  const file = join(work, `texts-${basename(run)}.txt`);
  // Pairs go through the library's predict; the CLI reads one text per line, so pair runs are checked via evaluate.
  writeFileSync(file, texts.map((t) => t.text).join("\n") + "\n");
  const r = await ok(["predict", run, "--file", file, "--json", "--device", "wasm"]);
  return r.stdout.trim().split("\n").map((l) => JSON.parse(l));
}

const FULL = ["--epochs", "1", "--batch-size", "16", "--max-length", "32", "--learning-rate", "1e-3", "--device", "wasm"];
const FROZEN = ["--freeze-backbone", "--epochs", "3", "--batch-size", "16", "--learning-rate", "1e-2"];

describe.each([
  ["frozen", FROZEN],
  ["full", FULL],
])("multi-label: a GoEmotions subset, %s", (mode, opts) => {
  const run = join(work, `go-${mode}`);
  let train: Awaited<ReturnType<typeof runCli>>;
  beforeAll(async () => {
    // A low threshold so that a barely trained head predicts some labels (at 0.5 it predicts none).
    train = await ok(["train", "--model", TINY_MODEL, "--dataset", goemotions, "--output", run, "--threshold", "0.2", ...opts]);
  }, 300_000);

  it("detects multi-label from the JSON lists and saves it as transformers does", () => {
    expect(train.stderr).toMatch(/problem type multi_label_classification: the labels are lists \(.*train\.jsonl, line 1\)/);
    const config = json(join(run, "config.json"));
    expect(config.problem_type).toBe("multi_label_classification");
    const names = Object.values(config.id2label) as string[];
    expect(names).toEqual([...names].sort()); // inferred names in code-point order
    expect(names).toContain("neutral");
    expect(config.label2id[names[3]]).toBe(3);
    expect(config.threshold).toBe(0.2);
  });

  it("its metrics are those of its own predictions: micro/macro F1, subset accuracy, Hamming loss", async () => {
    const d = await loadDataset(goemotions, { validationRatio: 0.1 });
    const val = d.splits.validation;
    const preds = await predictJson(run, val);
    const names = d.id2label;
    const k = names.length;
    const tp = new Array(k).fill(0), fp = new Array(k).fill(0), fn = new Array(k).fill(0);
    let exact = 0;
    let wrongCells = 0;
    preds.forEach((p, i) => {
      const predicted = new Set(p.labels as string[]);
      // Every label at or above the threshold, and nothing else; the scores are sigmoids (not summing to 1).
      for (const [name, s] of Object.entries(p.probabilities as Record<string, number>)) expect(predicted.has(name)).toBe(s >= 0.2);
      const truth = val[i].label as number[];
      let same = true;
      names.forEach((name, j) => {
        const y = truth[j] === 1;
        const yhat = predicted.has(name);
        if (y && yhat) tp[j]++;
        if (!y && yhat) fp[j]++;
        if (y && !yhat) fn[j]++;
        if (y !== yhat) (same = false), wrongCells++;
      });
      if (same) exact++;
    });
    const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
    const f1 = (t: number, p: number, n: number) => (t === 0 ? 0 : (2 * t) / (2 * t + p + n));
    const r = await ok(["evaluate", run, "--json", "--device", "wasm"]);
    const e = JSON.parse(r.stdout);
    expect(e.eval_samples).toBe(val.length);
    expect(e.eval_micro_f1).toBeCloseTo(f1(sum(tp), sum(fp), sum(fn)), 12);
    expect(e.eval_macro_f1).toBeCloseTo(sum(names.map((_, j) => f1(tp[j], fp[j], fn[j]))) / k, 12);
    expect(e.eval_subset_accuracy).toBeCloseTo(exact / val.length, 12);
    expect(e.eval_hamming_loss).toBeCloseTo(wrongCells / (val.length * k), 12);
    expect(sum(tp) + sum(fp)).toBeGreaterThan(0); // the check above is not all zeros
    // The run's own last evaluation is the same numbers.
    const saved = json(join(run, "eval_results.json"));
    expect(saved.eval_micro_f1).toBeCloseTo(e.eval_micro_f1, 6);
  });

  it("transformers.js reads problem_type and applies a sigmoid per label to the exported graph", async () => {
    await ok(["export", run]);
    const { pipeline, env: tenv } = await import("@huggingface/transformers");
    tenv.allowRemoteModels = false;
    tenv.localModelPath = dirname(run) + "/";
    const classify = await pipeline("text-classification", basename(run), { dtype: "fp32" });
    const texts = ["I love this so much, thank you!", "That is terrifying."];
    const out = (await classify(texts, { top_k: null })) as unknown as { label: string; score: number }[][];
    await classify.dispose();
    const ours = await predictJson(run, texts.map((text) => ({ text })));
    out.forEach((row, i) => {
      const mine = ours[i].probabilities as Record<string, number>;
      for (const { label, score } of row) expect(Math.abs(score - mine[label])).toBeLessThan(1e-5);
      // Sigmoids, not a softmax: they do not sum to 1 over 20+ labels.
      expect(Math.abs(row.reduce((s, x) => s + x.score, 0) - 1)).toBeGreaterThan(0.5);
    });
  }, 120_000);
});

/** Pearson correlation and MSE, written out. */
function pearson(x: number[], y: number[]): number {
  const mx = x.reduce((a, b) => a + b, 0) / x.length;
  const my = y.reduce((a, b) => a + b, 0) / y.length;
  let sxy = 0, sxx = 0, syy = 0;
  x.forEach((xi, i) => ((sxy += (xi - mx) * (y[i] - my)), (sxx += (xi - mx) ** 2), (syy += (y[i] - my) ** 2)));
  return sxy / Math.sqrt(sxx * syy);
}

describe.each([
  ["frozen", [...FROZEN, "--normalize-targets"]],
  ["full", [...FULL, "--normalize-targets"]],
])("regression: an STS-B subset (sentence pairs, scores 0-5), %s", (mode, opts) => {
  const run = join(work, `stsb-${mode}`);
  let train: Awaited<ReturnType<typeof runCli>>;
  beforeAll(async () => {
    train = await ok(["train", "--model", TINY_MODEL, "--dataset", stsb, "--output", run, ...opts]);
  }, 300_000);

  it("detects regression from the fractional scores; config has one output named LABEL_0", () => {
    expect(train.stderr).toMatch(/problem type regression: the labels are numbers, not all whole \(.*train\.tsv, line 3: 3\.8\)/);
    const config = json(join(run, "config.json"));
    expect(config.problem_type).toBe("regression");
    expect(config.id2label).toEqual({ 0: "LABEL_0" });
    expect(config.label2id).toEqual({ LABEL_0: 0 });
    expect(json(join(run, "training_args.json")).metric_for_best_model).toBe("mse");
    expect(json(join(run, "training_args.json")).greater_is_better).toBe(false);
  });

  it("the saved head predicts in the data's units (the normalisation is folded into it), and its metrics are its predictions'", async () => {
    const d = await loadDataset(stsb);
    const val = d.splits.validation;
    const truth = val.map((e) => (e.label as number[])[0]);
    const { Classifier } = await import("../src/classifier.js");
    const c = await Classifier.load(run, { device: "wasm" });
    const preds = await c.predict(val.map((e) => ({ text: e.text, textPair: e.textPair })));
    await c.close();
    const values = preds.map((p) => (p.problemType === "regression" ? p.value : NaN));
    const trainMean = d.splits.train.reduce((s, e) => s + (e.label as number[])[0], 0) / d.splits.train.length;
    const predMean = values.reduce((a, b) => a + b, 0) / values.length;
    // Trained on (y − mean)/std, a head without the fold would predict around 0; the data's mean is ~2.7.
    expect(Math.abs(predMean - trainMean)).toBeLessThan(0.75);
    const mse = values.reduce((s, v, i) => s + (v - truth[i]) ** 2, 0) / values.length;
    const e = JSON.parse((await ok(["evaluate", run, "--json", "--device", "wasm"])).stdout);
    expect(e.eval_mse).toBeCloseTo(mse, 4);
    expect(e.eval_rmse).toBeCloseTo(Math.sqrt(mse), 4);
    expect(e.eval_pearson).toBeCloseTo(pearson(values, truth), 4);
    expect(e.eval_loss).toBeCloseTo(mse, 4);
  });

  it("predict prints the value", async () => {
    const [p] = await predictJson(run, [{ text: "A man is playing a flute." }]);
    expect(p.problemType).toBe("regression");
    expect(typeof p.value).toBe("number");
    expect(p.values).toEqual({ LABEL_0: p.value });
    const r = await ok(["predict", run, "A man is playing a flute.", "--device", "wasm"]);
    expect(r.stdout).toMatch(/^-?\d+\.\d{4}\tA man is playing a flute\.\n$/);
  });
});

/** Binary F1 of class 1 (GLUE's MRPC F1), written out. */
function binaryF1(truth: number[], pred: number[]): number {
  let tp = 0, fp = 0, fn = 0;
  truth.forEach((y, i) => ((tp += +(y === 1 && pred[i] === 1)), (fp += +(y === 0 && pred[i] === 1)), (fn += +(y === 1 && pred[i] === 0))));
  return tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
}

describe.each([
  ["frozen", FROZEN],
  ["full", FULL.map((v, i) => (FULL[i - 1] === "--epochs" ? "2" : v))],
])("pairs: an MRPC subset with --metric-for-best-model f1 --load-best-model-at-end, %s", (mode, opts) => {
  const run = join(work, `mrpc-${mode}`);
  beforeAll(async () => {
    await ok(["train", "--model", TINY_MODEL, "--dataset", mrpc, "--output", run, "--metric-for-best-model", "eval_f1", "--load-best-model-at-end", "--eval-every", "5", ...opts]);
  }, 300_000);

  it("picks the best evaluation by F1 of class 1, records it as transformers does, and keeps that model", async () => {
    const state = json(join(run, "trainer_state.json"));
    const evals = (state.log_history as Record<string, number>[]).filter((e) => e.eval_f1 !== undefined);
    expect(evals.length).toBeGreaterThan(2);
    const best = Math.max(...evals.map((e) => e.eval_f1));
    expect(state.best_metric).toBe(best);
    const args = json(join(run, "training_args.json"));
    expect(args.metric_for_best_model).toBe("f1");
    expect(args.greater_is_better).toBe(true);
    // The final model is the best evaluation's: its F1 on the same validation split is best_metric.
    const final = json(join(run, "eval_results.json"));
    expect(final.eval_f1).toBeCloseTo(best, 6);

    const d = await loadDataset(mrpc);
    const { Classifier } = await import("../src/classifier.js");
    const c = await Classifier.load(run, { device: "wasm" });
    const preds = await c.predict(d.splits.validation.map((e) => ({ text: e.text, textPair: e.textPair })));
    await c.close();
    const predicted = preds.map((p) => (p.problemType === "regression" ? -1 : d.id2label.indexOf(p.label)));
    expect(binaryF1(d.splits.validation.map((e) => e.label as number), predicted)).toBeCloseTo(best, 6);
  });
});

describe("problem types: choosing and refusing", () => {
  it("one 0/1 column per label (--label-columns) is multi-label; the same columns as numbers are multi-target regression", async () => {
    const dir = join(work, "cols");
    mkdirSync(dir, { recursive: true });
    const rows = ["text,joy,anger", "happy day,1,0", "so angry,0,1", "happy and angry,1,1", "meh,0,0"];
    writeFileSync(join(dir, "tags.csv"), rows.join("\n") + "\n");
    const multi = await loadDataset(join(dir, "tags.csv"), { labelColumns: ["joy", "anger"], validationRatio: 0.25 });
    expect(multi.problemType).toBe("multi_label_classification");
    expect(multi.problemTypeReason).toBe("2 label columns holding only 0 and 1");
    expect(multi.id2label).toEqual(["joy", "anger"]);
    const all = [...multi.splits.train, ...multi.splits.validation].sort((a, b) => a.text.localeCompare(b.text));
    expect(all.map((e) => e.label)).toEqual([[1, 1], [1, 0], [0, 0], [0, 1]]);
    writeFileSync(join(dir, "scores.csv"), ["text,valence,arousal", "a,0.5,1", "b,1.5,2", "c,2,0", "d,3,1"].join("\n") + "\n");
    const reg = await loadDataset(join(dir, "scores.csv"), { labelColumns: ["valence", "arousal"], validationRatio: 0.25 });
    expect(reg.problemType).toBe("regression");
    expect(reg.id2label).toEqual(["valence", "arousal"]);
  });

  it("a delimited label column is multi-label with --label-separator", async () => {
    const dir = join(work, "sep");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "t.tsv"), ["text\tlabels", "a\tjoy|love", "b\tanger", "c\t", "d\tlove"].join("\n") + "\n");
    const { datasetOptions } = await import("../src/cli/commands/dataset-options.js");
    const d = await loadDataset(join(dir, "t.tsv"), { ...datasetOptions({ labelSeparator: "|", validationRatio: 0.25, encoding: "utf8", seed: 1 }) });
    expect(d.problemType).toBe("multi_label_classification");
    expect(d.id2label).toEqual(["anger", "joy", "love"]);
    const byText = Object.fromEntries([...d.splits.train, ...d.splits.validation].map((e) => [e.text, e.label]));
    expect(byText).toEqual({ a: [0, 1, 1], b: [1, 0, 0], c: [0, 0, 0], d: [0, 0, 1] });
  });

  it.each([
    [["--class-weights", "1,2,3"], /--class-weights has 3 weights but the data has 2 labels/],
    [["--metric-for-best-model", "bleu"], /"bleu" is not a metric of single-label-classification/],
    [["--class-weights", "heavy"], /--class-weights must be "balanced" or numbers/],
    [["--greater-is-better", "maybe"], /--greater-is-better must be true or false/],
    [["--problem-type", "ranking"], /--problem-type must be one of/],
  ])("refuses %j with one line and exit code 2", async (extra, message) => {
    const r = await runCli(["train", "--model", TINY_MODEL, "--dataset", mrpc, "--freeze-backbone", "--output", join(work, "refused"), ...extra], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it("refuses label smoothing for regression", async () => {
    const r = await runCli(["train", "--model", TINY_MODEL, "--dataset", stsb, "--freeze-backbone", "--output", join(work, "refused2"), "--label-smoothing", "0.1"], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--label-smoothing applies to single-label classification, not to regression/);
  });
});
