import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isBertuneError } from "../src/errors.js";
import { builtinDatasetNames, datasetsDir, loadDataset, loadRegistry, type Example } from "../src/data/index.js";
import { sha256File } from "../src/util/hash.js";
import { DATASETS, ROOT } from "./helpers/fixtures.js";
import { errorOf } from "./helpers/errors.js";

function counts(examples: Example[], k: number): number[] {
  const c = new Array<number>(k).fill(0);
  for (const e of examples) c[e.label]++;
  return c;
}

describe("registry", () => {
  it("lists the eight built-in data sets, found from the package root", () => {
    expect(datasetsDir()).toBe(join(ROOT, "datasets"));
    expect(builtinDatasetNames()).toEqual(["sst2", "rotten_tomatoes", "subj", "trec", "imdb", "goemotions", "stsb", "mrpc"]);
    const reg = loadRegistry();
    expect(reg.sst2.hub.repo).toBe("stanfordnlp/sst2");
    expect(reg.sst2.hub.columns).toEqual(["idx", "sentence", "label"]);
    expect(Object.keys(reg.sst2.hub.splits)).toEqual(["train", "validation", "test"]);
    expect(reg.rotten_tomatoes.hub.repo).toBe("cornell-movie-review-data/rotten_tomatoes");
    expect(reg.subj.hub.repo).toBe("SetFit/subj");
    expect(reg.trec.hub.repo).toBe("CogComp/trec");
    expect(reg.trec.hub.columns).toEqual(["text", "coarse_label", "fine_label"]);
    expect(reg.imdb.hub.repo).toBe("stanfordnlp/imdb");
    expect(reg.subj.id2label).toEqual(["subjective", "objective"]);
    expect(reg.trec.id2label).toEqual(["DESC", "ENTY", "ABBR", "HUM", "LOC", "NUM"]);
    for (const e of Object.values(reg)) {
      expect(e.license.length).toBeGreaterThan(0);
      expect(e.citation.length).toBeGreaterThan(0);
    }
  });

  it("bundles byte-for-byte copies of the fixtures, with the checksums their SOURCE.md lists", async () => {
    for (const [name, entry] of Object.entries(loadRegistry())) {
      const source = readFileSync(join(datasetsDir(), name, "SOURCE.md"), "utf8");
      expect(source).toBe(readFileSync(join(DATASETS, name, "SOURCE.md"), "utf8"));
      for (const rel of Object.values(entry.files)) {
        const file = rel!.split("/").pop()!;
        const digest = await sha256File(join(datasetsDir(), rel!));
        expect(digest).toBe(await sha256File(join(DATASETS, name, file)));
        expect(source).toContain(`| ${file} |`);
        expect(source).toContain(digest);
      }
    }
  });

  it("rejects an unknown name, suggesting the closest built-in", async () => {
    const e = await errorOf(loadDataset("sst3"));
    expect(e.message).toContain('"sst3"');
    expect(e.hint).toContain('Did you mean "sst2"?');
    expect(e.hint).toContain("rotten_tomatoes");
    const e2 = await errorOf(loadDataset("rotten-tomatos"));
    expect(e2.hint).toContain('"rotten_tomatoes"');
  });

  it("accepts names ignoring case and - for _", async () => {
    const d = await loadDataset("SST-2");
    expect(d.name).toBe("sst2");
  });
});

describe("built-in data sets", () => {
  it("goemotions: multi-label, 28 emotions in labels.txt order, each row a multi-hot row", async () => {
    const d = await loadDataset("goemotions");
    expect(d.problemType).toBe("multi_label_classification");
    expect(d.problemTypeReason).toBe("the built-in data set's task");
    expect(d.splits.train).toHaveLength(43410);
    expect(d.splits.validation).toHaveLength(5426);
    expect(d.id2label).toHaveLength(28);
    expect([d.id2label[0], d.id2label[16], d.id2label[27]]).toEqual(["admiration", "grief", "neutral"]);
    // Rows with 1 / 2 / 3 / 4 / 5 labels in train: 36,308 / 6,541 / 532 / 28 / 1 (SOURCE.md).
    const counts = [0, 0, 0, 0, 0, 0];
    for (const e of d.splits.train) counts[(e.label as number[]).reduce((a, b) => a + b, 0)]++;
    expect(counts).toEqual([0, 36308, 6541, 532, 28, 1]);
    // The rarest labels: grief 77, pride 111.
    const support = (name: string) => d.splits.train.filter((e) => (e.label as number[])[d.id2label.indexOf(name)] === 1).length;
    expect([support("grief"), support("pride")]).toEqual([77, 111]);
    const first = JSON.parse(readFileSync(join(DATASETS, "goemotions/train.jsonl"), "utf8").split("\n")[0]);
    expect(d.splits.train[0].text).toBe(first.text);
    expect((d.splits.train[0].label as number[]).map((v, j) => (v ? d.id2label[j] : "")).filter(Boolean)).toEqual(first.labels);
    expect(d.source).toContain("google-research-datasets/go_emotions");
  });

  it("stsb: sentence-pair regression with float scores 0-5, named LABEL_0 as transformers does", async () => {
    const d = await loadDataset("stsb");
    expect(d.problemType).toBe("regression");
    expect(d.columns).toEqual({ text: "sentence1", textPair: "sentence2", label: "label" });
    expect(d.splits.train).toHaveLength(5749);
    expect(d.splits.validation).toHaveLength(1500);
    expect(d.id2label).toEqual(["LABEL_0"]);
    expect(d.splits.train[1]).toEqual({ text: "A man is playing a large flute.", textPair: "A man is playing a flute.", label: [3.8] });
    const ys = d.splits.train.map((e) => (e.label as number[])[0]);
    expect(Math.min(...ys)).toBe(0);
    expect(Math.max(...ys)).toBe(5);
  });

  it("mrpc: sentence-pair classification with GLUE's label names, validation carved", async () => {
    const d = await loadDataset("mrpc");
    expect(d.problemType).toBe("single_label_classification");
    expect(d.id2label).toEqual(["not_equivalent", "equivalent"]);
    expect(d.validationSource).toBe("carved");
    expect(d.splits.train.length + d.splits.validation.length).toBe(4076);
    const all = [...d.splits.train, ...d.splits.validation];
    expect(all.filter((e) => e.label === 1)).toHaveLength(2753);
    expect(all.every((e) => typeof e.textPair === "string")).toBe(true);
  });

  it("sst2: train and dev files, registry label names", async () => {
    const d = await loadDataset("sst2");
    expect(d.name).toBe("sst2");
    expect(d.source).toContain("stanfordnlp/sst2");
    expect(d.validationSource).toBe("file");
    expect(d.splits.train).toHaveLength(6920);
    expect(d.splits.validation).toHaveLength(872);
    expect(d.splits.test).toBeUndefined();
    expect(d.id2label).toEqual(["negative", "positive"]);
    expect(d.columns).toEqual({ text: "sentence", label: "label" });

    const lines = readFileSync(join(DATASETS, "sst2/train.tsv"), "utf8").split("\n");
    expect(lines[0]).toBe("sentence\tlabel");
    const [text, label] = lines[1].split("\t");
    expect(d.splits.train[0]).toEqual({ text, label: Number(label) });
    expect(d.splits.train[0].text).toBe(
      "a stirring , funny and finally transporting re-imagining of beauty and the beast and 1930s horror films",
    );
    expect(d.splits.train[0].label).toBe(1);
    const [lastText, lastLabel] = lines[6920].split("\t");
    expect(d.splits.train[6919]).toEqual({ text: lastText, label: Number(lastLabel) });
    expect(counts(d.splits.train, 2)).toEqual([3310, 3610]);
    expect(counts(d.splits.validation, 2)).toEqual([428, 444]);
  });

  it("rotten_tomatoes: carved validation of 1066 with seed 42, deterministic, disjoint", async () => {
    const a = await loadDataset("rotten_tomatoes");
    expect(a.validationSource).toBe("carved");
    expect(a.splits.train.length + a.splits.validation.length).toBe(10662);
    expect(a.splits.validation).toHaveLength(1066);
    expect(a.splits.train).toHaveLength(9596);
    expect(a.id2label).toEqual(["negative", "positive"]);
    expect(counts([...a.splits.train, ...a.splits.validation], 2)).toEqual([5331, 5331]);

    const again = await loadDataset("rotten_tomatoes", { seed: 42 });
    expect(again.splits.validation).toEqual(a.splits.validation);
    expect(again.splits.train).toEqual(a.splits.train);

    const other = await loadDataset("rotten_tomatoes", { seed: 7 });
    expect(other.splits.validation).toHaveLength(1066);
    expect(other.splits.validation).not.toEqual(a.splits.validation);

    const ratio = await loadDataset("rotten_tomatoes", { validationRatio: 0.25 });
    expect(ratio.splits.validation).toHaveLength(Math.round(10662 * 0.25));
  });

  it("rotten_tomatoes: train and validation partition the file's rows, without overlap", async () => {
    const d = await loadDataset("rotten_tomatoes");
    const rows = readFileSync(join(DATASETS, "rotten_tomatoes/all.csv"), "utf8")
      .split("\r\n")
      .slice(1)
      .filter((l) => l !== "")
      .map((l) => {
        // Independent of the reader under test: one record a line here, the label after the last comma.
        const field = l.slice(0, l.lastIndexOf(","));
        const text = field.startsWith('"') ? field.slice(1, -1).replaceAll('""', '"') : field;
        return `${l.slice(l.lastIndexOf(",") + 1)}\t${text}`;
      });
    expect(rows).toHaveLength(10662);
    const key = (e: Example) => `${e.label}\t${e.text}`;
    const sorted = (xs: string[]) => [...xs].sort();
    // Together the two splits hold exactly the file's rows (as a multiset) ...
    expect(sorted([...d.splits.train, ...d.splits.validation].map(key))).toEqual(sorted(rows));
    // ... and a sentence that occurs once in the file is never in both.
    const once = new Map<string, number>();
    for (const r of rows) once.set(r, (once.get(r) ?? 0) + 1);
    const train = new Set(d.splits.train.map(key));
    const shared = d.splits.validation.map(key).filter((k) => once.get(k) === 1 && train.has(k));
    expect(shared).toEqual([]);
    // Each part keeps file order.
    const position = new Map(rows.map((r, i) => [r, i]));
    for (const part of [d.splits.train, d.splits.validation]) {
      const idx = part.map(key).filter((k) => once.get(k) === 1).map((k) => position.get(k)!);
      expect(idx.every((v, i) => i === 0 || v > idx[i - 1])).toBe(true);
    }
  });

  it("trec: six labels with the file's counts before carving, test split kept", async () => {
    const d = await loadDataset("trec");
    expect(d.id2label).toEqual(["DESC", "ENTY", "ABBR", "HUM", "LOC", "NUM"]);
    expect(d.validationSource).toBe("carved");
    expect(counts([...d.splits.train, ...d.splits.validation], 6)).toEqual([1162, 1250, 86, 1223, 835, 896]);
    expect(d.splits.validation).toHaveLength(545);
    expect(d.splits.test).toHaveLength(500);
    expect(counts(d.splits.test!, 6)).toEqual([138, 94, 9, 65, 81, 113]);
  });

  it("imdb: long reviews, extra fields ignored, validation carved from train", async () => {
    const d = await loadDataset("imdb");
    expect(d.splits.train).toHaveLength(1800);
    expect(d.splits.validation).toHaveLength(200);
    expect(d.splits.test).toHaveLength(2000);
    expect(counts(d.splits.test!, 2)).toEqual([1000, 1000]);
    const first = JSON.parse(readFileSync(join(DATASETS, "imdb/test.jsonl"), "utf8").split("\n")[0]);
    expect(d.splits.test![0]).toEqual({ text: first.text, label: first.label });
    expect(Object.keys(d.splits.test![0])).toEqual(["text", "label"]);
  });

  it("subj: 10000 sentences, registry names", async () => {
    const d = await loadDataset("subj");
    expect(d.splits.train.length + d.splits.validation.length).toBe(10000);
    expect(d.splits.validation).toHaveLength(1000);
    expect(d.id2label).toEqual(["subjective", "objective"]);
  });

  it("a fixture folder with a single data file loads it as train", async () => {
    const d = await loadDataset(join(DATASETS, "rotten_tomatoes"));
    expect(d.name).toBe("rotten_tomatoes");
    expect(d.source).toBe(join(DATASETS, "rotten_tomatoes"));
    expect(d.id2label).toEqual(["LABEL_0", "LABEL_1"]);
    expect(d.splits.validation).toHaveLength(1066);
  });

  it("a fixture folder with dev.tsv uses it as validation", async () => {
    const d = await loadDataset(join(DATASETS, "sst2"));
    expect(d.validationSource).toBe("file");
    expect(d.splits.validation).toHaveLength(872);
    expect(d.id2label).toEqual(["LABEL_0", "LABEL_1"]);
  });
});
