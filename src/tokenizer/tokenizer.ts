import { readFileSync } from "node:fs";
import * as transformers from "@huggingface/transformers";
import { BertuneError } from "../errors.js";

/** A tokenized batch, padded to its own longest sequence (not to max length). */
export interface EncodedBatch {
  inputIds: number[][];
  attentionMask: number[][];
  tokenTypeIds: number[][];
  /** Padded sequence length of this batch. */
  seqLen: number;
}

export interface TokenizerFiles {
  /** Path of tokenizer.json. */
  tokenizer: string;
  /** Path of tokenizer_config.json, when the repo has one. */
  tokenizerConfig?: string;
}

type TransformersTokenizer = transformers.PreTrainedTokenizer;

function readJson(path: string, what: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw new BertuneError(`cannot read ${what} at ${path}`, "check the model folder, or download the model again");
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new BertuneError(`${what} at ${path} is not valid JSON`, "the file is corrupt or truncated: download the model again");
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new BertuneError(`${what} at ${path} is not a JSON object`, "the file is damaged: download the model again");
  }
  return value as Record<string, unknown>;
}

/** One piece of a post-processor template: a special token or the A/B sequence, with its token type. */
type TemplatePiece = { special: number[]; typeId: number } | { sequence: "A" | "B"; typeId: number };

interface Template {
  single: TemplatePiece[];
  pair: TemplatePiece[];
}

/**
 * How special tokens are added, read from tokenizer.json's post_processor (BertProcessing,
 * RobertaProcessing or TemplateProcessing), so truncation can leave room for them exactly as
 * the Rust tokenizers library does.
 */
function readTemplate(json: Record<string, unknown>): Template {
  const pp = json.post_processor as Record<string, unknown> | null | undefined;
  const type = pp?.type;
  if (pp && (type === "BertProcessing" || type === "RobertaProcessing")) {
    const cls = [(pp.cls as [string, number])[1]];
    const sep = [(pp.sep as [string, number])[1]];
    const pairSep = type === "RobertaProcessing" ? [...sep, ...sep] : sep;
    const pairType = type === "RobertaProcessing" ? 0 : 1;
    return {
      single: [{ special: cls, typeId: 0 }, { sequence: "A", typeId: 0 }, { special: sep, typeId: 0 }],
      pair: [
        { special: cls, typeId: 0 },
        { sequence: "A", typeId: 0 },
        { special: pairSep, typeId: 0 },
        { sequence: "B", typeId: pairType },
        { special: sep, typeId: pairType },
      ],
    };
  }
  if (pp && type === "TemplateProcessing") {
    const specials = pp.special_tokens as Record<string, { ids: number[] }>;
    const convert = (items: unknown[]): TemplatePiece[] =>
      items.map((item) => {
        const it = item as { SpecialToken?: { id: string; type_id: number }; Sequence?: { id: "A" | "B"; type_id: number } };
        if (it.SpecialToken) return { special: specials[it.SpecialToken.id].ids, typeId: it.SpecialToken.type_id };
        return { sequence: it.Sequence!.id, typeId: it.Sequence!.type_id };
      });
    return { single: convert(pp.single as unknown[]), pair: convert(pp.pair as unknown[]) };
  }
  return { single: [{ sequence: "A", typeId: 0 }], pair: [{ sequence: "A", typeId: 0 }, { sequence: "B", typeId: 1 }] };
}

function specialCount(pieces: TemplatePiece[]): number {
  return pieces.reduce((n, p) => n + ("special" in p ? p.special.length : 0), 0);
}

/**
 * Python's default `truncation=True` for pairs ("longest_first", as implemented by the Rust
 * tokenizers library): the longer sequence gives way first; if both are too long, they split
 * the budget, the second getting the odd token.
 */
export function longestFirstLengths(lenA: number, lenB: number, budget: number): [number, number] {
  if (lenA + lenB <= budget) return [lenA, lenB];
  const swap = lenA > lenB;
  let n1 = swap ? lenB : lenA;
  let n2: number;
  n2 = n1 > budget ? n1 : Math.max(n1, budget - n1);
  if (n1 + n2 > budget) {
    n1 = Math.floor(budget / 2);
    n2 = n1 + (budget % 2);
  }
  return swap ? [n2, n1] : [n1, n2];
}

/**
 * The model's own tokenizer (tokenizer.json through transformers.js), producing the ids
 * Python's fast tokenizer produces, with truncation and per-batch padding.
 */
export class Tokenizer {
  private constructor(
    private readonly inner: TransformersTokenizer,
    private readonly template: Template,
    readonly padTokenId: number,
  ) {}

  static fromFiles(files: TokenizerFiles): Tokenizer {
    const json = readJson(files.tokenizer, "tokenizer.json");
    if (!("model" in json)) {
      throw new BertuneError(`tokenizer.json at ${files.tokenizer} has no "model" section`, "it is not a Hugging Face fast-tokenizer file");
    }
    const config = files.tokenizerConfig ? readJson(files.tokenizerConfig, "tokenizer_config.json") : {};
    const className = String(config.tokenizer_class ?? "PreTrainedTokenizer").replace(/Fast$/, "");
    const exported = (transformers as unknown as Record<string, unknown>)[className];
    const Cls = (
      typeof exported === "function" && (exported as { prototype: unknown }).prototype instanceof transformers.PreTrainedTokenizer
        ? exported
        : transformers.PreTrainedTokenizer
    ) as new (json: unknown, config: unknown) => TransformersTokenizer;
    let inner: TransformersTokenizer;
    let template: Template;
    try {
      inner = new Cls(json, config);
      template = readTemplate(json);
    } catch (e) {
      throw new BertuneError(`cannot build the tokenizer from ${files.tokenizer}: ${(e as Error).message}`, "the tokenizer file is malformed");
    }
    return new Tokenizer(inner, template, inner.pad_token_id ?? 0);
  }

  /** Token ids of one text (with special tokens), untruncated. */
  encode(text: string, textPair?: string): number[] {
    return this.inner.encode(text, { text_pair: textPair ?? null });
  }

  tokens(text: string): string[] {
    return this.inner.tokenize(text, { add_special_tokens: true });
  }

  /** One example's ids and token types, truncated to maxLength the way Python truncates. */
  encodeOne(text: string, textPair: string | undefined, maxLength: number): { ids: number[]; typeIds: number[] } {
    let a = this.inner.encode(text, { add_special_tokens: false });
    let b = textPair === undefined ? undefined : this.inner.encode(textPair, { add_special_tokens: false });
    const pieces = b === undefined ? this.template.single : this.template.pair;
    const budget = Math.max(0, maxLength - specialCount(pieces));
    if (b === undefined) {
      a = a.slice(0, budget);
    } else {
      const [na, nb] = longestFirstLengths(a.length, b.length, budget);
      a = a.slice(0, na);
      b = b.slice(0, nb);
    }
    const ids: number[] = [];
    const typeIds: number[] = [];
    for (const piece of pieces) {
      const part = "special" in piece ? piece.special : piece.sequence === "A" ? a : b!;
      for (const id of part) {
        ids.push(id);
        typeIds.push(piece.typeId);
      }
    }
    return { ids, typeIds };
  }

  /** Token ids of one text without special tokens, untruncated (for masked-LM pretraining, which adds its own). */
  encodeRaw(text: string): number[] {
    return this.inner.encode(text, { add_special_tokens: false });
  }

  /** The ids of every special token ([CLS], [SEP], [PAD], [UNK], [MASK] ...), as `all_special_ids` in transformers. */
  get specialIds(): number[] {
    return [...this.inner.all_special_ids];
  }

  /** The [MASK] token's id, or undefined when the tokenizer has none. */
  get maskTokenId(): number | undefined {
    const id = this.inner.mask_token_id;
    return typeof id === "number" && id >= 0 ? id : undefined;
  }

  /** The mask token's text ("[MASK]"), or undefined. */
  get maskToken(): string | undefined {
    return this.inner.mask_token ?? undefined;
  }

  /** The [CLS] and [SEP] ids (BERT's single-sequence template), when the tokenizer has them. */
  get clsSepIds(): { cls: number; sep: number } | undefined {
    const cls = this.template.single.find((p) => "special" in p);
    const sep = [...this.template.single].reverse().find((p) => "special" in p);
    if (!cls || !sep || !("special" in cls) || !("special" in sep) || cls === sep) return undefined;
    return { cls: cls.special[0], sep: sep.special[0] };
  }

  /** len(tokenizer): the vocabulary with added tokens. */
  get size(): number {
    return this.inner.get_vocab().size;
  }

  /** Token strings by id ("the", "##ing", "[MASK]"). */
  idToToken(): string[] {
    const out: string[] = [];
    for (const [token, id] of this.inner.get_vocab()) out[id] = token;
    return out;
  }

  /** Ids back to text, as transformers' decode (WordPiece pieces joined, spaces before punctuation cleaned up). */
  decode(ids: number[], o: { skipSpecialTokens?: boolean } = {}): string {
    if (ids.length === 0) return "";
    return this.inner.decode(ids, { skip_special_tokens: o.skipSpecialTokens ?? false });
  }

  /** Tokenize a batch, truncating to maxLength and padding to the batch's longest sequence. */
  encodeBatch(texts: string[], textPairs: string[] | undefined, maxLength: number): EncodedBatch {
    return this.padBatch(texts.map((t, i) => this.encodeOne(t, textPairs?.[i], maxLength)));
  }

  /** Pad already-encoded examples to the longest of them. */
  padBatch(rows: readonly { ids: number[]; typeIds: number[] }[]): EncodedBatch {
    const seqLen = rows.reduce((m, r) => Math.max(m, r.ids.length), 0);
    const pad = (values: number[], fill: number) => values.concat(new Array<number>(seqLen - values.length).fill(fill));
    return {
      inputIds: rows.map((r) => pad(r.ids, this.padTokenId)),
      attentionMask: rows.map((r) => pad(r.ids.map(() => 1), 0)),
      tokenTypeIds: rows.map((r) => pad(r.typeIds, 0)),
      seqLen,
    };
  }
}
