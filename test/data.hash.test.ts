import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadDataset } from "../src/data/index.js";
import { DATASETS, tempDir } from "./helpers/fixtures.js";

describe("contentHash", () => {
  it("is stable across loads and locations, and a sha256 hex digest", async () => {
    const a = await loadDataset("sst2");
    const b = await loadDataset("sst2");
    expect(a.contentHash).toMatch(/^[0-9a-f]{64}$/);
    expect(b.contentHash).toBe(a.contentHash);
    // The same bytes in another folder give the same hash (paths are not part of it).
    const dir = tempDir();
    copyFileSync(join(DATASETS, "sst2/train.tsv"), join(dir, "train.tsv"));
    copyFileSync(join(DATASETS, "sst2/dev.tsv"), join(dir, "dev.tsv"));
    const c = await loadDataset(dir);
    const d = await loadDataset(dir);
    expect(d.contentHash).toBe(c.contentHash);
    // ... but the built-in names its labels, which the folder cannot: a different label mapping.
    expect(c.contentHash).not.toBe(a.contentHash);
  });

  it("changes when any byte of any file changes", async () => {
    const dir = tempDir();
    const train = "text,label\nalpha,0\nbeta,1\ngamma,0\ndelta,1\n";
    writeFileSync(join(dir, "train.csv"), train);
    writeFileSync(join(dir, "dev.csv"), "text,label\nx,0\ny,1\n");
    const base = (await loadDataset(dir)).contentHash;
    expect((await loadDataset(dir)).contentHash).toBe(base);

    writeFileSync(join(dir, "train.csv"), train.replace("gamma", "gammA"));
    const edited = (await loadDataset(dir)).contentHash;
    expect(edited).not.toBe(base);

    writeFileSync(join(dir, "train.csv"), train);
    expect((await loadDataset(dir)).contentHash).toBe(base);
    writeFileSync(join(dir, "dev.csv"), "text,label\nx,0\ny,1\r\n");
    expect((await loadDataset(dir)).contentHash).not.toBe(base);
  });

  it("changes with the column and label options, and with the carve settings when carving", async () => {
    const dir = tempDir();
    const path = join(dir, "d.jsonl");
    writeFileSync(path, '{"text":"a","title":"t1","label":0,"other":1}\n{"text":"b","title":"t2","label":1,"other":0}\n{"text":"c","title":"t3","label":1,"other":0}\n');
    const base = (await loadDataset(path)).contentHash;
    expect((await loadDataset(path, { textColumn: "title" })).contentHash).not.toBe(base);
    expect((await loadDataset(path, { labelColumn: "other" })).contentHash).not.toBe(base);
    expect((await loadDataset(path, { textPairColumn: "title" })).contentHash).not.toBe(base);
    // Naming the columns that would be detected anyway is the same data.
    expect((await loadDataset(path, { textColumn: "text", labelColumn: "label" })).contentHash).toBe(base);
    expect((await loadDataset(path, { seed: 1 })).contentHash).not.toBe(base);
    expect((await loadDataset(path, { validationRatio: 0.5 })).contentHash).not.toBe(base);
    expect((await loadDataset(path, { encoding: "latin1" })).contentHash).not.toBe(base);
  });

  it("does not depend on the seed when validation comes from a file", async () => {
    const a = await loadDataset("sst2", { seed: 1 });
    const b = await loadDataset("sst2", { seed: 2 });
    expect(a.contentHash).toBe(b.contentHash);
    expect(readFileSync(join(DATASETS, "sst2/dev.tsv")).length).toBe(94415);
  });
});
