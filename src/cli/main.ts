#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { Command } from "commander";
import { handleClosedOutput, styleUsageError } from "./output.js";

handleClosedOutput();

/**
 * Each command's module is imported only when that command runs: the training commands pull in
 * tensorflow.js and onnxruntime (over a second to load), which `cache ls` or `--help` do not need.
 */
const COMMANDS: Record<string, () => Promise<Command>> = {
  train: async () => (await import("./commands/train.js")).trainCommand(),
  pretrain: async () => (await import("./commands/pretrain.js")).pretrainCommand(),
  "fill-mask": async () => (await import("./commands/fill-mask.js")).fillMaskCommand(),
  evaluate: async () => (await import("./commands/evaluate.js")).evaluateCommand(),
  predict: async () => (await import("./commands/predict.js")).predictCommand(),
  encode: async () => (await import("./commands/encode.js")).encodeCommand(),
  export: async () => (await import("./commands/export.js")).exportCommand(),
  report: async () => (await import("./commands/report.js")).reportCommand(),
  push: async () => (await import("./commands/push.js")).pushCommand(),
  download: async () => (await import("./commands/download.js")).downloadCommand(),
  cache: async () => (await import("./commands/cache.js")).cacheCommand(),
};

const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };

const program = new Command("bertune")
  .description("Fine-tune BERT-family encoders for text classification: the Hugging Face workflow on Node.js")
  .version(pkg.version)
  .showHelpAfterError("(run with --help for usage)");

const requested = process.argv[2];
const names = requested && requested in COMMANDS ? [requested] : Object.keys(COMMANDS);
for (const name of names) program.addCommand(await COMMANDS[name]());

program.addHelpText(
  "after",
  `
Typical use:
  $ bertune train --model bert-base-uncased --dataset sst2 --freeze-backbone --output runs/sst2
  $ bertune evaluate runs/sst2 --dataset sst2 --split validation
  $ bertune predict runs/sst2 "a gripping, beautifully acted film"
  $ bertune export runs/sst2 --quantize      # onnx/ for transformers.js, in Node and browsers
  $ bertune pretrain --model bert-base-uncased --dataset reviews.txt --output runs/bert-reviews   # masked-LM domain adaptation
  $ bertune fill-mask --model runs/bert-reviews "the movie was [MASK] ."

Environment: HF_HOME / HF_HUB_CACHE (cache), HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE=1, BERTUNE_CACHE (features).`,
);

// Usage errors (unknown option, bad value) exit with 2, like user errors.
program.exitOverride((err) => {
  process.exit(err.exitCode === 0 ? 0 : 2);
});
for (const c of [program, ...program.commands]) {
  c.exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));
  c.configureOutput({ outputError: (text, write) => write(styleUsageError(text)) });
}

await program.parseAsync(process.argv);
