import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import type { LoadDatasetOptions } from "../../data/types.js";
import { choiceArg, columnListArg, numberArg } from "../common.js";
import { PROBLEM_TYPES, type ProblemType } from "../../problem-type.js";

export interface DatasetCliOptions {
  textColumn?: string;
  textPairColumn?: string;
  labelColumn?: string;
  labelColumns?: string[];
  problemType?: ProblemType;
  labelSeparator?: string;
  validationRatio: number;
  encoding: "utf8" | "latin1";
  seed: number;
}

export function addDatasetOptions(cmd: Command): Command {
  return cmd
    .option("--text-column <name>", "column holding the text (default: detected: sentence, text, review, ...)")
    .option("--text-pair-column <name>", "second text column for sentence-pair tasks (default: detected: sentence2, hypothesis, ...)")
    .option("--label-column <name>", "column holding the label (default: detected: label, labels, class, ...)")
    .option("--label-columns <a,b,c>", "several label columns: one 0/1 column per label (multi-label) or one number per target (regression)", columnListArg)
    .option("--problem-type <type>", `${PROBLEM_TYPES.join(", ")} (default: detected: lists of labels → multi-label, numbers that are not all whole → regression, else single-label)`, choiceArg("--problem-type", PROBLEM_TYPES))
    .option("--label-separator <sep>", 'multi-label labels in one text column: the separator between them (default ",")')
    .option("--validation-ratio <r>", "share of train carved off as validation when the data has no validation split", numberArg("--validation-ratio", { min: 0, max: 1, minExclusive: true, maxExclusive: true, example: 0.1 }), 0.1)
    .option("--encoding <enc>", "text encoding of data files: utf8 or latin1", choiceArg("--encoding", ["utf8", "latin1"] as const), "utf8");
}

export function datasetOptions(o: DatasetCliOptions): LoadDatasetOptions {
  return {
    textColumn: o.textColumn,
    textPairColumn: o.textPairColumn,
    labelColumn: o.labelColumn,
    labelColumns: o.labelColumns,
    problemType: o.problemType ?? (o.labelSeparator !== undefined ? "multi_label_classification" : undefined),
    labelSeparator: o.labelSeparator,
    validationRatio: o.validationRatio,
    encoding: o.encoding,
    seed: o.seed,
  };
}

/** The --dataset argument in a form that still means the same data from another folder. */
export function datasetSpec(spec: string): string {
  return existsSync(spec) ? resolve(spec) : spec;
}
