import { BertuneError } from "../errors.js";

/** The [CLS]/[SEP] ids that frame every training sequence. */
export interface Framing {
  cls: number;
  sep: number;
}

/**
 * run_mlm.py --line_by_line: one sequence per document, `[CLS] document [SEP]`, truncated to
 * maxSeqLength tokens (special tokens kept). Batches are padded to their longest sequence.
 */
export function lineByLine(docs: readonly ArrayLike<number>[], maxSeqLength: number, f: Framing): Int32Array[] {
  if (maxSeqLength < 3) throw new BertuneError(`--max-seq-length must be at least 3 (room for [CLS], a token and [SEP]), got ${maxSeqLength}`);
  const budget = maxSeqLength - 2;
  return docs.map((d) => {
    const n = Math.min(d.length, budget);
    const out = new Int32Array(n + 2);
    out[0] = f.cls;
    for (let i = 0; i < n; i++) out[i + 1] = d[i];
    out[n + 1] = f.sep;
    return out;
  });
}

/**
 * run_mlm.py's group_texts: every document's tokens concatenated into one stream (documents separated
 * by [SEP]) and cut into blocks of maxSeqLength tokens, each framed as `[CLS] … [SEP]` (as BERT's own
 * pretraining data), so no token is lost to truncation and no batch carries padding. As group_texts,
 * the remainder that does not fill a block is dropped — unless the text is shorter than one block,
 * which then is the one (shorter) block.
 */
export function groupTexts(docs: readonly ArrayLike<number>[], maxSeqLength: number, f: Framing): Int32Array[] {
  if (maxSeqLength < 3) throw new BertuneError(`--max-seq-length must be at least 3 (room for [CLS], a token and [SEP]), got ${maxSeqLength}`);
  const body = maxSeqLength - 2;
  let total = 0;
  for (const d of docs) total += d.length + 1;
  total = Math.max(0, total - 1); // no separator after the last document
  const stream = new Int32Array(total);
  let at = 0;
  docs.forEach((d, k) => {
    if (k > 0) stream[at++] = f.sep;
    for (let i = 0; i < d.length; i++) stream[at++] = d[i];
  });
  const blocks: Int32Array[] = [];
  const frame = (from: number, to: number) => {
    const out = new Int32Array(to - from + 2);
    out[0] = f.cls;
    out.set(stream.subarray(from, to), 1);
    out[out.length - 1] = f.sep;
    return out;
  };
  const full = Math.floor(total / body);
  for (let b = 0; b < full; b++) blocks.push(frame(b * body, (b + 1) * body));
  if (full === 0 && total > 0) blocks.push(frame(0, total));
  return blocks;
}

/** Tokens in a list of sequences. */
export function tokenCount(seqs: readonly ArrayLike<number>[]): number {
  let n = 0;
  for (const s of seqs) n += s.length;
  return n;
}
