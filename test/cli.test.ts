import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readSafetensors, tensorToFloat32 } from "../src/formats/safetensors.js";
import { runCli } from "./helpers/cli.js";
import { DATASETS, TINY_MODEL, tempDir, sst2Subset } from "./helpers/fixtures.js";
import { startHubServer, type HubServer } from "./helpers/hub-server.js";
import { independentScores, tsvRows, type IndependentScores } from "./helpers/independent.js";

const json = (path: string) => JSON.parse(readFileSync(path, "utf8"));

describe("bertune CLI, frozen backbone, end to end on bert-random-tiny + SST-2", () => {
  const work = tempDir();
  const data = sst2Subset(join(work, "sst2-small"), 240, 80);
  const run = join(work, "run");
  const env = { BERTUNE_CACHE: join(work, "cache"), HF_HOME: join(work, "hf") };
  const train = ["train", "--model", TINY_MODEL, "--dataset", data, "--freeze-backbone", "--output", run, "--epochs", "2", "--batch-size", "16", "--logging-steps", "5"];
  let first: Awaited<ReturnType<typeof runCli>>;

  beforeAll(async () => {
    first = await runCli(train, env);
  });

  it("trains and writes every output in the Hugging Face layout", () => {
    expect(first.stderr).not.toMatch(/error/i);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/eval accuracy\s+0\.\d{4}/);
    for (const f of ["config.json", "model.safetensors", "training_args.json", "trainer_state.json", "eval_results.json", "train_results.json"]) {
      expect(existsSync(join(run, f)), f).toBe(true);
    }
    const config = json(join(run, "config.json"));
    // A plain file with integer labels gets transformers' default names.
    expect(config.id2label).toEqual({ 0: "LABEL_0", 1: "LABEL_1" });
    expect(config.label2id).toEqual({ LABEL_0: 0, LABEL_1: 1 });
    expect(config.problem_type).toBe("single_label_classification");
    expect(config.architectures).toEqual(["BertForSequenceClassification"]);
    // A local base model is recorded relative to the run (no absolute path of this machine), and resolves back to it.
    expect(config.base_model).toMatch(/^\.\.?\//);
    expect(resolve(run, config.base_model)).toBe(TINY_MODEL);
    expect(config.hidden_size).toBe(32);
    expect(config.max_length).toBe(128);
    expect(config.pooling).toBe("pooler");

    const weights = readSafetensors(join(run, "model.safetensors"));
    expect([...weights.tensors.keys()].sort()).toEqual(["classifier.bias", "classifier.weight"]);
    expect(weights.tensors.get("classifier.weight")!.shape).toEqual([2, 32]);
    expect(tensorToFloat32(weights, "classifier.weight").every(Number.isFinite)).toBe(true);

    const args = json(join(run, "training_args.json"));
    expect(args).toMatchObject({ num_train_epochs: 2, per_device_train_batch_size: 16, learning_rate: 1e-3, seed: 42, max_length: 128 });

    // 240 examples / 16 = 15 steps per epoch; loss logged every 5 steps; one eval per epoch.
    const state = json(join(run, "trainer_state.json"));
    expect(state.global_step).toBe(30);
    expect(state.max_steps).toBe(30);
    const evals = state.log_history.filter((e: { eval_accuracy?: number }) => e.eval_accuracy !== undefined);
    expect(evals.map((e: { epoch: number; step: number }) => [e.epoch, e.step])).toEqual([
      [1, 15],
      [2, 30],
    ]);
    expect(state.log_history.filter((e: { loss?: number }) => e.loss !== undefined).map((e: { step: number }) => e.step)).toEqual([5, 10, 15, 20, 25, 30]);
    // The learning rate decays linearly to 0 over the 30 steps.
    const lrs = state.log_history.filter((e: { learning_rate?: number }) => e.learning_rate !== undefined).map((e: { learning_rate: number }) => e.learning_rate);
    expect(lrs[0]).toBeCloseTo(1e-3 * (1 - 4 / 30), 10);

    const results = json(join(run, "eval_results.json"));
    expect(results.eval_samples).toBe(80);
    expect(results.eval_accuracy).toBe(evals[1].eval_accuracy);
  });

  let second: IndependentScores;
  const dev = tsvRows(join(data, "dev.tsv"));
  it("reports the validation accuracy and loss that a second implementation computes from the saved head", async () => {
    second = await independentScores(run, dev.texts, dev.labels);
    expect(second.minMargin).toBeGreaterThan(1e-4); // no prediction close enough to a tie to flip
    const results = json(join(run, "eval_results.json"));
    expect(results.eval_accuracy).toBe(second.accuracy);
    expect(Math.abs(results.eval_loss - second.loss)).toBeLessThan(1e-4);
  });

  it("reuses the cached features on a second run and gives the same weights bit for bit", async () => {
    const before = readFileSync(join(run, "model.safetensors"));
    const again = await runCli([...train, "--json", "--overwrite-output-dir"], env);
    expect(again.code).toBe(0);
    const summary = JSON.parse(again.stdout);
    expect(summary.features_from_cache).toEqual({ train: true, validation: true });
    expect(readFileSync(join(run, "model.safetensors")).equals(before)).toBe(true);
  });

  it("evaluate reads the run back and reproduces the validation accuracy", async () => {
    const r = await runCli(["evaluate", run, "--json"], env);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    second ??= await independentScores(run, dev.texts, dev.labels);
    expect(report.eval_accuracy).toBe(second.accuracy);
    expect(Math.abs(report.eval_loss - second.loss)).toBeLessThan(1e-4);
    expect(report.report.confusionMatrix).toEqual(second.confusion);
    expect(existsSync(join(run, "eval_sst2-small_validation.json"))).toBe(true);
    const table = await runCli(["evaluate", run, "--dataset", data, "--split", "validation"], env);
    expect(table.stdout).toMatch(/LABEL_1/);
    expect(table.stdout).toMatch(/confusion matrix/);
  });

  it("predict prints a label and probabilities for arguments and for standard input", async () => {
    const r = await runCli(["predict", run, "a gripping, beautifully acted film", "dull and lifeless", "--json"], env);
    expect(r.code).toBe(0);
    const preds = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(preds).toHaveLength(2);
    const expected = await independentScores(run, ["a gripping, beautifully acted film", "dull and lifeless"], [0, 0]);
    preds.forEach((p, i) => {
      expect(p.label).toBe(["LABEL_0", "LABEL_1"][expected.predictions[i]]);
      expect(Math.abs(p.probabilities.LABEL_0 - expected.probabilities[i][0])).toBeLessThan(1e-5);
      expect(Math.abs(p.probabilities.LABEL_1 - expected.probabilities[i][1])).toBeLessThan(1e-5);
      expect(p.score).toBe(Math.max(p.probabilities.LABEL_0, p.probabilities.LABEL_1));
    });
    const piped = await runCli(["predict", run], env, "first line\n\nsecond line\n");
    expect(piped.code).toBe(0);
    expect(piped.stdout.trimEnd().split("\n")).toHaveLength(3); // one output per input line: the blank one is an empty text
  });

  it.each([
    [["train", "--model", "/no/such/model", "--dataset", "sst2", "--freeze-backbone"], /no such model directory|not found/i],
    [["train", "--model", TINY_MODEL, "--dataset", "/no/such/file.csv", "--freeze-backbone"], /file\.csv/],
    [["train", "--model", TINY_MODEL, "--dataset", "sst2", "--freeze-backbone", "--text-column", "body"], /no column "body"/],
    [["evaluate", "/no/such/run"], /no run folder/],
    // A full run is a BertForSequenceClassification, which every loader pools with the tanh pooler.
    [["train", "--model", TINY_MODEL, "--dataset", "sst2", "--pooling", "mean"], /^error: --pooling mean works only with --freeze-backbone/m],
    [["train", "--model", TINY_MODEL, "--dataset", "sst2", "--pooling", "cls", "--unfreeze-top", "1"], /^error: --pooling cls works only with --freeze-backbone/m],
  ])("fails with one plain line and exit code 2: %s", async (args, message) => {
    const r = await runCli(args as string[], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it("refuses a data set with a single class", async () => {
    const one = join(work, "one-class.csv");
    writeFileSync(one, "text,label\ngood,1\nfine,1\ngreat,1\n");
    const r = await runCli(["train", "--model", TINY_MODEL, "--dataset", one, "--freeze-backbone"], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/two classes/);
  });

  it("--help lists every option with its default", async () => {
    const r = await runCli(["train", "--help"], env);
    expect(r.code).toBe(0);
    for (const o of ["--epochs", "--batch-size", "--learning-rate", "--weight-decay", "--warmup-ratio", "--seed", "--eval-every", "--max-length", "--pooling", "--validation-ratio"]) {
      expect(r.stdout).toContain(o);
    }
    const flat = r.stdout.replace(/\s+/g, " ");
    expect(flat).toMatch(/--epochs <n> number of training epochs, may be fractional such as 2\.5 \(alias --num-train-epochs; default: 3\)/);
    expect(flat).toMatch(/--max-length <n> truncate inputs to this many tokens \(batches pad only to their longest\) \(alias --max-seq-length; default: 128\)/);
    expect(flat).toMatch(/--pooling <how> head input: pooler, cls, mean .*?\(default: "pooler"\)/);
  });
});

describe("bertune CLI with a model from the Hub (local mock server)", () => {
  let hub: HubServer;
  const work = tempDir();
  beforeAll(async () => {
    hub = await startHubServer({
      repos: { "google-bert/bert-base-uncased": { dir: TINY_MODEL } },
      legacy: { "bert-base-uncased": "google-bert/bert-base-uncased" },
    });
  });
  afterAll(() => hub.close().catch(() => {}));

  it("downloads bert-base-uncased into the HF cache, trains, then works offline from the cache", async () => {
    const data = sst2Subset(join(work, "data"), 64, 32);
    const env = { HF_ENDPOINT: hub.url, HF_HOME: join(work, "hf"), BERTUNE_CACHE: join(work, "cache") };
    const run = join(work, "run");
    const r = await runCli(["train", "--model", "bert-base-uncased", "--dataset", data, "--freeze-backbone", "--epochs", "1", "--output", run, "--json"], env);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.model).toBe("google-bert/bert-base-uncased");
    expect(summary.revision).toMatch(/^[0-9a-f]{40}$/);
    const snap = join(work, "hf/hub/models--google-bert--bert-base-uncased/snapshots", summary.revision);
    expect(existsSync(join(snap, "model.safetensors"))).toBe(true);
    expect(existsSync(join(snap, "onnx/model.onnx"))).toBe(false); // bertune wrote its own graph
    expect(json(join(run, "config.json")).base_model_revision).toBe(summary.revision);

    await hub.close();
    const offline = await runCli(["evaluate", run, "--json"], { ...env, HF_HUB_OFFLINE: "1" });
    expect(offline.stderr).not.toMatch(/error/);
    expect(offline.code).toBe(0);
    expect(JSON.parse(offline.stdout).eval_accuracy).toBe(json(join(run, "eval_results.json")).eval_accuracy);
  });
});

describe("bertune CLI, full fine-tuning end to end on bert-random-tiny + SST-2", () => {
  const work = tempDir();
  const data = sst2Subset(join(work, "sst2-small"), 96, 32);
  const run = join(work, "full");
  const env = { BERTUNE_CACHE: join(work, "cache"), HF_HOME: join(work, "hf") };

  it("trains every layer and saves a BertForSequenceClassification that evaluate and predict load", async () => {
    const r = await runCli(["train", "--model", TINY_MODEL, "--dataset", data, "--output", run, "--epochs", "2", "--batch-size", "16", "--max-length", "64", "--json"], env);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.mode).toBe("full");
    expect(summary.global_step).toBe(12);
    const config = json(join(run, "config.json"));
    expect(config.architectures).toEqual(["BertForSequenceClassification"]);
    expect(config.bertune_mode).toBe("full");
    expect(config.num_hidden_layers).toBe(2);
    for (const f of ["tokenizer.json", "tokenizer_config.json", "vocab.txt", "checkpoint-6/model.safetensors", "checkpoint-12/optimizer.safetensors"]) expect(existsSync(join(run, f)), f).toBe(true);
    // Exactly the state dict of transformers' BertForSequenceClassification: "bert." + BertModel's names, plus the classifier.
    const saved = readSafetensors(join(run, "model.safetensors"));
    const base = readSafetensors(join(TINY_MODEL, "model.safetensors"));
    const expected = [...[...base.tensors.keys()].map((k) => `bert.${k}`), "classifier.weight", "classifier.bias"].sort();
    expect([...saved.tensors.keys()].sort()).toEqual(expected);
    for (const [k, info] of base.tensors) expect(saved.tensors.get(`bert.${k}`)!.shape).toEqual(info.shape);

    // evaluate and predict against the saved weights recomputed a second way (see helpers/independent.ts).
    const dev = tsvRows(join(data, "dev.tsv"));
    const second = await independentScores(run, dev.texts, dev.labels, 64);
    expect(second.minMargin).toBeGreaterThan(1e-4);
    const ev = await runCli(["evaluate", run, "--json"], env);
    expect(ev.code).toBe(0);
    const report = JSON.parse(ev.stdout);
    expect(report.eval_accuracy).toBe(second.accuracy);
    expect(Math.abs(report.eval_loss - second.loss)).toBeLessThan(1e-4);
    expect(json(join(run, "eval_results.json")).eval_accuracy).toBe(second.accuracy);
    const p = await runCli(["predict", run, "a gripping, beautifully acted film", "--json"], env);
    expect(p.code).toBe(0);
    const one = await independentScores(run, ["a gripping, beautifully acted film"], [0], 64);
    const pred = JSON.parse(p.stdout);
    expect(pred.label).toBe(["LABEL_0", "LABEL_1"][one.predictions[0]]);
    expect(Math.abs(pred.probabilities.LABEL_1 - one.probabilities[0][1])).toBeLessThan(1e-5);
  });

  it("--strategy auto picks feature extraction for a small data set and says why", async () => {
    const r = await runCli(["train", "--model", TINY_MODEL, "--dataset", data, "--output", join(work, "auto"), "--epochs", "1", "--strategy", "auto"], env);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/--strategy auto: 96 training examples \(< 1,000\): feature extraction/);
    expect(json(join(work, "auto", "config.json")).bertune_mode).toBe("frozen");
  });
});
