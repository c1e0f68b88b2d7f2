/**
 * bertune: fine-tune BERT-family encoders for text classification on Node.js.
 * The library behind the CLI: every command is one of these calls.
 */
export { loadModel, FROZEN_FILES, FROZEN_EXPORT_FILES, type LoadedModel, type LoadModelOptions } from "./model.js";
export { loadDataset } from "./data/dataset.js";
export { builtinDatasetNames } from "./data/registry.js";
export type { Example, DatasetSplits, LoadedDataset, LoadDatasetOptions } from "./data/types.js";
export { Trainer, type TrainerOptions, type TrainResult } from "./train/trainer.js";
export { DEFAULT_ARGS, FROZEN_DEFAULT_LEARNING_RATE, resolveArgs, type TrainingArgs, type EvalStrategy } from "./train/args.js";
export type { LogEntry, TrainerState } from "./train/state.js";
export { saveRun } from "./run/save.js";
export { readRun, type TrainedRun } from "./run/load.js";
export { LinearHead } from "./heads/linear-head.js";
export { Classifier, evaluate, predict, type Prediction, type EvaluationResult, type EvaluateOptions, type ClassifierOptions } from "./classifier.js";
export { classificationReport, type ClassificationReport, type ClassMetrics } from "./metrics/classification.js";
export { formatReport } from "./metrics/format.js";
export { Tokenizer, type EncodedBatch } from "./tokenizer/tokenizer.js";
export { OnnxEncoder, type Pooling } from "./bert/onnx-encoder.js";
export { OnnxSequenceClassifier } from "./bert/onnx-classifier.js";
export { readBertWeights } from "./bert/weights.js";
export { writeBertOnnx, type BertGraphOptions, type ClassifierSpec } from "./onnx/bert-graph.js";
export { featureGraph } from "./onnx/feature-graph.js";
export { exportRun, type ExportOptions, type ExportResult } from "./run/export.js";
export { readBertConfig, type BertConfig } from "./bert/config.js";
export { readSafetensors, writeSafetensors, parseSafetensors, serializeSafetensors, tensorToFloat32 } from "./formats/safetensors.js";
export { FeatureCache, bertuneCacheDir } from "./features/cache.js";
export { resolveModel, type ResolveOptions, type ResolvedModel } from "./hub/resolve.js";
export { hubCacheDir } from "./hub/cache.js";
export { BertuneError } from "./errors.js";
export type { ProgressFactory, ProgressSink } from "./util/progress.js";
export { writeRunReport, writeCompareReport, readRunReportData, worstMisclassified, type ReportOptions, type ReportResult } from "./report/index.js";
export { encode, type EncodeOptions } from "./encode.js";
export { loadFullModelSource, type FullModelSource } from "./model.js";
export { useBackend, DEVICES, type Device } from "./backend/tfjs.js";
export { chooseStrategy } from "./train/strategy.js";
export { pushRun, type PushOptions, type PushResult } from "./push/push.js";
export { preparePush } from "./push/plan.js";
export { buildModelCard } from "./card/card.js";
export { writeRunManifest, readRunManifest, RUN_MANIFEST } from "./run/manifest.js";
export { lockRunFolder, RUN_LOCK_FILE, type RunLock, type LockOwner } from "./run/lock.js";
export { checkOutputDir, clearOutputDir, type OutputDirOptions } from "./run/output-dir.js";
export { prefetchModel, snapshotDownload, scanCache, deleteCachedRepo } from "./hub/index.js";
export { fetchHubDataset } from "./data/hub-dataset.js";
export type { HubDatasetOptions } from "./data/types.js";
