/**
 * Download one repo file into the hub cache, the way huggingface_hub does it:
 * `GET {endpoint}/{repo}/resolve/{commit}/{path}` without following redirects blindly, so that the
 * Hub's own headers (`x-linked-etag` for LFS files, else `etag`) name the blob; the body goes to a
 * temporary file next to the blob, is checked (size, and sha256 for LFS files), then renamed to
 * `blobs/{etag}` and linked from `snapshots/{commit}/{path}`. A partial download never leaves a file
 * that a later run would take for complete.
 *
 * Own code rather than `downloadFileToCacheDir` from @huggingface/hub: that helper names the snapshot
 * after the file's last commit unless given a commit, never writes refs/, needs the paths-info API,
 * logs to console.debug and leaves `.incomplete` files behind on failure.
 */
import { createHash, randomBytes } from "node:crypto";
import { createWriteStream, existsSync } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { BertuneError } from "../errors.js";
import { blobPath, linkIntoSnapshot, repoCacheDir, snapshotPath, type RepoType } from "./cache.js";
import {
  encodePath,
  encodeRepo,
  fetchOrThrow,
  httpError,
  hubHeaders,
  isNetworkError,
  repoLabel,
  repoUrlPrefix,
  userAgent,
  type HubContext,
} from "./http.js";

export interface DownloadOptions {
  repo: string; // canonical id
  commit: string; // 40-hex sha
  path: string; // repo-relative file name
  cacheDir: string;
  /** "models" (default) or "datasets": the URL prefix and the cache folder (`datasets--org--name`). */
  type?: RepoType;
  log?: (line: string) => void;
}

const FS_CODES = new Set(["ENOSPC", "EDQUOT", "EACCES", "EPERM", "EROFS", "EMFILE", "ENFILE", "ENOTDIR", "EISDIR", "EEXIST"]);

/** `W/"abc"` → `abc`. */
function cleanEtag(value: string | null): string | undefined {
  if (!value) return undefined;
  const v = value.trim().replace(/^W\//, "").replace(/^"|"$/g, "");
  return v || undefined;
}

function formatSize(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(1)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  if (bytes >= 1e3) return `${(bytes / 1e3).toFixed(0)} kB`;
  return `${bytes} B`;
}

export function cacheWriteError(cacheDir: string, e: unknown): BertuneError | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code !== "string" || !FS_CODES.has(code)) return undefined;
  return new BertuneError(
    `cannot write to the Hugging Face cache at ${cacheDir} (${code})`,
    "free some disk space or fix the folder's permissions, or set HF_HUB_CACHE to another folder",
  );
}

/**
 * Make sure `snapshots/{commit}/{path}` exists in the cache, downloading it if needed.
 * Returns the snapshot path, or undefined when the Hub says the repo has no such file.
 */
export async function downloadToCache(ctx: HubContext, opts: DownloadOptions): Promise<string | undefined> {
  const { repo, commit, path, cacheDir } = opts;
  const type = opts.type ?? "models";
  const label = repoLabel(repo, type);
  const pointer = snapshotPath(cacheDir, repo, commit, path, type);
  if (existsSync(pointer)) return pointer;

  const origin = new URL(ctx.endpoint).origin;
  let url = `${ctx.endpoint}/${repoUrlPrefix(type)}${encodeRepo(repo)}/resolve/${commit}/${encodePath(path)}`;
  let hubEtag: string | undefined;
  let linkedEtag: string | undefined;
  let linkedSize: number | undefined;
  let res: Response | undefined;
  for (let hop = 0; ; hop++) {
    const toHub = new URL(url).origin === origin;
    // The token goes to the Hub only, never to the storage a download redirects to.
    const headers = toHub
      ? hubHeaders(ctx, { "accept-encoding": "identity" })
      : { "user-agent": userAgent(), "accept-encoding": "identity" };
    res = await fetchOrThrow(ctx, url, { headers, redirect: "manual" });
    if (toHub) {
      hubEtag = cleanEtag(res.headers.get("etag")) ?? hubEtag;
      linkedEtag = cleanEtag(res.headers.get("x-linked-etag")) ?? linkedEtag;
      const size = Number(res.headers.get("x-linked-size") ?? NaN);
      if (Number.isSafeInteger(size) && size >= 0) linkedSize = size;
    }
    const location = res.headers.get("location");
    if (res.status >= 300 && res.status < 400 && location) {
      await res.body?.cancel();
      if (hop >= 10) throw new BertuneError(`too many redirects while downloading ${path} of ${label}`);
      url = new URL(location, url).href;
      continue;
    }
    break;
  }
  if (!res.ok || !res.body) {
    await res.body?.cancel();
    if (res.status === 404 && res.headers.get("x-error-code") === "EntryNotFound") return undefined;
    throw httpError(ctx, res, repo, { file: path, type });
  }

  const etag = linkedEtag ?? hubEtag;
  const lengthHeader = Number(res.headers.get("content-length") ?? NaN);
  const expectedSize = linkedSize ?? (Number.isSafeInteger(lengthHeader) ? lengthHeader : undefined);

  let blob: string | undefined;
  try {
    if (etag) {
      blob = blobPath(cacheDir, repo, etag, type);
      if (existsSync(blob)) {
        // Same content already cached under another commit: link it, skip the body.
        await res.body.cancel();
        await linkIntoSnapshot(blob, pointer);
        return pointer;
      }
    }
    const blobsDir = join(repoCacheDir(cacheDir, repo, type), "blobs");
    await mkdir(blobsDir, { recursive: true });
    await mkdir(dirname(pointer), { recursive: true });
  } catch (e) {
    await res.body.cancel().catch(() => undefined);
    throw cacheWriteError(cacheDir, e) ?? e;
  }

  opts.log?.(`downloading ${path} from ${repo}${expectedSize !== undefined ? ` (${formatSize(expectedSize)})` : ""}`);
  const tmp = join(repoCacheDir(cacheDir, repo, type), "blobs", `${etag ?? "download"}.${process.pid}-${randomBytes(4).toString("hex")}.incomplete`);
  const hash = createHash("sha256");
  let bytes = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  try {
    await pipeline(Readable.fromWeb(res.body as WebReadableStream<Uint8Array>), meter, createWriteStream(tmp));
    const digest = hash.digest("hex");
    if (expectedSize !== undefined && bytes !== expectedSize) {
      throw new BertuneError(
        `the download of ${path} from ${label} was cut short (${bytes} of ${expectedSize} bytes)`,
        "run the command again; files already downloaded stay in the cache",
      );
    }
    if (etag && /^[0-9a-f]{64}$/.test(etag) && digest !== etag) {
      throw new BertuneError(
        `the download of ${path} from ${label} is corrupt (its sha256 does not match the Hub's)`,
        "run the command again",
      );
    }
    blob ??= blobPath(cacheDir, repo, digest, type);
    await rename(tmp, blob);
    await linkIntoSnapshot(blob, pointer);
    return pointer;
  } catch (e) {
    await rm(tmp, { force: true });
    if (e instanceof BertuneError) throw e;
    const fsError = cacheWriteError(cacheDir, e);
    if (fsError) throw fsError;
    const interrupted =
      isNetworkError(e) ||
      (e instanceof TypeError && /terminated/i.test(e.message)) ||
      (e as { code?: unknown } | null)?.code === "ERR_STREAM_PREMATURE_CLOSE";
    if (!interrupted) throw e;
    throw new BertuneError(
      `the download of ${path} from ${label} was interrupted`,
      "check your connection and run the command again; files already downloaded stay in the cache",
    );
  }
}
