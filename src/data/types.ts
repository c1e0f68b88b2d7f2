import type { ProblemType } from "../problem-type.js";

/**
 * One labelled example: a text (or a text pair) and its target — for single-label classification the
 * class id, for multi-label classification a multi-hot row of 0/1 over the labels, for regression the
 * target value(s) (one per target).
 */
export interface Example {
  text: string;
  textPair?: string;
  label: number | number[];
}

export interface DatasetSplits {
  train: Example[];
  validation: Example[];
  test?: Example[];
}

export interface LoadedDataset {
  /** Registry name (e.g. "sst2") or the file's / folder's basename. */
  name: string;
  /** Absolute path of the file or folder, or a description of the built-in data set: for logs and config. */
  source: string;
  /**
   * sha256 over the raw bytes of every file read (in the fixed order train, validation, test), the resolved
   * columns, the label names, the encoding and — only when validation was carved — the ratio and seed:
   * everything that decides the content of `splits`. Used as a cache key.
   */
  contentHash: string;
  splits: DatasetSplits;
  /** Whether validation came from the data ("file") or was carved from train ("carved"). */
  validationSource: "file" | "carved";
  /** Index = label id (regression: the targets' names, LABEL_0 for a single target, as transformers). */
  id2label: string[];
  /** How the labels are read: one class, a set of labels, or numbers. */
  problemType: ProblemType;
  /** Why that problem type (given, a registry entry, or what the data holds), for the log. */
  problemTypeReason: string;
  /** `label` is the label column, or the label columns joined by commas when `labelColumns` is set. */
  columns: { text: string; textPair?: string; label: string; labelColumns?: string[] };
  /** What a user should know before training on it (a --max-train-samples cut that lost labels): one line each, for the log. */
  warnings?: string[];
}

/** How a Hub data set (`hub:org/name[:config][@revision]`) is fetched; every field defaults as for models. */
export interface HubDatasetOptions {
  /** Branch, tag or commit (an `@revision` in the spec wins); default "main". */
  revision?: string;
  /** The data set's configuration (a `:config` in the spec wins); default: its default one. */
  config?: string;
  /** Default: HF_HUB_OFFLINE. */
  offline?: boolean;
  /** Default: HF_TOKEN, else the token file. */
  token?: string;
  /** Default: HF_ENDPOINT, else https://huggingface.co. */
  endpoint?: string;
  /** Default: the Hugging Face hub cache. */
  cacheDir?: string;
  /** Info lines (downloads, fallbacks); never given the token. */
  log?: (line: string) => void;
}

export interface LoadDatasetOptions {
  textColumn?: string;
  textPairColumn?: string;
  labelColumn?: string;
  /** Several label columns: one 0/1 column per label (multi-label) or one number per target (regression). */
  labelColumns?: string[];
  /** single_label_classification, multi_label_classification or regression; default: detected from the labels. */
  problemType?: ProblemType;
  /** Multi-label data in one text column: the separator between labels; default ",". */
  labelSeparator?: string;
  /** Fraction of train carved off as validation when the data has no validation split; default 0.1. */
  validationRatio?: number;
  /** Seed for the carved split; default 42. */
  seed?: number;
  /** How text files are decoded; default utf8 (strict). */
  encoding?: "utf8" | "latin1";
  /** Keep only the first N training examples (after a carved validation split is taken), as the HF example scripts' --max_train_samples. */
  maxTrainSamples?: number;
  /** Keep only the first N validation examples, as the HF example scripts' --max_eval_samples. */
  maxEvalSamples?: number;
  /** Not used by loadDataset. */
  split?: string;
  /** For Hub data sets: revision, config, offline mode, token, endpoint, cache. */
  hub?: HubDatasetOptions;
}

export type SplitName = "train" | "validation" | "test";
export const SPLIT_NAMES: readonly SplitName[] = ["train", "validation", "test"];
