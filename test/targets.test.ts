import { describe, expect, it } from "vitest";
import type { RawLabel } from "../src/data/labels.js";
import { detectProblemType, encodeTargets, type TargetOptions } from "../src/data/targets.js";
import { refusal } from "./helpers/errors.js";

/*
 * src/data/targets.ts called directly: problem-type detection (and its reason strings), the
 * encoding of regression and multi-label targets, and every refusal (message and hint, exactly).
 */

/** Raw labels of one file, the first at line `first` (as a CSV with a header row). */
const at = (file: string, values: unknown[], first = 2): RawLabel[] => values.map((value, i) => ({ value, where: `${file}, line ${first + i}` }));

const SEP: TargetOptions = { separator: "," };


const REGRESSION_HINT = "Regression needs a number for every example; remove such rows, or pick the label column with --label-column.";
const COLUMN_HINT = "Give each label column 0 (absent) or 1 (present), or pass --problem-type regression for numeric targets.";
const ITEM_HINT = 'Multi-label rows hold a list of label ids or names, e.g. ["joy", "love"] or "joy,love" (see --label-separator).';
const MISSING_HINT = "Give every example its list of labels (an empty list when none applies).";
const UNSEEN_HINT = "Every label needs training examples: check the label column and --label-separator.";

describe("detectProblemType", () => {
  it("--problem-type wins over the built-in data set's task and the labels", () => {
    const o: TargetOptions = { ...SEP, problemType: "single_label_classification", knownProblemType: "regression" };
    expect(detectProblemType(at("t.csv", [1.5, 2.5]), o)).toEqual({ problemType: "single_label_classification", reason: "as given (--problem-type)" });
  });

  it("a built-in data set's task wins over the labels", () => {
    expect(detectProblemType(at("t.csv", [0, 1]), { ...SEP, knownProblemType: "multi_label_classification" })).toEqual({
      problemType: "multi_label_classification",
      reason: "the built-in data set's task",
    });
  });

  it("label columns holding only 0 and 1 (numbers, text, booleans) are multi-label", () => {
    // booleans count as 1 / 0, text cells are read as numbers ("1.0" is 1, " 0 " is 0)
    const rows = at("t.jsonl", [
      [0, 1, 1],
      ["1", "0", true],
      [false, " 0 ", "1.0"],
    ]);
    expect(detectProblemType(rows, { ...SEP, labelColumns: ["a", "b", "c"] })).toEqual({
      problemType: "multi_label_classification",
      reason: "3 label columns holding only 0 and 1",
    });
    expect(detectProblemType(at("t.csv", [[1, 1]]), { ...SEP, labelColumns: ["a", "b"] }).problemType).toBe("multi_label_classification");
    expect(detectProblemType(at("t.csv", [[0, 0]]), { ...SEP, labelColumns: ["a", "b"] }).problemType).toBe("multi_label_classification");
  });

  it("label columns with any other number are regression, even when a row is all 0/1", () => {
    const reason = "2 label columns holding numbers other than 0 and 1";
    // the first row is binary, the second holds 2
    expect(detectProblemType(at("t.csv", [[0, 1], [1, 2]]), { ...SEP, labelColumns: ["a", "b"] })).toEqual({ problemType: "regression", reason });
    // one row, one cell 0 and one 0.5: not every cell is 0/1
    expect(detectProblemType(at("t.csv", [[0, 0.5]]), { ...SEP, labelColumns: ["a", "b"] })).toEqual({ problemType: "regression", reason });
    expect(detectProblemType(at("t.csv", [[3, 4]]), { ...SEP, labelColumns: ["a", "b"] }).problemType).toBe("regression");
  });

  it("a list anywhere makes it multi-label; the reason names the first list", () => {
    expect(detectProblemType(at("t.jsonl", ["joy", ["joy", "love"], []]), SEP)).toEqual({
      problemType: "multi_label_classification",
      reason: "the labels are lists (t.jsonl, line 3)",
    });
  });

  it("numbers, one not whole, are regression; the reason names the first fraction, trimmed", () => {
    expect(detectProblemType(at("t.csv", [1, " 2.5 ", "3", 4.25]), SEP)).toEqual({
      problemType: "regression",
      reason: "the labels are numbers, not all whole (t.csv, line 3: 2.5)",
    });
  });

  it("whole numbers, names, or a fraction beside a name are single-label", () => {
    const single = { problemType: "single_label_classification", reason: "one class id or name per example" };
    expect(detectProblemType(at("t.csv", [0, "1", 2, "3.0"]), SEP)).toEqual(single);
    expect(detectProblemType(at("t.csv", ["neg", "pos"]), SEP)).toEqual(single);
    // 1.5 is a fraction, but "cat" is no number: not regression (encodeLabels then refuses 1.5)
    expect(detectProblemType(at("t.csv", [1.5, "cat"]), SEP)).toEqual(single);
  });
});

describe("encodeTargets: regression", () => {
  const reg: TargetOptions = { ...SEP, problemType: "regression" };

  it("reads the numbers of text cells, numbers and booleans; one target is LABEL_0", () => {
    const splits = {
      train: at("train.csv", [" 12.5 ", 3, true, false, "+1e5", "1E10", "3."]),
      validation: at("dev.csv", ["-2.5e-1", "1.5e+2"]),
      test: at("test.csv", [".25", "-.5"]),
    };
    expect(encodeTargets("scores", splits, reg)).toEqual({
      problemType: "regression",
      reason: "as given (--problem-type)",
      id2label: ["LABEL_0"],
      targets: {
        train: [[12.5], [3], [1], [0], [100000], [1e10], [3]],
        validation: [[-0.25], [150]],
        test: [[0.25], [-0.5]],
      },
    });
  });

  it("detected from fractions, without validation or test", () => {
    const e = encodeTargets("scores", { train: at("train.csv", [1.5, "2"]) }, SEP);
    expect(e.problemType).toBe("regression");
    expect(e.reason).toBe("the labels are numbers, not all whole (train.csv, line 2: 1.5)");
    expect(e.id2label).toEqual(["LABEL_0"]);
    expect(e.targets.train).toEqual([[1.5], [2]]);
    expect(e.targets.validation).toBeUndefined();
    expect(e.targets.test).toBeUndefined();
  });

  it("several label columns: one number per column, named by the columns", () => {
    const e = encodeTargets("stsb", { train: at("train.csv", [[1.5, "2"], [0, 3]]), validation: at("dev.csv", [[" 4 ", 0.25]]) }, { ...SEP, labelColumns: ["x", "y"] });
    expect(e).toEqual({
      problemType: "regression",
      reason: "2 label columns holding numbers other than 0 and 1",
      id2label: ["x", "y"],
      targets: { train: [[1.5, 2], [0, 3]], validation: [[4, 0.25]] },
    });
  });

  it("refuses a missing target: null, undefined, empty or blank text", () => {
    for (const v of [null, undefined, "", "   "]) {
      expect(refusal(() => encodeTargets("s", { train: at("train.csv", [1, 2]), validation: at("dev.csv", [0.5, v]) }, reg)), String(v)).toEqual({
        message: "dev.csv, line 3: the regression target is missing.",
        hint: REGRESSION_HINT,
      });
    }
  });

  it("refuses text that is not a decimal number (hex, overflow, words)", () => {
    // Number() would read "0x10" as 16, but a CSV cell 0x10 is no decimal number
    for (const v of ["0x10", "1e999", "abc", "1.5abc", "1 2", "e5", "."]) {
      expect(refusal(() => encodeTargets("s", { train: at("train.csv", [1.5, v]) }, reg)), v).toEqual({
        message: `train.csv, line 3: the regression target is "${v}", not a number.`,
        hint: REGRESSION_HINT,
      });
    }
  });

  it("refuses a number that is not finite (a Parquet float NaN or Infinity)", () => {
    for (const v of [NaN, -Infinity]) {
      expect(refusal(() => encodeTargets("s", { train: at("train.parquet", [1.5, v]) }, reg)).message).toBe(
        `train.parquet, line 3: the regression target is "${String(v)}", not a number.`,
      );
    }
  });

  it("with several label columns the refusal names the column; with one it does not", () => {
    const two: TargetOptions = { ...reg, labelColumns: ["x", "y"] };
    expect(refusal(() => encodeTargets("s", { train: at("train.csv", [[1, 2], [1, null]]) }, two))).toEqual({
      message: 'train.csv, line 3: the regression target "y" is missing.',
      hint: REGRESSION_HINT,
    });
    expect(refusal(() => encodeTargets("s", { train: at("train.csv", [["n/a", 2]]) }, two)).message).toBe(
      'train.csv, line 2: the regression target "x" is "n/a", not a number.',
    );
    expect(refusal(() => encodeTargets("s", { train: at("train.csv", [[null]]) }, { ...reg, labelColumns: ["x"] })).message).toBe(
      "train.csv, line 2: the regression target is missing.",
    );
  });
});

describe("encodeTargets: multi-label from 0/1 label columns", () => {
  it("one 0/1 per column, named by the columns", () => {
    const splits = {
      train: at("train.jsonl", [
        [1, 0, "1"],
        [true, false, " 0 "],
      ]),
      validation: at("dev.jsonl", [["0", "1", "0"]]),
    };
    expect(encodeTargets("tox", splits, { ...SEP, labelColumns: ["a", "b", "c"] })).toEqual({
      problemType: "multi_label_classification",
      reason: "3 label columns holding only 0 and 1",
      id2label: ["a", "b", "c"],
      targets: {
        train: [
          [1, 0, 1],
          [1, 0, 0],
        ],
        validation: [[0, 1, 0]],
      },
    });
  });

  it("with --problem-type multi_label_classification, refuses a cell that is not 0 or 1", () => {
    const o: TargetOptions = { ...SEP, problemType: "multi_label_classification", labelColumns: ["a", "b"] };
    const message = (v: unknown) => refusal(() => encodeTargets("tox", { train: at("train.csv", [[1, 0]]), test: at("test.csv", [[0, v]]) }, o)).message;
    for (const v of [null, undefined, ""]) {
      expect(message(v), String(v)).toBe('test.csv, line 2: the label column "b" holds nothing; one column per label must hold 0 or 1.');
    }
    expect(message(2)).toBe('test.csv, line 2: the label column "b" holds "2"; one column per label must hold 0 or 1.');
    expect(message(0.5)).toBe('test.csv, line 2: the label column "b" holds "0.5"; one column per label must hold 0 or 1.');
    expect(message("yes")).toBe('test.csv, line 2: the label column "b" holds "yes"; one column per label must hold 0 or 1.');
    expect(refusal(() => encodeTargets("tox", { train: at("train.csv", [[2, 0]]) }, o))).toEqual({
      message: 'train.csv, line 2: the label column "a" holds "2"; one column per label must hold 0 or 1.',
      hint: COLUMN_HINT,
    });
  });
});

describe("encodeTargets: multi-label from lists of labels", () => {
  it("names: sorted by code point, blanks between separators dropped, matched case-insensitively", () => {
    const splits = {
      // "love, ,fear" splits into "love", "", "fear": the empty one is no label
      train: at("train.jsonl", [["joy", "love"], "love, ,fear", [], "Zed"]),
      validation: at("dev.jsonl", [[" Joy "], "FEAR,zed"]),
      test: at("test.jsonl", [["love"]]),
    };
    expect(encodeTargets("emo", splits, SEP)).toEqual({
      problemType: "multi_label_classification",
      reason: "the labels are lists (train.jsonl, line 2)",
      // "Zed" (code point 90) sorts before lower-case names
      id2label: ["Zed", "fear", "joy", "love"],
      targets: {
        train: [
          [0, 0, 1, 1],
          [0, 1, 0, 1],
          [0, 0, 0, 0],
          [1, 0, 0, 0],
        ],
        validation: [
          [0, 0, 1, 0],
          [1, 1, 0, 0],
        ],
        test: [[0, 0, 0, 1]],
      },
    });
  });

  it("the separator is --label-separator's", () => {
    const e = encodeTargets("emo", { train: at("t.csv", ["joy;love", "joy,love"]) }, { separator: ";", problemType: "multi_label_classification" });
    expect(e.id2label).toEqual(["joy", "joy,love", "love"]);
    expect(e.targets.train).toEqual([
      [1, 0, 1],
      [0, 1, 0],
    ]);
  });

  it("ids 0..K-1 (numbers, lists, text) are named LABEL_k, in numeric order", () => {
    const e = encodeTargets("ids", { train: at("train.jsonl", [[2, 0], "1", 2]), validation: at("dev.jsonl", ["0,2"]) }, { ...SEP, problemType: "multi_label_classification" });
    expect(e.id2label).toEqual(["LABEL_0", "LABEL_1", "LABEL_2"]);
    expect(e.targets).toEqual({
      train: [
        [1, 0, 1],
        [0, 1, 0],
        [0, 0, 1],
      ],
      validation: [[1, 0, 1]],
    });
  });

  it("other sets of ids are named by their values, in numeric order (9 before 10)", () => {
    const e = encodeTargets("ids", { train: at("train.jsonl", [["10"], "9,10", [0]]) }, { ...SEP, problemType: "multi_label_classification" });
    expect(e.id2label).toEqual(["0", "9", "10"]);
    expect(e.targets.train).toEqual([
      [0, 0, 1],
      [0, 1, 1],
      [1, 0, 0],
    ]);
    // 0 and 2: 0 is in place, 2 is not, so the set is not 0..K-1
    const gap = encodeTargets("ids", { train: at("train.jsonl", [[2], [0, 2]]) }, { ...SEP, problemType: "multi_label_classification" });
    expect(gap.id2label).toEqual(["0", "2"]);
    expect(gap.targets.train).toEqual([
      [0, 1],
      [1, 1],
    ]);
  });

  it("ids beside names are all names", () => {
    const e = encodeTargets("mix", { train: at("train.jsonl", [["joy", 2], [0]]) }, SEP);
    expect(e.id2label).toEqual(["0", "2", "joy"]);
    expect(e.targets.train).toEqual([
      [0, 1, 1],
      [1, 0, 0],
    ]);
  });

  it("known names keep their order; names match case-insensitively", () => {
    const o: TargetOptions = { ...SEP, known: ["love", "anger", "joy"] };
    const e = encodeTargets("emo", { train: at("train.jsonl", [["joy"], ["LOVE", "anger"]]), validation: at("dev.jsonl", [["Joy"]]) }, o);
    expect(e.id2label).toEqual(["love", "anger", "joy"]);
    expect(e.targets).toEqual({
      train: [
        [0, 0, 1],
        [1, 1, 0],
      ],
      validation: [[0, 0, 1]],
    });
  });

  it("known names with ids: the ids index them", () => {
    const e = encodeTargets("emo", { train: at("train.jsonl", [[1], [0, 2]]) }, { ...SEP, known: ["a", "b", "c"] });
    expect(e.id2label).toEqual(["a", "b", "c"]);
    expect(e.targets.train).toEqual([
      [0, 1, 0],
      [1, 0, 1],
    ]);
  });

  it("refuses a label that is not an id or a name", () => {
    for (const [v, shown] of [
      [true, "true"],
      [0.5, "0.5"],
      [null, "null"],
      [{ a: 1 }, '{"a":1}'],
    ] as const) {
      expect(refusal(() => encodeTargets("emo", { train: at("train.jsonl", [["joy"], ["love", v]]) }, SEP)), shown).toEqual({
        message: `train.jsonl, line 3: the label ${shown} is not a label id or name.`,
        hint: ITEM_HINT,
      });
    }
  });

  it("refuses a whole label that is neither a list, a string nor an id (true, an object): never read as no labels", () => {
    for (const [v, shown] of [
      [true, "true"],
      [{ joy: 1 }, '{"joy":1}'],
    ] as const) {
      expect(refusal(() => encodeTargets("emo", { train: at("train.jsonl", [["joy"], v]) }, SEP)), shown).toEqual({
        message: `train.jsonl, line 3: the label ${shown} is not a label id or name.`,
        hint: ITEM_HINT,
      });
    }
  });

  it("refuses missing labels", () => {
    for (const v of [null, undefined]) {
      expect(refusal(() => encodeTargets("emo", { train: at("train.jsonl", [["joy"], v]) }, SEP)), String(v)).toEqual({
        message: "train.jsonl, line 3: the labels are missing.",
        hint: MISSING_HINT,
      });
    }
  });

  it("refuses a train split without any label", () => {
    expect(refusal(() => encodeTargets("emo", { train: at("train.jsonl", [[], "", " , "]), validation: at("dev.jsonl", [["joy"]]) }, SEP))).toEqual({
      message: "emo: no example of the train split has a label.",
      hint: "Check the label column (--label-column) and the separator (--label-separator).",
    });
  });

  it("refuses a label train never has: names, and ids (listed by value, not LABEL_k)", () => {
    expect(refusal(() => encodeTargets("emo", { train: at("train.jsonl", [["joy"], ["love"]]), validation: at("dev.jsonl", [["joy", "anger"]]) }, SEP))).toEqual({
      message: 'dev.jsonl, line 2: the label "anger" never occurs in the train split (whose labels are "joy", "love").',
      hint: UNSEEN_HINT,
    });
    expect(refusal(() => encodeTargets("ids", { train: at("train.jsonl", [[0], [1]]), test: at("test.jsonl", [[1], [5]]) }, SEP))).toEqual({
      message: 'test.jsonl, line 3: the label "5" never occurs in the train split (whose labels are "0", "1").',
      hint: UNSEEN_HINT,
    });
  });

  it("refuses a label outside the known ones: names, and ids out of range", () => {
    expect(refusal(() => encodeTargets("goemo", { train: at("train.jsonl", [["joy"], ["rage"]]) }, { ...SEP, known: ["joy", "love"] }))).toEqual({
      message: 'train.jsonl, line 3: unknown label "rage"; goemo has the labels "joy", "love".',
      hint: UNSEEN_HINT,
    });
    expect(refusal(() => encodeTargets("goemo", { train: at("train.jsonl", [[2]]) }, { ...SEP, known: ["a", "b"] })).message).toBe(
      'train.jsonl, line 2: unknown label "2"; goemo has the labels "a", "b".',
    );
  });
});

describe("encodeTargets: single-label", () => {
  it("is encodeLabels' class ids", () => {
    expect(encodeTargets("sst", { train: at("train.csv", ["pos", "neg"]), validation: at("dev.csv", ["neg"]) }, SEP)).toEqual({
      problemType: "single_label_classification",
      reason: "one class id or name per example",
      id2label: ["neg", "pos"],
      targets: { train: [1, 0], validation: [0] },
    });
  });

  it("refuses several label columns", () => {
    const o: TargetOptions = { ...SEP, problemType: "single_label_classification", labelColumns: ["a", "b"] };
    expect(refusal(() => encodeTargets("sst", { train: at("train.csv", [[0, 1]]) }, o))).toEqual({
      message: "sst: single-label classification reads one label column, but --label-columns names 2.",
      hint: "Pass one column with --label-column, or --problem-type multi_label_classification / regression.",
    });
  });
});
