import { join } from "node:path";
import { Command } from "commander";
import { Classifier } from "../../classifier.js";
import { loadDataset } from "../../data/dataset.js";
import { BertuneError } from "../../errors.js";
import { FeatureCache } from "../../features/cache.js";
import { formatReport } from "../../metrics/format.js";
import { evalResultsJson } from "../../run/eval-json.js";
import { runDir } from "../../run/load.js";
import { runDataset } from "../../run/training-args.js";
import { writeJsonAtomic } from "../../util/atomic.js";
import { action, addModelOptions, choiceArg, columnListArg, intArg, logger, numberArg, thresholdArg, progressFactory, verboseLogger, type ModelCliOptions } from "../common.js";
import { datasetSpec } from "./dataset-options.js";

interface EvaluateCliOptions extends ModelCliOptions {
  dataset?: string;
  split: "train" | "validation" | "test";
  textColumn?: string;
  textPairColumn?: string;
  labelColumn?: string;
  labelColumns?: string[];
  labelSeparator?: string;
  threshold?: number;
  validationRatio?: number;
  seed?: number;
  encoding?: "utf8" | "latin1";
  cacheDir?: string;
  cache: boolean;
  json?: boolean;
  save: boolean;
}

const pick = <T>(explicit: T | undefined, stored: T | undefined) => (explicit !== undefined ? explicit : stored);

export function evaluateCommand(): Command {
  const cmd = new Command("evaluate")
    .description("a trained run's metrics on a data set: accuracy, P/R/F1, MCC and the confusion matrix; multi-label micro/macro F1 per label; regression MSE, Pearson, Spearman, R²")
    .argument("<run>", "run folder written by `bertune train --output`")
    .option("-d, --dataset <name|path>", "data set to evaluate on (default: the one the run was trained on)")
    .option("--split <split>", "train, validation or test", choiceArg("--split", ["train", "validation", "test"] as const), "validation")
    .option("--text-column <name>", "text column (default: as in training for the same data set, else detected)")
    .option("--text-pair-column <name>", "second text column (default: as in training, else detected)")
    .option("--label-column <name>", "label column (default: as in training, else detected)")
    .option("--label-columns <a,b,c>", "one 0/1 column per label, or one number per regression target (default: as in training)", columnListArg)
    .option("--label-separator <sep>", 'multi-label labels in one text column: their separator (default: as in training, else ",")')
    .option("--threshold <p>", "multi-label: predict a label when its sigmoid reaches P (default: the run's)", thresholdArg)
    .option("--validation-ratio <r>", "share carved off as validation when the data has none (default: as in training, else 0.1)", numberArg("--validation-ratio", { min: 0, max: 1, minExclusive: true, maxExclusive: true, example: 0.1 }))
    .option("--seed <n>", "seed of the carved validation split (default: as in training, else 42)", intArg("--seed"))
    .option("--encoding <enc>", "utf8 or latin1 (default: as in training, else utf8)", choiceArg("--encoding", ["utf8", "latin1"] as const))
    .option("--cache-dir <dir>", "where frozen features are cached (default: $BERTUNE_CACHE or $HF_HOME/bertune)")
    .option("--no-cache", "always run the encoder")
    .option("--no-save", "do not write eval_<split>.json into the run folder")
    .option("--json", "print the report as JSON instead of a table", false);
  addModelOptions(cmd);
  cmd.addHelpText("after", "\nExamples:\n  $ bertune evaluate runs/sst2\n  $ bertune evaluate runs/sst2 --dataset sst2 --split validation --json");
  cmd.action(
    action(async (runArg: string, o: EvaluateCliOptions) => {
      const dir = runDir(runArg);
      const stored = runDataset(dir);
      const spec = o.dataset ?? stored.spec;
      if (!spec) throw new BertuneError("no data set given and the run does not record one", "pass --dataset");
      // The training options rebuild the same splits only for the same data set.
      const same = stored.spec !== undefined && datasetSpec(spec) === stored.spec;
      const s = same ? stored.options : {};
      const classifier = await Classifier.load(dir, { revision: o.revision, offline: o.offline || undefined, threads: o.threads, device: o.device, log: logger(o.quiet || o.json) });
      try {
        if (o.threshold !== undefined) classifier.setThreshold(o.threshold);
        // The labels are read as the run's problem type (a file of 0/1 scores is then regression, not two classes).
        const dataset = await loadDataset(spec, {
          problemType: classifier.problemType,
          textColumn: pick(o.textColumn, s.textColumn),
          textPairColumn: pick(o.textPairColumn, s.textPairColumn),
          labelColumn: pick(o.labelColumn, s.labelColumn),
          labelColumns: pick(o.labelColumns, s.labelColumns),
          labelSeparator: pick(o.labelSeparator, s.labelSeparator),
          validationRatio: pick(o.validationRatio, s.validationRatio),
          seed: pick(o.seed, s.seed),
          encoding: pick(o.encoding, s.encoding),
          // A run trained on the first N examples (--max-train-samples / --max-eval-samples) is evaluated on the same ones.
          maxTrainSamples: s.maxTrainSamples,
          maxEvalSamples: s.maxEvalSamples,
          hub: { offline: o.offline || undefined, log: logger(o.quiet || o.json) },
        });
        verboseLogger(o)(`run ${dir}; data source ${dataset.source}; columns ${JSON.stringify(dataset.columns)}; feature cache ${o.cache ? new FeatureCache(o.cacheDir).dir : "off (--no-cache)"}`);
        const result = await classifier.evaluate(dataset, {
          split: o.split,
          featureCache: o.cache ? new FeatureCache(o.cacheDir) : false,
          progress: progressFactory(o.quiet || o.json),
        });
        const json = {
          run: classifier.run.dir,
          dataset: dataset.name,
          ...evalResultsJson(result.report, result.loss, undefined, result.split),
          report: result.report,
        };
        if (o.save) writeJsonAtomic(join(classifier.run.dir, `eval_${dataset.name}_${result.split}.json`), json);
        if (o.json) process.stdout.write(JSON.stringify(json) + "\n");
        else process.stdout.write(formatReport(result.report, { title: `${dataset.name} ${result.split} (${result.report.numExamples} examples), loss ${result.loss.toFixed(4)}` }) + "\n");
      } finally {
        await classifier.close();
      }
    }),
  );
  return cmd;
}
