import { readFileSync } from "node:fs";
import { join } from "node:path";
import { readBertConfig } from "../../src/bert/config.js";
import { batchTensors } from "../../src/bert/sequence-classifier.js";
import { poolTensor, TfBertModel } from "../../src/bert/tfjs-bert.js";
import { readSafetensors, tensorToFloat32 } from "../../src/formats/safetensors.js";
import { useBackend } from "../../src/backend/tfjs.js";
import { Tokenizer } from "../../src/tokenizer/tokenizer.js";
import { TINY_MODEL } from "./fixtures.js";

export interface IndependentScores {
  probabilities: number[][];
  predictions: number[];
  /** Smallest |logit₀ − logit₁| over the rows: below ~1e-4 a float32 difference could flip a prediction. */
  minMargin: number;
  accuracy: number;
  loss: number;
  /** [true][predicted] */
  confusion: number[][];
}

/**
 * A run's predictions computed a second way, for tests to compare the CLI's numbers against: each
 * text alone (no padding), the encoder in tensorflow.js from safetensors (checked against PyTorch
 * in tfjs-bert.test.ts) — the base model's weights for a frozen run, the run's own `bert.*` for a
 * full run — then the saved head's product, softmax, cross-entropy, argmax, accuracy and
 * confusion matrix in plain float64 arithmetic here, sharing no code with bertune's metrics.
 */
export async function independentScores(run: string, texts: string[], labels: number[], maxLength = 128): Promise<IndependentScores> {
  await useBackend("wasm");
  const config = readBertConfig(join(run, "config.json"));
  const saved = readSafetensors(join(run, "model.safetensors"));
  const full = saved.tensors.has("bert.pooler.dense.weight");
  const bert = TfBertModel.fromSafetensors(full ? saved : readSafetensors(join(TINY_MODEL, "model.safetensors")), config);
  const tokenizer = Tokenizer.fromFiles({ tokenizer: join(TINY_MODEL, "tokenizer.json"), tokenizerConfig: join(TINY_MODEL, "tokenizer_config.json") });
  const w = tensorToFloat32(saved, "classifier.weight");
  const b = tensorToFloat32(saved, "classifier.bias");
  const k = b.length;
  const h = config.hidden_size;
  const pooling = (config.pooling as "pooler" | "cls" | "mean" | undefined) ?? "pooler";
  const out: IndependentScores = { probabilities: [], predictions: [], minMargin: Infinity, accuracy: 0, loss: 0, confusion: Array.from({ length: k }, () => new Array<number>(k).fill(0)) };
  let correct = 0;
  for (let r = 0; r < texts.length; r++) {
    const { ids, typeIds } = tokenizer.encodeOne(texts[r], undefined, maxLength);
    const inputs = batchTensors({ inputIds: [ids], tokenTypeIds: [typeIds], attentionMask: [ids.map(() => 1)] });
    const pooled = Array.from(await poolTensor(bert.forward(inputs), inputs.attentionMask, pooling).data());
    const logits = Array.from({ length: k }, (_, j) => b[j] + pooled.reduce((s, x, i) => s + x * w[j * h + i], 0));
    const max = Math.max(...logits);
    const z = logits.reduce((s, x) => s + Math.exp(x - max), 0);
    const p = logits.map((x) => Math.exp(x - max) / z);
    const pred = logits.indexOf(max);
    out.probabilities.push(p);
    out.predictions.push(pred);
    if (k === 2) out.minMargin = Math.min(out.minMargin, Math.abs(logits[0] - logits[1]));
    out.loss += -Math.log(p[labels[r]]) / texts.length;
    correct += pred === labels[r] ? 1 : 0;
    out.confusion[labels[r]][pred]++;
  }
  out.accuracy = correct / texts.length;
  bert.dispose();
  return out;
}

/** The rows of a data set folder's TSV file (sentence, label), as sst2Subset writes them. */
export function tsvRows(path: string): { texts: string[]; labels: number[] } {
  const rows = readFileSync(path, "utf8").trim().split("\n").slice(1).map((l) => l.split("\t"));
  return { texts: rows.map((r) => r[0]), labels: rows.map((r) => Number(r[1])) };
}
