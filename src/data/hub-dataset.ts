/**
 * Fetch the Parquet files of a Hub data set into the Hugging Face cache (`datasets--org--name/...`), with the
 * downloader the models use: the info API lists the files (`GET /api/datasets/{repo}/revision/{rev}`), the
 * layout rules pick them per split, and where the repo holds no Parquet files the Hub's own conversion
 * (the `refs/convert/parquet` branch) is used. Offline, or when the Hub cannot be reached, the cached snapshot
 * is listed instead and the same rules applied.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { BertuneError } from "../errors.js";
import { cachedCommit, readRef, repoFolderName, snapshotDir, writeRef } from "../hub/cache.js";
import { cacheWriteError, downloadToCache } from "../hub/download.js";
import { fetchRepoInfo, HubHttpError, HubUnreachableError, type HubContext, type RepoInfo } from "../hub/http.js";
import { hubSettings, type HubSettings } from "../hub/resolve.js";
import { cardConfigs, pickParquetFiles, type ParquetLayout } from "./hub-layout.js";
import { SPLIT_NAMES, type HubDatasetOptions, type SplitName } from "./types.js";

/** The branch where the Hub keeps its Parquet conversion of every public data set. */
export const CONVERT_REF = "refs/convert/parquet";

/** Offline, and the cache does not hold the data set. */
export class NotCachedError extends BertuneError {
  constructor(message: string, hint?: string) {
    super(message, hint);
    this.name = "BertuneError";
  }
}

export interface HubDatasetRef {
  repo: string;
  config?: string;
  revision?: string;
}

export interface HubDatasetFiles {
  /** Canonical id (as the Hub names it; as cached when offline). */
  repo: string;
  /** The commit the files come from (of the conversion branch when `converted`). */
  commit: string;
  config?: string;
  /** True when the files come from refs/convert/parquet. */
  converted: boolean;
  /** Split by split (train, validation, test), each split's files in name order. */
  files: { split: SplitName; repoPath: string; path: string }[];
}

const SPEC_RE = /^([\w.-]{1,96}(?:\/[\w.-]{1,96})?)(?::([\w.-]+))?(?:@(\S+))?$/;

/** `org/name[:config][@revision]` → its parts; undefined when it is not that shape. */
export function parseHubSpec(spec: string): HubDatasetRef | undefined {
  const m = SPEC_RE.exec(spec.trim());
  if (!m) return undefined;
  const repo = m[1];
  if (repo.includes("--") || repo.includes("..") || repo.split("/").some((p) => /^[-.]|[-.]$/.test(p))) return undefined;
  const ref: HubDatasetRef = { repo };
  if (m[2] !== undefined) ref.config = m[2];
  if (m[3] !== undefined) ref.revision = m[3];
  return ref;
}

function hasFiles(layout: ParquetLayout): boolean {
  return SPLIT_NAMES.some((s) => (layout.files[s]?.length ?? 0) > 0);
}

function describe(ref: HubDatasetRef, s: HubSettings): string {
  return `data set ${ref.repo}${ref.config ? ` (configuration ${ref.config})` : ""}${s.revision !== "main" ? ` at revision ${s.revision}` : ""}`;
}

function saveRef(cacheDir: string, id: string, revision: string, sha: string): void {
  try {
    writeRef(cacheDir, id, revision, sha, "datasets");
  } catch (e) {
    throw cacheWriteError(cacheDir, e) ?? e;
  }
}

/** Every file under a snapshot folder, as repo-relative paths (symlinks followed). */
function listSnapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d)) {
      const full = join(d, e);
      let st;
      try {
        st = statSync(full);
      } catch {
        continue; // a link whose blob is gone
      }
      if (st.isDirectory()) walk(full);
      else out.push(relative(dir, full).split(sep).join("/"));
    }
  };
  walk(dir);
  return out.sort();
}

/** The cached repo id for `repo`: as given, else a unique folder matching it ignoring case, or by name alone. */
function cachedRepoId(cacheDir: string, repo: string): string {
  let entries: string[];
  try {
    entries = readdirSync(cacheDir).filter((e) => e.startsWith("datasets--"));
  } catch {
    return repo;
  }
  const folder = repoFolderName("datasets", repo);
  if (entries.includes(folder)) return repo;
  let hits = entries.filter((e) => e.toLowerCase() === folder.toLowerCase());
  if (hits.length === 0 && !repo.includes("/")) hits = entries.filter((e) => e.split("--").length === 3 && e.split("--")[2].toLowerCase() === repo.toLowerCase());
  return hits.length === 1 ? hits[0].split("--").slice(1).join("/") : repo;
}

function fromSnapshot(cacheDir: string, id: string, commit: string, ref: HubDatasetRef, converted: boolean): HubDatasetFiles | undefined {
  const dir = snapshotDir(cacheDir, id, commit, "datasets");
  if (!existsSync(dir)) return undefined;
  const paths = listSnapshot(dir);
  let layout: ParquetLayout;
  try {
    layout = pickParquetFiles(paths, { repo: id, config: ref.config });
  } catch (e) {
    // A config chosen online by the card's data_files leaves no config folder in the cache: take the files as they are.
    const folders = paths.some((p) => p.endsWith(".parquet") && p.includes("/") && !p.startsWith("data/"));
    if (ref.config === undefined || folders) throw e;
    layout = pickParquetFiles(paths, { repo: id });
  }
  if (!layout.files.train?.length) return undefined;
  const files = SPLIT_NAMES.flatMap((split) => (layout.files[split] ?? []).map((p) => ({ split, repoPath: p, path: join(dir, ...p.split("/")) })));
  const result: HubDatasetFiles = { repo: id, commit, converted, files };
  const config = ref.config ?? layout.config;
  if (config !== undefined) result.config = config;
  return result;
}

/** The cached copy of the data set at the settings' revision (or its cached conversion), if complete enough to train. */
function fromCache(ref: HubDatasetRef, s: HubSettings): HubDatasetFiles | undefined {
  const id = cachedRepoId(s.cacheDir, ref.repo);
  const commit = cachedCommit(s.cacheDir, id, s.revision, "datasets");
  const own = commit ? fromSnapshot(s.cacheDir, id, commit, ref, false) : undefined;
  if (own || s.revision !== "main") return own;
  const converted = readRef(s.cacheDir, id, CONVERT_REF, "datasets");
  return converted ? fromSnapshot(s.cacheDir, id, converted, ref, true) : undefined;
}

/** The conversion branch's info, or undefined when the data set has none. */
async function convertedInfo(ctx: HubContext, id: string): Promise<RepoInfo | undefined> {
  try {
    return await fetchRepoInfo(ctx, id, CONVERT_REF, "datasets");
  } catch (e) {
    if (e instanceof HubHttpError && e.status === 404) return undefined;
    throw e;
  }
}

/** The card's default config name, used to pick from the conversion branch (which has a folder per config). */
function defaultConfig(cardData: Record<string, unknown> | undefined): string | undefined {
  const configs = cardConfigs(cardData);
  return (configs.find((c) => c.isDefault) ?? (configs.length === 1 ? configs[0] : undefined))?.name;
}

async function fetchOnline(ref: HubDatasetRef, s: HubSettings): Promise<HubDatasetFiles> {
  const ctx: HubContext = { endpoint: s.endpoint, token: s.token, log: s.log };
  let info: RepoInfo;
  try {
    info = await fetchRepoInfo(ctx, ref.repo, s.revision, "datasets");
  } catch (e) {
    if (!(e instanceof HubUnreachableError)) throw e;
    const cached = fromCache(ref, s);
    if (!cached) throw e;
    s.log(`cannot reach ${s.endpoint}; using the cached copy of data set ${cached.repo} (${cached.commit.slice(0, 12)})`);
    return cached;
  }
  const id = info.id;
  saveRef(s.cacheDir, id, s.revision, info.sha);
  let layout = pickParquetFiles(info.siblings ?? [], { repo: id, config: ref.config, cardData: info.cardData });
  let commit = info.sha;
  let converted = false;
  if (!hasFiles(layout) && s.revision === "main") {
    const conv = await convertedInfo(ctx, id);
    if (conv) {
      layout = pickParquetFiles(conv.siblings ?? [], { repo: id, config: ref.config ?? defaultConfig(info.cardData) });
      commit = conv.sha;
      converted = true;
      saveRef(s.cacheDir, id, CONVERT_REF, conv.sha);
      if (hasFiles(layout)) s.log(`data set ${id} has no Parquet files of its own; using the Hub's Parquet conversion (${CONVERT_REF})`);
    }
  }
  if (!hasFiles(layout)) {
    throw new BertuneError(
      `${describe({ ...ref, repo: id }, s)} has no Parquet files${s.revision === "main" ? ` (neither in its files nor in its ${CONVERT_REF} branch)` : ""}`,
      "bertune reads the Parquet files of Hub data sets; download its data files and pass a local path (.csv, .tsv, .jsonl, .parquet) instead",
    );
  }
  if (!layout.files.train?.length) {
    const found = SPLIT_NAMES.filter((sp) => layout.files[sp]?.length);
    throw new BertuneError(
      `${describe({ ...ref, repo: id }, s)} has no train split among its Parquet files (found: ${found.join(", ")})`,
      "bertune trains on the train split; pick another configuration (hub:org/name:config) or data set",
    );
  }
  const files: HubDatasetFiles["files"] = [];
  for (const split of SPLIT_NAMES) {
    for (const repoPath of layout.files[split] ?? []) {
      const path = await downloadToCache(ctx, { repo: id, commit, path: repoPath, cacheDir: s.cacheDir, type: "datasets", log: s.log });
      if (!path) throw new BertuneError(`data set ${id} lists ${repoPath} but the Hub has no such file`, "try again later");
      files.push({ split, repoPath, path });
    }
  }
  const result: HubDatasetFiles = { repo: id, commit, converted, files };
  const config = ref.config ?? layout.config;
  if (config !== undefined) result.config = config;
  return result;
}

/** The local paths of a Hub data set's Parquet files, per split: from the cache, downloading what is missing. */
export async function fetchHubDataset(ref: HubDatasetRef, options: HubDatasetOptions = {}): Promise<HubDatasetFiles> {
  const s = hubSettings({ ...options, revision: ref.revision ?? options.revision });
  const wanted: HubDatasetRef = { ...ref, config: ref.config ?? options.config };
  if (!s.offline) return fetchOnline(wanted, s);
  const cached = fromCache(wanted, s);
  if (cached) return cached;
  throw new NotCachedError(
    `offline: ${describe(wanted, s)} is not in the cache (${s.cacheDir})`,
    `load it once online (or run \`bertune download hub:${wanted.repo}\`) first, or unset HF_HUB_OFFLINE`,
  );
}
