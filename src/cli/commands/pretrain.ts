import { existsSync } from "node:fs";
import { basename, resolve } from "node:path";
import { Command } from "commander";
import { useBackend } from "../../backend/tfjs.js";
import { resolvePretrainSource } from "../../pretrain/source.js";
import { loadPretrainText } from "../../pretrain/text.js";
import { DEFAULT_MLM_ARGS, mlmArgsToJson, pretrainMlm, type MlmArgs } from "../../pretrain/trainer.js";
import { lockRunFolder } from "../../run/lock.js";
import { checkOutputDir, clearOutputDir } from "../../run/output-dir.js";
import { saveMaskedLm } from "../../run/save-mlm.js";
import { argsToJson, DEFAULT_ARGS, resolveArgs } from "../../train/args.js";
import { addLoopOptions, LOOP_SPELLINGS, loopArgs, stopOnSignals, type LoopCliOptions } from "./loop-options.js";
import { formatDuration } from "../progress.js";
import { acceptHfSpellings, type HfSpellings } from "../hf-args.js";
import { action, addModelOptions, choiceArg, formatSummary, intArg, logger, numberArg, progressFactory, type ModelCliOptions } from "../common.js";

interface PretrainCliOptions extends ModelCliOptions, LoopCliOptions {
  model?: string;
  config?: string;
  tokenizer?: string;
  dataset: string;
  textColumn?: string;
  encoding: "utf8" | "latin1";
  output?: string;
  overwriteOutputDir: boolean;
  mlmProbability: number;
  wholeWordMask: boolean;
  lineByLine: boolean;
  maxSeqLength: number;
  validationSplitPercentage: number;
  json?: boolean;
}

/** run_mlm.py's and TrainingArguments' names beside bertune's own (snake_case too: --mlm_probability 0.15). */
export const PRETRAIN_SPELLINGS: HfSpellings = {
  ...LOOP_SPELLINGS,
  aliases: {
    "--model-name-or-path": "--model",
    "--config-name": "--config",
    "--tokenizer-name": "--tokenizer",
    "--train-file": "--dataset",
    "--dataset-name": "--dataset",
    "--output-dir": "--output",
    ...LOOP_SPELLINGS.aliases,
  },
};

const name = (s: string) => basename(s).replace(/\.[a-z]+$/i, "").replace(/[^A-Za-z0-9_.-]+/g, "-");

export function pretrainCommand(): Command {
  const cmd = new Command("pretrain")
    .description("masked-language-model pretraining (BERT's own objective, as transformers' run_mlm.py): continue a model on your domain's text, or train one from scratch")
    .option("-m, --model <id|dir>", "continue pretraining this model (Hub id or folder; its MLM head too, when it has one); with --config, only its tokenizer is used")
    .option("--config <file|dir>", "a config.json: a new model of that shape at random, from scratch (tokenizer from --tokenizer or --model)")
    .option("--tokenizer <id|dir>", "where tokenizer.json comes from (default: --model)")
    .requiredOption("-d, --dataset <path|name>", "text: a .txt file or folder of them (one document a line), or any data set bertune reads (its text column; labels ignored)")
    .option("--text-column <name>", "tabular data: the column holding the text (default: detected)")
    .option("--encoding <enc>", "text encoding: utf8 or latin1", choiceArg("--encoding", ["utf8", "latin1"] as const), "utf8")
    .option("-o, --output <dir>", "where the BertForMaskedLM, checkpoints and logs go (default: runs/<model>-mlm-<dataset>)")
    .option("--overwrite-output-dir", "pretrain into an --output that holds files: first delete EVERY file and folder in it", false)
    .option("--mlm-probability <p>", "share of tokens selected for prediction (of those 80% [MASK], 10% random, 10% kept)", numberArg("--mlm-probability", { min: 0, max: 1, minExclusive: true, maxExclusive: true, example: 0.15 }), DEFAULT_MLM_ARGS.mlmProbability)
    .option("--whole-word-mask", "select whole words (a token with its ## pieces) rather than single tokens", false)
    .option("--line-by-line", "one sequence per line/document (truncated) instead of grouping the text into full blocks", false)
    .option("--max-seq-length <n>", "tokens per sequence, [CLS] and [SEP] included", intArg("--max-seq-length", { min: 3, example: 128 }), DEFAULT_MLM_ARGS.maxSeqLength)
    .option("--validation-split-percentage <pct>", "held-out share of the documents when the data has no validation split (the first ones, as run_mlm.py)", numberArg("--validation-split-percentage", { min: 0, max: 100, maxExclusive: true, example: 5 }), DEFAULT_MLM_ARGS.validationSplitPercentage)
    .option("--json", "print the final summary as JSON", false);
  addLoopOptions(cmd, {
    learningRateExample: "1e-4",
    learningRate: "peak learning rate (from scratch, 1e-4 or more is typical)",
    learningRateDefault: DEFAULT_ARGS.learningRate,
    seed: "random seed for init, shuffling, masking and dropout",
    evalEvery: 'evaluate (loss and perplexity) every "epoch", every N steps, or "no"',
    saveSteps: 'checkpoint every "epoch", every N steps, or "no"',
    saveTotalLimit: "keep at most N checkpoints, 0 for no limit",
    resume: '"latest" or a checkpoint-N folder: continue with the same optimizer state, schedule, data order and masks',
  });
  addModelOptions(cmd);
  acceptHfSpellings(cmd, PRETRAIN_SPELLINGS);
  cmd.addHelpText(
    "after",
    `
Examples:
  $ bertune pretrain --model bert-base-uncased --dataset reviews.txt --output runs/bert-reviews     # domain adaptation
  $ bertune pretrain --config tiny-config.json --tokenizer bert-base-uncased --dataset ../shared/datasets/imdb-unlabelled --learning-rate 1e-4 --output runs/tiny-mlm
  $ bertune pretrain --model bert-base-uncased --dataset imdb --whole-word-mask --max-steps 2000 --save-steps 500
  $ bertune fill-mask --model runs/bert-reviews "the movie was [MASK] ."
  $ bertune train --model runs/bert-reviews --dataset sst2 --freeze-backbone`,
  );
  cmd.action(
    action(async (o: PretrainCliOptions) => {
      const log = logger(o.quiet || o.json);
      const output = resolve(o.output ?? `runs/${name(o.model ?? (o.config ? "scratch" : "model"))}-mlm-${name(o.dataset)}`);
      const lock = lockRunFolder(output, { signals: ["SIGHUP"] });
      try {
        await pretrain(o, output, log);
      } finally {
        lock.release();
      }
    }),
  );
  return cmd;
}

async function pretrain(o: PretrainCliOptions, output: string, log: (line: string) => void): Promise<void> {
  const started = performance.now();
  const resume = o.resumeFromCheckpoint !== undefined;
  const inputs = [o.dataset, o.model, o.config, o.tokenizer].filter((p): p is string => p !== undefined && existsSync(p)).map((p) => resolve(p));
  const toRemove = checkOutputDir(output, { overwrite: o.overwriteOutputDir, resume, inputs });
  const source = await resolvePretrainSource({ model: o.model, config: o.config, tokenizer: o.tokenizer, revision: o.revision, offline: o.offline || undefined, log });
  const text = await loadPretrainText(o.dataset, { textColumn: o.textColumn, validationSplitPercentage: o.validationSplitPercentage, encoding: o.encoding, hub: { offline: o.offline || undefined, log } });
  if (toRemove.length > 0) {
    clearOutputDir(output, toRemove);
    log(`--overwrite-output-dir: removed ${toRemove.length} ${toRemove.length === 1 ? "entry" : "entries"} from ${output}`);
  }
  log(`text ${text.name}: ${text.train.length} train / ${text.validation.length} validation documents (${text.validationSource === "carved" ? `the first ${o.validationSplitPercentage}% held out` : text.validationSource === "file" ? "validation from the data" : "no validation"})${text.column ? `, column "${text.column}"` : ""}`);
  const args = resolveArgs({
    ...loopArgs(o),
    device: o.device,
    maxLength: o.maxSeqLength,
    fromScratch: source.weights === undefined,
    // Masked-LM training is judged by its loss (and perplexity), as its checkpoints record.
    metricForBestModel: "loss",
    greaterIsBetter: false,
  });
  const mlm: MlmArgs = { mlmProbability: o.mlmProbability, wholeWordMask: o.wholeWordMask, lineByLine: o.lineByLine, maxSeqLength: o.maxSeqLength, validationSplitPercentage: o.validationSplitPercentage };
  const backend = await useBackend(o.device, log);
  const stop = stopOnSignals(log);
  const result = await pretrainMlm({
    config: source.config,
    tokenizer: source.tokenizer,
    weights: source.weights,
    text,
    args,
    mlm,
    outputDir: output,
    progress: progressFactory(o.quiet || o.json),
    log,
    signal: stop.signal,
  });
  stop.release();
  try {
    if (result.stopped === "interrupted") {
      log(`interrupted at step ${result.state.global_step}; continue with --resume-from-checkpoint latest --output ${output}`);
      process.exitCode = stop.exitCode();
      return;
    }
    await saveMaskedLm(output, result, {
      config: source.config,
      tokenizerFiles: source.tokenizerFiles,
      trainingArgs: { ...argsToJson(args, "."), ...mlmArgsToJson(mlm), pretrained_from: source.from, tokenizer_from: source.tokenizerFrom },
      from: source.from,
      dataset: { name: text.name, spec: o.dataset, source: text.source },
    });
  } finally {
    result.model.dispose();
  }
  const e = result.eval;
  const elapsed = (performance.now() - started) / 1000;
  if (o.json) {
    process.stdout.write(
      JSON.stringify({
        output,
        from: source.from,
        dataset: text.name,
        backend,
        train_sequences: result.trainSamples,
        eval_sequences: result.evalSamples,
        train_tokens: result.trainTokens,
        global_step: result.state.global_step,
        train_loss: result.trainLoss,
        train_runtime: result.trainRuntime,
        train_samples_per_second: result.trainSamplesPerSecond,
        train_tokens_per_second: result.trainTokensPerSecond,
        eval_loss: e?.loss ?? null,
        perplexity: e?.perplexity ?? null,
        total_runtime: elapsed,
      }) + "\n",
    );
    return;
  }
  process.stdout.write(
    formatSummary("done", [
      ["model", `${source.from === "scratch" ? `new BertForMaskedLM (${source.config.num_hidden_layers} layers, hidden ${source.config.hidden_size}) from scratch` : source.from}`],
      ["text", `${text.name}: ${result.trainSamples} train / ${result.evalSamples} validation sequences (${result.trainTokens} train tokens)`],
      ["training", `${result.state.global_step} steps, ${result.state.epoch.toFixed(2)} epochs on ${backend}, ${formatDuration(result.trainRuntime)} (${Math.round(result.trainTokensPerSecond)} tokens/s)`],
      ["train loss", result.trainLoss.toFixed(4)],
      ["eval", e ? `loss ${e.loss.toFixed(4)}, perplexity ${e.perplexity.toFixed(2)} (${e.maskedTokens} masked tokens)` : "no validation text"],
      ["total time", formatDuration(elapsed)],
      ["saved to", output],
    ]),
  );
}
