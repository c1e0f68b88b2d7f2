/**
 * The Hugging Face hub cache, laid out exactly as Python's huggingface_hub lays it out, so that
 * Python tools and bertune share downloads:
 *
 *   {cache}/models--{org}--{name}/
 *     blobs/{etag}                         file contents (etag: sha256 for LFS files, git blob sha1 otherwise)
 *     snapshots/{commit}/{path}            relative symlink to ../../blobs/{etag} (a copy where symlinks fail)
 *     refs/{revision}                      the commit sha a branch or tag pointed to, no trailing newline
 */
import { existsSync, readFileSync } from "node:fs";
import { copyFile, mkdir, rename, rm, symlink } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { homedir } from "node:os";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { BertuneError } from "../errors.js";
import { writeFileAtomic } from "../util/atomic.js";

export type RepoType = "models" | "datasets" | "spaces";

const COMMIT_RE = /^[0-9a-f]{40}$/;

/** True for a full 40-hex git commit sha. */
export function isCommitHash(revision: string): boolean {
  return COMMIT_RE.test(revision);
}

function expandHome(p: string): string {
  return p === "~" || p.startsWith("~/") ? join(homedir(), p.slice(1)) : p;
}

/** `$HF_HOME`, else `$XDG_CACHE_HOME/huggingface`, else `~/.cache/huggingface` (as huggingface_hub does). */
export function hfHomeDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HF_HOME) return resolve(expandHome(env.HF_HOME));
  const xdg = env.XDG_CACHE_HOME ? expandHome(env.XDG_CACHE_HOME) : join(homedir(), ".cache");
  return resolve(xdg, "huggingface");
}

/** `$HF_HUB_CACHE`, else `$HF_HOME/hub`, else `~/.cache/huggingface/hub`. */
export function hubCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env.HF_HUB_CACHE || env.HUGGINGFACE_HUB_CACHE;
  if (explicit) return resolve(expandHome(explicit));
  return join(hfHomeDir(env), "hub");
}

/** `repoFolderName("models", "org/name")` → `"models--org--name"`. */
export function repoFolderName(type: RepoType, repoId: string): string {
  return [type, ...repoId.split("/")].join("--");
}

/** `{cache}/models--org--name`. */
export function repoCacheDir(cacheDir: string, repoId: string, type: RepoType = "models"): string {
  return join(cacheDir, repoFolderName(type, repoId));
}

/** `{cache}/models--org--name/snapshots/{commit}`. */
export function snapshotDir(cacheDir: string, repoId: string, commit: string, type: RepoType = "models"): string {
  return join(repoCacheDir(cacheDir, repoId, type), "snapshots", commit);
}

/** `{cache}/models--org--name/snapshots/{commit}/{path}`. */
export function snapshotPath(
  cacheDir: string,
  repoId: string,
  commit: string,
  path: string,
  type: RepoType = "models",
): string {
  return join(snapshotDir(cacheDir, repoId, commit, type), checkRepoPath(path));
}

/** `{cache}/models--org--name/blobs/{etag}`. */
export function blobPath(cacheDir: string, repoId: string, etag: string, type: RepoType = "models"): string {
  if (!/^[0-9A-Za-z_.-]+$/.test(etag) || etag.startsWith(".")) {
    throw new BertuneError(`the Hub sent an unusable etag for a file of ${repoId}`, "try again later");
  }
  return join(repoCacheDir(cacheDir, repoId, type), "blobs", etag);
}

/** Path of `refs/{revision}`. */
export function refPath(cacheDir: string, repoId: string, revision: string, type: RepoType = "models"): string {
  return join(repoCacheDir(cacheDir, repoId, type), "refs", checkRepoPath(revision));
}

/** The commit sha that `refs/{revision}` records, or undefined when the cache has none. */
export function readRef(cacheDir: string, repoId: string, revision: string, type: RepoType = "models"): string | undefined {
  let text: string;
  try {
    text = readFileSync(refPath(cacheDir, repoId, revision, type), "utf8");
  } catch {
    return undefined;
  }
  const sha = text.trim();
  return isCommitHash(sha) ? sha : undefined;
}

/** Record that `revision` pointed to `commit` (written atomically, without a newline, like huggingface_hub). */
export function writeRef(cacheDir: string, repoId: string, revision: string, commit: string, type: RepoType = "models"): void {
  if (revision === commit) return;
  const path = refPath(cacheDir, repoId, revision, type);
  try {
    if (readFileSync(path, "utf8") === commit) return;
  } catch {
    // not written yet
  }
  writeFileAtomic(path, commit);
}

/** The commit a revision names in the cache: the revision itself when it is a commit sha, else `refs/{revision}`. */
export function cachedCommit(cacheDir: string, repoId: string, revision: string, type: RepoType = "models"): string | undefined {
  return isCommitHash(revision) ? revision : readRef(cacheDir, repoId, revision, type);
}

/** The snapshot file for `path` at `revision` if the cache holds it (a symlink whose blob is gone does not count). */
export function cachedFile(
  cacheDir: string,
  repoId: string,
  revision: string,
  path: string,
  type: RepoType = "models",
): string | undefined {
  const commit = cachedCommit(cacheDir, repoId, revision, type);
  if (!commit) return undefined;
  const file = snapshotPath(cacheDir, repoId, commit, path, type);
  return existsSync(file) ? file : undefined;
}

/**
 * Point `pointer` (a snapshot file) at `blob` with a relative symlink, as huggingface_hub does;
 * copy the blob where symlinks are not allowed. The link is made under a temporary name and renamed into place.
 */
export async function linkIntoSnapshot(blob: string, pointer: string): Promise<void> {
  await mkdir(dirname(pointer), { recursive: true });
  const tmp = `${pointer}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  try {
    try {
      await symlink(relative(dirname(pointer), blob), tmp);
    } catch {
      await copyFile(blob, tmp);
    }
    await rename(tmp, pointer);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** Reject repo paths that are absolute or climb out of the snapshot ("..", empty parts, backslashes). */
export function checkRepoPath(path: string): string {
  const parts = path.split("/");
  if (!path || isAbsolute(path) || path.includes("\\") || parts.some((p) => p === "" || p === "." || p === "..")) {
    throw new BertuneError(`"${path}" is not a valid file name inside a model repository`);
  }
  return path;
}
