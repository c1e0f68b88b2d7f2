import type { Pooling } from "./bert/onnx-encoder.js";
import type { Example, LoadedDataset } from "./data/types.js";
import { BertuneError } from "./errors.js";
import { FeatureCache } from "./features/cache.js";
import { extractFeatures, type TextInput } from "./features/extract.js";
import { frozenFeatures } from "./features/frozen.js";
import { classificationReport, type ClassificationReport } from "./metrics/classification.js";
import { loadModel, type LoadedModel, type LoadModelOptions } from "./model.js";
import { readRun, type TrainedRun } from "./run/load.js";
import { useBackend, type Device } from "./train/backend.js";
import { headLogits, scoreLogits, softmaxRows } from "./train/head.js";
import type { ProgressFactory } from "./util/progress.js";

export interface ClassifierOptions extends LoadModelOptions {
  device?: Device;
  log?: (line: string) => void;
}

export interface Prediction {
  text: string;
  textPair?: string;
  label: string;
  score: number;
  probabilities: Record<string, number>;
}

export interface EvaluateOptions {
  split?: "train" | "validation" | "test";
  featureCache?: FeatureCache | false;
  progress?: ProgressFactory;
}

export interface EvaluationResult {
  split: string;
  loss: number;
  report: ClassificationReport;
}

/** A trained run with its base encoder loaded: the object behind `evaluate` and `predict`. */
export class Classifier {
  private constructor(
    readonly run: TrainedRun,
    readonly model: LoadedModel,
  ) {}

  static async load(runDir: string, o: ClassifierOptions = {}): Promise<Classifier> {
    await useBackend(o.device ?? "auto");
    const run = readRun(runDir);
    const c = run.config;
    const revision = c.base_model_revision === "local" ? undefined : c.base_model_revision;
    const model = await loadModel(c.base_model, { ...o, revision: o.revision ?? revision });
    if (model.config.hidden_size !== c.hidden_size) {
      await model.close();
      throw new BertuneError(
        `the run's head expects hidden size ${c.hidden_size} but ${c.base_model} has ${model.config.hidden_size}`,
        "the base model changed since training: train again",
      );
    }
    return new Classifier(run, model);
  }

  get id2label(): string[] {
    return this.run.id2label;
  }
  get pooling(): Pooling {
    return this.run.config.pooling as Pooling;
  }
  get maxLength(): number {
    return this.run.config.max_length;
  }

  async predict(inputs: readonly (string | TextInput)[]): Promise<Prediction[]> {
    const items = inputs.map((x) => (typeof x === "string" ? { text: x } : x));
    const features = await extractFeatures(this.model.encoder, this.model.tokenizer, items, { maxLength: this.maxLength, pooling: this.pooling });
    const k = this.id2label.length;
    const probs = softmaxRows(headLogits(this.run.head, features, items.length), k);
    return items.map((item, r) => {
      const p = Array.from(probs.subarray(r * k, (r + 1) * k));
      const best = p.indexOf(Math.max(...p));
      return {
        ...item,
        label: this.id2label[best],
        score: p[best],
        probabilities: Object.fromEntries(this.id2label.map((name, j) => [name, p[j]])),
      };
    });
  }

  /** Accuracy, macro P/R/F1, per-class scores and confusion matrix on a split of a data set. */
  async evaluate(dataset: LoadedDataset, o: EvaluateOptions = {}): Promise<EvaluationResult> {
    const split = o.split ?? "validation";
    const examples: Example[] | undefined = dataset.splits[split];
    if (!examples || examples.length === 0) {
      const have = Object.entries(dataset.splits).filter(([, v]) => v && v.length).map(([k]) => k);
      throw new BertuneError(`the data set ${dataset.name} has no "${split}" split`, `available: ${have.join(", ")}`);
    }
    const datasetLabels = dataset.id2label.join("\u0000");
    if (datasetLabels !== this.id2label.join("\u0000")) {
      throw new BertuneError(
        `the data set's labels (${dataset.id2label.join(", ")}) differ from the run's (${this.id2label.join(", ")})`,
        "evaluate on data with the labels the model was trained on",
      );
    }
    const feats = await frozenFeatures(this.model, examples, {
      datasetHash: dataset.contentHash,
      split,
      maxLength: this.maxLength,
      pooling: this.pooling,
      cache: o.featureCache ?? new FeatureCache(),
      progress: o.progress,
    });
    const labels = examples.map((e) => e.label);
    const { predictions, loss } = scoreLogits(headLogits(this.run.head, feats.data, feats.rows), this.id2label.length, labels);
    return { split, loss, report: classificationReport(labels, predictions, this.id2label) };
  }

  async close(): Promise<void> {
    this.run.head.dispose();
    await this.model.close();
  }
}

/** Evaluate a run folder on a data set (library form of `bertune evaluate`). */
export async function evaluate(runDir: string, dataset: LoadedDataset, o: EvaluateOptions & ClassifierOptions = {}): Promise<EvaluationResult> {
  const c = await Classifier.load(runDir, o);
  try {
    return await c.evaluate(dataset, o);
  } finally {
    await c.close();
  }
}

/** Classify texts with a run folder (library form of `bertune predict`). */
export async function predict(runDir: string, inputs: readonly (string | TextInput)[], o: ClassifierOptions = {}): Promise<Prediction[]> {
  const c = await Classifier.load(runDir, o);
  try {
    return await c.predict(inputs);
  } finally {
    await c.close();
  }
}
