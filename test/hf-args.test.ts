/**
 * transformers' spellings of `bertune train`'s options, in process: argv as the Hugging Face
 * scripts write it is rewritten into bertune's own options before commander parses it.
 */
import { describe, expect, it } from "vitest";
import type { Option } from "commander";
import { trainCommand, TRAIN_SPELLINGS } from "../src/cli/commands/train.js";
import { normaliseArgv } from "../src/cli/hf-args.js";

const cmd = trainCommand();
const norm = (...argv: string[]) => normaliseArgv(cmd, argv, TRAIN_SPELLINGS);
const options = cmd.options as readonly Option[];
const snake = (long: string) => `--${long.slice(2).replace(/-/g, "_")}`;
/** The options commander ends up with, parsed the way the CLI parses them (no action runs). */
const parsed = (...argv: string[]) => {
  const c = trainCommand();
  c.exitOverride();
  c.parseOptions(argv);
  return c.opts();
};

describe("snake_case spellings", () => {
  it("every option of train has one, normalised to the same argv as its own spelling", () => {
    expect(options.length).toBeGreaterThan(40);
    for (const o of options) {
      const value = o.required || o.optional ? ["7"] : [];
      expect(norm(snake(o.long!), ...value), o.long).toEqual(norm(o.long!, ...value));
      expect(norm(snake(o.long!), ...value)[0], o.long).toBe(o.long);
    }
  });

  it("and so does every alias", () => {
    for (const [alias, own] of Object.entries(TRAIN_SPELLINGS.aliases)) {
      expect(norm(snake(alias), "x"), alias).toEqual([own, "x"]);
      expect(norm(alias, "x"), alias).toEqual([own, "x"]);
    }
  });

  it("changes names only, never values (also after '=')", () => {
    expect(norm("--text_column", "my_col", "--output_dir=runs/my_run", "-d", "my_data.csv", "--seed", "-5")).toEqual(["--text-column", "my_col", "--output", "runs/my_run", "--dataset", "my_data.csv", "--seed", "-5"]);
    // After "--" nothing is an option.
    expect(norm("--epochs", "2", "--", "--num_train_epochs")).toEqual(["--epochs", "2", "--", "--num_train_epochs"]);
    // Unknown options and --help are left for commander (dashed, so its suggestions work).
    expect(norm("--do_train", "--help")).toEqual(["--do-train", "--help"]);
  });

  it("reaches commander's parsed options: HF names, snake_case and fractional epochs", () => {
    const o = parsed("--model_name_or_path", "m", "--dataset_name", "d", "--num_train_epochs", "2.5", "--per_device_train_batch_size", "4", "--per_device_eval_batch_size=32", "--learning_rate", "1e-3", "--weight_decay", "0.01", "--warmup_ratio", "0.1", "--warmup_steps", "3", "--max_seq_length", "64", "--seed", "7", "--lr_scheduler_type", "polynomial", "--adam_beta1", "0.8", "--adam_beta2", "0.99", "--adam_epsilon", "1e-6", "--max_steps", "9", "--logging_steps", "2", "--output_dir", "out", "--max_train_samples", "40", "--max_eval_samples", "10", "--gradient_accumulation_steps", "2", "--max_grad_norm", "0.5");
    expect(o).toMatchObject({ model: "m", dataset: "d", epochs: 2.5, batchSize: 4, evalBatchSize: 32, learningRate: 1e-3, weightDecay: 0.01, warmupRatio: 0.1, warmupSteps: 3, maxLength: 64, seed: 7, lrScheduler: "polynomial", adamBeta1: 0.8, adamBeta2: 0.99, adamEpsilon: 1e-6, maxSteps: 9, loggingSteps: 2, output: "out", maxTrainSamples: 40, maxEvalSamples: 10, gradientAccumulationSteps: 2, maxGradNorm: 0.5 });
    expect(parsed()).toMatchObject({ epochs: 3, maxSteps: -1, adamBeta1: 0.9, adamBeta2: 0.999, adamEpsilon: 1e-8, evalEvery: "epoch", saveSteps: "epoch" });
  });

  it("takes argparse's boolean values after a flag (--load_best_model_at_end True), and false drops the flag", () => {
    expect(norm("--load_best_model_at_end", "True", "--overwrite_output_dir", "--freeze_backbone", "false", "--no_cache")).toEqual(["--load-best-model-at-end", "--overwrite-output-dir", "--no-cache"]);
    expect(norm("--freeze-backbone=yes", "-qv")).toEqual(["--freeze-backbone", "--quiet", "--verbose"]);
    expect(parsed("--load_best_model_at_end", "True", "--freeze_backbone", "False")).toMatchObject({ loadBestModelAtEnd: true, freezeBackbone: false });
  });
});

describe("eval_strategy / eval_steps and save_strategy / save_steps", () => {
  it.each([
    [["--eval_strategy", "steps", "--eval_steps", "5"], ["--eval-every", "5"]],
    [["--eval-steps", "5", "--eval-strategy", "steps"], ["--eval-every", "5"]],
    [["--eval_steps", "5"], ["--eval-every", "5"]], // as bertune's --save-steps N: N steps
    [["--eval_strategy", "steps"], ["--eval-every", "500"]], // transformers: eval_steps defaults to logging_steps (500)
    [["--eval_strategy", "steps", "--logging_steps", "7"], ["--eval-every", "7", "--logging-steps", "7"]],
    [["--eval_strategy", "epoch"], ["--eval-every", "epoch"]],
    [["--evaluation_strategy", "no"], ["--eval-every", "no"]], // the name before transformers 4.41
    [["--eval-every", "5", "--eval_steps", "5"], ["--eval-every", "5"]],
    [["--save_strategy", "steps", "--save_steps", "10"], ["--save-steps", "10"]],
    [["--save_strategy", "steps"], ["--save-steps", "500"]], // transformers' save_steps default
    [["--save_strategy", "no"], ["--save-steps", "no"]],
    [["--save_strategy", "epoch", "--save_steps", "epoch"], ["--save-steps", "epoch"]],
    [["--save-steps", "epoch"], ["--save-steps", "epoch"]], // bertune's own spelling still works
    [["--save-steps", "25"], ["--save-steps", "25"]],
  ])("%j → %j", (argv, expected) => {
    expect(norm(...argv)).toEqual(expected);
  });

  it("gives the parsed strategies bertune's values", () => {
    expect(parsed("--eval_strategy", "steps", "--eval_steps", "5", "--save_strategy", "no")).toMatchObject({ evalEvery: 5, saveSteps: "no" });
  });
});

describe("conflicting duplicates are refused with one line", () => {
  it.each([
    [["--epochs", "2", "--num-train-epochs", "3"], /^error: --epochs 2 and --num-train-epochs 3 set the same option \(--epochs, alias --num-train-epochs\) to different values: give it once$/],
    [["--epochs", "2", "--epochs", "3"], /^error: --epochs 2 and --epochs 3 set the same option/],
    [["--output_dir", "a", "-o", "b"], /^error: --output_dir a and -o b set the same option \(--output, alias --output-dir\)/],
    [["--batch-size", "8", "--per_device_train_batch_size=16"], /^error: --batch-size 8 and --per_device_train_batch_size 16 set the same option/],
    [["--eval-every", "epoch", "--eval_strategy", "steps", "--eval_steps", "5"], /^error: --eval-every epoch and --eval_strategy steps --eval_steps 5 set the same option \(--eval-every\)/],
    [["--eval_strategy", "epoch", "--eval_steps", "5"], /^error: --eval_steps 5 applies only with --eval_strategy steps, not with --eval_strategy epoch: give one$/],
    [["--save_strategy", "epoch", "--save_steps", "5"], /^error: --save_steps 5 applies only with --save_strategy steps/],
    [["--save_strategy", "steps", "--save_steps", "no"], /^error: --save_strategy steps and --save_steps no contradict each other/],
    [["--evaluation_strategy", "epoch", "--eval_strategy", "no"], /^error: --eval_strategy no and --evaluation_strategy epoch set the same option/],
    [["--freeze_backbone", "True", "--freeze-backbone", "False"], /^error: --freeze_backbone True and --freeze-backbone False set the same option/],
  ])("%j", (argv, message) => {
    expect(() => norm(...argv)).toThrow(message);
    expect(() => norm(...argv)).toThrow(/^[^\n]+$/);
  });

  it("the same value twice, under any spelling, is no conflict", () => {
    expect(norm("--epochs", "2", "--num_train_epochs", "2.0", "--epochs=2")).toEqual(["--epochs", "2"]);
    expect(norm("--freeze-backbone", "--freeze_backbone", "true")).toEqual(["--freeze-backbone"]);
  });
});

describe("the model card of a --max-steps run", () => {
  it("says training_steps instead of num_epochs, as transformers' card does, and never max_steps: -1", async () => {
    const { buildModelCard } = await import("../src/card/card.js");
    const card = (trainingArgs: Record<string, unknown>) =>
      buildModelCard({
        repo: "alice/x",
        config: { architectures: ["BertForSequenceClassification"], base_model: "google-bert/bert-base-uncased", id2label: { 0: "a", 1: "b" }, label2id: { a: 0, b: 1 } },
        trainingArgs: { learning_rate: 1e-3, lr_scheduler_type: "linear", ...trainingArgs },
        files: ["model.safetensors", "config.json"],
        bertuneVersion: "0.1.0",
      });
    const capped = card({ num_train_epochs: 3, max_steps: 7 });
    expect(capped).toContain("- training_steps: 7");
    expect(capped).not.toMatch(/num_epochs|max_steps/);
    const epochs = card({ num_train_epochs: 2.5, max_steps: -1 });
    expect(epochs).toContain("- num_epochs: 2.5");
    expect(epochs).not.toMatch(/training_steps|max_steps/);
  });
});
