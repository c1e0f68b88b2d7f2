import { Command } from "commander";
import { BertuneError } from "../../errors.js";
import { writeCompareReport, writeRunReport, type ReportResult } from "../../report/index.js";
import { action, addModelOptions, choiceArg, colors, intArg, logger, verboseLogger, warn, type ModelCliOptions } from "../common.js";

interface ReportCliOptions extends ModelCliOptions {
  out?: string;
  png?: string;
  compare?: boolean;
  /** False with --no-examples. */
  examples: number | false;
  xAxis?: "step" | "epoch";
  json?: boolean;
}

export function reportCommand(): Command {
  const cmd = new Command("report")
    .description(
      "write a self-contained HTML report of a run (loss and metric curves, learning rate, settings, and by problem type: confusion matrix, per-class scores and worst mistakes; per-label F1; predicted-vs-true scatter plot and largest errors; for a `bertune pretrain` run: loss, perplexity and tokens/s), or compare runs",
    )
    .argument("<runs...>", "run folder written by `bertune train --output` or `bertune pretrain --output` (several with --compare)")
    .option("-o, --out <file>", "HTML file to write (default: report.html in the run folder; compare.html with --compare)")
    .option("--compare", "overlay the curves of several runs and tabulate their final metrics", false)
    .option("--png <dir>", "also write PNG charts (loss, metric, lr, and confusion, per-label or scatter; a pretrain run: loss, perplexity, lr) into this folder")
    .option("--examples <n>", "how many misclassified validation examples (regression: largest errors) to show", intArg("--examples", { min: 0, example: 10 }), 10)
    .option("--no-examples", "skip the predictions on the validation split: misclassified examples, the regression scatter plot (they need the base model and the data set)")
    .option("--x-axis <axis>", "x axis of compared curves: epoch or step (default: epoch)", choiceArg("--x-axis", ["epoch", "step"] as const))
    .option("--json", "print the written paths as JSON", false);
  addModelOptions(cmd);
  cmd.addHelpText(
    "after",
    `
Examples:
  $ bertune report runs/sst2                       # writes runs/sst2/report.html
  $ bertune report runs/sst2 --out sst2.html --png charts/
  $ bertune report --compare runs/lr-1e-3 runs/lr-3e-4 --out lr.html
  $ bertune report runs/tiny-mlm                   # a pretrain run: loss and perplexity curves`,
  );
  cmd.action(
    action(async (runs: string[], o: ReportCliOptions) => {
      // --no-examples sets the same option to false; --examples 0 means the same.
      const examples = o.examples === false ? 0 : o.examples;
      if (examples < 0) throw new BertuneError(`--examples must be 0 or more, got ${examples}`);
      const log = logger(o.quiet || o.json);
      const verbose = verboseLogger(o);
      let result: ReportResult;
      if (o.compare) {
        result = await writeCompareReport(runs, { out: o.out, png: o.png, xAxis: o.xAxis });
      } else {
        if (runs.length > 1) throw new BertuneError(`report takes one run folder, got ${runs.length}`, "pass --compare to compare several runs");
        if (o.xAxis) throw new BertuneError("--x-axis applies to --compare only", "a single run's report shows both per-step and per-epoch curves");
        result = await writeRunReport(runs[0], {
          out: o.out,
          png: o.png,
          examples,
          offline: o.offline || undefined,
          revision: o.revision,
          threads: o.threads,
          device: o.device,
          log,
        });
        if (!result.examples.included && result.examples.applicable && examples > 0) {
          warn(o.quiet || o.json, `the report has no ${result.examples.what ?? "predictions"}: ${result.examples.reason}`);
        }
      }
      if (o.json) {
        process.stdout.write(JSON.stringify({ html: result.html, png: result.png, examples: result.examples }) + "\n");
        return;
      }
      verbose(`charts: ${result.png.length ? result.png.join(", ") : "inline in the HTML only"}`);
      const c = colors(process.stdout);
      process.stdout.write(`${c.green("wrote")} ${result.html}\n`);
      for (const p of result.png) process.stdout.write(`${c.green("wrote")} ${p}\n`);
    }),
  );
  return cmd;
}
