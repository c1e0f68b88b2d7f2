/**
 * `bertune train` with a Hugging Face command line, through the built CLI as a user runs it: the
 * TrainingArguments / run_glue.py names in snake_case, --max-steps in both modes, --help listing
 * each option once with its aliases, and conflicting duplicates refused.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { listCheckpoints } from "../src/train/checkpoint.js";
import { runCli, type CliResult } from "./helpers/cli.js";
import { TINY_MODEL, sst2Subset, tempDir } from "./helpers/fixtures.js";

const work = tempDir("bertune-hf-args-");
const data = sst2Subset(join(work, "data"), 60, 16);
const env = { HF_HOME: join(work, "hf"), BERTUNE_CACHE: join(work, "cache") };
const json = (path: string) => JSON.parse(readFileSync(path, "utf8"));
type Entry = { step: number; epoch: number; loss?: number; learning_rate?: number; eval_accuracy?: number };
const evalSteps = (h: Entry[]) => h.filter((e) => e.eval_accuracy !== undefined).map((e) => [e.step, e.epoch]);

function expectOneLine(r: CliResult, message: RegExp): void {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr.trimEnd().split("\n"), r.stderr).toHaveLength(1);
  expect(r.stderr).toMatch(message);
  expect(r.stdout).toBe("");
}

describe("a run_glue.py-style command line", () => {
  it("trains with the snake_case TrainingArguments names and records them under transformers' names", async () => {
    const run = join(work, "glue");
    const r = await runCli(
      ["train", "--model_name_or_path", TINY_MODEL, "--dataset", data, "--freeze_backbone", "--output_dir", run, "--num_train_epochs", "2", "--per_device_train_batch_size", "4", "--learning_rate", "1e-3", "--max_train_samples", "40", "--eval_strategy", "steps", "--eval_steps", "5", "--group_by_length", "True", "-q"],
      env,
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const args = json(join(run, "training_args.json"));
    expect(args).toMatchObject({
      num_train_epochs: 2,
      max_steps: -1,
      per_device_train_batch_size: 4,
      per_device_eval_batch_size: 8,
      learning_rate: 1e-3,
      eval_strategy: "steps",
      eval_steps: 5,
      save_strategy: "epoch",
      save_steps: null,
      lr_scheduler_type: "linear",
      logging_steps: 500,
      adam_beta1: 0.9,
      adam_beta2: 0.999,
      adam_epsilon: 1e-8,
      max_train_samples: 40,
      max_eval_samples: null,
      freeze_backbone: true,
      group_by_length: true,
    });
    // By hand: the first 40 of 60 training examples, batch 4: 10 steps an epoch, 20 in 2 epochs;
    // evaluations every 5 steps; the loss at each epoch end (logging_steps 500).
    const state = json(join(run, "trainer_state.json"));
    expect(state).toMatchObject({ global_step: 20, max_steps: 20, num_train_epochs: 2, train_batch_size: 4, epoch: 2 });
    expect(evalSteps(state.log_history)).toEqual([[5, 0.5], [10, 1], [15, 1.5], [20, 2]]);
    const logged = state.log_history.filter((e: Entry) => e.loss !== undefined);
    expect(logged.map((e: Entry) => e.step)).toEqual([10, 20]);
    // Linear decay over the 20 steps: step 10 (index 9) runs at 1e-3 × (1 - 9/20).
    expect(logged[0].learning_rate).toBeCloseTo(1e-3 * (11 / 20), 15);
    expect(json(join(run, "train_results.json")).train_samples).toBe(40);
    expect(json(join(run, "eval_results.json")).eval_samples).toBe(16);
  });

  it("--max_eval_samples keeps the first N validation examples, and evaluate reuses the same N", async () => {
    const run = join(work, "eval10");
    const r = await runCli(["train", "-m", TINY_MODEL, "-d", data, "--freeze-backbone", "--output-dir", run, "--max_eval_samples", "10", "--epochs", "1", "-q"], env);
    expect(r.code, r.stderr).toBe(0);
    expect(json(join(run, "training_args.json"))).toMatchObject({ max_train_samples: null, max_eval_samples: 10 });
    const results = json(join(run, "eval_results.json"));
    expect(results.eval_samples).toBe(10);
    const ev = await runCli(["evaluate", run, "--json", "--no-save"], env);
    expect(ev.code, ev.stderr).toBe(0);
    const report = JSON.parse(ev.stdout);
    expect(report.eval_samples).toBe(10);
    expect(report.eval_accuracy).toBe(results.eval_accuracy);
  });
});

describe("--max-steps 7 stops at step 7 (10-step epochs), frozen and full", () => {
  it.each([
    ["frozen", ["--freeze-backbone"], 1e-3],
    ["full", ["--max-length", "32"], 5e-5],
  ])("%s", async (mode, extra, lr) => {
    const run = join(work, `max-steps-${mode}`);
    const r = await runCli(["train", "--model", TINY_MODEL, "--dataset", data, ...(extra as string[]), "--output", run, "--batch-size", "4", "--max-train-samples", "40", "--max-steps", "7", "--logging-steps", "3", "--json"], env);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ mode, global_step: 7, stopped: null });
    expect(json(join(run, "training_args.json"))).toMatchObject({ max_steps: 7, num_train_epochs: 3 });
    const state = json(join(run, "trainer_state.json"));
    // transformers: num_train_epochs = ceil(7 / 10) = 1; the epoch counter stops at 0.7.
    expect(state).toMatchObject({ global_step: 7, max_steps: 7, num_train_epochs: 1, epoch: 0.7 });
    // The stopped epoch ends as a whole one would: loss logged at 7, the "epoch" evaluation at 7.
    const logged = state.log_history.filter((e: Entry) => e.loss !== undefined);
    expect(logged.map((e: Entry) => [e.step, e.epoch])).toEqual([[3, 0.3], [6, 0.6], [7, 0.7]]);
    expect(evalSteps(state.log_history)).toEqual([[7, 0.7]]);
    // The linear schedule spans the 7 steps: step 7 (index 6) runs at lr × 1/7.
    expect(logged[2].learning_rate).toBeCloseTo(lr / 7, 15);
    expect(json(join(run, "eval_results.json")).epoch).toBe(0.7);
    if (mode === "full") expect(listCheckpoints(run).map((c) => c.step)).toEqual([7]);
  });
});

describe("--help and conflicting spellings", () => {
  it("lists each option once, its aliases in its description", async () => {
    const r = await runCli(["train", "--help"], env);
    expect(r.code).toBe(0);
    const listed = [...r.stdout.matchAll(/^ {2}(?:-\w, )?(--[\w-]+)/gm)].map((m) => m[1]);
    expect(listed.length).toBeGreaterThan(40);
    expect(new Set(listed).size).toBe(listed.length);
    for (const alias of ["--num-train-epochs", "--per-device-train-batch-size", "--output-dir", "--eval-strategy", "--eval-steps", "--save-strategy", "--lr-scheduler-type", "--max-seq-length", "--model-name-or-path"]) {
      expect(listed, alias).not.toContain(alias);
    }
    for (const own of ["--max-steps", "--adam-beta1", "--adam-beta2", "--adam-epsilon", "--logging-steps", "--max-train-samples", "--max-eval-samples", "--save-steps", "--eval-every"]) expect(listed).toContain(own);
    const flat = r.stdout.replace(/\s+/g, " ");
    for (const line of [
      "--epochs <n> number of training epochs, may be fractional such as 2.5 (alias --num-train-epochs; default: 3)",
      "--batch-size <n> training batch size (alias --per-device-train-batch-size; default: 8)",
      "--eval-batch-size <n> evaluation batch size (alias --per-device-eval-batch-size; default: 8)",
      "(alias --output-dir)",
      "(alias --lr-scheduler-type; default: \"linear\")",
      "(or --eval-strategy no|steps|epoch with --eval-steps N, alias --evaluation-strategy; default: \"epoch\")",
      "(or --save-strategy no|steps|epoch with --save-steps N; default: \"epoch\")",
      "--max-steps <n> total optimizer steps, overriding --epochs (-1: off) (default: -1)",
      "--adam-epsilon <eps> AdamW epsilon (default: 1e-8)",
      "snake_case spelling: --num_train_epochs 3",
    ]) {
      expect(flat).toContain(line);
    }
  });

  it.each([
    [["--epochs", "2", "--num-train-epochs", "3"], /^error: --epochs 2 and --num-train-epochs 3 set the same option \(--epochs, alias --num-train-epochs\) to different values: give it once$/m],
    [["--num_train_epochs", "2", "--num_train_epochs", "3"], /^error: --num_train_epochs 2 and --num_train_epochs 3 set the same option/m],
    [["--save_strategy", "epoch", "--save_steps", "100"], /^error: --save_steps 100 applies only with --save_strategy steps/m],
  ])("a conflicting duplicate %j: one line, exit code 2", async (extra, message) => {
    expectOneLine(await runCli(["train", "--model", TINY_MODEL, "--dataset", "/no/such/data.csv", ...extra], env), message);
  });

  it("the same value under two spellings is accepted (the missing data set is the error)", async () => {
    const r = await runCli(["train", "--model", TINY_MODEL, "--dataset", "/no/such/data.csv", "--epochs", "2", "--num_train_epochs", "2"], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("/no/such/data.csv");
  });

  it("--lr-scheduler constant with warmup says that it ignores warmup, as transformers", async () => {
    const r = await runCli(["train", "-m", TINY_MODEL, "-d", data, "--freeze-backbone", "--output", join(work, "constant"), "--epochs", "1", "--lr_scheduler_type", "constant", "--warmup_ratio", "0.1", "--logging_steps", "1"], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^warning: --lr-scheduler constant ignores warmup .*constant_with_warmup/m);
    const state = json(join(work, "constant", "trainer_state.json"));
    // 60 examples, batch 8: 8 steps, every one at the peak (with warmup the first would run at 0).
    expect(state.log_history.filter((e: Entry) => e.learning_rate !== undefined).map((e: Entry) => e.learning_rate)).toEqual(Array(8).fill(1e-3));
  });
});
