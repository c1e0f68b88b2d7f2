import { BertuneError } from "../errors.js";
import type { ProblemType } from "../problem-type.js";
import { codePointCompare, encodeLabels, type LabelSplits, type RawLabel } from "./labels.js";
import { quoteList } from "./suggest.js";

/**
 * The targets of a data set for each problem type, and which problem type the labels ask for.
 * Single-label classification is encodeLabels' (class ids); here are the sets of labels of
 * multi-label classification (multi-hot rows, as transformers' float `labels`) and the numbers of
 * regression.
 */
export interface TargetOptions {
  /** Given by the user (--problem-type): wins over everything. */
  problemType?: ProblemType;
  /** A built-in data set's problem type. */
  knownProblemType?: ProblemType;
  /** Label names in id order from the registry or a Parquet ClassLabel. */
  known?: readonly string[];
  /** Multi-label text cells: the separator between labels. */
  separator: string;
  /** One column per label (0/1) or per target (numbers): each raw value is then the row's list of cells. */
  labelColumns?: string[];
}

export interface TargetEncoding {
  problemType: ProblemType;
  reason: string;
  id2label: string[];
  targets: { train: (number | number[])[]; validation?: (number | number[])[]; test?: (number | number[])[] };
}

const NUMBER = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/;

/** A number, or a text cell that holds one; undefined otherwise. */
function numeric(v: unknown): number | undefined {
  if (typeof v === "number") return Number.isFinite(v) ? v : undefined;
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "string" && NUMBER.test(v)) {
    const x = Number(v);
    return Number.isFinite(x) ? x : undefined; // "1e999" overflows: not a usable number
  }
  return undefined;
}

const isZeroOne = (v: unknown): boolean => {
  const x = numeric(v);
  return x === 0 || x === 1;
};

/** The problem type, and why: given, the data set's own, or read from the labels. */
export function detectProblemType(all: readonly RawLabel[], o: TargetOptions): { problemType: ProblemType; reason: string } {
  if (o.problemType !== undefined) return { problemType: o.problemType, reason: "as given (--problem-type)" };
  if (o.knownProblemType !== undefined) return { problemType: o.knownProblemType, reason: "the built-in data set's task" };
  if (o.labelColumns !== undefined) {
    const binary = all.every((r) => (r.value as unknown[]).every(isZeroOne));
    return binary
      ? { problemType: "multi_label_classification", reason: `${o.labelColumns.length} label columns holding only 0 and 1` }
      : { problemType: "regression", reason: `${o.labelColumns.length} label columns holding numbers other than 0 and 1` };
  }
  const list = all.find((r) => Array.isArray(r.value));
  if (list !== undefined) return { problemType: "multi_label_classification", reason: `the labels are lists (${list.where})` };
  const fraction = all.find((r) => {
    const x = numeric(r.value);
    return x !== undefined && !Number.isInteger(x);
  });
  if (fraction !== undefined && all.every((r) => numeric(r.value) !== undefined)) {
    return { problemType: "regression", reason: `the labels are numbers, not all whole (${fraction.where}: ${String(fraction.value).trim()})` };
  }
  return { problemType: "single_label_classification", reason: "one class id or name per example" };
}

/** Turns raw labels into each split's targets for the problem type (detected unless given). */
export function encodeTargets(dataset: string, splits: LabelSplits, o: TargetOptions): TargetEncoding {
  const all = [...splits.train, ...(splits.validation ?? []), ...(splits.test ?? [])];
  const { problemType, reason } = detectProblemType(all, o);
  if (problemType === "single_label_classification") {
    if (o.labelColumns !== undefined) {
      throw new BertuneError(
        `${dataset}: single-label classification reads one label column, but --label-columns names ${o.labelColumns.length}.`,
        "Pass one column with --label-column, or --problem-type multi_label_classification / regression.",
      );
    }
    const enc = encodeLabels(dataset, splits, o.known);
    return { problemType, reason, id2label: enc.id2label, targets: enc.ids };
  }
  const enc = problemType === "regression" ? encodeRegression(splits, o) : encodeMultiLabel(dataset, splits, o);
  return { problemType, reason, ...enc };
}

function encodeRegression(splits: LabelSplits, o: TargetOptions): Pick<TargetEncoding, "id2label" | "targets"> {
  const width = o.labelColumns?.length ?? 1;
  const row = (raw: RawLabel): number[] => {
    const cells = o.labelColumns !== undefined ? (raw.value as unknown[]) : [raw.value];
    return cells.map((v, k) => {
      const x = numeric(v);
      if (x !== undefined) return x;
      const what = v === null || v === undefined || (typeof v === "string" && v.trim() === "") ? "missing" : `"${String(v)}", not a number`;
      throw new BertuneError(
        `${raw.where}: the regression target${width > 1 ? ` "${o.labelColumns![k]}"` : ""} is ${what}.`,
        "Regression needs a number for every example; remove such rows, or pick the label column with --label-column.",
      );
    });
  };
  const map = (raws: RawLabel[] | undefined) => raws?.map(row);
  return {
    // transformers names a single regression output LABEL_0.
    id2label: o.labelColumns ?? ["LABEL_0"],
    targets: { train: map(splits.train) ?? [], validation: map(splits.validation), test: map(splits.test) },
  };
}

type Item = { kind: "int"; value: number } | { kind: "str"; text: string };

function encodeMultiLabel(dataset: string, splits: LabelSplits, o: TargetOptions): Pick<TargetEncoding, "id2label" | "targets"> {
  if (o.labelColumns !== undefined) {
    const cols = o.labelColumns;
    const row = (raw: RawLabel): number[] =>
      (raw.value as unknown[]).map((v, k) => {
        if (isZeroOne(v)) return numeric(v)!;
        throw new BertuneError(
          `${raw.where}: the label column "${cols[k]}" holds ${v === null || v === undefined || v === "" ? "nothing" : `"${String(v)}"`}; one column per label must hold 0 or 1.`,
          "Give each label column 0 (absent) or 1 (present), or pass --problem-type regression for numeric targets.",
        );
      });
    const map = (raws: RawLabel[] | undefined) => raws?.map(row);
    return { id2label: [...cols], targets: { train: map(splits.train) ?? [], validation: map(splits.validation), test: map(splits.test) } };
  }

  const items = (raw: RawLabel): Item[] => {
    const v = raw.value;
    if (v === null || v === undefined) {
      throw new BertuneError(`${raw.where}: the labels are missing.`, "Give every example its list of labels (an empty list when none applies).");
    }
    // A lone number is one label id; anything else that is not a list or a string (true, an object) is
    // refused below as one label that is neither an id nor a name, never read as "no labels".
    const cells: unknown[] = Array.isArray(v) ? v : typeof v === "string" ? v.split(o.separator).map((s) => s.trim()).filter((s) => s !== "") : [v];
    return cells.map((c) => {
      const x = typeof c === "string" ? numeric(c) : c;
      if (typeof x === "number" && Number.isInteger(x)) return { kind: "int", value: x };
      if (typeof c === "string") return { kind: "str", text: c.trim() };
      throw new BertuneError(
        `${raw.where}: the label ${JSON.stringify(c)} is not a label id or name.`,
        "Multi-label rows hold a list of label ids or names, e.g. [\"joy\", \"love\"] or \"joy,love\" (see --label-separator).",
      );
    });
  };
  const parsed = { train: splits.train.map(items), validation: splits.validation?.map(items), test: splits.test?.map(items) };
  const everything = [...parsed.train, ...(parsed.validation ?? []), ...(parsed.test ?? [])].flat();
  const intMode = everything.every((i) => i.kind === "int");
  const key = (i: Item): string => (i.kind === "int" && intMode ? String(i.value) : i.kind === "int" ? String(i.value) : i.text);

  let id2label: string[];
  const ids = new Map<string, number>();
  if (o.known !== undefined) {
    id2label = [...o.known];
    if (intMode) id2label.forEach((_, id) => ids.set(String(id), id));
    else id2label.forEach((name, id) => ids.set(name, id));
  } else if (intMode) {
    const values = [...new Set(parsed.train.flat().map((i) => (i as { value: number }).value))].sort((a, b) => a - b);
    const contiguous = values.every((v, k) => v === k);
    id2label = values.map((v) => (contiguous ? `LABEL_${v}` : String(v)));
    values.forEach((v, id) => ids.set(String(v), id));
  } else {
    id2label = [...new Set(parsed.train.flat().map(key))].sort(codePointCompare);
    id2label.forEach((name, id) => ids.set(name, id));
  }
  const lower = new Map([...ids].map(([name, id]) => [name.toLowerCase(), id]));
  if (id2label.length === 0) {
    throw new BertuneError(`${dataset}: no example of the train split has a label.`, "Check the label column (--label-column) and the separator (--label-separator).");
  }

  const encode = (rows: Item[][] | undefined, raws: RawLabel[] | undefined): number[][] | undefined =>
    rows?.map((list, r) => {
      const hot = new Array<number>(id2label.length).fill(0);
      for (const item of list) {
        const id = ids.get(key(item)) ?? lower.get(key(item).toLowerCase());
        if (id === undefined) {
          throw new BertuneError(
            o.known !== undefined
              ? `${raws![r].where}: unknown label "${key(item)}"; ${dataset} has the labels ${quoteList(id2label)}.`
              : `${raws![r].where}: the label "${key(item)}" never occurs in the train split (whose labels are ${quoteList(intMode ? [...ids.keys()] : id2label)}).`,
            "Every label needs training examples: check the label column and --label-separator.",
          );
        }
        hot[id] = 1;
      }
      return hot;
    });
  return {
    id2label,
    targets: { train: encode(parsed.train, splits.train) ?? [], validation: encode(parsed.validation, splits.validation), test: encode(parsed.test, splits.test) },
  };
}
