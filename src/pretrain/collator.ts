import { BertuneError } from "../errors.js";
import { Rng } from "../util/rng.js";

/** What masking needs to know of the tokenizer. */
export interface MaskingVocab {
  /** The [MASK] token's id. */
  maskTokenId: number;
  padTokenId: number;
  /** Ids never masked: every special token ([CLS], [SEP], [PAD], [UNK], [MASK] ...), as get_special_tokens_mask. */
  specialIds: ReadonlySet<number>;
  /** Random replacements are drawn uniformly from [0, randomVocabSize) (transformers: len(tokenizer)). */
  randomVocabSize: number;
  /** Whole-word masking: whether a token id continues the previous word (a WordPiece "##" piece). */
  isContinuation?: (id: number) => boolean;
}

export interface CollatorOptions {
  /** Share of (non-special, non-padding) tokens selected for prediction; default 0.15. */
  mlmProbability?: number;
  /** Of the selected: this share becomes [MASK] (default 0.8)... */
  maskReplaceProbability?: number;
  /** ...and this share a random token (default 0.1); the rest stay as they are. */
  randomReplaceProbability?: number;
  /** Select whole words (a token and its "##" continuation pieces) rather than single tokens. */
  wholeWordMask?: boolean;
}

/** One masked, padded batch, as DataCollatorForLanguageModeling returns it (plus the masked positions, flat). */
export interface MaskedBatch {
  inputIds: number[][];
  attentionMask: number[][];
  tokenTypeIds: number[][];
  /** The original id at each selected position, -100 elsewhere (padding included). */
  labels: number[][];
  seqLen: number;
  /** Flat positions (row × seqLen + column) of the selected tokens, row-major order. */
  positions: Int32Array;
  /** Their original ids (the labels that are not -100, in the same order). */
  targets: Int32Array;
}

export const IGNORE_INDEX = -100;

/**
 * transformers' DataCollatorForLanguageModeling (mlm=True): pad the examples to the longest, select
 * each non-special, non-padding token with probability mlm_probability (Bernoulli, as torch_mask_tokens),
 * and of the selected replace 80% by [MASK], 10% by a random token, keep 10%; labels are the original
 * ids at the selected positions and -100 elsewhere. With whole-word masking the draw is per word (a
 * token and the "##" pieces that follow it), and a word's pieces share the 80/10/10 outcome.
 *
 * Every random number comes from `rng`: the same seed gives the same batch, which is what makes a
 * resumed run take the steps of the uninterrupted one.
 */
export function maskBatch(examples: readonly ArrayLike<number>[], vocab: MaskingVocab, rng: Rng, o: CollatorOptions = {}): MaskedBatch {
  const p = o.mlmProbability ?? 0.15;
  const pMask = o.maskReplaceProbability ?? 0.8;
  const pRandom = o.randomReplaceProbability ?? 0.1;
  if (!(p > 0 && p < 1)) throw new BertuneError(`the masking probability must be in (0, 1), got ${p}`, "for example --mlm-probability 0.15");
  if (!(pMask >= 0 && pRandom >= 0 && pMask + pRandom <= 1)) throw new BertuneError(`mask and random replacement shares must be >= 0 and sum to at most 1, got ${pMask} and ${pRandom}`);
  // transformers draws "random given not [MASK]" with probability random / (1 - mask): 0.1 / 0.2 = 0.5.
  const pRandomRest = pMask >= 1 ? 0 : pRandom / (1 - pMask);
  const seqLen = examples.reduce((m, e) => Math.max(m, e.length), 0);
  const inputIds: number[][] = [];
  const attentionMask: number[][] = [];
  const tokenTypeIds: number[][] = [];
  const labels: number[][] = [];
  const positions: number[] = [];
  const targets: number[] = [];
  const wwm = o.wholeWordMask === true;
  if (wwm && !vocab.isContinuation) throw new BertuneError("whole-word masking needs the tokenizer's word pieces", "drop --whole-word-mask");

  for (let r = 0; r < examples.length; r++) {
    const ex = examples[r];
    const n = ex.length;
    const ids = new Array<number>(seqLen).fill(vocab.padTokenId);
    const lab = new Array<number>(seqLen).fill(IGNORE_INDEX);
    for (let j = 0; j < n; j++) ids[j] = ex[j];
    const original = ids.slice(0, n);
    const candidate = (j: number) => !vocab.specialIds.has(original[j]);
    // Groups of positions that are selected together: single tokens, or whole words.
    const groups: number[][] = [];
    for (let j = 0; j < n; j++) {
      if (!candidate(j)) continue;
      const last = groups[groups.length - 1];
      if (wwm && last && last[last.length - 1] === j - 1 && vocab.isContinuation!(original[j])) last.push(j);
      else groups.push([j]);
    }
    for (const g of groups) {
      if (!(rng.next() < p)) continue;
      const u = rng.next();
      const how = u < pMask ? "mask" : rng.next() < pRandomRest ? "random" : "keep";
      for (const j of g) {
        lab[j] = original[j];
        if (how === "mask") ids[j] = vocab.maskTokenId;
        else if (how === "random") ids[j] = rng.int(vocab.randomVocabSize);
      }
    }
    for (let j = 0; j < n; j++) {
      if (lab[j] !== IGNORE_INDEX) {
        positions.push(r * seqLen + j);
        targets.push(lab[j]);
      }
    }
    inputIds.push(ids);
    labels.push(lab);
    attentionMask.push(Array.from({ length: seqLen }, (_, j) => (j < n ? 1 : 0)));
    tokenTypeIds.push(new Array<number>(seqLen).fill(0));
  }
  return { inputIds, attentionMask, tokenTypeIds, labels, seqLen, positions: Int32Array.from(positions), targets: Int32Array.from(targets) };
}
