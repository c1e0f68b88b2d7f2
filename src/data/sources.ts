import { readdir, stat } from "node:fs/promises";
import { basename, extname, isAbsolute, join, resolve, sep } from "node:path";
import { BertuneError } from "../errors.js";
import { DATA_EXTENSIONS, formatOf } from "./readers.js";
import { builtinDatasetNames, datasetsDir, findBuiltin, type RegistryEntry } from "./registry.js";
import { closestMatch } from "./suggest.js";
import { SPLIT_NAMES, type SplitName } from "./types.js";

export interface DataFile {
  split: SplitName;
  /** Absolute path. */
  path: string;
  /** The name shown in messages: the path as the user gave it, or the absolute path of a bundled file. */
  display: string;
}

export interface ResolvedSource {
  name: string;
  source: string;
  /** In the order train, validation, test. */
  files: DataFile[];
  builtin?: { name: string; entry: RegistryEntry };
}

/** File stems recognised in a data folder, per split. */
const STEMS: Record<SplitName, readonly string[]> = {
  train: ["train"],
  validation: ["validation", "valid", "val", "dev"],
  test: ["test"],
};

function looksLikePath(spec: string): boolean {
  return spec.includes("/") || spec.includes(sep) || spec.startsWith(".") || isAbsolute(spec) || extname(spec) !== "";
}

/**
 * Resolves what loadDataset was given: a built-in name (a bare name in the registry; write ./name for a
 * local folder of that name), a data file (loaded as train), or a folder of train.* / validation.* /
 * dev.* / val.* / test.* files.
 */
export async function resolveSource(spec: string): Promise<ResolvedSource> {
  const trimmed = spec.trim();
  if (trimmed === "") {
    throw new BertuneError("No data set given.", `Pass a built-in name (${builtinDatasetNames().join(", ")}) or a path.`);
  }
  const builtin = looksLikePath(trimmed) ? undefined : findBuiltin(trimmed);
  if (builtin !== undefined) return fromRegistry(builtin);

  const path = resolve(trimmed);
  const info = await stat(path).catch(() => undefined);
  if (info === undefined) throw unknownSpec(trimmed);
  if (info.isDirectory()) return fromFolder(trimmed, path);
  return {
    name: basename(path),
    source: path,
    files: [{ split: "train", path, display: trimmed }],
  };
}

function unknownSpec(spec: string): BertuneError {
  const names = builtinDatasetNames();
  const guess = looksLikePath(spec) ? undefined : closestMatch(spec, names);
  return new BertuneError(
    `"${spec}" is neither a built-in data set nor an existing file or folder.`,
    (guess !== undefined ? `Did you mean "${guess}"? ` : "") +
      `Built-in data sets: ${names.join(", ")}; or pass a path to a ${DATA_EXTENSIONS.join("/")} file or a folder holding train.* (and validation.*/dev.*, test.*).`,
  );
}

async function fromRegistry(builtin: { name: string; entry: RegistryEntry }): Promise<ResolvedSource> {
  const dir = datasetsDir();
  const files: DataFile[] = [];
  for (const split of SPLIT_NAMES) {
    const rel = builtin.entry.files[split];
    if (rel === undefined) continue;
    const path = join(dir, rel);
    const info = await stat(path).catch(() => undefined);
    if (info === undefined || !info.isFile()) {
      throw new BertuneError(
        `The bundled file of the built-in data set "${builtin.name}" is missing: ${path}.`,
        "The installation is incomplete: reinstall bertune.",
      );
    }
    files.push({ split, path, display: path });
  }
  return {
    name: builtin.name,
    source: `built-in "${builtin.name}": ${builtin.entry.description} (bundled copy; Hub: ${builtin.entry.hub.repo})`,
    files,
    builtin,
  };
}

async function fromFolder(spec: string, path: string): Promise<ResolvedSource> {
  const entries = (await readdir(path, { withFileTypes: true }))
    .filter((e) => e.isFile() && !e.name.startsWith(".") && formatOf(e.name) !== undefined)
    .map((e) => e.name)
    .sort();
  const found: Partial<Record<SplitName, string>> = {};
  for (const split of SPLIT_NAMES) {
    const hits = entries.filter((f) => STEMS[split].includes(basename(f, extname(f)).toLowerCase()));
    if (hits.length > 1) {
      throw new BertuneError(
        `${spec} holds more than one ${split} file: ${hits.join(", ")}.`,
        `Keep one ${split} file in the folder, or pass the file's path instead.`,
      );
    }
    if (hits.length === 1) found[split] = hits[0];
  }
  if (found.train === undefined) {
    if (entries.length === 1 && found.validation === undefined && found.test === undefined) {
      found.train = entries[0]; // a folder with a single data file (e.g. all.csv): that file is train
    } else {
      throw new BertuneError(
        `${spec} has no train file (found ${entries.length === 0 ? "no data files" : entries.join(", ")}).`,
        `Name the training file train${DATA_EXTENSIONS[0]} (or another of ${DATA_EXTENSIONS.join(", ")}), or pass a file's path.`,
      );
    }
  }
  const files: DataFile[] = [];
  for (const split of SPLIT_NAMES) {
    const f = found[split];
    if (f !== undefined) files.push({ split, path: join(path, f), display: join(spec, f) });
  }
  return { name: basename(path), source: path, files };
}
