import { readdir, stat } from "node:fs/promises";
import { basename, extname, isAbsolute, join, resolve, sep } from "node:path";
import { BertuneError } from "../errors.js";
import { HubHttpError, HubUnreachableError } from "../hub/http.js";
import type { ColumnRequest } from "./columns.js";
import { fetchHubDataset, NotCachedError, parseHubSpec } from "./hub-dataset.js";
import { DATA_EXTENSIONS, formatOf } from "./readers.js";
import { builtinDatasetNames, datasetsDir, findBuiltin, loadRegistry, type RegistryEntry } from "./registry.js";
import { closestMatch } from "./suggest.js";
import { SPLIT_NAMES, type HubDatasetOptions, type SplitName } from "./types.js";

export interface DataFile {
  split: SplitName;
  /** Absolute path. */
  path: string;
  /** The name shown in messages: the path as the user gave it, or the absolute path of a bundled file. */
  display: string;
  /** The name of the split's table when it is read from several files (a Hub data set's shards). */
  group?: string;
}

export interface ResolvedSource {
  name: string;
  source: string;
  /** In the order train, validation, test. */
  files: DataFile[];
  /** A built-in data set read from its bundled copy. */
  builtin?: { name: string; entry: RegistryEntry };
  /** Columns to use unless told otherwise (a built-in data set read from the Hub). */
  columns?: ColumnRequest;
  /** Class names by column, when known from the source (a built-in data set read from the Hub). */
  labelNames?: Record<string, string[]>;
}

/** The prefix that names a Hub data set explicitly: `hub:org/name[:config][@revision]`. */
export const HUB_PREFIX = "hub:";

/** File stems recognised in a data folder, per split. */
const STEMS: Record<SplitName, readonly string[]> = {
  train: ["train"],
  validation: ["validation", "valid", "val", "dev"],
  test: ["test"],
};

function looksLikePath(spec: string): boolean {
  return spec.includes("/") || spec.includes(sep) || spec.startsWith(".") || isAbsolute(spec) || extname(spec) !== "";
}

/** An `org/name[:config][@revision]` that is not a path to a data file (those have a data extension). */
function looksLikeHubId(spec: string): boolean {
  return spec.split("/").length === 2 && !/^[.~]/.test(spec) && formatOf(spec) === undefined && parseHubSpec(spec) !== undefined;
}

/**
 * Resolves what loadDataset was given: a built-in name (a bare name in the registry; write ./name for a
 * local folder of that name), a data file (loaded as train), a folder of train.* / validation.* /
 * dev.* / val.* / test.* files, or a Hub data set: `hub:org/name[:config][@revision]` (`hub:sst2` for a
 * built-in's Hub repo), or a plain `org/name` that is no existing path.
 */
export async function resolveSource(spec: string, hub: HubDatasetOptions = {}): Promise<ResolvedSource> {
  const trimmed = spec.trim();
  if (trimmed === "") {
    throw new BertuneError("No data set given.", `Pass a built-in name (${builtinDatasetNames().join(", ")}) or a path.`);
  }
  if (trimmed.startsWith(HUB_PREFIX)) return fromHub(trimmed.slice(HUB_PREFIX.length), true, hub);
  const builtin = looksLikePath(trimmed) ? undefined : findBuiltin(trimmed);
  if (builtin !== undefined) return fromRegistry(builtin);

  const path = resolve(trimmed);
  const info = await stat(path).catch(() => undefined);
  if (info === undefined) {
    if (looksLikeHubId(trimmed)) return fromHub(trimmed, false, hub);
    throw unknownSpec(trimmed);
  }
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
      `Built-in data sets: ${names.join(", ")}; or pass a path to a ${DATA_EXTENSIONS.join("/")} file or a folder holding train.* (and validation.*/dev.*, test.*), or a Hub data set as hub:org/name.`,
  );
}

/** The registry entry whose Hub repo is `repo` (ignoring case), and configuration `config` where it names one. */
function builtinByHubRepo(repo: string, config: string | undefined): { name: string; entry: RegistryEntry } | undefined {
  // A repo of several tasks (nyu-mll/glue) is a built-in only with that entry's configuration.
  const hit = Object.entries(loadRegistry()).find(
    ([, e]) => e.hub.repo.toLowerCase() === repo.toLowerCase() && (e.hub.config === undefined || e.hub.config === config),
  );
  return hit && { name: hit[0], entry: hit[1] };
}

/**
 * A Hub data set. `explicit` is false for a bare `org/name` that is no local path: if the Hub does not know it
 * either, the error says both.
 */
async function fromHub(spec: string, explicit: boolean, options: HubDatasetOptions): Promise<ResolvedSource> {
  const ref = parseHubSpec(spec);
  if (!ref) {
    throw new BertuneError(`"${spec}" is not a Hub data set id`, "write hub:org/name, optionally with :config and @revision (e.g. hub:nyu-mll/glue:sst2@main)");
  }
  // A built-in name stands for its Hub repo (hub:sst2 → stanfordnlp/sst2); the registry knows its columns and labels.
  const named = ref.repo.includes("/") ? undefined : findBuiltin(ref.repo);
  if (named) {
    ref.repo = named.entry.hub.repo;
    if (ref.config === undefined && named.entry.hub.config !== undefined) ref.config = named.entry.hub.config;
  }
  const builtin = named ?? builtinByHubRepo(ref.repo, ref.config);
  let got;
  try {
    got = await fetchHubDataset(ref, options);
  } catch (e) {
    // The Hub answers 401 RepoNotFound for a repo it does not show anonymously, 404 for one it does not have.
    const unknown =
      e instanceof NotCachedError ||
      (e instanceof HubHttpError && (e.code === "RepoNotFound" || (e.status === 404 && e.code !== "RevisionNotFound" && e.code !== "EntryNotFound")));
    if (!explicit && e instanceof HubUnreachableError) {
      throw new BertuneError(
        `"${spec}" is not an existing file or folder, and the Hub cannot be reached to look for a data set of that name.`,
        "Check the path; for a Hub data set, check your connection (or load it once online and set HF_HUB_OFFLINE=1).",
      );
    }
    if (explicit || !unknown) throw e;
    throw new BertuneError(
      `"${spec}" is neither an existing file or folder nor a data set on the Hub.`,
      `Check the path or the data set id; a private or gated Hub data set needs HF_TOKEN. Write hub:org/name to mean the Hub.`,
    );
  }
  const label = `hub:${got.repo}${got.config && got.config !== "default" ? `:${got.config}` : ""}`;
  const files: DataFile[] = got.files.map((f) => ({ split: f.split, path: f.path, display: `${label}/${f.repoPath}`, group: `${label} ${f.split}` }));
  const source: ResolvedSource = {
    name: builtin?.name ?? `${got.repo.split("/").at(-1)}${got.config && got.config !== "default" ? `-${got.config}` : ""}`,
    source: `Hub data set ${got.repo}${got.config ? ` (configuration ${got.config})` : ""} at ${got.commit}${got.converted ? " (the Hub's Parquet conversion)" : ""}`,
    files,
  };
  if (builtin) {
    const hubInfo = builtin.entry.hub;
    source.columns = { text: hubInfo.textColumn, label: hubInfo.labelColumn };
    if (hubInfo.labelNames.length >= 2) source.labelNames = { [hubInfo.labelColumn]: hubInfo.labelNames };
  }
  return source;
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
