#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { Command } from "commander";
import { evaluateCommand } from "./commands/evaluate.js";
import { predictCommand } from "./commands/predict.js";
import { encodeCommand } from "./commands/encode.js";
import { reportCommand } from "./commands/report.js";
import { trainCommand } from "./commands/train.js";
import { pushCommand } from "./commands/push.js";
import { downloadCommand } from "./commands/download.js";
import { cacheCommand } from "./commands/cache.js";

const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };

const program = new Command("bertune")
  .description("Fine-tune BERT-family encoders for text classification: the Hugging Face workflow on Node.js")
  .version(pkg.version)
  .showHelpAfterError("(run with --help for usage)")
  .addCommand(trainCommand())
  .addCommand(evaluateCommand())
  .addCommand(predictCommand())
  .addCommand(encodeCommand())
  .addCommand(reportCommand())
  .addCommand(pushCommand())
  .addCommand(downloadCommand())
  .addCommand(cacheCommand());

program.addHelpText(
  "after",
  `
Typical use:
  $ bertune train --model bert-base-uncased --dataset sst2 --freeze-backbone --output runs/sst2
  $ bertune evaluate runs/sst2 --dataset sst2 --split validation
  $ bertune predict runs/sst2 "a gripping, beautifully acted film"

Environment: HF_HOME / HF_HUB_CACHE (cache), HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE=1, BERTUNE_CACHE (features).`,
);

// Usage errors (unknown option, bad value) exit with 2, like user errors.
program.exitOverride((err) => {
  process.exit(err.exitCode === 0 ? 0 : 2);
});
for (const c of program.commands) c.exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));

await program.parseAsync(process.argv);
