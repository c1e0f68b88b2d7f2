import { BertuneError } from "../errors.js";
import { closestMatch, quoteList } from "./suggest.js";
import type { Table } from "./table.js";

export interface ColumnChoice {
  text: string;
  textPair?: string;
  /** The label column, or the label columns joined by commas when `labelColumns` is set. */
  label: string;
  /** One column per label (multi-label, 0/1) or per target (regression). */
  labelColumns?: string[];
}

/** Column names asked for, and where each request came from (an option's flag or the registry). */
export interface ColumnRequest {
  text?: string;
  textPair?: string;
  label?: string;
  labelColumns?: string[];
}

/** Names tried, in order, for the text column. */
export const TEXT_COLUMNS = [
  "sentence",
  "text",
  "review",
  "content",
  "question",
  "sentence1",
  "premise",
  "document",
  "body",
  "comment",
  "tweet",
  "utterance",
] as const;

/** Names tried, in order, for the label column. */
export const LABEL_COLUMNS = [
  "label",
  "labels",
  "class",
  "category",
  "sentiment",
  "target",
  "coarse_label",
] as const;

/** Known first/second text column partners (GLUE's task_to_keys and friends). */
export const PAIR_COLUMNS: readonly (readonly [string, string])[] = [
  ["sentence1", "sentence2"],
  ["question1", "question2"],
  ["premise", "hypothesis"],
  ["question", "sentence"],
  ["text", "text_pair"],
  ["text1", "text2"],
];

const FLAGS = { text: "--text-column", textPair: "--text-pair-column", label: "--label-column", labelColumns: "--label-columns" } as const;

/** The column named `name`, exactly or else ignoring case (when that is unambiguous). */
export function findColumn(columns: readonly string[], name: string): string | undefined {
  if (columns.includes(name)) return name;
  const lower = name.toLowerCase();
  const hits = columns.filter((c) => c.toLowerCase() === lower);
  return hits.length === 1 ? hits[0] : undefined;
}

function requireColumn(table: Table, name: string, role: keyof typeof FLAGS): string {
  const found = findColumn(table.columns, name);
  if (found !== undefined) return found;
  const guess = closestMatch(name, table.columns);
  throw new BertuneError(
    `${table.file} has no column "${name}" (${FLAGS[role]}); its columns are ${quoteList(table.columns)}.`,
    guess !== undefined ? `Did you mean "${guess}"? Pass ${FLAGS[role]} ${guess}.` : `Pass ${FLAGS[role]} with one of those names.`,
  );
}

function looksNumeric(v: unknown): boolean {
  if (typeof v === "number") return true;
  return typeof v === "string" && /^\s*[+-]?\d+(\.\d+)?\s*$/.test(v);
}

/** The first column (not excluded) whose values look like text rather than numbers. */
function firstStringColumn(table: Table, exclude: Set<string>): string | undefined {
  const sample = table.rows.slice(0, 100);
  return table.columns.find((c) => {
    if (exclude.has(c)) return false;
    const values = sample.map((r) => r.values[c]).filter((v) => v !== undefined && v !== null);
    return values.length > 0 && values.every((v) => typeof v === "string") && !values.every(looksNumeric);
  });
}

/**
 * Picks the text, optional pair and label columns of the train table. Explicit requests win and must
 * exist; otherwise the known names are tried (a known sentence pair first, e.g. sentence1 + sentence2).
 */
export function resolveColumns(table: Table, request: ColumnRequest): ColumnChoice {
  const cols = table.columns;
  let label: string | undefined;
  let labelColumns: string[] | undefined;
  if (request.labelColumns !== undefined) {
    labelColumns = request.labelColumns.map((c) => requireColumn(table, c, "labelColumns"));
    if (new Set(labelColumns).size !== labelColumns.length) {
      throw new BertuneError(`--label-columns names a column twice (${labelColumns.join(", ")}).`, "Name each label column once.");
    }
    label = labelColumns.join(",");
  } else if (request.label !== undefined) label = requireColumn(table, request.label, "label");
  else {
    for (const name of LABEL_COLUMNS) if ((label = findColumn(cols, name)) !== undefined) break;
    if (label === undefined) {
      throw new BertuneError(
        `${table.file}: found no label column among ${quoteList(cols)}.`,
        `Pass --label-column with the name of the column that holds the labels (the first line is read as the header).`,
      );
    }
  }

  let text: string | undefined;
  let textPair: string | undefined;
  if (request.text !== undefined) text = requireColumn(table, request.text, "text");
  if (request.textPair !== undefined) textPair = requireColumn(table, request.textPair, "textPair");

  if (text === undefined) {
    if (textPair === undefined) {
      for (const [first, second] of PAIR_COLUMNS) {
        const a = findColumn(cols, first);
        const b = findColumn(cols, second);
        if (a !== undefined && b !== undefined && a !== label && b !== label) {
          text = a;
          textPair = b;
          break;
        }
      }
    }
    if (text === undefined) {
      for (const name of TEXT_COLUMNS) {
        const c = findColumn(cols, name);
        if (c !== undefined && c !== label && c !== textPair && !labelColumns?.includes(c)) {
          text = c;
          break;
        }
      }
    }
    text ??= firstStringColumn(table, new Set([label, ...(labelColumns ?? []), ...(textPair !== undefined ? [textPair] : [])]));
    if (text === undefined) {
      throw new BertuneError(
        `${table.file}: found no text column among ${quoteList(cols)}.`,
        "Pass --text-column with the name of the column that holds the text.",
      );
    }
  } else if (textPair === undefined) {
    // A text column given without its pair: take the partner when the data has it.
    const lower = text.toLowerCase();
    const pair = PAIR_COLUMNS.find(([first]) => first === lower);
    const partner = pair && findColumn(cols, pair[1]);
    if (partner !== undefined && partner !== label) textPair = partner;
  }

  const labels = labelColumns ?? [label];
  if (labels.includes(text) || (textPair !== undefined && labels.includes(textPair)) || text === textPair) {
    throw new BertuneError(
      `${table.file}: the same column "${text === textPair ? text : labels.includes(text) ? text : textPair}" was chosen for two roles.`,
      "Pass --text-column, --text-pair-column and --label-column with different columns.",
    );
  }
  const choice: ColumnChoice = textPair !== undefined ? { text, textPair, label } : { text, label };
  if (labelColumns !== undefined) choice.labelColumns = labelColumns;
  return choice;
}

/** Checks that another split's table has the columns chosen from train. */
export function checkColumns(table: Table, choice: ColumnChoice, trainFile: string): void {
  const names = [choice.text, choice.textPair, ...(choice.labelColumns ?? [choice.label])];
  for (const name of names) {
    if (name === undefined || table.columns.includes(name)) continue;
    const guess = closestMatch(name, table.columns);
    throw new BertuneError(
      `${table.file} has no column "${name}" (found in ${trainFile}); its columns are ${quoteList(table.columns)}.`,
      guess !== undefined
        ? `Rename "${guess}" to "${name}" so that every split has the same columns.`
        : "Every split needs the same text and label columns.",
    );
  }
}
