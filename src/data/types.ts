/** One labelled example: a text (or a text pair) and its class id. */
export interface Example {
  text: string;
  textPair?: string;
  label: number;
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
  /** Index = label id. */
  id2label: string[];
  columns: { text: string; textPair?: string; label: string };
}

export interface LoadDatasetOptions {
  textColumn?: string;
  textPairColumn?: string;
  labelColumn?: string;
  /** Fraction of train carved off as validation when the data has no validation split; default 0.1. */
  validationRatio?: number;
  /** Seed for the carved split; default 42. */
  seed?: number;
  /** How text files are decoded; default utf8 (strict). */
  encoding?: "utf8" | "latin1";
  /** Not used by loadDataset. */
  split?: string;
}

export type SplitName = "train" | "validation" | "test";
export const SPLIT_NAMES: readonly SplitName[] = ["train", "validation", "test"];
