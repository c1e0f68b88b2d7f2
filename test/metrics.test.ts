import { describe, expect, it } from "vitest";
import { BertuneError } from "../src/errors.js";
import { classificationReport } from "../src/metrics/classification.js";
import { formatReport } from "../src/metrics/format.js";

/*
 * Hand-computed 3-class case (labels cat=0, dog=1, bird=2):
 *   yTrue = [0,0,0,0, 1,1,1, 2,2,2]
 *   yPred = [0,0,1,2, 1,1,0, 2,2,1]
 * Confusion matrix [true][pred]:
 *   cat  [2, 1, 1]   support 4
 *   dog  [1, 2, 0]   support 3
 *   bird [0, 1, 2]   support 3
 * Column sums (predicted counts): cat 3, dog 4, bird 3.
 *   cat : P = 2/3, R = 2/4, F1 = 2*2/(3+4) = 4/7
 *   dog : P = 2/4, R = 2/3, F1 = 4/7
 *   bird: P = 2/3, R = 2/3, F1 = 2/3
 * accuracy = 6/10; macro P = (2/3 + 1/2 + 2/3)/3 = 11/18; macro R = 11/18;
 * macro F1 = (4/7 + 4/7 + 2/3)/3 = 38/63.
 */
const LABELS = ["cat", "dog", "bird"];
const Y_TRUE = [0, 0, 0, 0, 1, 1, 1, 2, 2, 2];
const Y_PRED = [0, 0, 1, 2, 1, 1, 0, 2, 2, 1];

describe("classificationReport", () => {
  it("matches the hand-computed 3-class report", () => {
    const r = classificationReport(Y_TRUE, Y_PRED, LABELS);
    expect(r.numExamples).toBe(10);
    expect(r.confusionMatrix).toEqual([
      [2, 1, 1],
      [1, 2, 0],
      [0, 1, 2],
    ]);
    expect(r.accuracy).toBeCloseTo(0.6, 12);
    const [cat, dog, bird] = r.perClass;
    expect(cat.label).toBe("cat");
    expect(cat.precision).toBeCloseTo(2 / 3, 12);
    expect(cat.recall).toBeCloseTo(0.5, 12);
    expect(cat.f1).toBeCloseTo(4 / 7, 12);
    expect(cat.support).toBe(4);
    expect(dog.precision).toBeCloseTo(0.5, 12);
    expect(dog.recall).toBeCloseTo(2 / 3, 12);
    expect(dog.f1).toBeCloseTo(4 / 7, 12);
    expect(dog.support).toBe(3);
    expect(bird.precision).toBeCloseTo(2 / 3, 12);
    expect(bird.recall).toBeCloseTo(2 / 3, 12);
    expect(bird.f1).toBeCloseTo(2 / 3, 12);
    expect(bird.support).toBe(3);
    expect(r.macroPrecision).toBeCloseTo(11 / 18, 12);
    expect(r.macroRecall).toBeCloseTo(11 / 18, 12);
    expect(r.macroF1).toBeCloseTo(38 / 63, 12);
  });

  it("gives a perfect score for perfect predictions", () => {
    const r = classificationReport([0, 1, 1, 0], [0, 1, 1, 0], ["neg", "pos"]);
    expect(r.accuracy).toBe(1);
    expect(r.macroF1).toBe(1);
    expect(r.confusionMatrix).toEqual([
      [2, 0],
      [0, 2],
    ]);
  });

  it("uses zero_division=0 for a class that is never predicted", () => {
    // true [0,0,1,1], pred [0,0,0,0]: class 1 never predicted → precision 0 (not NaN).
    // class 0: P = 2/4, R = 1, F1 = 2/3; class 1: P = 0, R = 0, F1 = 0.
    const r = classificationReport([0, 0, 1, 1], [0, 0, 0, 0], ["a", "b"]);
    expect(r.perClass[1]).toEqual({ label: "b", precision: 0, recall: 0, f1: 0, support: 2 });
    expect(r.perClass[0].precision).toBeCloseTo(0.5, 12);
    expect(r.perClass[0].recall).toBe(1);
    expect(r.perClass[0].f1).toBeCloseTo(2 / 3, 12);
    expect(r.macroPrecision).toBeCloseTo(0.25, 12);
    expect(r.macroRecall).toBeCloseTo(0.5, 12);
    expect(r.macroF1).toBeCloseTo(1 / 3, 12);
    expect(r.accuracy).toBe(0.5);
  });

  it("includes a class absent from yTrue in the macro averages", () => {
    // Class 2 ("c") has no true examples. Once predicted (a false positive): P = 0, R = 0 (zero_division), F1 = 0.
    // a: tp 1, predicted 1, support 2 → P 1, R 1/2, F1 2/3
    // b: tp 1, predicted 1, support 1 → P 1, R 1, F1 1
    // c: tp 0, predicted 1, support 0 → 0, 0, 0
    const r = classificationReport([0, 0, 1], [0, 2, 1], ["a", "b", "c"]);
    expect(r.perClass[2]).toEqual({ label: "c", precision: 0, recall: 0, f1: 0, support: 0 });
    expect(r.macroPrecision).toBeCloseTo(2 / 3, 12);
    expect(r.macroRecall).toBeCloseTo(1.5 / 3, 12);
    expect(r.macroF1).toBeCloseTo((2 / 3 + 1) / 3, 12);
    expect(r.confusionMatrix[2]).toEqual([0, 0, 0]);
    expect(r.confusionMatrix.map((row) => row[2])).toEqual([1, 0, 0]);
  });

  it("rejects empty input, mismatched lengths and out-of-range labels", () => {
    expect(() => classificationReport([], [], ["a", "b"])).toThrow(BertuneError);
    expect(() => classificationReport([], [], ["a", "b"])).toThrow(/empty/);
    expect(() => classificationReport([0, 1], [0], ["a", "b"])).toThrow(/2 true labels but 1 predictions/);
    expect(() => classificationReport([0, 2], [0, 1], ["a", "b"])).toThrow(/true label at position 1 is 2/);
    expect(() => classificationReport([0, 1], [0, -1], ["a", "b"])).toThrow(/predicted label at position 1/);
    expect(() => classificationReport([0, 1], [0, 0.5], ["a", "b"])).toThrow(BertuneError);
    expect(() => classificationReport([0], [0], [])).toThrow(BertuneError);
  });
});

describe("formatReport", () => {
  const report = classificationReport(Y_TRUE, Y_PRED, LABELS);
  const text = formatReport(report, { title: "eval (epoch 1)" });

  it("shows the title, label names and numbers with 4 decimals", () => {
    expect(text.startsWith("eval (epoch 1)\n")).toBe(true);
    for (const name of LABELS) expect(text).toContain(name);
    expect(text).toMatch(/precision\s+recall\s+f1-score\s+support/);
    expect(text).toMatch(/cat\s+0\.6667\s+0\.5000\s+0\.5714\s+4\n/);
    expect(text).toMatch(/dog\s+0\.5000\s+0\.6667\s+0\.5714\s+3\n/);
    expect(text).toMatch(/bird\s+0\.6667\s+0\.6667\s+0\.6667\s+3\n/);
    expect(text).toMatch(/accuracy\s+0\.6000\s+10\n/);
    expect(text).toMatch(/macro avg\s+0\.6111\s+0\.6111\s+0\.6032\s+10\n/);
    // sklearn's weighted avg row: P 37/60, R 0.6, F1 0.6 (see test/metrics.problem-types.test.ts)
    expect(text).toMatch(/weighted avg\s+0\.6167\s+0\.6000\s+0\.6000\s+10\n/);
    expect(text).toContain("matthews correlation (MCC): 0.4091");
    expect(text).not.toContain("binary (positive class");
  });

  it("prints the confusion matrix with label names as headers, rows = true", () => {
    const lines = text.split("\n");
    const at = lines.findIndex((l) => l.startsWith("confusion matrix"));
    expect(at).toBeGreaterThan(0);
    const header = lines.slice(at + 1).find((l) => l.trim().length > 0)!;
    expect(header.trim().split(/\s{2,}/)).toEqual(["true \\ pred", "cat", "dog", "bird"]);
    const rows = lines.slice(lines.indexOf(header) + 1, lines.indexOf(header) + 4).map((l) => l.trim().split(/\s+/));
    expect(rows).toEqual([
      ["cat", "2", "1", "1"],
      ["dog", "1", "2", "0"],
      ["bird", "0", "1", "2"],
    ]);
  });

  it("is a fixed-width table: the metric columns line up", () => {
    const lines = text.split("\n");
    const rowLines = lines.filter((l) => /^\s*(cat|dog|bird|macro avg|weighted avg)\s+\d\.\d{4}/.test(l));
    expect(rowLines).toHaveLength(5);
    const ends = new Set(rowLines.map((l) => l.length));
    expect(ends.size).toBe(1);
    expect(formatReport(report)).not.toContain("eval (epoch 1)");
  });

  it("handles long label names", () => {
    const r = classificationReport([0, 1], [0, 1], ["a-very-long-label-name", "x"]);
    const t = formatReport(r);
    expect(t).toContain("a-very-long-label-name");
    expect(t).toMatch(/a-very-long-label-name\s+1\.0000\s+1\.0000\s+1\.0000\s+1\n/);
  });
});
