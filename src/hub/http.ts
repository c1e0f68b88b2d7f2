/**
 * Talking to the Hub over HTTP: the model-info API and the mapping of HTTP and network failures to
 * one-line BertuneErrors. The token only ever travels in the Authorization header, and only to the
 * Hub endpoint itself (never to a CDN a download redirects to); it never enters a message.
 */
import { BertuneError } from "../errors.js";
import type { RepoType } from "./cache.js";
import { withRetry } from "./retry.js";

export interface HubContext {
  endpoint: string; // no trailing slash
  token?: string;
  /** Info lines (retries after a rate limit); never given the token. */
  log?: (line: string) => void;
}

export interface ModelInfo {
  id: string;
  sha: string;
  siblings?: string[]; // repo-relative file names; undefined when the Hub did not list them
}

/** What the info API says about a model or data set repo. */
export interface RepoInfo extends ModelInfo {
  /** The repo card's YAML metadata as the Hub parsed it (data sets: configs, dataset_info). */
  cardData?: Record<string, unknown>;
}

/** "model google-bert/bert-base-uncased", "data set stanfordnlp/imdb": how messages name a repo. */
export function repoLabel(repo: string, type: RepoType = "models"): string {
  return `${type === "datasets" ? "data set" : type === "spaces" ? "space" : "model"} ${repo}`;
}

/** The URL path prefix of a repo's files: "" for models, "datasets/" for data sets (as the Hub routes them). */
export function repoUrlPrefix(type: RepoType): string {
  return type === "models" ? "" : `${type}/`;
}

const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ECONNRESET",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_SOCKET",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
]);

/** The errno-like code somewhere in an error's cause chain (fetch wraps it as TypeError("fetch failed")). */
function errorCode(e: unknown): string | undefined {
  for (let cur: unknown = e, depth = 0; cur && depth < 5; depth++) {
    const obj = cur as { code?: unknown; errors?: unknown[]; cause?: unknown };
    if (typeof obj.code === "string") return obj.code;
    if (Array.isArray(obj.errors)) {
      for (const inner of obj.errors) {
        const c = errorCode(inner);
        if (c) return c;
      }
    }
    cur = obj.cause;
  }
  return undefined;
}

/** True when `e` means the endpoint could not be reached at all (as opposed to an HTTP error answer). */
export function isNetworkError(e: unknown): boolean {
  if (e instanceof BertuneError) return false;
  const name = (e as { name?: string } | null)?.name;
  if (name === "TimeoutError" || name === "AbortError") return true;
  const code = errorCode(e);
  if (code && NETWORK_CODES.has(code)) return true;
  return e instanceof TypeError && /fetch failed/i.test(e.message);
}

/** The Hub endpoint could not be reached at all (resolveModel may then fall back to the cache). */
export class HubUnreachableError extends BertuneError {
  constructor(message: string, hint?: string) {
    super(message, hint);
    this.name = "BertuneError";
  }
}

/** The Hub answered a request about a repo with an HTTP error: `status` and its `x-error-code` let callers decide. */
export class HubHttpError extends BertuneError {
  constructor(
    message: string,
    hint: string | undefined,
    readonly status: number,
    readonly code: string,
  ) {
    super(message, hint);
    this.name = "BertuneError";
  }
}

export function networkError(endpoint: string, e: unknown): HubUnreachableError {
  const code = errorCode(e) ?? ((e as { name?: string } | null)?.name === "TimeoutError" ? "timed out" : undefined);
  return new HubUnreachableError(
    `cannot reach ${endpoint}; check your connection, or set HF_HUB_OFFLINE=1 to use the cache`,
    code ? `the connection failed (${code}); HF_ENDPOINT selects another Hub endpoint` : "HF_ENDPOINT selects another Hub endpoint",
  );
}

export function userAgent(): string {
  return `bertune/0.1.0; node/${process.versions.node}`;
}

/** Headers for a request to the Hub endpoint itself. */
export function hubHeaders(ctx: HubContext, extra: Record<string, string> = {}): Record<string, string> {
  const headers: Record<string, string> = { "user-agent": userAgent(), ...extra };
  if (ctx.token) headers.authorization = `Bearer ${ctx.token}`;
  return headers;
}

/**
 * fetch that turns "could not connect" into the network BertuneError, and waits out a rate limit (429, or 503
 * with Retry-After) a bounded number of times, honouring Retry-After; the last refusal is returned to the caller.
 */
export async function fetchOrThrow(ctx: HubContext, url: string | URL | Request, init: RequestInit): Promise<Response> {
  try {
    return await withRetry(() => fetch(url, init), {
      onRetry: ({ status, attempt, delayMs }) =>
        ctx.log?.(`the Hub answered HTTP ${status} (${status === 429 ? "rate limit" : "busy"}); retry ${attempt} in ${(delayMs / 1000).toFixed(1)} s`),
    });
  } catch (e) {
    if (isNetworkError(e)) throw networkError(ctx.endpoint, e);
    throw e;
  }
}

/**
 * A BertuneError for a non-2xx answer about `repo` (`what` names the thing asked for: the model, or one file).
 * The Hub answers 401 (not 404) for a repo that does not exist or that an anonymous user may not see,
 * with `x-error-code: RepoNotFound`; gated repos answer 401/403 with `GatedRepo`.
 */
export function httpError(
  ctx: HubContext,
  res: Response,
  repo: string,
  what?: { file?: string; revision?: string; type?: RepoType },
): HubHttpError {
  const code = res.headers.get("x-error-code") ?? "";
  const status = res.status;
  const type = what?.type ?? "models";
  const label = repoLabel(repo, type);
  const page = `${ctx.endpoint}/${repoUrlPrefix(type)}${repo}`;
  const idHint =
    type === "datasets"
      ? "Hub data set ids have the form org/name (e.g. stanfordnlp/imdb)"
      : "Hub ids have the form org/name (e.g. google-bert/bert-base-uncased)";
  const tokenHint = "set HF_TOKEN (or run `huggingface-cli login`) with an access token that can read it: " + `${ctx.endpoint}/settings/tokens`;
  if (code === "GatedRepo") {
    return new HubHttpError(
      `${label} is gated: its page asks you to accept its terms before downloading`,
      `accept them at ${page}, then ${tokenHint}`,
      status,
      code,
    );
  }
  if (status === 401 || status === 403) {
    if (ctx.token) {
      return new HubHttpError(
        `the Hub refused access to ${label} with the token given (HTTP ${status}): it is private or gated, or HF_TOKEN is not valid`,
        `check HF_TOKEN (it must be able to read ${repo}; gated ${type === "datasets" ? "data sets" : "models"} also need their terms accepted on ${page}) and the spelling of the id`,
        status,
        code,
      );
    }
    return new HubHttpError(
      `${label} is private or gated, or does not exist (the Hub answered HTTP ${status}); to download it, set HF_TOKEN`,
      `${tokenHint}; also check the spelling: ${idHint}`,
      status,
      code,
    );
  }
  if (status === 404) {
    if (code === "RevisionNotFound") {
      return new HubHttpError(
        `revision "${what?.revision ?? "main"}" not found in ${label}`,
        "pass an existing branch, tag or commit sha as the revision",
        status,
        code,
      );
    }
    if (code === "EntryNotFound" && what?.file) {
      return new HubHttpError(`${label} has no file ${what.file}`, `see the files at ${page}/tree/main`, status, code);
    }
    return new HubHttpError(
      `${label} not found on the Hub; check the spelling`,
      type === "datasets"
        ? `${idHint}; a local data set must be an existing file or folder`
        : `${idHint}; a local model must be an existing directory`,
      status,
      code,
    );
  }
  if (status === 429) {
    return new HubHttpError(
      `the Hub is rate-limiting requests (HTTP 429) for ${label}`,
      "bertune waited and retried; wait a few minutes and try again (HF_TOKEN raises the limits)",
      status,
      code,
    );
  }
  return new HubHttpError(
    `the Hub answered HTTP ${status} for ${what?.file ? `${what.file} of ` : ""}${label}`,
    status >= 500 ? "the Hub may be having trouble; try again later, or set HF_HUB_OFFLINE=1 to use the cache" : undefined,
    status,
    code,
  );
}

/** Encode a repo id for a URL path: each part is escaped, the slash between org and name is kept. */
export function encodeRepo(repo: string): string {
  return repo.split("/").map(encodeURIComponent).join("/");
}

/** Encode a repo file path for a URL: each segment escaped, slashes kept. */
export function encodePath(path: string): string {
  return path.split("/").map(encodeURIComponent).join("/");
}

/**
 * `GET {endpoint}/api/models/{repo}/revision/{revision}` → canonical id, commit sha and file list.
 * Legacy names (`bert-base-uncased`) come back with their canonical id.
 */
export async function fetchModelInfo(ctx: HubContext, repo: string, revision: string): Promise<ModelInfo> {
  const { id, sha, siblings } = await fetchRepoInfo(ctx, repo, revision, "models");
  return { id, sha, siblings };
}

/** `GET {endpoint}/api/{models|datasets}/{repo}/revision/{revision}` (a revision such as refs/convert/parquet is escaped whole). */
export async function fetchRepoInfo(ctx: HubContext, repo: string, revision: string, type: RepoType): Promise<RepoInfo> {
  const url = `${ctx.endpoint}/api/${type}/${encodeRepo(repo)}/revision/${encodeURIComponent(revision)}`;
  const res = await fetchOrThrow(ctx, url, {
    headers: hubHeaders(ctx, { accept: "application/json" }),
    signal: AbortSignal.timeout(30_000),
  });
  const label = repoLabel(repo, type);
  if (!res.ok) {
    await res.body?.cancel();
    throw httpError(ctx, res, repo, { revision, type });
  }
  let body: unknown;
  try {
    body = await res.json();
  } catch (e) {
    if (isNetworkError(e)) throw networkError(ctx.endpoint, e);
    throw new BertuneError(`the Hub sent an unreadable answer about ${label}`, `is ${ctx.endpoint} a Hugging Face Hub endpoint?`);
  }
  const info = body as { id?: unknown; modelId?: unknown; sha?: unknown; siblings?: unknown; cardData?: unknown };
  const id = typeof info.id === "string" ? info.id : typeof info.modelId === "string" ? info.modelId : repo;
  if (typeof info.sha !== "string" || !/^[0-9a-f]{40}$/.test(info.sha)) {
    throw new BertuneError(`the Hub did not say which commit of ${label} to download`, `is ${ctx.endpoint} a Hugging Face Hub endpoint?`);
  }
  let siblings: string[] | undefined;
  if (Array.isArray(info.siblings)) {
    siblings = info.siblings
      .map((s) => (s as { rfilename?: unknown } | null)?.rfilename)
      .filter((n): n is string => typeof n === "string");
  }
  const result: RepoInfo = { id, sha: info.sha, siblings };
  if (info.cardData && typeof info.cardData === "object" && !Array.isArray(info.cardData)) result.cardData = info.cardData as Record<string, unknown>;
  return result;
}
