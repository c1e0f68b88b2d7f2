import { describe, expect, it } from "vitest";
import { buildModelCard, type CardInput } from "../src/card/card.js";
import { toYaml, yamlNumber, yamlString, type YamlValue } from "../src/card/yaml.js";
import { cardDataset } from "../src/push/plan.js";
import { parseFrontMatter, parseYamlSubset } from "./helpers/yaml-subset.js";

const SHA = "0123456789abcdef0123456789abcdef01234567";

function input(extra: Partial<CardInput> = {}): CardInput {
  return {
    repo: "alice/bert-sst2-head",
    config: {
      architectures: ["BertForSequenceClassification"],
      base_model: "google-bert/bert-base-uncased",
      base_model_revision: SHA,
      id2label: { 0: "negative", 1: "positive" },
      label2id: { negative: 0, positive: 1 },
      pooling: "pooler",
      max_length: 128,
      bertune_mode: "frozen",
    },
    trainingArgs: {
      output_dir: "/home/alice/runs/sst2",
      num_train_epochs: 2,
      per_device_train_batch_size: 16,
      per_device_eval_batch_size: 8,
      learning_rate: 0.001,
      weight_decay: 0,
      warmup_ratio: 0.1,
      warmup_steps: 0,
      lr_scheduler_type: "linear",
      max_grad_norm: 1,
      adam_beta1: 0.9,
      adam_beta2: 0.999,
      adam_epsilon: 1e-8,
      seed: 42,
      max_length: 128,
      pooling: "pooler",
      dataset: "sst2",
      dataset_spec: "sst2",
      dataset_source: "/home/alice/bertune/datasets/sst2",
    },
    trainerState: {
      log_history: [
        { epoch: 0.5, step: 5, loss: 0.7, learning_rate: 0.0008 },
        { epoch: 1, step: 10, loss: 0.65 },
        { epoch: 1, step: 10, eval_loss: 0.66, eval_accuracy: 0.6, eval_macro_f1: 0.55 },
        { epoch: 2, step: 20, eval_loss: 0.6, eval_accuracy: 0.7, eval_macro_f1: 0.68 },
      ],
    },
    evalResults: { epoch: 2, eval_split: "validation", eval_samples: 80, eval_loss: 0.6, eval_accuracy: 0.7, eval_macro_f1: 0.68, eval_macro_precision: 0.7, eval_macro_recall: 0.69 },
    dataset: { name: "sst2", hubRepo: "stanfordnlp/sst2", bundled: true },
    files: ["model.safetensors", "config.json", "training_args.json", "trainer_state.json", "eval_results.json"],
    bertuneVersion: "0.1.0",
    ...extra,
  };
}

describe("YAML emitter", () => {
  it("quotes what YAML readers would read differently, and round-trips through a strict reader", () => {
    expect(yamlString("accuracy")).toBe("accuracy");
    expect(yamlString("google-bert/bert-base-uncased")).toBe("google-bert/bert-base-uncased");
    for (const s of ["yes", "No", "on", "null", "~", "0.5", "1e3", "-1", "a: b", "x #y", " lead", "trail ", "", "[x]", "@at", "é", "line\nbreak", 'say "hi"']) {
      expect(yamlString(s)).toBe(JSON.stringify(s));
    }
    expect(yamlNumber(0.8125)).toBe("0.8125");
    expect(yamlNumber(1e-8)).toBe("1.0e-08");
    expect(yamlNumber(2.5e-7)).toBe("2.5e-07");
    expect(yamlNumber(3)).toBe("3");
    expect(() => yamlNumber(Number.NaN)).toThrow();

    const value: { [key: string]: YamlValue } = {
      a: "plain",
      "odd key": 'needs "quotes": yes',
      list: ["x", 1, 0.25, true, null, "yes"],
      nested: { deep: [{ k: "v", n: [1, 2] }, { k: "w" }], empty: [], none: {} },
      small: 1e-8,
    };
    expect(parseYamlSubset(toYaml(value))).toEqual(value);
  });
});

describe("model card", () => {
  it("frozen run: front matter the Hub reads, with the evaluation in model-index", () => {
    const card = buildModelCard(input());
    const { meta, body } = parseFrontMatter(card);
    expect(meta).toMatchObject({
      base_model: "google-bert/bert-base-uncased",
      base_model_relation: "adapter",
      library_name: "bertune",
      pipeline_tag: "text-classification",
      datasets: ["stanfordnlp/sst2"],
      metrics: ["accuracy", "f1"],
    });
    expect(meta.tags).toContain("frozen-backbone");
    expect(meta["model-index"]).toEqual([
      {
        name: "bert-sst2-head",
        results: [
          {
            task: { type: "text-classification", name: "Text Classification" },
            dataset: { name: "sst2", type: "stanfordnlp/sst2", split: "validation" },
            metrics: [
              { type: "accuracy", value: 0.7, name: "Accuracy" },
              { type: "f1", value: 0.68, name: "Macro F1", args: { average: "macro" } },
            ],
          },
        ],
      },
    ]);

    expect(body).toContain("frozen backbone");
    expect(body).toContain("[google-bert/bert-base-uncased](/google-bert/bert-base-uncased)");
    // Hyperparameters from training_args.json, without the training machine's paths.
    for (const line of ["- learning_rate: 0.001", "- train_batch_size: 16", "- eval_batch_size: 8", "- seed: 42", "- num_epochs: 2", "- lr_scheduler_warmup_ratio: 0.1"]) {
      expect(body).toContain(line);
    }
    expect(body).toContain("AdamW (torch) with betas=(0.9, 0.999) and epsilon=1e-8");
    expect(body).not.toContain("/home/alice");
    // Per-epoch table: one row per evaluation, with the last training loss before it.
    expect(body).toContain("| 0.6500 | 1 | 10 | 0.6600 | 0.6000 | 0.5500 |");
    expect(body).toContain("| No log | 2 | 20 | 0.6000 | 0.7000 | 0.6800 |");
    // Python: the base model with the labels, then the head's weights.
    expect(body).toContain('AutoModelForSequenceClassification.from_pretrained(\n    base, revision="' + SHA + '", id2label=id2label');
    expect(body).toContain('id2label = {0: "negative", 1: "positive"}');
    expect(body).toContain('model.classifier.load_state_dict(load_file(hf_hub_download("alice/bert-sst2-head", "model.safetensors")), strict=True)');
    expect(body).toContain("bertune download alice/bert-sst2-head --local-dir bert-sst2-head");
    expect(body).toContain("bertune predict bert-sst2-head");
    expect(body).toContain("| 1 | positive |");
  });

  it("full run: a transformers model, loaded with from_pretrained(repo)", () => {
    const base = input();
    const card = buildModelCard(input({ config: { ...base.config, bertune_mode: "full" } }));
    const { meta, body } = parseFrontMatter(card);
    expect(meta.library_name).toBe("transformers");
    expect(meta.base_model_relation).toBe("finetune");
    expect(body).toContain('model = AutoModelForSequenceClassification.from_pretrained("alice/bert-sst2-head")');
    // No tokenizer files in this run: the base model's tokenizer, at the base revision.
    expect(body).toContain(`tokenizer = AutoTokenizer.from_pretrained("google-bert/bert-base-uncased", revision="${SHA}")`);
    expect(body).not.toContain("load_state_dict");
    const withTokenizer = parseFrontMatter(buildModelCard(input({ config: { ...base.config, bertune_mode: "full" }, files: ["model.safetensors", "tokenizer.json"] }))).body;
    expect(withTokenizer).toContain('tokenizer = AutoTokenizer.from_pretrained("alice/bert-sst2-head")');
  });

  it("cls / mean pooling: the head is applied by hand to the encoder's hidden states", () => {
    const base = input();
    for (const pooling of ["cls", "mean"]) {
      const { body } = parseFrontMatter(buildModelCard(input({ config: { ...base.config, pooling } })));
      expect(body).toContain('head["classifier.weight"].T + head["classifier.bias"]');
      expect(body).toContain(pooling === "cls" ? "hidden[:, 0]" : "mask.sum(1)");
    }
  });

  it("a local base model, odd label names, no evaluation: still valid metadata", () => {
    const base = input();
    const card = buildModelCard(
      input({
        config: { ...base.config, base_model: "/home/alice/models/my-bert", base_model_revision: "local", id2label: { 0: "yes", 1: "no: really", 2: "1.5" } },
        evalResults: undefined,
        dataset: { name: "reviews.csv" },
      }),
    );
    const { meta, body } = parseFrontMatter(card);
    expect(meta.base_model).toBeUndefined();
    expect(meta["model-index"]).toBeUndefined();
    expect(meta.datasets).toBeUndefined();
    expect(body).toContain("a local model (`my-bert`)");
    expect(body).not.toContain("/home/alice");
    expect(body).toContain('id2label = {0: "yes", 1: "no: really", 2: "1.5"}');
    expect(body).toContain("| 1 | no: really |");
  });

  it("names the data set from training_args.json", () => {
    expect(cardDataset({ dataset: "sst2", dataset_spec: "sst2" })).toEqual({ name: "sst2", hubRepo: "stanfordnlp/sst2", bundled: true });
    expect(cardDataset({ dataset: "glue-sst2", dataset_spec: "hub:nyu-mll/glue:sst2" })).toEqual({ name: "glue-sst2", hubRepo: "nyu-mll/glue", config: "sst2" });
    expect(cardDataset({ dataset: "imdb", dataset_spec: "hub:imdb" })).toEqual({ name: "imdb", hubRepo: "stanfordnlp/imdb" });
    expect(cardDataset({ dataset: "reviews", dataset_spec: "acme/reviews" })).toEqual({ name: "reviews", hubRepo: "acme/reviews" });
    expect(cardDataset({ dataset: "data.csv", dataset_spec: "/home/alice/data.csv" })).toEqual({ name: "data.csv" });
    expect(cardDataset(undefined)).toBeUndefined();
  });
});

describe("model card by problem type", () => {
  const regression = (extra: Partial<CardInput> = {}): CardInput => {
    const base = input();
    return input({
      config: { ...base.config, id2label: { 0: "valence", 1: "arousal" }, label2id: { valence: 0, arousal: 1 }, problem_type: "regression", bertune_mode: "full" },
      trainingArgs: { ...base.trainingArgs, metric_for_best_model: "mse", normalize_targets: true },
      trainerState: { log_history: [{ epoch: 1, step: 10, loss: 1.2 }, { epoch: 1, step: 10, eval_loss: 0.9, eval_mse: 0.9, eval_pearson: null, eval_spearman: 0.5 }] },
      // A constant prediction: Pearson undefined, written as null.
      evalResults: { eval_split: "validation", eval_loss: 0.9, eval_mse: 0.9, eval_rmse: 0.94, eval_mae: 0.8, eval_pearson: null, eval_spearman: 0.5, eval_r2: -0.1 },
      evalReport: {
        problemType: "regression",
        perTarget: [
          { name: "valence", mse: 1, rmse: 1, mae: 0.9, pearson: null, spearman: 0.4, r2: -0.2 },
          { name: "arousal", mse: 0.8, rmse: 0.89, mae: 0.7, pearson: 0.3, spearman: 0.6, r2: 0 },
        ],
      },
      dataset: { name: "emobank.csv" },
      files: ["model.safetensors", "config.json", "tokenizer.json", "onnx/model.onnx"],
      ...extra,
    });
  };

  it("regression: an undefined metric (null) is left out of model-index, and the YAML stays strict", () => {
    const card = buildModelCard(regression());
    const { meta, body } = parseFrontMatter(card);
    const metrics = (meta["model-index"] as { results: { metrics: { type: string; name: string; value: number }[] }[] }[])[0].results[0].metrics;
    expect(metrics.map((m) => [m.type, m.name, m.value])).toEqual([
      ["mse", "MSE", 0.9],
      ["mse", "RMSE", 0.94],
      ["mae", "MAE", 0.8],
      ["spearmanr", "Spearman", 0.5],
      ["r_squared", "R-squared", -0.1],
    ]);
    expect(meta.tags).toEqual(expect.arrayContaining(["regression", "text-classification"]));
    // The body says it is undefined rather than dropping it.
    expect(body).toContain("| Pearson | undefined |");
    expect(body).toContain("| valence | 1 | 1 | 0.9000 | undefined | 0.4000 | -0.2000 |");
    expect(body).toContain("one value per target (2)");
    expect(body).toContain("folded into the head's weights");
    expect(body).toContain("| id | target |");
  });

  it("regression: the snippets read the raw outputs, per target (Python and transformers.js)", () => {
    const { body } = parseFrontMatter(buildModelCard(regression()));
    expect(body).toContain('print(dict(zip(["valence", "arousal"], logits[0].tolist())))');
    expect(body).toContain('await AutoModelForSequenceClassification.from_pretrained("alice/bert-sst2-head", { dtype: "fp32" })');
    expect(body).toContain("console.log(logits.tolist()[0]);");
    expect(body).not.toContain('pipeline("text-classification"');
  });

  it("multi-label frozen run: problem_type and the threshold in the Python snippet, label tables", () => {
    const base = input();
    const card = buildModelCard(
      input({
        config: { ...base.config, id2label: { 0: "joy", 1: "anger", 2: "fear" }, problem_type: "multi_label_classification", threshold: 0.3 },
        evalResults: { eval_split: "validation", eval_loss: 0.4, eval_micro_f1: 0.5, eval_macro_f1: 0.45, eval_subset_accuracy: 0.2, eval_accuracy: 0.2, eval_hamming_loss: 0.25 },
      }),
    );
    const { meta, body } = parseFrontMatter(card);
    expect(meta.metrics).toEqual(["f1", "accuracy", "hamming_loss"]);
    expect(body).toContain('problem_type="multi_label_classification")');
    expect(body).toContain("probs = logits.sigmoid()[0]");
    expect(body).toContain("if p >= 0.3])");
    expect(body).toContain("a label applies when its probability reaches 0.3");
    expect(body).toContain("| Subset Accuracy | 0.2000 |");
  });

  it("names the Hub configuration of a built-in data set that has one", () => {
    expect(cardDataset({ dataset: "stsb", dataset_spec: "stsb" })).toEqual({ name: "stsb", hubRepo: "nyu-mll/glue", config: "stsb", bundled: true });
  });
});
