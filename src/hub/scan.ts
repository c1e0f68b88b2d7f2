/**
 * What the Hugging Face cache holds, as `huggingface-cli scan-cache` reports it (repos, their size on disk,
 * files, revisions and refs), and deleting one repo from it. Deleting renames the folder out of the way first,
 * so a process reading the cache meanwhile never sees half a repo.
 */
import { randomBytes } from "node:crypto";
import { existsSync, lstatSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { BertuneError } from "../errors.js";
import type { RepoType } from "./cache.js";
import { canonicalFromTable } from "./names.js";

export interface CachedRevision {
  commit: string;
  /** Branches and tags pointing at it (main, refs/convert/parquet, v1.0, ...). */
  refs: string[];
  files: number;
  /** Bytes of its files (shared blobs counted in each revision that uses them). */
  size: number;
  lastModified: Date;
}

export interface CachedRepo {
  id: string;
  type: RepoType;
  /** The repo's cache folder. */
  path: string;
  /** Bytes on disk: every blob once (plus snapshot files that are copies, where symlinks were not allowed). */
  size: number;
  /** Distinct files (blobs). */
  files: number;
  revisions: CachedRevision[];
  refs: string[];
  lastModified: Date;
}

export interface CacheScan {
  dir: string;
  repos: CachedRepo[];
  size: number;
  /** Folders that look damaged (named, not fatal). */
  warnings: string[];
}

const TYPES: readonly RepoType[] = ["models", "datasets", "spaces"];

function walkFiles(dir: string, onFile: (path: string) => void): void {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const e of entries) {
    const full = join(dir, e);
    let st;
    try {
      st = lstatSync(full);
    } catch {
      continue;
    }
    if (st.isDirectory()) walkFiles(full, onFile);
    else onFile(full);
  }
}

function scanRepo(path: string, type: RepoType, id: string, warnings: string[]): CachedRepo {
  let size = 0;
  let files = 0;
  let last = 0;
  walkFiles(join(path, "blobs"), (f) => {
    if (f.endsWith(".incomplete")) return;
    const st = statSync(f);
    size += st.size;
    files += 1;
    last = Math.max(last, st.mtimeMs);
  });
  // refs/{name} (possibly nested, as refs/refs/convert/parquet) → commit
  const refsByCommit = new Map<string, string[]>();
  const refs: string[] = [];
  walkFiles(join(path, "refs"), (f) => {
    const name = relative(join(path, "refs"), f).split(sep).join("/");
    const commit = readFileSync(f, "utf8").trim();
    refs.push(name);
    refsByCommit.set(commit, [...(refsByCommit.get(commit) ?? []), name]);
  });
  const revisions: CachedRevision[] = [];
  let snapshots: string[] = [];
  try {
    snapshots = readdirSync(join(path, "snapshots"));
  } catch {
    warnings.push(`${path} has no snapshots folder`);
  }
  for (const commit of snapshots.sort()) {
    const rev: CachedRevision = { commit, refs: (refsByCommit.get(commit) ?? []).sort(), files: 0, size: 0, lastModified: new Date(0) };
    walkFiles(join(path, "snapshots", commit), (f) => {
      let st;
      try {
        st = statSync(f); // follows the link to the blob
      } catch {
        warnings.push(`${f} points to a missing blob`);
        return;
      }
      rev.files += 1;
      rev.size += st.size;
      if (!lstatSync(f).isSymbolicLink()) size += st.size; // a copy, not a link: it takes its own space
      rev.lastModified = new Date(Math.max(rev.lastModified.getTime(), st.mtimeMs));
    });
    revisions.push(rev);
  }
  return { id, type, path, size, files, revisions, refs: refs.sort(), lastModified: new Date(last || statSync(path).mtimeMs) };
}

/** Every repo in the cache folder (none when it does not exist), largest first. */
export function scanCache(cacheDir: string): CacheScan {
  const scan: CacheScan = { dir: cacheDir, repos: [], size: 0, warnings: [] };
  let entries: string[];
  try {
    entries = readdirSync(cacheDir);
  } catch {
    return scan;
  }
  for (const name of entries.sort()) {
    const parts = name.split("--");
    const type = parts[0] as RepoType;
    if (!TYPES.includes(type) || parts.length < 2) continue; // .locks, bertune's own folders, ...
    const path = join(cacheDir, name);
    if (!statSync(path).isDirectory()) continue;
    const repo = scanRepo(path, type, parts.slice(1).join("/"), scan.warnings);
    scan.repos.push(repo);
    scan.size += repo.size;
  }
  scan.repos.sort((a, b) => b.size - a.size || a.id.localeCompare(b.id));
  return scan;
}

/**
 * The cached repos `spec` names: `org/name` (any type), `models/org/name`, `datasets/org/name`, `hub:org/name`
 * (a data set), a folder name (`models--org--name`), or a legacy model name; `type` narrows the search.
 */
export function findCachedRepos(scan: CacheScan, spec: string, type?: RepoType): CachedRepo[] {
  let s = spec.trim().replace(/\/+$/, "");
  let want = type;
  if (s.startsWith("hub:")) {
    s = s.slice(4).replace(/[:@].*$/, "");
    want ??= "datasets";
  }
  const folder = /^(models|datasets|spaces)--(.+)$/.exec(s);
  if (folder) {
    want = folder[1] as RepoType;
    s = folder[2].split("--").join("/");
  }
  const prefixed = /^(models|datasets|spaces)\/(.+)$/.exec(s);
  if (prefixed && prefixed[2].includes("/")) {
    want = prefixed[1] as RepoType;
    s = prefixed[2];
  }
  const ids = new Set([s.toLowerCase(), canonicalFromTable(s).toLowerCase()]);
  return scan.repos.filter((r) => (!want || r.type === want) && ids.has(r.id.toLowerCase()));
}

/** Delete one cached repo (and its huggingface_hub lock folder); returns the bytes freed. */
export function deleteCachedRepo(cacheDir: string, repo: CachedRepo): number {
  if (!existsSync(repo.path)) return 0;
  const name = repo.path.slice(cacheDir.length + 1);
  const trash = join(cacheDir, `.${name}.deleting-${process.pid}-${randomBytes(4).toString("hex")}`);
  try {
    renameSync(repo.path, trash);
    rmSync(trash, { recursive: true, force: true });
    rmSync(join(cacheDir, ".locks", name), { recursive: true, force: true });
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    throw new BertuneError(`cannot delete ${repo.path}${typeof code === "string" ? ` (${code})` : ""}`, "check the folder's permissions");
  }
  return repo.size;
}

/** 1234567 → "1.2M", as huggingface_hub formats sizes (powers of 1000). */
export function formatCacheSize(bytes: number): string {
  let n = bytes;
  for (const unit of ["", "K", "M", "G", "T", "P"]) {
    if (Math.abs(n) < 1000) return `${n.toFixed(1)}${unit}`;
    n /= 1000;
  }
  return `${n.toFixed(1)}E`;
}
