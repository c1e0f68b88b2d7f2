import { BertuneError } from "../errors.js";
import { quoteList } from "./suggest.js";

/** A raw label as found in a row, with where it came from (for messages). */
export interface RawLabel {
  value: unknown;
  /** "train.csv, line 12" */
  where: string;
}

type Parsed = { kind: "int"; value: number; text: string } | { kind: "str"; text: string };

/** A decimal number as text: "1.5", "-0.25", ".5", "2e-1" (what a CSV, TSV or TXT file holds for a score). */
const DECIMAL = /^[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?$/;

/**
 * The one place a number that is not a whole number is refused as a label, whatever the format (a JSON
 * 0.5 or the text "0.5" of a CSV cell): it is a score, not a class. A regression task would accept it here.
 */
function fractionalLabel(raw: RawLabel, shown: string): never {
  throw new BertuneError(
    `${raw.where}: the label ${shown} is not a whole number.`,
    "Single-label classification needs class ids (0, 1, ...) or class names; for scores pass --problem-type regression.",
  );
}

/** Integers (also "3", "3.0" from CSV) are ids; other strings are names; fractions and anything else are errors. */
function parseLabel(raw: RawLabel): Parsed {
  const v = raw.value;
  if (typeof v === "number") {
    if (Number.isInteger(v)) return { kind: "int", value: v, text: String(v) };
    return fractionalLabel(raw, String(v));
  }
  if (typeof v === "boolean") return { kind: "str", text: String(v) };
  if (typeof v === "string") {
    const t = v.trim();
    if (t === "") {
      throw new BertuneError(`${raw.where}: the label is empty.`, "Give every example a label, or remove unlabelled rows.");
    }
    if (/^[+-]?\d+(\.0+)?$/.test(t)) return { kind: "int", value: Number.parseInt(t, 10), text: t };
    if (DECIMAL.test(t) && !Number.isInteger(Number(t))) return fractionalLabel(raw, t);
    return { kind: "str", text: t };
  }
  if (v === null || v === undefined) {
    throw new BertuneError(`${raw.where}: the label is missing.`, "Give every example a label, or remove unlabelled rows.");
  }
  throw new BertuneError(
    `${raw.where}: the label is ${Array.isArray(v) ? "a list" : "an object"}, not a class id or name.`,
    "Single-label classification needs one class id or name per example; for lists of labels pass --problem-type multi_label_classification.",
  );
}

/** Sorts strings by code point, as Python's sorted() does. */
export function codePointCompare(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let k = 0; k < Math.min(x.length, y.length); k++) {
    const d = (x[k].codePointAt(0) ?? 0) - (y[k].codePointAt(0) ?? 0);
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

export interface LabelEncoding {
  id2label: string[];
  /** Label ids of each split, in row order. */
  ids: { train: number[]; validation?: number[]; test?: number[] };
}

export interface LabelSplits {
  train: RawLabel[];
  validation?: RawLabel[];
  test?: RawLabel[];
}

/**
 * Turns raw labels into ids.
 * - With `known` names (a registry entry): ids must be in range and names must be among them.
 * - Otherwise, integers 0..K-1 are kept and named LABEL_0.. (as transformers does); other integer sets are
 *   mapped in sorted order and named by their values; strings are mapped in sorted order (as datasets'
 *   class_encode_column does). A label in validation or test that train never has is an error.
 * The train split must hold at least two classes.
 */
export function encodeLabels(dataset: string, splits: LabelSplits, known?: readonly string[]): LabelEncoding {
  const parsed = {
    train: splits.train.map(parseLabel),
    validation: splits.validation?.map(parseLabel),
    test: splits.test?.map(parseLabel),
  };
  const all = [...parsed.train, ...(parsed.validation ?? []), ...(parsed.test ?? [])];
  const intMode = all.every((p) => p.kind === "int");

  let id2label: string[];
  let lookup: (p: Parsed, raw: RawLabel) => number;

  if (known !== undefined) {
    id2label = [...known];
    const lower = new Map(known.map((name, id) => [name.toLowerCase(), id]));
    lookup = (p, raw) => {
      if (intMode && p.kind === "int") {
        if (p.value >= 0 && p.value < known.length) return p.value;
      } else {
        const id = known.indexOf(p.text);
        if (id >= 0) return id;
        const loose = lower.get(p.text.toLowerCase());
        if (loose !== undefined) return loose;
      }
      throw new BertuneError(
        `${raw.where}: unknown label "${p.text}"; ${dataset} has the labels ${known
          .map((name, id) => `${id}=${name}`)
          .join(", ")}.`,
        "Use a class id from 0 to " + (known.length - 1) + " or one of those names, or load the file by its path to infer the labels.",
      );
    };
  } else {
    const map = new Map<string, number>();
    if (intMode) {
      const values = [...new Set(parsed.train.map((p) => (p as { value: number }).value))].sort((a, b) => a - b);
      const contiguous = values.every((v, k) => v === k);
      id2label = values.map((v) => (contiguous ? `LABEL_${v}` : String(v)));
      values.forEach((v, id) => map.set(String(v), id));
    } else {
      id2label = [...new Set(parsed.train.map((p) => p.text))].sort(codePointCompare);
      id2label.forEach((name, id) => map.set(name, id));
    }
    lookup = (p, raw) => {
      const id = map.get(p.kind === "int" && intMode ? String(p.value) : p.text);
      if (id !== undefined) return id;
      throw new BertuneError(
        `${raw.where}: the label "${p.text}" never occurs in the train split (whose labels are ${quoteList(
          intMode ? [...map.keys()] : id2label,
        )}).`,
        "Every class needs training examples: check the label column, or move such examples into train.",
      );
    };
  }

  const encode = (ps: Parsed[] | undefined, raws: RawLabel[] | undefined): number[] | undefined =>
    ps && raws ? ps.map((p, k) => lookup(p, raws[k])) : undefined;

  const train = encode(parsed.train, splits.train) ?? [];
  const classes = new Set(train);
  if (classes.size < 2 && train.length > 0) {
    throw new BertuneError(
      `${dataset}: the train split has a single class ("${id2label[train[0]]}"); a classifier needs at least two classes.`,
      "Check that --label-column names the label column, and that the data has examples of every class.",
    );
  }
  return {
    id2label,
    ids: { train, validation: encode(parsed.validation, splits.validation), test: encode(parsed.test, splits.test) },
  };
}
