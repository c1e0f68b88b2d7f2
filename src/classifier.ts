import { join } from "node:path";
import { clampMaxLength, readBertConfig } from "./bert/config.js";
import type { Pooling } from "./bert/onnx-encoder.js";
import { readSafetensors } from "./formats/safetensors.js";
import { OnnxSequenceClassifier } from "./bert/onnx-classifier.js";
import { BertClassifier, classifierLogits } from "./bert/sequence-classifier.js";
import { TfBertModel } from "./bert/tfjs-bert.js";
import type { Example, LoadedDataset } from "./data/types.js";
import { BertuneError } from "./errors.js";
import { FeatureCache } from "./features/cache.js";
import { extractFeatures, mapSortedBatches, type TextInput } from "./features/extract.js";
import { frozenFeatures } from "./features/frozen.js";
import type { EvalReport } from "./metrics/report.js";
import { loadModel, type LoadedModel, type LoadModelOptions } from "./model.js";
import { RUN_FILES } from "./run/files.js";
import { exportedGraph } from "./run/export.js";
import { checkBaseModel, readRun, type TrainedRun } from "./run/load.js";
import { Tokenizer } from "./tokenizer/tokenizer.js";
import { useBackend, type Device } from "./backend/tfjs.js";
import { ClassificationHead } from "./heads/classification-head.js";
import { activate } from "./heads/objective.js";
import type { ProblemType } from "./problem-type.js";
import { evaluateLogits, evaluationTask } from "./train/task.js";
import type { ProgressFactory } from "./util/progress.js";

export interface ClassifierOptions extends LoadModelOptions {
  device?: Device;
  /**
   * For full runs: "onnx" runs the run's exported graph (an error when it has none), "tfjs" the
   * tensorflow.js model; default: the export when there is one, else tensorflow.js.
   */
  engine?: "onnx" | "tfjs";
  log?: (line: string) => void;
}

/**
 * What a run says about one input. Classification (single- and multi-label): `label` is the top
 * label, `score` its probability, `probabilities` every label's (softmax, or each label's sigmoid
 * for multi-label); multi-label adds `labels`, every label whose sigmoid reaches the threshold.
 * Regression: `value` (the first target) and `values` (every target by name), in the data's units.
 */
export type Prediction = ClassPrediction | RegressionPrediction;

export interface ClassPrediction {
  text: string;
  textPair?: string;
  problemType: "single_label_classification" | "multi_label_classification";
  label: string;
  score: number;
  probabilities: Record<string, number>;
  /** Multi-label: the labels at or above the threshold, most probable first. */
  labels?: string[];
}

export interface RegressionPrediction {
  text: string;
  textPair?: string;
  problemType: "regression";
  value: number;
  values: Record<string, number>;
}

export interface EvaluateOptions {
  split?: "train" | "validation" | "test";
  featureCache?: FeatureCache | false;
  progress?: ProgressFactory;
}

export interface EvaluationResult {
  split: string;
  /** The problem type's plain loss (cross-entropy, BCE or MSE in the data's units; no class weights or smoothing). */
  loss: number;
  report: EvalReport;
  /** The report's flat metrics, as eval_results.json has them (without the eval_ prefix). */
  metrics: Record<string, number>;
}

/** Turns examples into logits: the frozen ONNX encoder + head, or the fine-tuned tfjs model. */
interface Engine {
  logits(inputs: readonly TextInput[], cacheKey?: { datasetHash: string; split: string; cache: FeatureCache | false; progress?: ProgressFactory }): Promise<Float32Array>;
  close(): Promise<void>;
}

class FrozenEngine implements Engine {
  constructor(
    private readonly run: TrainedRun,
    readonly model: LoadedModel,
  ) {}
  async logits(inputs: readonly TextInput[], cacheKey?: Parameters<Engine["logits"]>[1]): Promise<Float32Array> {
    const c = this.run.config;
    const pooling = c.pooling as Pooling;
    const features = cacheKey
      ? (await frozenFeatures(this.model, inputs as Example[], { ...cacheKey, maxLength: c.max_length, pooling })).data
      : await extractFeatures(this.model.encoder, this.model.tokenizer, inputs, { maxLength: c.max_length, pooling });
    return this.run.head.logits(features, inputs.length);
  }
  close(): Promise<void> {
    return this.model.close();
  }
}

class FullEngine implements Engine {
  constructor(
    private readonly model: BertClassifier,
    private readonly tokenizer: Tokenizer,
    private readonly maxLength: number,
    private readonly batchSize: number,
  ) {}
  async logits(inputs: readonly TextInput[], cacheKey?: Parameters<Engine["logits"]>[1]): Promise<Float32Array> {
    const encoded = inputs.map((x) => this.tokenizer.encodeOne(x.text, x.textPair, this.maxLength));
    const bar = cacheKey?.progress?.(`evaluating ${cacheKey.split}`, inputs.length, "ex");
    const out = await classifierLogits(this.model, encoded, this.tokenizer.padTokenId, this.batchSize, (n) => bar?.tick(n));
    bar?.done();
    return out;
  }
  async close(): Promise<void> {
    this.model.dispose();
  }
}

/** A full run's exported graph (`bertune export`) on onnxruntime: faster than tensorflow.js for inference. */
class ExportedEngine implements Engine {
  constructor(
    private readonly model: OnnxSequenceClassifier,
    private readonly tokenizer: Tokenizer,
    private readonly maxLength: number,
  ) {}
  async logits(inputs: readonly TextInput[], cacheKey?: Parameters<Engine["logits"]>[1]): Promise<Float32Array> {
    const bar = cacheKey?.progress?.(`evaluating ${cacheKey.split}`, inputs.length, "ex");
    const out = await mapSortedBatches(this.tokenizer, inputs, this.model.numLabels, { maxLength: this.maxLength, onBatch: (n) => bar?.tick(n) }, (b) => this.model.logits(b));
    bar?.done();
    return out;
  }
  close(): Promise<void> {
    return this.model.close();
  }
}

/** A trained run ready to classify: the object behind `evaluate` and `predict`. */
export class Classifier {
  private constructor(
    readonly run: TrainedRun,
    private readonly engine: Engine,
  ) {}

  static async load(runDir: string, o: ClassifierOptions = {}): Promise<Classifier> {
    const run = readRun(runDir);
    const c = run.config;
    if (c.bertune_mode === "full") {
      // A full run is self-contained: weights, config and tokenizer all live in the run folder.
      const tokenizer = Tokenizer.fromFiles({ tokenizer: join(run.dir, "tokenizer.json"), tokenizerConfig: join(run.dir, "tokenizer_config.json") });
      const bertConfig = readBertConfig(join(run.dir, RUN_FILES.config));
      const maxLength = clampMaxLength(c.max_length, bertConfig).maxLength;
      const graph = o.engine === "tfjs" ? undefined : exportedGraph(run.dir);
      if (graph) {
        o.log?.(`running the run's exported graph ${graph} on onnxruntime`);
        const device = o.device === "webgpu" ? "webgpu" : o.onnxDevice;
        return new Classifier(run, new ExportedEngine(await OnnxSequenceClassifier.load(graph, run.id2label.length, { device, threads: o.threads }), tokenizer, maxLength));
      }
      if (o.engine === "onnx") throw new BertuneError(`the run ${run.dir} has no ONNX export`, `export it first: bertune export ${run.dir}`);
      // Without an export, a full run needs tensorflow.js (a frozen run is the ONNX encoder plus a head in plain arrays).
      await useBackend(o.device ?? "auto", o.log);
      const bert = TfBertModel.fromSafetensors(readSafetensors(join(run.dir, RUN_FILES.weights)), bertConfig);
      return new Classifier(run, new FullEngine(new BertClassifier(bert, new ClassificationHead(run.head), c.pooling as Pooling), tokenizer, maxLength, 32));
    }
    checkBaseModel(run);
    const revision = c.base_model_revision === "local" ? undefined : c.base_model_revision;
    const model = await loadModel(run.baseModel, { ...o, revision: o.revision ?? revision, onnxDevice: o.device === "webgpu" ? "webgpu" : o.onnxDevice, pooling: c.pooling as Pooling });
    if (model.config.hidden_size !== c.hidden_size) {
      await model.close();
      throw new BertuneError(
        `the run's head expects hidden size ${c.hidden_size} but ${c.base_model} has ${model.config.hidden_size}`,
        "the base model changed since training: train again",
      );
    }
    // Runs saved before max_length was clamped at training time may ask for more positions than the model has.
    run.config.max_length = clampMaxLength(c.max_length, model.config).maxLength;
    return new Classifier(run, new FrozenEngine(run, model));
  }

  get id2label(): string[] {
    return this.run.id2label;
  }

  get problemType(): ProblemType {
    return this.run.problemType;
  }

  /** Multi-label: the sigmoid a label must reach (the run's, unless given). */
  get threshold(): number {
    return this.thresholdOverride ?? (typeof this.run.config.threshold === "number" ? this.run.config.threshold : 0.5);
  }

  private thresholdOverride?: number;

  /** Use another multi-label threshold than the run's. */
  setThreshold(t: number): void {
    if (!(t > 0 && t < 1)) throw new BertuneError(`--threshold must be in (0, 1), got ${t}`, "for example --threshold 0.5");
    this.thresholdOverride = t;
  }

  async predict(inputs: readonly (string | TextInput)[]): Promise<Prediction[]> {
    const items = inputs.map((x) => (typeof x === "string" ? { text: x } : x));
    const k = this.id2label.length;
    const problemType = this.problemType;
    const scores = activate(problemType, await this.engine.logits(items), k);
    return items.map((item, r): Prediction => {
      const p = Array.from(scores.subarray(r * k, (r + 1) * k));
      if (problemType === "regression") {
        return { ...item, problemType, value: p[0], values: Object.fromEntries(this.id2label.map((name, j) => [name, p[j]])) };
      }
      const best = p.indexOf(Math.max(...p));
      const prediction: ClassPrediction = {
        ...item,
        problemType,
        label: this.id2label[best],
        score: p[best],
        probabilities: Object.fromEntries(this.id2label.map((name, j) => [name, p[j]])),
      };
      if (problemType === "multi_label_classification") {
        prediction.labels = p
          .map((v, j) => [v, j] as const)
          .filter(([v]) => v >= this.threshold)
          .sort((a, b) => b[0] - a[0])
          .map(([, j]) => this.id2label[j]);
      }
      return prediction;
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
    if (dataset.problemType !== this.problemType) {
      throw new BertuneError(
        `the data set is ${dataset.problemType.replace(/_/g, "-")} but the run was trained for ${this.problemType.replace(/_/g, "-")}`,
        "evaluate on data of the run's task, or pass --problem-type to read the labels as the run does",
      );
    }
    if (dataset.id2label.join("\u0000") !== this.id2label.join("\u0000")) {
      throw new BertuneError(
        `the data set's labels (${dataset.id2label.join(", ")}) differ from the run's (${this.id2label.join(", ")})`,
        "evaluate on data with the labels the model was trained on",
      );
    }
    const logits = await this.engine.logits(examples, {
      datasetHash: dataset.contentHash,
      split,
      cache: o.featureCache ?? new FeatureCache(),
      progress: o.progress,
    });
    const task = evaluationTask(this.problemType, this.id2label, this.threshold);
    const { report, loss, metrics } = evaluateLogits(task, logits, examples.map((e) => e.label));
    return { split, loss, report, metrics };
  }

  async close(): Promise<void> {
    await this.engine.close();
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
