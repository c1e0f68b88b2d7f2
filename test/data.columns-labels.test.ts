import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isBertuneError } from "../src/errors.js";
import { closestMatch, levenshtein, loadDataset } from "../src/data/index.js";
import { encodeLabels } from "../src/data/labels.js";
import { carveValidation } from "../src/data/split.js";
import { tempDir } from "./helpers/fixtures.js";
import { errorOf } from "./helpers/errors.js";

function write(dir: string, name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** A folder with train/validation files so that no carving reorders the examples. */
function folder(files: Record<string, string>): string {
  const dir = tempDir();
  for (const [name, content] of Object.entries(files)) write(dir, name, content);
  return dir;
}

describe("columns", () => {
  it("suggests the closest column for a misspelled --label-column", async () => {
    const dir = tempDir();
    const path = write(dir, "d.csv", "text,label\na,0\nb,1\n");
    const e = await errorOf(loadDataset(path, { labelColumn: "lable" }));
    expect(e.message).toContain('no column "lable" (--label-column)');
    expect(e.message).toContain('"text", "label"');
    expect(e.hint).toContain('Did you mean "label"?');
    const t = await errorOf(loadDataset(path, { textColumn: "txet" }));
    expect(t.hint).toContain('Did you mean "text"?');
  });

  it("asks for --label-column when no label column is found", async () => {
    const dir = tempDir();
    const e = await errorOf(loadDataset(write(dir, "d.csv", "text,stars\na,0\nb,1\n")));
    expect(e.message).toContain("found no label column");
    expect(e.hint).toContain("--label-column");
    const d = await loadDataset(join(dir, "d.csv"), { labelColumn: "stars" });
    expect(d.columns).toEqual({ text: "text", label: "stars" });
  });

  it("detects the text column by name, else the first string column; options override", async () => {
    const review = folder({
      "train.csv": "id,review,sentiment\n1,great,pos\n2,awful,neg\n",
      "dev.csv": "id,review,sentiment\n3,fine,pos\n",
    });
    const d = await loadDataset(review);
    expect(d.columns).toEqual({ text: "review", label: "sentiment" });
    expect(d.splits.train).toEqual([{ text: "great", label: 1 }, { text: "awful", label: 0 }]);

    const unnamed = folder({ "train.csv": "id,body_text,target\n1,hello there,0\n2,bye now,1\n", "val.csv": "id,body_text,target\n3,x,1\n" });
    expect((await loadDataset(unnamed)).columns).toEqual({ text: "body_text", label: "target" });

    const trec = folder({ "train.jsonl": '{"text":"q1","coarse_label":0,"fine_label":3}\n{"text":"q2","coarse_label":1,"fine_label":7}\n', "test.jsonl": '{"text":"q3","coarse_label":1,"fine_label":3}\n' });
    const coarse = await loadDataset(trec);
    expect(coarse.columns.label).toBe("coarse_label");
    const fine = await loadDataset(trec, { labelColumn: "fine_label" });
    expect(fine.columns.label).toBe("fine_label");
    expect(fine.id2label).toEqual(["3", "7"]);
  });

  it("fills textPair for sentence pairs (sentence1/sentence2, premise/hypothesis, explicit)", async () => {
    const dir = folder({
      "train.csv": 'sentence1,sentence2,label\n"A man plays.","A person plays.",1\n"It rains.","The sun, shining.",0\n',
      "validation.csv": "sentence1,sentence2,label\nx,y,1\n",
    });
    const d = await loadDataset(dir);
    expect(d.columns).toEqual({ text: "sentence1", textPair: "sentence2", label: "label" });
    expect(d.splits.train).toEqual([
      { text: "A man plays.", textPair: "A person plays.", label: 1 },
      { text: "It rains.", textPair: "The sun, shining.", label: 0 },
    ]);
    expect(d.splits.validation).toEqual([{ text: "x", textPair: "y", label: 1 }]);
    // Giving the first column alone takes its partner too.
    expect((await loadDataset(dir, { textColumn: "sentence1" })).columns.textPair).toBe("sentence2");

    const nli = folder({ "train.jsonl": '{"premise":"p","hypothesis":"h","label":"entailment"}\n{"premise":"p2","hypothesis":"h2","label":"contradiction"}\n', "dev.jsonl": '{"premise":"p3","hypothesis":"h3","label":"entailment"}\n' });
    const n = await loadDataset(nli);
    expect(n.columns).toEqual({ text: "premise", textPair: "hypothesis", label: "label" });
    expect(n.id2label).toEqual(["contradiction", "entailment"]);
    expect(n.splits.train[0]).toEqual({ text: "p", textPair: "h", label: 1 });

    const explicit = folder({ "train.csv": "a,b,label\nx,y,0\nz,w,1\n" });
    const ex = await loadDataset(explicit, { textColumn: "a", textPairColumn: "b" });
    expect(ex.columns).toEqual({ text: "a", textPair: "b", label: "label" });
    expect([...ex.splits.train, ...ex.splits.validation].every((e) => e.textPair === (e.text === "x" ? "y" : "w"))).toBe(true);

    // A single text column has no pair.
    const single = folder({ "train.csv": "text,label\nx,0\ny,1\n" });
    expect("textPair" in (await loadDataset(single)).splits.train[0]).toBe(false);
  });

  it("requires validation and test files to have the train columns", async () => {
    const dir = folder({ "train.csv": "text,label\na,0\nb,1\n", "test.csv": "text,labels\nc,0\n" });
    const e = await errorOf(loadDataset(dir));
    expect(e.message).toContain('test.csv has no column "label"');
    expect(e.hint).toContain('Rename "labels" to "label"');
  });
});

describe("labels", () => {
  it("maps string labels to sorted unique names", async () => {
    const dir = folder({ "train.csv": "text,label\ngood,pos\nbad,neg\nok,pos\n", "dev.csv": "text,label\nmeh,neg\n" });
    const d = await loadDataset(dir);
    expect(d.id2label).toEqual(["neg", "pos"]);
    expect(d.splits.train.map((e) => e.label)).toEqual([1, 0, 1]);
    expect(d.splits.validation).toEqual([{ text: "meh", label: 0 }]);
  });

  it("infers the labels when a built-in is loaded with another label column", async () => {
    // Swapping the columns makes every sentence a class: the labels are inferred from train (not forced
    // through sst2's names), so the dev sentences fail as labels that train never has.
    const e = await errorOf(loadDataset("sst2", { labelColumn: "sentence", textColumn: "label" }));
    expect(e.message).toContain("dev.tsv, line 2");
    expect(e.message).toContain("never occurs in the train split");
  });

  it("names contiguous ints LABEL_i and other int sets by value", async () => {
    const contiguous = folder({ "train.csv": "text,label\na,2\nb,0\nc,1\n", "dev.csv": "text,label\nd,2\n" });
    const c = await loadDataset(contiguous);
    expect(c.id2label).toEqual(["LABEL_0", "LABEL_1", "LABEL_2"]);
    expect(c.splits.train.map((e) => e.label)).toEqual([2, 0, 1]);

    const stars = folder({ "train.jsonl": '{"text":"a","label":5}\n{"text":"b","label":1}\n{"text":"c","label":3}\n', "dev.jsonl": '{"text":"d","label":3}\n' });
    const s = await loadDataset(stars);
    expect(s.id2label).toEqual(["1", "3", "5"]);
    expect(s.splits.train.map((e) => e.label)).toEqual([2, 0, 1]);
    expect(s.splits.validation[0].label).toBe(1);
  });

  it("rejects a label that appears only in validation or test, naming the row", async () => {
    const dir = folder({ "train.csv": "text,label\na,pos\nb,neg\n", "test.csv": "text,label\nc,pos\nd,neutral\n" });
    const e = await errorOf(loadDataset(dir));
    expect(e.message).toContain("test.csv, line 3");
    expect(e.message).toContain('"neutral" never occurs in the train split');
  });

  it("rejects one-class data", async () => {
    const dir = tempDir();
    const e = await errorOf(loadDataset(write(dir, "one.csv", "text,label\na,pos\nb,pos\nc,pos\n")));
    expect(e.message).toContain("needs at least two classes");
    expect(e.message).toContain('"pos"');
  });

  it("rejects missing, empty and fractional labels with their line", async () => {
    const dir = tempDir();
    expect((await errorOf(loadDataset(write(dir, "a.csv", "text,label\na,1\nb,\n")))).message).toContain("line 3: the label is empty");
    expect((await errorOf(loadDataset(write(dir, "b.jsonl", '{"text":"a","label":1}\n{"text":"b"}\n')))).message).toContain("line 2: the label is missing");
    const single = { problemType: "single_label_classification" } as const;
    expect((await errorOf(loadDataset(write(dir, "c.jsonl", '{"text":"a","label":1}\n{"text":"b","label":0.5}\n'), single))).message).toContain("not a whole number");
    expect((await errorOf(loadDataset(write(dir, "d.jsonl", '{"text":"a","label":1}\n{"label":0}\n')))).message).toContain('line 2: the text column "text" is missing');
  });

  it.each([
    ["csv", "text,label\na,0\nb,1\nc,1.5\n", 4, "1.5"],
    ["tsv", "sentence\tlabel\na\t0\nb\t1\nc\t0.25\n", 4, "0.25"],
    ["txt", "0 a\n1 b\n\n-0.5 c\n", 4, "-0.5"],
    ["jsonl", '{"text":"a","label":0}\n{"text":"b","label":1}\n{"text":"c","label":"1.5"}\n', 3, "1.5"],
    ["jsonl", '{"text":"a","label":0}\n{"text":"b","label":1}\n{"text":"c","label":1.5}\n', 3, "1.5"],
    ["json", '[{"text":"a","label":0},{"text":"b","label":1},{"text":"c","label":2.5}]', 3, "2.5"],
  ])("reads fractional labels in a .%s file as regression, and refuses them for single-label, naming the line", async (ext, content, line, shown) => {
    const dir = tempDir();
    const path = write(dir, `data.${ext}`, content);
    const d = await loadDataset(path, { validationRatio: 0.34 });
    expect(d.problemType).toBe("regression");
    expect(d.problemTypeReason).toMatch(new RegExp(`the labels are numbers, not all whole \\(.*data\\.${ext}, (line|item) ${line}: ${shown.replace(".", "\\.")}\\)`));
    expect(d.id2label).toEqual(["LABEL_0"]);
    const values = [...d.splits.train, ...d.splits.validation].map((e) => (e.label as number[])[0]).sort((a, b) => a - b);
    expect(values).toEqual([0, 1, Number(shown)].sort((a, b) => a - b));
    const e = await errorOf(loadDataset(path, { problemType: "single_label_classification" }));
    expect(e.message).toMatch(new RegExp(`/data\\.${ext}, (line|item) ${line}: the label ${shown.replace(".", "\\.")} is not a whole number\\.$`));
    expect(e.hint).toContain("class ids");
    expect(e.hint).toContain("--problem-type regression");
  });

  it("still reads whole numbers written as 3.0 as ids, and other strings as names", async () => {
    const dir = tempDir();
    const ids = await loadDataset(write(dir, "ids.csv", "text,label\na,0.0\nb,1\nc,1.00\nd,0\n"), { validationRatio: 0.25 });
    expect(ids.id2label).toEqual(["LABEL_0", "LABEL_1"]);
    const names = await loadDataset(write(dir, "names.csv", "text,label\na,v1.5a\nb,1.5.2\nc,v1.5a\nd,1.5.2\n"), { validationRatio: 0.25 });
    expect(names.id2label).toEqual(["1.5.2", "v1.5a"]);
  });

  it("maps labels through registry names (ids or names), and rejects unknown ones", async () => {
    const known = ["negative", "positive"];
    const at = (value: unknown, line: number) => ({ value, where: `train.csv, line ${line}` });
    const byName = encodeLabels("sst2", { train: [at("positive", 2), at("Negative", 3)], test: [at("negative", 2)] }, known);
    expect(byName).toEqual({ id2label: known, ids: { train: [1, 0], validation: undefined, test: [0] } });
    const byId = encodeLabels("sst2", { train: [at("1", 2), at(0, 3)] }, known);
    expect(byId.ids.train).toEqual([1, 0]);
    const e = await errorOf(() => encodeLabels("sst2", { train: [at("positive", 2), at("neutral", 3)] }, known));
    expect(e.message).toBe('train.csv, line 3: unknown label "neutral"; sst2 has the labels 0=negative, 1=positive.');
    const e2 = await errorOf(() => encodeLabels("sst2", { train: [at(0, 2), at(2, 3)] }, known));
    expect(e2.message).toContain('line 3: unknown label "2"');
    // A registry data set with one class in train is rejected too.
    expect((await errorOf(() => encodeLabels("sst2", { train: [at(1, 2), at(1, 3)] }, known))).message).toContain(
      'the train split has a single class ("positive")',
    );
  });
});

describe("carving and helpers", () => {
  it("carves round(n * ratio), at least one, deterministically", () => {
    const items = Array.from({ length: 10 }, (_, i) => i);
    const a = carveValidation(items, 0.2, 42);
    expect(a.validation).toHaveLength(2);
    expect(a.train).toHaveLength(8);
    expect([...a.train, ...a.validation].sort((x, y) => x - y)).toEqual(items);
    expect(carveValidation(items, 0.2, 42)).toEqual(a);
    expect(carveValidation(items, 0.01, 42).validation).toHaveLength(1);
    expect(carveValidation([1, 2], 0.9, 0).validation).toHaveLength(1);
    expect(() => carveValidation([1], 0.1, 42)).toThrow(/Cannot carve/);
    expect(() => carveValidation(items, 1.5, 42)).toThrow(/between 0 and 1/);
  });

  it("levenshtein and closest name", () => {
    expect(levenshtein("lable", "label")).toBe(2);
    expect(levenshtein("kitten", "sitting")).toBe(3);
    expect(closestMatch("lable", ["text", "label"])).toBe("label");
    expect(closestMatch("zzzzzz", ["text", "label"])).toBeUndefined();
  });
});
