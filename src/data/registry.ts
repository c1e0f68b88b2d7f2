import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ProblemType } from "../problem-type.js";
import type { SplitName } from "./types.js";

/** What the Hub holds for a built-in data set (recorded for reading it from the Hub later). */
export interface HubInfo {
  repo: string;
  /** The Hub data set's configuration, when it has several (nyu-mll/glue: stsb, mrpc, ...). */
  config?: string;
  /** Split name → number of rows, as on the Hub. */
  splits: Record<string, number>;
  /** Column names, as on the Hub. */
  columns: string[];
  textColumn: string;
  labelColumn: string;
  /** The Hub's class names in id order (may differ from the bundled copy's id2label). */
  labelNames: string[];
  notes?: string;
}

export interface RegistryEntry {
  description: string;
  hub: HubInfo;
  /** The bundled copies: split → path relative to datasets/. */
  files: Partial<Record<SplitName, string>>;
  columns: { text: string; textPair?: string; label: string };
  id2label: string[];
  /** Default single_label_classification. */
  problemType?: ProblemType;
  license: string;
  citation: string;
}

export type Registry = Record<string, RegistryEntry>;

let root: string | undefined;
let registry: Registry | undefined;

/** The package root: the nearest folder above this module holding package.json (src/data or dist/data). */
export function packageRoot(): string {
  if (root !== undefined) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "package.json"))) return (root = dir);
    const up = dirname(dir);
    if (up === dir) throw new Error(`bertune: no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

/** The folder of bundled data sets and registry.json. */
export function datasetsDir(): string {
  return join(packageRoot(), "datasets");
}

/** datasets/registry.json, read once. A broken registry is a packaging bug, so a plain Error. */
export function loadRegistry(): Registry {
  if (registry !== undefined) return registry;
  const path = join(datasetsDir(), "registry.json");
  const parsed = JSON.parse(readFileSync(path, "utf8")) as Registry;
  for (const [name, e] of Object.entries(parsed)) {
    if (
      typeof e?.description !== "string" ||
      typeof e.files?.train !== "string" ||
      typeof e.columns?.text !== "string" ||
      typeof e.columns?.label !== "string" ||
      !Array.isArray(e.id2label) ||
      e.id2label.length < (e.problemType === "regression" ? 1 : 2)
    ) {
      throw new Error(`bertune: ${path}: entry "${name}" is malformed`);
    }
  }
  return (registry = parsed);
}

/** The built-in data set names, in registry order. */
export function builtinDatasetNames(): string[] {
  return Object.keys(loadRegistry());
}

/** The registry entry for a name (ignoring case, and "-" for "_"), or undefined. */
export function findBuiltin(name: string): { name: string; entry: RegistryEntry } | undefined {
  const reg = loadRegistry();
  const key = name.trim().toLowerCase().replace(/-/g, "_");
  const hit = Object.keys(reg).find((n) => n === key || n.replace(/_/g, "") === key.replace(/_/g, ""));
  return hit !== undefined ? { name: hit, entry: reg[hit] } : undefined;
}
