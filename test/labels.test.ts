import { describe, expect, it } from "vitest";
import { encodeLabels, type RawLabel } from "../src/data/labels.js";

const raw = (values: unknown[], file = "train.csv"): RawLabel[] => values.map((value, i) => ({ value, where: `${file}, line ${i + 2}` }));
/** The BertuneError a call throws: its message and hint. */
function failure(f: () => unknown): { message: string; hint?: string } {
  try {
    f();
  } catch (e) {
    return { message: (e as Error).message, hint: (e as { hint?: string }).hint };
  }
  throw new Error("expected an error");
}

describe("encodeLabels: ids from raw labels, as datasets' class_encode_column and transformers name them", () => {
  it("keeps integer ids 0..K-1 (numbers, or strings such as '1', '+1', '1.0', '1.00', ' 1 ') and names them LABEL_k", () => {
    const enc = encodeLabels("d", { train: raw([1, "0", " 2 ", "+1", "1.0", "2.00"]), validation: raw([0, "2"]) });
    expect(enc.id2label).toEqual(["LABEL_0", "LABEL_1", "LABEL_2"]);
    expect(enc.ids).toEqual({ train: [1, 0, 2, 1, 1, 2], validation: [0, 2], test: undefined });
  });

  it("maps other integer sets in numeric order, named by their values (two-digit and negative ones too)", () => {
    expect(encodeLabels("d", { train: raw([0, 2, 2]) }).id2label).toEqual(["0", "2"]); // not contiguous from 0
    const enc = encodeLabels("d", { train: raw([10, 3, -2, "10", 3]), test: raw([-2]) });
    expect(enc.id2label).toEqual(["-2", "3", "10"]);
    expect(enc.ids.train).toEqual([2, 1, 0, 2, 1]);
    expect(enc.ids.test).toEqual([0]);
  });

  it("treats anything else as names, in code-point order: non-integers, booleans, mixed sets, digits among letters", () => {
    expect(encodeLabels("d", { train: raw(["1.5x", "2", "x3", "3x", "1e3"]) }).id2label).toEqual(["1.5x", "1e3", "2", "3x", "x3"]);
    expect(encodeLabels("d", { train: raw([true, false, true]) })).toEqual({ id2label: ["false", "true"], ids: { train: [1, 0, 1], validation: undefined, test: undefined } });
    // A prefix sorts first; code points above U+FFFF sort after U+FFFF (UTF-16 units would not).
    expect(encodeLabels("d", { train: raw(["ab", "a", "\u{1F600}", "\uFFFF"]) }).id2label).toEqual(["a", "ab", "\uFFFF", "\u{1F600}"]);
    expect(encodeLabels("d", { train: raw(["b", " a ", "b"]) }).ids.train).toEqual([1, 0, 1]);
  });

  it("with a registry's names: ids in range, names exact or in any case", () => {
    const known = ["negative", "positive"];
    expect(encodeLabels("sst2", { train: raw([0, 1, "1"]) }, known)).toEqual({ id2label: known, ids: { train: [0, 1, 1], validation: undefined, test: undefined } });
    expect(encodeLabels("sst2", { train: raw(["positive", "NEGATIVE", " Positive "]) }, known).ids.train).toEqual([1, 0, 1]);
    // An exact name wins over a case-insensitive match.
    expect(encodeLabels("d", { train: raw(["a", "A", "a"]) }, ["a", "A"]).ids.train).toEqual([0, 1, 0]);
    const out = failure(() => encodeLabels("sst2", { train: raw([0, 2]) }, known));
    expect(out.message).toBe('train.csv, line 3: unknown label "2"; sst2 has the labels 0=negative, 1=positive.');
    expect(out.hint).toBe("Use a class id from 0 to 1 or one of those names, or load the file by its path to infer the labels.");
    expect(failure(() => encodeLabels("sst2", { train: raw([-1, 0]) }, known)).message).toMatch(/unknown label "-1"/);
    // Ids among names are looked up as names.
    expect(failure(() => encodeLabels("sst2", { train: raw(["positive", 0]) }, known)).message).toBe('train.csv, line 3: unknown label "0"; sst2 has the labels 0=negative, 1=positive.');
  });

  it("refuses labels it cannot use, saying where and why", () => {
    expect(failure(() => encodeLabels("d", { train: raw([0, 0.5]) }))).toEqual({
      message: "train.csv, line 3: the label 0.5 is not a whole number.",
      hint: "Single-label classification needs class ids (0, 1, ...) or class names; for scores pass --problem-type regression.",
    });
    expect(failure(() => encodeLabels("d", { train: raw(["a", " 1.5 "]) })).message).toBe("train.csv, line 3: the label 1.5 is not a whole number.");
    for (const text of ["12.5", ".25", "0.5e0", "25e-1", "2.5e+0", "125e-12", "-0.5"]) {
      expect(failure(() => encodeLabels("d", { train: raw(["a", text]) })).message, text).toBe(`train.csv, line 3: the label ${text} is not a whole number.`);
    }
    expect(failure(() => encodeLabels("d", { train: raw(["a", "  "]) }))).toEqual({ message: "train.csv, line 3: the label is empty.", hint: "Give every example a label, or remove unlabelled rows." });
    expect(failure(() => encodeLabels("d", { train: raw(["a", null]) }))).toEqual({ message: "train.csv, line 3: the label is missing.", hint: "Give every example a label, or remove unlabelled rows." });
    expect(failure(() => encodeLabels("d", { train: raw(["a", undefined]) })).message).toBe("train.csv, line 3: the label is missing.");
    expect(failure(() => encodeLabels("d", { train: raw(["a", [1]]) }))).toEqual({
      message: "train.csv, line 3: the label is a list, not a class id or name.",
      hint: "Single-label classification needs one class id or name per example; for lists of labels pass --problem-type multi_label_classification.",
    });
    expect(failure(() => encodeLabels("d", { train: raw(["a", { x: 1 }]) })).message).toBe("train.csv, line 3: the label is an object, not a class id or name.");
  });

  it("refuses a validation or test label that train never has, and a train split with one class", () => {
    expect(failure(() => encodeLabels("d", { train: raw(["a", "b"]), validation: raw(["c"], "dev.csv") }))).toEqual({
      message: 'dev.csv, line 2: the label "c" never occurs in the train split (whose labels are "a", "b").',
      hint: "Every class needs training examples: check the label column, or move such examples into train.",
    });
    expect(failure(() => encodeLabels("d", { train: raw([0, 1]), test: raw([2], "test.csv") })).message).toBe('test.csv, line 2: the label "2" never occurs in the train split (whose labels are "0", "1").');
    expect(failure(() => encodeLabels("d", { train: raw(["a", "a"]) }))).toEqual({
      message: 'd: the train split has a single class ("a"); a classifier needs at least two classes.',
      hint: "Check that --label-column names the label column, and that the data has examples of every class.",
    });
    expect(encodeLabels("d", { train: [] })).toEqual({ id2label: [], ids: { train: [], validation: undefined, test: undefined } });
  });
});
