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
