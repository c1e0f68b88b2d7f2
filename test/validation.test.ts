/**
 * The refusals of the library's entry points, in process (the CLI tests check the same through
 * the command line, where Stryker's mutants cannot reach): resolveArgs, argsToJson's names,
 * parseBertConfig and clampMaxLength, the Trainer's own checks. Each refusal is asserted by its
 * exact message, and each accepted edge value (0, 1, -1, null) by passing.
 */
import { describe, expect, it } from "vitest";
import { argsToJson, DEFAULT_ARGS, FROZEN_DEFAULT_LEARNING_RATE, resolveArgs, type TrainingArgs } from "../src/train/args.js";
import { clampMaxLength, parseBertConfig } from "../src/bert/config.js";
import { Trainer } from "../src/train/trainer.js";
import type { LoadedDataset } from "../src/data/types.js";

function message(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error("expected an error");
}

const refuse = (partial: Partial<TrainingArgs>) => message(() => resolveArgs(partial));

describe("resolveArgs", () => {
  it("fills transformers' defaults, and the linear-probe learning rate only for a frozen backbone without one", () => {
    expect(resolveArgs()).toEqual(DEFAULT_ARGS);
    expect(resolveArgs({ freezeBackbone: true }).learningRate).toBe(FROZEN_DEFAULT_LEARNING_RATE);
    expect(resolveArgs({ freezeBackbone: true, learningRate: 3e-4 }).learningRate).toBe(3e-4);
    expect(resolveArgs({ learningRate: undefined }).learningRate).toBe(5e-5);
  });

  it.each([
    [{ numTrainEpochs: 0 }, "numTrainEpochs must be a positive number, got 0"],
    [{ perDeviceTrainBatchSize: -1 }, "perDeviceTrainBatchSize must be a positive number, got -1"],
    [{ perDeviceEvalBatchSize: Number.NaN }, "perDeviceEvalBatchSize must be a positive number, got NaN"],
    [{ learningRate: Number.POSITIVE_INFINITY }, "learningRate must be a positive number, got Infinity"],
    [{ maxLength: 0 }, "maxLength must be a positive number, got 0"],
    [{ loggingSteps: "5" as unknown as number }, "loggingSteps must be a positive number, got 5"],
    [{ perDeviceTrainBatchSize: 2.5 }, "perDeviceTrainBatchSize must be a whole number, got 2.5"],
    [{ perDeviceEvalBatchSize: 1.5 }, "perDeviceEvalBatchSize must be a whole number, got 1.5"],
    [{ maxLength: 64.5 }, "maxLength must be a whole number, got 64.5"],
    [{ loggingSteps: 0.5 }, "loggingSteps must be a whole number, got 0.5"],
    [{ maxSteps: 0 }, "max steps must be a whole number >= 1, or -1 (off), got 0"],
    [{ maxSteps: 2.5 }, "max steps must be a whole number >= 1, or -1 (off), got 2.5"],
    [{ adamBeta1: 1 }, "adamBeta1 must be in [0, 1), got 1"],
    [{ adamBeta2: -0.1 }, "adamBeta2 must be in [0, 1), got -0.1"],
    [{ adamEpsilon: -1e-8 }, "adamEpsilon must be >= 0, got -1e-8"],
    [{ warmupRatio: 1 }, "warmup ratio must be in [0, 1), got 1"],
    [{ warmupRatio: -0.1 }, "warmup ratio must be in [0, 1), got -0.1"],
    [{ weightDecay: -0.01 }, "weight decay must be >= 0, got -0.01"],
    [{ seed: 1.5 }, "seed must be an integer, got 1.5"],
    [{ seed: 2 ** 60 }, `seed must be an integer, got ${2 ** 60}`],
    [{ gradientAccumulationSteps: 0 }, "gradient accumulation steps must be a whole number >= 1, got 0"],
    [{ gradientAccumulationSteps: 1.5 }, "gradient accumulation steps must be a whole number >= 1, got 1.5"],
    [{ unfreezeTop: -1 }, "--unfreeze-top must be a whole number >= 0, got -1"],
    [{ unfreezeTop: 0.5 }, "--unfreeze-top must be a whole number >= 0, got 0.5"],
    [{ headLrMultiplier: 0 }, "--head-lr-multiplier must be > 0, got 0"],
    [{ layerwiseLrDecay: 0 }, "--layerwise-lr-decay must be in (0, 1], got 0"],
    [{ layerwiseLrDecay: 1.01 }, "--layerwise-lr-decay must be in (0, 1], got 1.01"],
    [{ gradualUnfreeze: true, unfreezeTop: 2 }, "--gradual-unfreeze and --unfreeze-top exclude each other"],
    [{ freezeBackbone: true, unfreezeTop: 0 }, "--freeze-backbone trains only the head"],
    [{ freezeBackbone: true, gradualUnfreeze: true }, "--freeze-backbone trains only the head"],
    [{ freezeBackbone: true, fromScratch: true }, "--freeze-backbone trains only the head"],
    [{ earlyStoppingPatience: 0 }, "--early-stopping-patience must be a whole number >= 1, got 0"],
    [{ earlyStoppingPatience: 1.5 }, "--early-stopping-patience must be a whole number >= 1, got 1.5"],
    [{ labelSmoothingFactor: 1 }, "--label-smoothing must be in [0, 1), got 1"],
    [{ labelSmoothingFactor: -0.1 }, "--label-smoothing must be in [0, 1), got -0.1"],
    [{ threshold: 0 }, "--threshold must be in (0, 1), got 0"],
    [{ threshold: 1 }, "--threshold must be in (0, 1), got 1"],
    [{ classWeights: [1, -2] }, "--class-weights must be numbers >= 0, got 1,-2"],
    [{ classWeights: [1, Number.NaN] }, "--class-weights must be numbers >= 0, got 1,NaN"],
    [{ earlyStoppingPatience: 2, evalStrategy: "no" }, "early stopping needs evaluations"],
  ] as [Partial<TrainingArgs>, string][])("refuses %j: %s", (partial, text) => {
    expect(refuse(partial)).toBe(text);
  });

  it("accepts the edges of every range", () => {
    const ok = resolveArgs({
      maxSteps: -1,
      adamBeta1: 0,
      adamBeta2: 0,
      adamEpsilon: 0,
      warmupRatio: 0,
      weightDecay: 0,
      seed: -3,
      gradientAccumulationSteps: 1,
      unfreezeTop: 0,
      layerwiseLrDecay: 1,
      earlyStoppingPatience: 1,
      labelSmoothingFactor: 0,
      threshold: 0.001,
      classWeights: [0, 1],
    });
    expect([ok.maxSteps, ok.unfreezeTop, ok.layerwiseLrDecay, ok.earlyStoppingPatience]).toEqual([-1, 0, 1, 1]);
    expect(resolveArgs({ maxSteps: 1, gradualUnfreeze: true, earlyStoppingPatience: 3, evalStrategy: 10 }).maxSteps).toBe(1);
    expect(resolveArgs({ classWeights: "balanced" }).classWeights).toBe("balanced");
  });
});

describe("argsToJson: training_args.json under transformers' names", () => {
  it("writes steps strategies as 'steps' with their counts, words as themselves, and the optimizer name", () => {
    const j = argsToJson(resolveArgs({ evalStrategy: 25, saveStrategy: 50, unfreezeTop: 2 }), "runs/x");
    expect([j.output_dir, j.eval_strategy, j.eval_steps, j.save_strategy, j.save_steps, j.unfreeze_top, j.optim]).toEqual(["runs/x", "steps", 25, "steps", 50, 2, "adamw_torch"]);
    const k = argsToJson(resolveArgs({ evalStrategy: "no", saveStrategy: "epoch" }));
    expect([k.output_dir, k.eval_strategy, k.eval_steps, k.save_strategy, k.save_steps, k.unfreeze_top]).toEqual([null, "no", null, "epoch", null, null]);
    expect([k.metric_for_best_model, k.greater_is_better, k.label_smoothing_factor, k.class_weights, k.threshold, k.normalize_targets]).toEqual(["accuracy", true, 0, null, 0.5, false]);
    const l = argsToJson(resolveArgs({ metricForBestModel: "mse", greaterIsBetter: false, classWeights: [1, 2], labelSmoothingFactor: 0.1 }));
    expect([l.metric_for_best_model, l.greater_is_better, l.class_weights, l.label_smoothing_factor]).toEqual(["mse", false, [1, 2], 0.1]);
  });
});

describe("parseBertConfig and clampMaxLength", () => {
  const good = { model_type: "bert", hidden_size: 32, num_attention_heads: 4 };
  const parse = (o: unknown) => parseBertConfig(JSON.stringify(o), "x/config.json");

  it("fills BertConfig's Python defaults and keeps the other keys", () => {
    const c = parse({ hidden_size: 32, num_attention_heads: 4, extra: 1 });
    expect([c.model_type, c.vocab_size, c.num_hidden_layers, c.intermediate_size, c.hidden_act, c.max_position_embeddings, c.type_vocab_size, c.layer_norm_eps, c.pad_token_id, c.extra]).toEqual(["bert", 30522, 12, 3072, "gelu", 512, 2, 1e-12, 0, 1]);
    expect([c.hidden_dropout_prob, c.attention_probs_dropout_prob, c.initializer_range]).toEqual([0.1, 0.1, 0.02]);
    expect(parse({ ...good, classifier_dropout: null }).classifier_dropout).toBeNull();
    expect(parse({ ...good, hidden_dropout_prob: 0 }).hidden_dropout_prob).toBe(0);
  });

  it.each([
    ["{", "config.json at x/config.json is not valid JSON"],
    ["[1]", "config.json at x/config.json is not a JSON object"],
    ["null", "config.json at x/config.json is not a JSON object"],
    ["3", "config.json at x/config.json is not a JSON object"],
    [JSON.stringify({ model_type: "roberta" }), 'config.json at x/config.json: model_type "roberta" is not BERT'],
    [JSON.stringify({ ...good, vocab_size: 0 }), 'config.json at x/config.json: "vocab_size" must be a positive integer, got 0'],
    [JSON.stringify({ ...good, num_hidden_layers: 2.5 }), 'config.json at x/config.json: "num_hidden_layers" must be a positive integer, got 2.5'],
    [JSON.stringify({ ...good, type_vocab_size: "2" }), 'config.json at x/config.json: "type_vocab_size" must be a positive integer, got "2"'],
    [JSON.stringify({ ...good, hidden_dropout_prob: 1 }), 'config.json at x/config.json: "hidden_dropout_prob" must be a probability in [0, 1), got 1'],
    [JSON.stringify({ ...good, attention_probs_dropout_prob: -0.1 }), 'config.json at x/config.json: "attention_probs_dropout_prob" must be a probability in [0, 1), got -0.1'],
    [JSON.stringify({ ...good, hidden_dropout_prob: null }), 'config.json at x/config.json: "hidden_dropout_prob" must be a probability in [0, 1), got null'],
    [JSON.stringify({ ...good, classifier_dropout: 1.5 }), 'config.json at x/config.json: "classifier_dropout" must be a probability in [0, 1), got 1.5'],
    [JSON.stringify({ ...good, hidden_size: 30 }), "config.json at x/config.json: hidden_size 30 is not a multiple of num_attention_heads 4"],
  ])("refuses %s", (text, expected) => {
    expect(message(() => parseBertConfig(text, "x/config.json"))).toBe(expected);
  });

  it("clamps a requested length to max_position_embeddings and says so", () => {
    expect(clampMaxLength(128, { max_position_embeddings: 512 })).toEqual({ maxLength: 128, clamped: false });
    expect(clampMaxLength(512, { max_position_embeddings: 512 })).toEqual({ maxLength: 512, clamped: false });
    expect(clampMaxLength(513, { max_position_embeddings: 512 })).toEqual({ maxLength: 512, clamped: true });
  });
});

describe("the Trainer's own checks", () => {
  const data = (train: number, validation: number): LoadedDataset => ({
    name: "d",
    source: "d",
    contentHash: "d",
    splits: { train: Array.from({ length: train }, (_, i) => ({ text: "t", label: i % 2 })), validation: Array.from({ length: validation }, (_, i) => ({ text: "v", label: i % 2 })) },
    validationSource: "file",
    id2label: ["a", "b"],
    problemType: "single_label_classification",
    problemTypeReason: "test",
    columns: { text: "text", label: "label" },
  });

  it("refuses resuming frozen training and a non-pooler pooling in full mode, naming why", () => {
    expect(message(() => new Trainer({ model: "m", dataset: data(4, 2), args: { freezeBackbone: true, resumeFromCheckpoint: "latest" } }))).toBe(
      "--resume-from-checkpoint does not apply to frozen-backbone training: it keeps no checkpoints",
    );
    expect(message(() => new Trainer({ model: "m", dataset: data(4, 2), strategy: "auto", args: { resumeFromCheckpoint: "latest" } }))).toBe(
      "--resume-from-checkpoint does not apply to frozen-backbone training (chosen by --strategy auto): it keeps no checkpoints",
    );
    expect(message(() => new Trainer({ model: "m", dataset: data(4, 2), args: { pooling: "mean" } }))).toBe(
      "--pooling mean works only with --freeze-backbone: a fully fine-tuned run is a BertForSequenceClassification, which always pools with the tanh pooler",
    );
    expect(new Trainer({ model: "m", dataset: data(4, 2), args: { pooling: "mean", freezeBackbone: true } }).mode).toBe("frozen");
  });

  it("--strategy auto chooses by size and logs why; the mode follows the choice", () => {
    const lines: string[] = [];
    const small = new Trainer({ model: "m", dataset: data(10, 2), strategy: "auto", log: (l) => lines.push(l) });
    expect(small.mode).toBe("frozen");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^--strategy auto: /);
    expect(new Trainer({ model: "m", dataset: data(20_000, 2), strategy: "auto" }).mode).toBe("full");
    expect(new Trainer({ model: "m", dataset: data(10, 2) }).mode).toBe("full");
  });

  it("refuses empty splits before loading anything", async () => {
    await expect(new Trainer({ model: "m", dataset: data(0, 2) }).train()).rejects.toThrow(/^the training split is empty$/);
    await expect(new Trainer({ model: "m", dataset: data(4, 0) }).train()).rejects.toThrow(/^the validation split is empty$/);
  });
});

describe("readBertWeights: weights and config.json that do not belong together", () => {
  it("refuses more stored layers than num_hidden_layers, and a missing tensor, naming the file", async () => {
    const { readSafetensors } = await import("../src/formats/safetensors.js");
    const { readBertWeights } = await import("../src/bert/weights.js");
    const { readBertConfig } = await import("../src/bert/config.js");
    const { TINY_MODEL } = await import("./helpers/fixtures.js");
    const { join } = await import("node:path");
    const file = readSafetensors(join(TINY_MODEL, "model.safetensors"));
    const config = readBertConfig(join(TINY_MODEL, "config.json"));
    const layers = config.num_hidden_layers;
    expect(readBertWeights(file, config).size).toBeGreaterThan(0);
    expect(message(() => readBertWeights(file, { ...config, num_hidden_layers: layers - 1 }))).toBe(
      `${file.source} holds ${layers} encoder layers, but config.json says num_hidden_layers ${layers - 1}`,
    );
    // A config with more layers than stored: the first missing tensor is named.
    expect(message(() => readBertWeights(file, { ...config, num_hidden_layers: layers + 1 }))).toMatch(
      new RegExp(`has no tensor "encoder\\.layer\\.${layers}\\.[a-z.]+" \\(nor "bert\\.encoder\\.layer\\.${layers}\\.`),
    );
  });
});

describe("each refusal carries its hint", () => {
  const hint = (f: () => unknown): string | undefined => {
    try {
      f();
    } catch (e) {
      return (e as { hint?: string }).hint;
    }
    throw new Error("expected an error");
  };
  const cfg = (o: unknown) => () => parseBertConfig(JSON.stringify(o), "c.json");
  const good = { hidden_size: 32, num_attention_heads: 4 };

  it("resolveArgs", () => {
    expect(hint(() => resolveArgs({ gradualUnfreeze: true, unfreezeTop: 1 }))).toBe("choose one");
    expect(hint(() => resolveArgs({ freezeBackbone: true, fromScratch: true }))).toBe("drop --unfreeze-top / --gradual-unfreeze / --from-scratch, or drop --freeze-backbone");
    expect(hint(() => resolveArgs({ classWeights: [-1] }))).toBe("for example --class-weights 1,3 or --class-weights balanced");
    expect(hint(() => resolveArgs({ earlyStoppingPatience: 1, evalStrategy: "no" }))).toBe("set --eval-every epoch or a number of steps");
    expect(hint(() => resolveArgs({ lrSchedulerType: "polynomial", learningRate: 1e-8 }))).toBe("raise --learning-rate, or choose another --lr-scheduler");
    expect(message(() => resolveArgs({ lrSchedulerType: "polynomial", learningRate: 1e-8 }))).toBe("the polynomial schedule decays to 1e-7: the learning rate 1e-8 is below it");
    expect(resolveArgs({ lrSchedulerType: "polynomial", learningRate: 1e-7 }).learningRate).toBe(1e-7);
  });

  it("parseBertConfig", () => {
    expect(hint(() => parseBertConfig("{", "c.json"))).toBe("the file is corrupt or truncated: download the model again");
    expect(hint(() => parseBertConfig("[]", "c.json"))).toBe("download the model again");
    expect(hint(cfg({ model_type: "roberta" }))).toMatch(/^bertune fine-tunes BERT encoders \(model_type "bert"/);
    expect(hint(cfg({ ...good, vocab_size: 0 }))).toBe("the config is malformed");
    expect(hint(cfg({ ...good, hidden_dropout_prob: 2 }))).toBe("the config is malformed");
    expect(hint(cfg({ hidden_size: 30, num_attention_heads: 4 }))).toBe("the config is malformed");
  });

  it("the Trainer", () => {
    const data = {
      name: "d",
      source: "d",
      contentHash: "d",
      splits: { train: [{ text: "a", label: 0 }, { text: "b", label: 1 }], validation: [] as { text: string; label: number }[] },
      validationSource: "file" as const,
      id2label: ["a", "b"],
      problemType: "single_label_classification" as const,
      problemTypeReason: "test",
      columns: { text: "text", label: "label" },
    };
    expect(hint(() => new Trainer({ model: "m", dataset: data, args: { freezeBackbone: true, resumeFromCheckpoint: "latest" } }))).toBe(
      "train again without --resume-from-checkpoint: the encoder's features are cached, so it starts where it matters",
    );
    expect(hint(() => new Trainer({ model: "m", dataset: data, args: { pooling: "cls" } }))).toBe("drop --pooling (the default, pooler) for full fine-tuning, or add --freeze-backbone");
    return new Trainer({ model: "m", dataset: data }).train().then(
      () => {
        throw new Error("expected an error");
      },
      (e: { hint?: string }) => expect(e.hint).toBe("pass --validation-ratio, or give a validation file"),
    );
  });
});
