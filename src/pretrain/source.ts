import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { readBertConfig, type BertConfig } from "../bert/config.js";
import { BertuneError } from "../errors.js";
import { resolveModel, type ResolveOptions } from "../hub/resolve.js";
import { Tokenizer } from "../tokenizer/tokenizer.js";

const TOKENIZER_FILES = ["tokenizer_config.json", "vocab.txt", "special_tokens_map.json"];

/** What pretraining starts from: a config, a tokenizer, and the weights (continued pretraining) or none (from scratch). */
export interface PretrainSource {
  config: BertConfig;
  tokenizer: Tokenizer;
  /** Repo-relative tokenizer file → local path, copied into the output. */
  tokenizerFiles: Record<string, string>;
  /** model.safetensors, or undefined from scratch. */
  weights?: string;
  /** The model id (or local folder) the weights came from, or "scratch". */
  from: string;
  /** The model id (or folder) the tokenizer came from. */
  tokenizerFrom: string;
}

export interface PretrainSourceOptions extends ResolveOptions {
  /** A Hub id or folder: the weights to continue from, and the tokenizer (unless `tokenizer` is given). */
  model?: string;
  /** A config.json (or a folder holding one): a new model of that shape, at random (from scratch). */
  config?: string;
  /** A Hub id or folder holding tokenizer.json (default: the model's). */
  tokenizer?: string;
}

function configPath(c: string): string {
  const p = existsSync(c) && statSync(c).isDirectory() ? join(c, "config.json") : c;
  if (!existsSync(p)) throw new BertuneError(`--config ${c}: no such config.json`, "give the path of a BERT config.json (model_type bert, vocab_size, hidden_size, ...)");
  return p;
}

/**
 * Resolve what `bertune pretrain` starts from. `--model M`: M's config, tokenizer and weights
 * (domain-adaptive continued pretraining). `--config C`: a new model of C's shape from scratch, with
 * the tokenizer of `--tokenizer T` or of `--model M`.
 */
export async function resolvePretrainSource(o: PretrainSourceOptions): Promise<PretrainSource> {
  if (!o.model && !o.config) throw new BertuneError("pretrain needs --model (continue from its weights) or --config (a new model from scratch)", "for example --model bert-base-uncased, or --config config.json --tokenizer bert-base-uncased");
  const tokenizerFrom = o.tokenizer ?? o.model;
  if (o.config && !tokenizerFrom) throw new BertuneError("--config needs a tokenizer", "add --tokenizer (a model id or folder with tokenizer.json), or --model to take its tokenizer");
  const fromScratch = o.config !== undefined;
  let config: BertConfig;
  let weights: string | undefined;
  let tokenizerFiles: Record<string, string>;
  if (!fromScratch) {
    const r = await resolveModel(o.model!, { required: ["config.json", "model.safetensors", ...(o.tokenizer ? [] : ["tokenizer.json"])], optional: o.tokenizer ? [] : TOKENIZER_FILES }, o);
    config = readBertConfig(r.files["config.json"]);
    weights = r.files["model.safetensors"];
    tokenizerFiles = o.tokenizer ? {} : r.files;
  } else {
    config = readBertConfig(configPath(o.config!));
    tokenizerFiles = {};
  }
  if (Object.keys(tokenizerFiles).length === 0 || !tokenizerFiles["tokenizer.json"]) {
    const t = await resolveModel(tokenizerFrom!, { required: ["tokenizer.json"], optional: TOKENIZER_FILES }, o);
    tokenizerFiles = t.files;
  }
  const tokenizer = Tokenizer.fromFiles({ tokenizer: tokenizerFiles["tokenizer.json"], tokenizerConfig: tokenizerFiles["tokenizer_config.json"] });
  const files = Object.fromEntries(Object.entries(tokenizerFiles).filter(([k]) => k === "tokenizer.json" || TOKENIZER_FILES.includes(k)));
  return { config, tokenizer, tokenizerFiles: files, weights, from: fromScratch ? "scratch" : o.model!, tokenizerFrom: tokenizerFrom! };
}
