import { readSafetensors } from "./formats/safetensors.js";
import { padToTensors } from "./bert/sequence-classifier.js";
import { poolTensor, TfBertModel } from "./bert/tfjs-bert.js";
import type { Pooling } from "./bert/onnx-encoder.js";
import { extractFeatures, type TextInput } from "./features/extract.js";
import { loadFullModelSource, loadModel, type LoadModelOptions } from "./model.js";
import { readFloat32, tf, useBackend, type Device } from "./backend/tfjs.js";

export type Engine = "onnx" | "tfjs";

export interface EncodeOptions extends LoadModelOptions {
  engine?: Engine;
  pooling?: Pooling;
  maxLength?: number;
  device?: Device;
}

/**
 * Pooled encoder outputs for texts, from either engine: the ONNX export (the frozen path) or
 * the tensorflow.js BERT with converted weights (the full path) — so the two can be compared.
 */
export async function encode(model: string, inputs: readonly (string | TextInput)[], o: EncodeOptions = {}): Promise<{ hiddenSize: number; vectors: Float32Array[] }> {
  const items = inputs.map((x) => (typeof x === "string" ? { text: x } : x));
  const pooling = o.pooling ?? "pooler";
  const maxLength = o.maxLength ?? 128;
  let flat: Float32Array;
  let h: number;
  if ((o.engine ?? "onnx") === "onnx") {
    const m = await loadModel(model, { ...o, pooling });
    try {
      h = m.config.hidden_size;
      flat = await extractFeatures(m.encoder, m.tokenizer, items, { maxLength, pooling });
    } finally {
      await m.close();
    }
  } else {
    await useBackend(o.device ?? "auto", o.log);
    const src = await loadFullModelSource(model, o);
    const bert = TfBertModel.fromSafetensors(readSafetensors(src.weights), src.config);
    h = src.config.hidden_size;
    try {
      const encoded = items.map((x) => src.tokenizer.encodeOne(x.text, x.textPair, Math.min(maxLength, src.config.max_position_embeddings)));
      const pooled = tf.tidy(() => {
        const batch = padToTensors(encoded, src.tokenizer.padTokenId);
        return poolTensor(bert.forward(batch), batch.attentionMask, pooling);
      });
      flat = await readFloat32(pooled);
      pooled.dispose();
    } finally {
      bert.dispose();
    }
  }
  return { hiddenSize: h, vectors: items.map((_, i) => flat.slice(i * h, (i + 1) * h)) };
}
