import { existsSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { readSafetensors } from "../formats/safetensors.js";
import { BertuneError } from "../errors.js";
import { LinearHead } from "../heads/linear-head.js";
import { RUN_FILES, type RunConfig } from "./files.js";
import { fromRunRelative } from "./paths.js";
import { PROBLEM_TYPES, type ProblemType } from "../problem-type.js";

/** A run folder read back: its config, label names and trained head. */
export interface TrainedRun {
  dir: string;
  config: RunConfig;
  /** Where the base model is: its Hub id, or the local folder config.json's base_model names (relative to the run). */
  baseModel: string;
  id2label: string[];
  problemType: ProblemType;
  head: LinearHead;
}

function readRunConfig(path: string): RunConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch {
    throw new BertuneError(`config.json in the run folder is not valid JSON: ${path}`, "the run is damaged: train it again");
  }
  const c = raw as Partial<RunConfig>;
  if (!c || typeof c !== "object" || typeof c.base_model !== "string" || !c.id2label || typeof c.hidden_size !== "number") {
    throw new BertuneError(`${path} is not a bertune run config (no base_model, id2label or hidden_size)`, "point at a folder written by `bertune train --output`");
  }
  return c as RunConfig;
}

/** id2label from config.json ({"0": "neg", ...}) as an array, checking the ids are 0..K-1. */
function labelsOf(config: RunConfig, path: string): string[] {
  const entries = Object.entries(config.id2label);
  const labels: string[] = [];
  for (const [k, v] of entries) {
    const i = Number(k);
    if (!Number.isInteger(i) || i < 0 || i >= entries.length) {
      throw new BertuneError(`${path}: id2label has an id "${k}" outside 0..${entries.length - 1}`, "the run config is damaged");
    }
    labels[i] = String(v);
  }
  return labels;
}

/** The absolute path of an existing run folder, or a clear error. */
export function runDir(dir: string): string {
  const abs = resolve(dir);
  if (!existsSync(abs) || !statSync(abs).isDirectory()) {
    throw new BertuneError(`no run folder at ${abs}`, "give the folder passed to `bertune train --output`");
  }
  return abs;
}

export function readRun(dir: string): TrainedRun {
  const abs = runDir(dir);
  const configPath = join(abs, RUN_FILES.config);
  const weightsPath = join(abs, RUN_FILES.weights);
  for (const p of [configPath, weightsPath]) {
    if (!existsSync(p)) throw new BertuneError(`the run folder ${abs} has no ${p.slice(abs.length + 1)}`, "training did not finish: train again");
  }
  const config = readRunConfig(configPath);
  const id2label = labelsOf(config, configPath);
  const head = LinearHead.fromSafetensors(readSafetensors(weightsPath), config.hidden_size, id2label.length);
  const problemType = config.problem_type ?? "single_label_classification";
  if (!PROBLEM_TYPES.includes(problemType)) {
    throw new BertuneError(`${configPath}: unknown problem_type "${String(problemType)}"`, `it must be one of ${PROBLEM_TYPES.join(", ")}`);
  }
  return { dir: abs, config, id2label, problemType, head, baseModel: fromRunRelative(abs, config.base_model) };
}

/** A frozen run's local base model, or a clear error naming the config.json field to fix. */
export function checkBaseModel(run: TrainedRun): void {
  const c = run.config;
  if (c.base_model_revision !== "local" || existsSync(run.baseModel)) return;
  throw new BertuneError(
    `the base model of the run ${run.dir} is not at ${run.baseModel} (config.json: "base_model": ${JSON.stringify(c.base_model)})`,
    `put the base model back there, or set "base_model" in ${join(run.dir, RUN_FILES.config)} to its folder (relative to the run) or to its Hub id`,
  );
}
