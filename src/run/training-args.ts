import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { LoadDatasetOptions } from "../data/types.js";
import { RUN_FILES } from "./files.js";
import { fromRunRelative } from "./paths.js";
import { PROBLEM_TYPES } from "../problem-type.js";

/** The data set a run was trained on and the options that rebuild its splits, from training_args.json. */
export interface RunDataset {
  /** The --dataset argument: a built-in name, a Hub spec, or a local path (resolved against the run folder). */
  spec?: string;
  options: LoadDatasetOptions;
}

export function runDataset(runDir: string): RunDataset {
  const path = join(runDir, RUN_FILES.trainingArgs);
  if (!existsSync(path)) return { options: {} };
  try {
    const a = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
    const d = (a.dataset_options ?? {}) as Record<string, unknown>;
    const str = (v: unknown) => (typeof v === "string" ? v : undefined);
    const num = (v: unknown) => (typeof v === "number" ? v : undefined);
    return {
      spec: str(a.dataset_spec) === undefined ? undefined : fromRunRelative(runDir, str(a.dataset_spec)!),
      options: {
        textColumn: str(d.text_column),
        textPairColumn: str(d.text_pair_column),
        labelColumn: str(d.label_column),
        labelColumns: Array.isArray(d.label_columns) ? d.label_columns.map(String) : undefined,
        problemType: PROBLEM_TYPES.find((p) => p === d.problem_type),
        labelSeparator: str(d.label_separator),
        validationRatio: num(d.validation_ratio),
        encoding: d.encoding === "latin1" ? "latin1" : "utf8",
        seed: num(d.seed),
        maxTrainSamples: num(d.max_train_samples),
        maxEvalSamples: num(d.max_eval_samples),
      },
    };
  } catch {
    return { options: {} };
  }
}
