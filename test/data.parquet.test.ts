import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BertuneError } from "../src/errors.js";
import { loadDataset } from "../src/data/dataset.js";
import { globToRegExp, pickParquetFiles, splitOfPath } from "../src/data/hub-layout.js";
import { parseParquet } from "../src/data/parquet.js";
import { tempDir } from "./helpers/fixtures.js";
import { hfFeaturesMetadata, writeParquet, type ParquetColumn } from "./helpers/parquet-writer.js";
import { errorOf } from "./helpers/errors.js";

const TEXTS = ["a gripping film", "dull and lifeless", "beautifully acted", "the plot is thin", "great fun", "a mess", "moving", "boring"];

function reviews(n: number, labels: (i: number) => number = (i) => i % 2): ParquetColumn[] {
  return [
    { name: "idx", type: "int64", values: Array.from({ length: n }, (_, i) => i) },
    { name: "sentence", type: "string", values: Array.from({ length: n }, (_, i) => `${TEXTS[i % TEXTS.length]} #${i}`) },
    { name: "label", type: "int64", values: Array.from({ length: n }, (_, i) => labels(i)) },
  ];
}

describe("Parquet files", () => {
  it("reads the test writer's files, uncompressed and gzip (hyparquet-compressors), with ClassLabel names", async () => {
    for (const codec of ["uncompressed", "gzip"] as const) {
      const bytes = writeParquet(reviews(30), { codec, keyValueMetadata: hfFeaturesMetadata({ idx: "int64", sentence: "string", label: { names: ["neg", "pos"] } }) });
      const t = await parseParquet(new Uint8Array(bytes), "train.parquet");
      expect(t.columns).toEqual(["idx", "sentence", "label"]);
      expect(t.rows).toHaveLength(30);
      expect(t.rows[5]).toEqual({ values: { idx: 5, sentence: "a mess #5", label: 1 }, line: 6 });
      expect(t.unit).toBe("row");
      expect(t.labelNames).toEqual({ label: ["neg", "pos"] });
    }
  });

  it("loads a .parquet file and a folder of them through loadDataset: columns detected, label names from the metadata", async () => {
    const dir = tempDir("bertune-parquet-");
    const meta = hfFeaturesMetadata({ idx: "int64", sentence: "string", label: { names: ["negative", "positive"] } });
    writeFileSync(join(dir, "train.parquet"), writeParquet(reviews(40), { keyValueMetadata: meta }));
    writeFileSync(join(dir, "validation.parquet"), writeParquet(reviews(10), { keyValueMetadata: meta }));
    const folder = await loadDataset(dir);
    expect(folder.columns).toEqual({ text: "sentence", label: "label" });
    expect(folder.id2label).toEqual(["negative", "positive"]);
    expect(folder.splits.train).toHaveLength(40);
    expect(folder.splits.validation).toHaveLength(10);
    expect(folder.validationSource).toBe("file");
    expect(folder.splits.train[1]).toEqual({ text: "dull and lifeless #1", label: 1 });

    // A single file without metadata: integer labels get transformers' names; validation is carved.
    const plain = join(dir, "plain.parquet");
    writeFileSync(plain, writeParquet(reviews(40)));
    const file = await loadDataset(plain, { textColumn: "sentence" });
    expect(file.id2label).toEqual(["LABEL_0", "LABEL_1"]);
    expect(file.splits.train.length + file.splits.validation.length).toBe(40);
    // Same bytes, same content hash; other bytes, another.
    expect((await loadDataset(plain, { textColumn: "sentence" })).contentHash).toBe(file.contentHash);
    expect(file.contentHash).not.toBe((await loadDataset(join(dir, "train.parquet"))).contentHash);
  });

  it("leaves out a test split whose labels are hidden (-1), as GLUE's on the Hub", async () => {
    const dir = tempDir("bertune-parquet-");
    writeFileSync(join(dir, "train.parquet"), writeParquet(reviews(20)));
    writeFileSync(join(dir, "test.parquet"), writeParquet(reviews(6, () => -1)));
    const d = await loadDataset(dir);
    expect(d.splits.test).toBeUndefined();
    writeFileSync(join(dir, "test.parquet"), writeParquet(reviews(6)));
    expect((await loadDataset(dir)).splits.test).toHaveLength(6);
  });

  it("names a damaged file and the column problems in one line", async () => {
    const dir = tempDir("bertune-parquet-");
    const bytes = writeParquet(reviews(20));
    writeFileSync(join(dir, "cut.parquet"), bytes.subarray(0, bytes.length - 30));
    const cut = await errorOf(loadDataset(join(dir, "cut.parquet")));
    expect(cut.message).toMatch(/cut\.parquet is not a readable Parquet file/);
    expect(cut.hint).toContain("bertune cache rm");

    writeFileSync(join(dir, "ok.parquet"), bytes);
    const col = await errorOf(loadDataset(join(dir, "ok.parquet"), { textColumn: "sentense" }));
    expect(col.message).toContain('no column "sentense"');
    expect(col.hint).toContain('Did you mean "sentence"?');

    const named = hfFeaturesMetadata({ sentence: "string", label: { names: ["neg", "pos"] } });
    writeFileSync(join(dir, "range.parquet"), writeParquet(reviews(10, (i) => i % 3), { keyValueMetadata: named }));
    const range = await errorOf(loadDataset(join(dir, "range.parquet")));
    expect(range.message).toMatch(/range\.parquet, row 3: unknown label "2"; .* has the labels 0=neg, 1=pos/);
  });
});

describe("damaged Parquet bytes", () => {
  it("mutated or truncated files parse or give a BertuneError, never another exception", async () => {
    const base = writeParquet(reviews(20), { keyValueMetadata: hfFeaturesMetadata({ idx: "int64", sentence: "string", label: { names: ["neg", "pos"] } }) });
    let seed = 20240611;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const tally = { ok: 0, rejected: 0 };
    for (let i = 0; i < 1500; i++) {
      let b = Buffer.from(base);
      if (i % 5 === 0) b = b.subarray(0, rnd(b.length));
      else for (let j = 1 + rnd(4); j > 0; j--) b[rnd(b.length)] = rnd(256);
      try {
        await parseParquet(new Uint8Array(b), "fuzz.parquet");
        tally.ok++;
      } catch (e) {
        if (!(e instanceof BertuneError)) throw e;
        expect(e.message).toMatch(/^fuzz\.parquet is not a readable Parquet file/);
        tally.rejected++;
      }
    }
    expect(tally.ok).toBeGreaterThan(100);
    expect(tally.rejected).toBeGreaterThan(100);
  });
});

describe("which Parquet files make each split", () => {
  it("follows the naming conventions of datasets and of the Hub's Parquet conversion", () => {
    expect(splitOfPath("data/train-00000-of-00002.parquet")).toBe("train");
    expect(splitOfPath("data/validation-00000-of-00001.parquet")).toBe("validation");
    expect(splitOfPath("plain_text/dev.parquet")).toBe("validation");
    expect(splitOfPath("default/partial-train/0000.parquet")).toBe("train");
    expect(splitOfPath("plain_text/unsupervised-00000-of-00001.parquet")).toBeUndefined();
    expect(globToRegExp("data/train-*").test("data/train-00000-of-00001.parquet")).toBe(true);
    expect(globToRegExp("data/train-*").test("data/x/train-0.parquet")).toBe(false);
    expect(globToRegExp("**/train/*.parquet").test("a/b/train/0.parquet")).toBe(true);
    expect(globToRegExp("**/train/*.parquet").test("train/0.parquet")).toBe(true);

    const repo = "org/ds";
    expect(pickParquetFiles(["README.md", "data/train-00001-of-00002.parquet", "data/train-00000-of-00002.parquet", "data/test-00000-of-00001.parquet"], { repo })).toEqual({
      files: { train: ["data/train-00000-of-00002.parquet", "data/train-00001-of-00002.parquet"], test: ["data/test-00000-of-00001.parquet"] },
    });
    const converted = ["plain_text/train/0000.parquet", "plain_text/test/0000.parquet", "plain_text/unsupervised/0000.parquet"];
    expect(pickParquetFiles(converted, { repo })).toEqual({ config: "plain_text", files: { train: ["plain_text/train/0000.parquet"], test: ["plain_text/test/0000.parquet"] } });

    const multi = ["cola/train/0000.parquet", "sst2/train/0000.parquet", "sst2/validation/0000.parquet"];
    expect(() => pickParquetFiles(multi, { repo })).toThrow(/several configurations \(cola, sst2\)/);
    expect(pickParquetFiles(multi, { repo, config: "sst2" }).files).toEqual({ train: ["sst2/train/0000.parquet"], validation: ["sst2/validation/0000.parquet"] });
    expect(() => pickParquetFiles(multi, { repo, config: "mnli" })).toThrow(/no configuration "mnli"; it has cola, sst2/);
    expect(pickParquetFiles(["README.md", "train.csv"], { repo })).toEqual({ files: {} });
  });

  it("follows the card's configs (data_files) first", () => {
    const cardData = {
      configs: [
        { config_name: "small", data_files: [{ split: "train", path: "small/tr-*" }, { split: "dev", path: ["small/d.parquet"] }] },
        { config_name: "big", default: true, data_files: [{ split: "train", path: "big/**" }] },
      ],
    };
    const files = ["small/tr-0.parquet", "small/tr-1.parquet", "small/d.parquet", "big/x/0.parquet", "big/1.parquet"];
    expect(pickParquetFiles(files, { repo: "o/d", cardData })).toEqual({ config: "big", files: { train: ["big/1.parquet", "big/x/0.parquet"] } });
    expect(pickParquetFiles(files, { repo: "o/d", cardData, config: "small" })).toEqual({
      config: "small",
      files: { train: ["small/tr-0.parquet", "small/tr-1.parquet"], validation: ["small/d.parquet"] },
    });
    // Data files that are not Parquet: nothing here (the caller then tries the Hub's conversion).
    expect(pickParquetFiles(["data/train.csv"], { repo: "o/d", cardData: { configs: [{ config_name: "default", data_files: "data/*.csv" }] } }).files).toEqual({});
  });
});

describe("Parquet in a folder with other formats", () => {
  it("a train.parquet is found like train.csv", async () => {
    const dir = join(tempDir("bertune-parquet-"), "mixed");
    mkdirSync(dir);
    writeFileSync(join(dir, "train.parquet"), writeParquet(reviews(12)));
    writeFileSync(join(dir, "dev.csv"), "idx,sentence,label\n0,fine,1\n1,bad,0\n");
    const d = await loadDataset(dir);
    expect(d.splits.train).toHaveLength(12);
    expect(d.splits.validation).toEqual([
      { text: "fine", label: 1 },
      { text: "bad", label: 0 },
    ]);
  });
});
