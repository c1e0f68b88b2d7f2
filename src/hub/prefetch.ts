/**
 * Prefetching into the cache, for `bertune download`: the files training needs (one or more file sets, such as
 * the frozen path's and the full path's), or every file of a repo (as huggingface_hub's snapshot_download).
 * Offline, the same calls check the cache and name what is missing.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { BertuneError } from "../errors.js";
import { cachedCommit, snapshotDir, writeRef, type RepoType } from "./cache.js";
import { cacheWriteError, downloadToCache } from "./download.js";
import { fetchRepoInfo, HubUnreachableError, repoLabel, type HubContext } from "./http.js";
import { canonicalFromTable, checkRepoId } from "./names.js";
import { hubSettings, resolveModel, type ResolvedModel, type ResolveOptions, type WantedFiles } from "./resolve.js";

export interface FileSet extends WantedFiles {
  /** What the set is for, in messages ("frozen", "full"). */
  name: string;
}

export interface PrefetchResult extends ResolvedModel {
  /** Sets whose required files the repo has. */
  complete: string[];
  /** Sets it cannot serve, with the files it lacks. */
  incomplete: { name: string; missing: string[] }[];
}

/**
 * Fetch the files of every set into the cache in one pass. A set whose required files the repo lacks is reported
 * (not fatal) as long as one set is complete; with none complete, the first set's error is thrown.
 */
export async function prefetchModel(model: string, sets: FileSet[], options: ResolveOptions = {}): Promise<PrefetchResult> {
  if (sets.length === 0) throw new Error("prefetchModel needs at least one file set");
  // Required by every set: must exist. Anything else: fetched when the repo has it.
  const required = sets[0].required.filter((f) => sets.every((s) => s.required.includes(f)));
  const optional = [...new Set(sets.flatMap((s) => [...s.required, ...(s.optional ?? [])]))].filter((f) => !required.includes(f));
  const resolved = await resolveModel(model, { required, optional }, options);
  const complete: string[] = [];
  const incomplete: PrefetchResult["incomplete"] = [];
  for (const s of sets) {
    const missing = s.required.filter((f) => !resolved.files[f]);
    if (missing.length === 0) complete.push(s.name);
    else incomplete.push({ name: s.name, missing });
  }
  if (complete.length === 0) await resolveModel(model, sets[0], options); // throws the precise error
  return { ...resolved, complete, incomplete };
}

export interface SnapshotResult {
  id: string;
  commit: string;
  /** The snapshot folder in the cache. */
  dir: string;
  /** Repo path → cached file. */
  files: Record<string, string>;
}

function listSnapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d)) {
      const full = join(d, e);
      const st = statSync(full, { throwIfNoEntry: false });
      if (st?.isDirectory()) walk(full);
      else if (st) out.push(relative(dir, full).split(sep).join("/"));
    }
  };
  if (existsSync(dir)) walk(dir);
  return out.sort();
}

/** Every file of a repo at a revision, into the cache (as snapshot_download); offline: what the cache holds. */
export async function snapshotDownload(repo: string, type: RepoType, options: ResolveOptions = {}): Promise<SnapshotResult> {
  const s = hubSettings(options);
  const asked = type === "models" ? canonicalFromTable(checkRepoId(repo)) : repo;
  const fromCache = (): SnapshotResult | undefined => {
    const commit = cachedCommit(s.cacheDir, asked, s.revision, type);
    if (!commit) return undefined;
    const dir = snapshotDir(s.cacheDir, asked, commit, type);
    const names = listSnapshot(dir);
    if (names.length === 0) return undefined;
    return { id: asked, commit, dir, files: Object.fromEntries(names.map((n) => [n, join(dir, ...n.split("/"))])) };
  };
  if (s.offline) {
    const hit = fromCache();
    if (hit) return hit;
    throw new BertuneError(
      `offline: ${repoLabel(asked, type)}${s.revision !== "main" ? ` at revision ${s.revision}` : ""} is not in the cache (${s.cacheDir})`,
      "run the command once online first, or unset HF_HUB_OFFLINE",
    );
  }
  const ctx: HubContext = { endpoint: s.endpoint, token: s.token, log: s.log };
  let info;
  try {
    info = await fetchRepoInfo(ctx, asked, s.revision, type);
  } catch (e) {
    const hit = e instanceof HubUnreachableError ? fromCache() : undefined;
    if (!hit) throw e;
    s.log(`cannot reach ${s.endpoint}; using the cached copy of ${repoLabel(hit.id, type)} (${hit.commit.slice(0, 12)})`);
    return hit;
  }
  try {
    writeRef(s.cacheDir, info.id, s.revision, info.sha, type);
  } catch (e) {
    throw cacheWriteError(s.cacheDir, e) ?? e;
  }
  const files: Record<string, string> = {};
  for (const name of info.siblings ?? []) {
    const path = await downloadToCache(ctx, { repo: info.id, commit: info.sha, path: name, cacheDir: s.cacheDir, type, log: s.log });
    if (path) files[name] = path;
  }
  return { id: info.id, commit: info.sha, dir: snapshotDir(s.cacheDir, info.id, info.sha, type), files };
}
