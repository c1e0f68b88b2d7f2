/**
 * The masked-LM data path: DataCollatorForLanguageModeling's statistics on a large sample (share
 * selected ≈ mlm_probability, 80/10/10, never special tokens or padding), whole-word masking,
 * seeding, group_texts and line-by-line sequences, and the text sources.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { groupTexts, lineByLine } from "../src/pretrain/blocks.js";
import { IGNORE_INDEX, maskBatch, type MaskingVocab } from "../src/pretrain/collator.js";
import { loadPretrainText } from "../src/pretrain/text.js";
import { maskingVocab } from "../src/pretrain/trainer.js";
import { readBertConfig } from "../src/bert/config.js";
import { Tokenizer } from "../src/tokenizer/tokenizer.js";
import { Rng } from "../src/util/rng.js";
import { DATASETS, TINY_MODEL, tempDir } from "./helpers/fixtures.js";

const CLS = 101;
const SEP = 102;
const MASK = 103;
const UNK = 100;
const PAD = 0;
const vocab: MaskingVocab = { maskTokenId: MASK, padTokenId: PAD, specialIds: new Set([PAD, UNK, CLS, SEP, MASK]), randomVocabSize: 30522 };

/** Sequences of random lengths framed by [CLS] … [SEP], with some [UNK]. */
function sample(n: number, seed: number): Int32Array[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => {
    const len = 3 + rng.int(126);
    return Int32Array.from({ length: len }, (_, j) => (j === 0 ? CLS : j === len - 1 ? SEP : rng.next() < 0.02 ? UNK : 1000 + rng.int(29000)));
  });
}

interface Tally {
  candidates: number;
  selected: number;
  masked: number;
  random: number;
  kept: number;
  specialSelected: number;
  paddingSelected: number;
}

function tally(seqs: Int32Array[], seed: number, o: Parameters<typeof maskBatch>[3] = {}, v = vocab): Tally {
  const t: Tally = { candidates: 0, selected: 0, masked: 0, random: 0, kept: 0, specialSelected: 0, paddingSelected: 0 };
  const rng = new Rng(seed);
  // Violations are counted (one expect per token would take longer than the masking).
  let bad = 0;
  for (let i = 0; i < seqs.length; i += 16) {
    const rows = seqs.slice(i, i + 16);
    const b = maskBatch(rows, v, rng, o);
    let k = 0;
    rows.forEach((row, r) => {
      for (let j = 0; j < b.seqLen; j++) {
        const label = b.labels[r][j];
        const input = b.inputIds[r][j];
        if (j >= row.length) {
          if (input !== PAD || b.attentionMask[r][j] !== 0) bad++;
          if (label !== IGNORE_INDEX) t.paddingSelected++;
          continue;
        }
        if (b.attentionMask[r][j] !== 1) bad++;
        const special = v.specialIds.has(row[j]);
        if (!special) t.candidates++;
        if (label === IGNORE_INDEX) {
          if (input !== row[j]) bad++; // unselected tokens are left alone
          continue;
        }
        if (special) t.specialSelected++;
        if (label !== row[j] || b.positions[k] !== r * b.seqLen + j || b.targets[k] !== row[j]) bad++;
        k++;
        t.selected++;
        if (input === MASK) t.masked++;
        else if (input === row[j]) t.kept++;
        else t.random++;
      }
    });
    if (k !== b.positions.length) bad++;
  }
  expect(bad).toBe(0);
  return t;
}

describe("DataCollatorForLanguageModeling (mlm=True)", () => {
  const seqs = sample(6000, 1);

  it("selects 15% of the non-special tokens, and of those 80% [MASK], 10% random, 10% kept; never a special token or padding", () => {
    const t = tally(seqs, 7);
    expect(t.candidates).toBeGreaterThan(350_000);
    expect(t.specialSelected).toBe(0);
    expect(t.paddingSelected).toBe(0);
    // Binomial: with ~380k candidates the standard error of the share is 0.0006; of the 80% split ~0.002.
    expect(Math.abs(t.selected / t.candidates - 0.15)).toBeLessThan(0.003);
    expect(Math.abs(t.masked / t.selected - 0.8)).toBeLessThan(0.006);
    // A random replacement that draws the original token is counted as kept: 1 in 30522.
    expect(Math.abs(t.random / t.selected - 0.1)).toBeLessThan(0.005);
    expect(Math.abs(t.kept / t.selected - 0.1)).toBeLessThan(0.005);
  });

  it("follows --mlm-probability", () => {
    const t = tally(seqs.slice(0, 3000), 8, { mlmProbability: 0.3 });
    expect(Math.abs(t.selected / t.candidates - 0.3)).toBeLessThan(0.005);
  });

  it("is a function of its seed: the same seed gives the same batch, another seed another", () => {
    const rows = seqs.slice(0, 32);
    const a = maskBatch(rows, vocab, new Rng(5));
    const b = maskBatch(rows, vocab, new Rng(5));
    const c = maskBatch(rows, vocab, new Rng(6));
    expect(b).toEqual(a);
    expect(c.inputIds).not.toEqual(a.inputIds);
  });

  it("pads to the longest row only; labels -100 on padding", () => {
    const b = maskBatch([Int32Array.from([CLS, 2000, SEP]), Int32Array.from([CLS, 2001, 2002, 2003, SEP])], vocab, new Rng(1));
    expect(b.seqLen).toBe(5);
    expect(b.inputIds[0].slice(3)).toEqual([PAD, PAD]);
    expect(b.labels[0].slice(3)).toEqual([IGNORE_INDEX, IGNORE_INDEX]);
    expect(b.tokenTypeIds).toEqual([[0, 0, 0, 0, 0], [0, 0, 0, 0, 0]]);
  });

  it("whole-word masking: a word's ## pieces are selected together and share the outcome; 15% of tokens overall", () => {
    // Ids 20000+ are continuation pieces ("##..."): words of 1–4 pieces.
    const rng = new Rng(3);
    const words = Array.from({ length: 3000 }, () => {
      const ids: number[] = [CLS];
      const n = 5 + rng.int(40);
      for (let w = 0; w < n; w++) {
        ids.push(1000 + rng.int(19000));
        for (let p = rng.int(4); p > 0; p--) ids.push(20000 + rng.int(10000));
      }
      ids.push(SEP);
      return Int32Array.from(ids);
    });
    const v = { ...vocab, isContinuation: (id: number) => id >= 20000 };
    const t = tally(words, 9, { wholeWordMask: true }, v);
    expect(t.specialSelected).toBe(0);
    expect(Math.abs(t.selected / t.candidates - 0.15)).toBeLessThan(0.005);
    const b = maskBatch(words.slice(0, 200), v, new Rng(11), { wholeWordMask: true });
    let wordsSeen = 0;
    words.slice(0, 200).forEach((row, r) => {
      for (let j = 1; j < row.length - 1; j++) {
        if (!v.isContinuation(row[j])) continue;
        // A continuation piece shares its selection and outcome with the piece before it.
        expect(b.labels[r][j] === IGNORE_INDEX).toBe(b.labels[r][j - 1] === IGNORE_INDEX);
        if (b.labels[r][j] !== IGNORE_INDEX) {
          wordsSeen++;
          expect(b.inputIds[r][j] === MASK).toBe(b.inputIds[r][j - 1] === MASK);
          expect(b.inputIds[r][j] === row[j]).toBe(b.inputIds[r][j - 1] === row[j - 1]);
        }
      }
    });
    expect(wordsSeen).toBeGreaterThan(100);
  });

  it("on real text with the BERT tokenizer: [CLS], [SEP], [UNK] never selected; whole words follow the ## pieces", async () => {
    const tokenizer = Tokenizer.fromFiles({ tokenizer: join(TINY_MODEL, "tokenizer.json"), tokenizerConfig: join(TINY_MODEL, "tokenizer_config.json") });
    const v = maskingVocab(tokenizer, readBertConfig(join(TINY_MODEL, "config.json")));
    expect(v.maskTokenId).toBe(103);
    expect([...v.specialIds].sort((a, b) => a - b)).toEqual([0, 100, 101, 102, 103]);
    const text = await loadPretrainText(join(DATASETS, "sst2"), { validationSplitPercentage: 5 });
    const docs = text.train.slice(0, 2000).map((d) => Int32Array.from(tokenizer.encodeRaw(d)));
    const seqs2 = lineByLine(docs, 64, { cls: 101, sep: 102 });
    const t = tally(seqs2, 4, { wholeWordMask: true }, v);
    expect(t.specialSelected).toBe(0);
    expect(Math.abs(t.selected / t.candidates - 0.15)).toBeLessThan(0.01);
    const tokens = tokenizer.idToToken();
    expect(v.isContinuation!(tokens.indexOf("##ing"))).toBe(true);
    expect(v.isContinuation!(tokens.indexOf("the"))).toBe(false);
  });
});

describe("sequences: group_texts and line by line", () => {
  const f = { cls: CLS, sep: SEP };
  const docs = [Int32Array.from([1, 2, 3]), Int32Array.from([4, 5, 6, 7, 8]), Int32Array.from([9, 10])];

  it("group_texts: documents joined by [SEP], cut into full blocks framed [CLS] … [SEP], the remainder dropped", () => {
    // Stream: 1 2 3 S 4 5 6 7 8 S 9 10 (12 tokens); blocks of 6 carry 4 each: 3 blocks, nothing left.
    expect(groupTexts(docs, 6, f).map((b) => Array.from(b))).toEqual([
      [CLS, 1, 2, 3, SEP, SEP],
      [CLS, 4, 5, 6, 7, SEP],
      [CLS, 8, SEP, 9, 10, SEP],
    ]);
    // Blocks of 7 carry 5: two blocks, the last 2 tokens dropped (as group_texts drops the remainder).
    expect(groupTexts(docs, 7, f).map((b) => b.length)).toEqual([7, 7]);
    // Less text than one block: that text is the one block.
    expect(Array.from(groupTexts([Int32Array.from([1, 2])], 128, f)[0])).toEqual([CLS, 1, 2, SEP]);
  });

  it("line by line: one [CLS] document [SEP] each, truncated to the length", () => {
    expect(lineByLine(docs, 5, f).map((b) => Array.from(b))).toEqual([
      [CLS, 1, 2, 3, SEP],
      [CLS, 4, 5, 6, SEP],
      [CLS, 9, 10, SEP],
    ]);
  });
});

describe("text for pretraining", () => {
  const work = tempDir("bertune-mlm-text-");

  it("a .txt file: one document a line, blank lines skipped, the first 5% held out (run_mlm.py's train[:5%])", async () => {
    const file = join(work, "docs.txt");
    writeFileSync(file, Array.from({ length: 40 }, (_, i) => `document ${i}`).join("\n\n") + "\r\n");
    const t = await loadPretrainText(file);
    expect(t.train.length + t.validation.length).toBe(40);
    expect(t.validation).toEqual(["document 0", "document 1"]);
    expect(t.train[0]).toBe("document 2");
    expect(t.validationSource).toBe("carved");
    const none = await loadPretrainText(file, { validationSplitPercentage: 0 });
    expect(none.validation).toEqual([]);
    expect(none.validationSource).toBe("none");
  });

  it("a folder of .txt files: all of them in name order; train.txt + dev.txt: those splits", async () => {
    const dir = join(work, "folder");
    mkdirSync(dir);
    writeFileSync(join(dir, "b.txt"), "b1\nb2\n");
    writeFileSync(join(dir, "a.txt"), "a1\n");
    const t = await loadPretrainText(dir, { validationSplitPercentage: 0 });
    expect(t.train).toEqual(["a1", "b1", "b2"]);
    const split = join(work, "split");
    mkdirSync(split);
    writeFileSync(join(split, "train.txt"), "t1\nt2\n");
    writeFileSync(join(split, "dev.txt"), "d1\n");
    const s = await loadPretrainText(split);
    expect(s).toMatchObject({ train: ["t1", "t2"], validation: ["d1"], validationSource: "file" });
  });

  it("a data set bertune reads (built-in, .jsonl, .csv): its text column, labels ignored, its validation split when it has one", async () => {
    const sst2 = await loadPretrainText("sst2");
    expect(sst2.column).toBe("sentence");
    expect(sst2.validationSource).toBe("file");
    expect(sst2.train.length).toBeGreaterThan(1000);
    const jsonl = join(work, "reviews.jsonl");
    writeFileSync(jsonl, ['{"review": "great fun", "stars": 5}', '{"review": "dull", "stars": 1}', '{"review": "fine"}'].join("\n"));
    const j = await loadPretrainText(jsonl, { validationSplitPercentage: 0 });
    expect(j).toMatchObject({ train: ["great fun", "dull", "fine"], column: "review" });
    const csv = join(work, "notes.csv");
    writeFileSync(csv, "id,body\n1,first note\n2,second note\n");
    expect((await loadPretrainText(csv, { validationSplitPercentage: 0, textColumn: "body" })).train).toEqual(["first note", "second note"]);
    await expect(loadPretrainText(csv, { textColumn: "nope" })).rejects.toThrow(/has no column "nope"/);
  });
});
