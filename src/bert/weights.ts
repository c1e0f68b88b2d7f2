import { BertuneError } from "../errors.js";
import { expectTensor, tensorToFloat32, type SafetensorsFile } from "../formats/safetensors.js";
import type { BertConfig } from "./config.js";

/** Parameter names and shapes of a BertModel, as in Hugging Face's state dict (without the "bert." prefix). */
export function bertParameterShapes(c: BertConfig): Map<string, number[]> {
  const h = c.hidden_size;
  const shapes = new Map<string, number[]>([
    ["embeddings.word_embeddings.weight", [c.vocab_size, h]],
    ["embeddings.position_embeddings.weight", [c.max_position_embeddings, h]],
    ["embeddings.token_type_embeddings.weight", [c.type_vocab_size, h]],
    ["embeddings.LayerNorm.weight", [h]],
    ["embeddings.LayerNorm.bias", [h]],
  ]);
  for (let l = 0; l < c.num_hidden_layers; l++) {
    const p = `encoder.layer.${l}`;
    for (const m of ["attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"]) {
      shapes.set(`${p}.${m}.weight`, [h, h]);
      shapes.set(`${p}.${m}.bias`, [h]);
    }
    shapes.set(`${p}.attention.output.LayerNorm.weight`, [h]);
    shapes.set(`${p}.attention.output.LayerNorm.bias`, [h]);
    shapes.set(`${p}.intermediate.dense.weight`, [c.intermediate_size, h]);
    shapes.set(`${p}.intermediate.dense.bias`, [c.intermediate_size]);
    shapes.set(`${p}.output.dense.weight`, [h, c.intermediate_size]);
    shapes.set(`${p}.output.dense.bias`, [h]);
    shapes.set(`${p}.output.LayerNorm.weight`, [h]);
    shapes.set(`${p}.output.LayerNorm.bias`, [h]);
  }
  shapes.set("pooler.dense.weight", [h, h]);
  shapes.set("pooler.dense.bias", [h]);
  return shapes;
}

/** Which part of the network a parameter belongs to: "embeddings", a layer index, or "pooler". */
export function parameterGroup(name: string): "embeddings" | "pooler" | number {
  if (name.startsWith("embeddings.")) return "embeddings";
  if (name.startsWith("pooler.")) return "pooler";
  const m = /^encoder\.layer\.(\d+)\./.exec(name);
  if (!m) throw new Error(`not a BertModel parameter: ${name}`);
  return Number(m[1]);
}

/** Parameters that the Hugging Face Trainer exempts from weight decay: biases and LayerNorm weights. */
export function isNoDecay(name: string): boolean {
  return name.endsWith(".bias") || name.includes("LayerNorm");
}

/** Old checkpoints name LayerNorm parameters gamma/beta; map them to weight/bias. */
function legacyName(name: string): string {
  return name.replace(/LayerNorm\.gamma$/, "LayerNorm.weight").replace(/LayerNorm\.beta$/, "LayerNorm.bias");
}

/**
 * The BertModel weights of a Hugging Face safetensors file, by bare name ("encoder.layer.0...").
 * Stored names may carry the "bert." prefix (BertFor* checkpoints) and old LayerNorm names
 * (gamma/beta); any other tensor (MLM/NSP heads, a classifier) is ignored. Shapes are checked.
 */
export function readBertWeights(file: SafetensorsFile, config: BertConfig, o: { withoutPooler?: boolean } = {}): Map<string, Float32Array> {
  const names = new Map<string, string>();
  for (const stored of file.tensors.keys()) {
    const bare = legacyName(stored.startsWith("bert.") ? stored.slice(5) : stored);
    names.set(bare, stored);
  }
  // More layers in the file than config.json says would be silently dropped: the pair does not belong together.
  const layers = [...names.keys()].map((n) => /^encoder\.layer\.(\d+)\./.exec(n)?.[1]).filter((l) => l !== undefined).map(Number);
  const storedLayers = layers.length ? Math.max(...layers) + 1 : 0;
  if (storedLayers > config.num_hidden_layers) {
    throw new BertuneError(
      `${file.source ?? "model.safetensors"} holds ${storedLayers} encoder layers, but config.json says num_hidden_layers ${config.num_hidden_layers}`,
      "the weights do not belong to a BERT model with this config.json",
    );
  }
  const values = new Map<string, Float32Array>();
  for (const [name, shape] of bertParameterShapes(config)) {
    // withoutPooler: a checkpoint that has none (BertForMaskedLM without add_pooling_layer); the caller initialises it.
    if (o.withoutPooler && name.startsWith("pooler.")) continue;
    const stored = names.get(name);
    if (!stored) {
      throw new BertuneError(
        `${file.source ?? "model.safetensors"} has no tensor "${name}" (nor "bert.${name}")`,
        "the weights do not belong to a BERT model with this config.json",
      );
    }
    expectTensor(file, stored, shape);
    values.set(name, tensorToFloat32(file, stored));
  }
  return values;
}
