/**
 * `bertune export`: a trained run as the ONNX graph transformers.js runs (`onnx/model.onnx`, output
 * `logits`, and with `quantize` the int8 `onnx/model_quantized.onnx` it loads by default in
 * browsers), beside the run's config.json (model_type, id2label/label2id, architectures) and
 * tokenizer files — so `pipeline("text-classification", runDir)` works on the folder as it is.
 * A full run's graph is its own weights; a frozen run's is the base encoder, the run's pooling
 * and its head.
 */
import { existsSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { readBertConfig, type BertConfig } from "../bert/config.js";
import { readBertWeights } from "../bert/weights.js";
import { readSafetensors } from "../formats/safetensors.js";
import type { ResolveOptions } from "../hub/resolve.js";
import { loadFullModelSource } from "../model.js";
import { writeBertOnnx, type GraphPooling } from "../onnx/bert-graph.js";
import { writeFileAtomic } from "../util/atomic.js";
import { ONNX_EXPORT, RUN_FILES } from "./files.js";
import { checkBaseModel, readRun } from "./load.js";
import { MANIFEST_FILES, readRunManifest, writeRunManifest } from "./manifest.js";

export { ONNX_EXPORT };

/** Tokenizer files transformers.js (and Python) read from a model folder. */
const TOKENIZER_FILES = ["tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"];

export interface ExportOptions extends ResolveOptions {
  /** Also write the int8 graph. */
  quantize?: boolean;
}

export interface ExportResult {
  /** Repo-relative path → bytes written. */
  files: { path: string; bytes: number; seconds: number }[];
}

/** The encoder config and weights of a run: its own (full), or its base model's (frozen). */
async function encoderOf(dir: string, mode: "frozen" | "full", baseModel: string, baseRevision: string, o: ExportOptions): Promise<{ config: BertConfig; weights: Map<string, Float32Array> }> {
  if (mode === "full") {
    const config = readBertConfig(join(dir, RUN_FILES.config));
    return { config, weights: readBertWeights(readSafetensors(join(dir, RUN_FILES.weights)), config) };
  }
  const source = await loadFullModelSource(baseModel, { ...o, revision: o.revision ?? (baseRevision === "local" ? undefined : baseRevision) });
  // The run folder needs the tokenizer for transformers.js; a frozen run does not carry it yet.
  for (const f of TOKENIZER_FILES) {
    const from = source.files[f];
    if (from && !existsSync(join(dir, f))) writeFileAtomic(join(dir, f), readFileSync(from));
  }
  return { config: source.config, weights: readBertWeights(readSafetensors(source.weights), source.config) };
}

/** Write the run's ONNX graph(s) and record them in run_manifest.json. */
export async function exportRun(runDir: string, o: ExportOptions = {}): Promise<ExportResult> {
  const run = readRun(runDir);
  const c = run.config;
  if (c.bertune_mode === "frozen") checkBaseModel(run);
  const { config, weights } = await encoderOf(run.dir, c.bertune_mode, run.baseModel, c.base_model_revision, o);
  const head = { pooling: c.pooling as GraphPooling, weight: run.head.weight, bias: run.head.bias, numLabels: run.head.numLabels };
  const metadata = { bertune_mode: c.bertune_mode, pooling: c.pooling, base_model: c.base_model };
  const files: ExportResult["files"] = [];
  for (const [path, quantize] of [[ONNX_EXPORT.model, false], ...(o.quantize ? [[ONNX_EXPORT.quantized, true] as const] : [])] as const) {
    const started = Date.now();
    writeFileAtomic(join(run.dir, path), writeBertOnnx(config, weights, { head, quantize, metadata }));
    files.push({ path, bytes: statSync(join(run.dir, path)).size, seconds: (Date.now() - started) / 1000 });
  }
  // An int8 graph of earlier weights must not outlive a new export (transformers.js would load it in browsers).
  if (!o.quantize) rmSync(join(run.dir, ONNX_EXPORT.quantized), { force: true });
  // Record the graphs beside the weights, so evaluate/predict and push know they belong to this training.
  const previous = readRunManifest(run.dir);
  const recorded = new Set([...(previous ? Object.keys(previous.files) : MANIFEST_FILES), ...files.map((f) => f.path)]);
  if (!o.quantize) recorded.delete(ONNX_EXPORT.quantized);
  writeRunManifest(run.dir, [...recorded]);
  return { files };
}

/** The run's exported graph, when run_manifest.json says it was written for the current weights. */
export function exportedGraph(runDir: string): string | undefined {
  const manifest = readRunManifest(runDir);
  const path = join(runDir, ONNX_EXPORT.model);
  return manifest?.files[ONNX_EXPORT.model] && existsSync(path) ? path : undefined;
}
