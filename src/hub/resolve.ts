/**
 * Resolve a model name to local files: a local directory in Hub layout, or a Hub repo downloaded into the
 * standard Hugging Face cache (shared with Python tools), with an offline mode that reads the cache only
 * and a fallback to the transformers.js mirror (`Xenova/{name}`) for `onnx/model.onnx`.
 */
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { basename, dirname, isAbsolute, join, resolve, sep } from "node:path";
import { BertuneError } from "../errors.js";
import {
  cachedCommit,
  checkRepoPath,
  hfHomeDir,
  hubCacheDir,
  isCommitHash,
  repoFolderName,
  snapshotPath,
  writeRef,
} from "./cache.js";
import { cacheWriteError, downloadToCache } from "./download.js";
import { fetchModelInfo, HubUnreachableError, type HubContext, type ModelInfo } from "./http.js";
import { canonicalFromTable, checkRepoId, onnxMirrorId } from "./names.js";

export interface ResolveOptions {
  /** Branch, tag or commit; default "main". */
  revision?: string;
  /** Default: process.env.HF_HUB_OFFLINE is "1"/"true"/"yes"/"on". */
  offline?: boolean;
  /** Default: $HF_TOKEN, else the token file ($HF_TOKEN_PATH, else $HF_HOME/token). */
  token?: string;
  /** Default: $HF_ENDPOINT, else https://huggingface.co. */
  endpoint?: string;
  /** Default: $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub. */
  cacheDir?: string;
  /** Info lines for the user; never given the token. */
  log?: (line: string) => void;
}

export interface ResolvedModel {
  /** Canonical repo id ("google-bert/bert-base-uncased") or the absolute local directory. */
  id: string;
  /** Commit sha from the Hub, or "local" for a local directory. */
  revision: string;
  local: boolean;
  /** Repo-relative name → absolute local path, for every requested file that exists. */
  files: Record<string, string>;
  /** Set when onnx/model.onnx came from a mirror repo. */
  onnxFrom?: { id: string; revision: string };
}

export interface WantedFiles {
  required: string[];
  optional?: string[];
}

export const ONNX_FILE = "onnx/model.onnx";
/** External weights of an ONNX export over 2 GB; fetched along with onnx/model.onnx where the repo has it. */
export const ONNX_DATA_FILE = "onnx/model.onnx_data";
export const DEFAULT_ENDPOINT = "https://huggingface.co";

/** ResolveOptions with every default filled in (shared by models, data sets, download and push). */
export interface HubSettings {
  revision: string;
  offline: boolean;
  token?: string;
  endpoint: string;
  cacheDir: string;
  log: (line: string) => void;
}

/** True for the spellings huggingface_hub accepts as "on" ("1", "true", "yes", "on"). */
export function envFlag(value: string | undefined): boolean {
  return ["1", "true", "yes", "on"].includes((value ?? "").trim().toLowerCase());
}

/** The token from $HF_TOKEN, else from the token file huggingface-cli login writes. */
export function defaultToken(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const fromEnv = env.HF_TOKEN?.trim();
  if (fromEnv) return fromEnv;
  const file = env.HF_TOKEN_PATH || join(hfHomeDir(env), "token");
  try {
    return readFileSync(file, "utf8").trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Fill in the defaults of ResolveOptions from the environment (HF_ENDPOINT, HF_HUB_OFFLINE, HF_TOKEN, the cache). */
export function hubSettings(options: ResolveOptions): HubSettings {
  const endpoint = (options.endpoint || process.env.HF_ENDPOINT || DEFAULT_ENDPOINT).trim().replace(/\/+$/, "");
  let url: URL | undefined;
  try {
    url = new URL(endpoint);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) {
    throw new BertuneError(`the Hub endpoint "${endpoint}" is not an http(s) URL`, `set HF_ENDPOINT to a URL such as ${DEFAULT_ENDPOINT}, or unset it`);
  }
  const revision = options.revision?.trim() || "main";
  checkRepoPath(revision);
  return {
    revision,
    offline: options.offline ?? envFlag(process.env.HF_HUB_OFFLINE),
    token: (options.token ?? defaultToken())?.trim() || undefined,
    endpoint,
    cacheDir: resolve(options.cacheDir ?? hubCacheDir()),
    log: options.log ?? (() => undefined),
  };
}

function unique(names: string[]): string[] {
  return [...new Set(names)];
}

/**
 * Resolve `model` (a local directory, `org/name`, or a legacy name like `bert-base-uncased`) to local files.
 * Every `required` file must exist (else a BertuneError naming it); `optional` ones are included when present.
 */
export async function resolveModel(model: string, wanted: WantedFiles, options: ResolveOptions = {}): Promise<ResolvedModel> {
  const required = unique(wanted.required.map(checkRepoPath));
  const optional = unique((wanted.optional ?? []).map(checkRepoPath)).filter((n) => !required.includes(n));
  const s = hubSettings(options);

  const dir = localDirectory(model);
  if (dir) return resolveLocal(dir, required, optional);

  const repo = checkRepoId(model.trim());
  try {
    if (s.offline) return resolveOffline(repo, required, optional, s, "offline");
    return await resolveOnline(repo, required, optional, s);
  } catch (e) {
    // Offline and not in the cache: perhaps a mistyped folder (online, the Hub's 404 says so itself).
    if (s.offline && e instanceof BertuneError) {
      (e as { message: string }).message += `; there is no model folder ${resolve(expandHome(model))} either`;
    }
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Local directories

function expandHome(p: string): string {
  return p === "~" || p.startsWith("~/") || p.startsWith(`~${sep}`) ? join(homedir(), p.slice(1)) : p;
}

function looksLikePath(s: string): boolean {
  return (
    s.startsWith(".") ||
    s.startsWith("/") ||
    s.startsWith("~") ||
    s.includes("\\") ||
    isAbsolute(s) ||
    s.split("/").length > 2 ||
    // "models/bert-tiny" where ./models is a folder: a path with a typo, not the Hub's org "models".
    (s.includes("/") && isDirectory(resolve(dirname(s))))
  );
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** The absolute directory `model` names, undefined when it is a Hub id; throws when it names a path that is not a directory. */
function localDirectory(model: string): string | undefined {
  if (!model.trim()) throw new BertuneError("no model given", "pass a Hub id such as google-bert/bert-base-uncased, or a model directory");
  const abs = resolve(expandHome(model));
  let isDir: boolean | undefined;
  try {
    isDir = statSync(abs).isDirectory();
  } catch {
    isDir = undefined;
  }
  if (isDir === true) return abs;
  if (isDir === false) {
    throw new BertuneError(`${abs} is a file, not a model directory`, "a local model is a folder holding config.json, tokenizer.json and the weights");
  }
  if (looksLikePath(model)) {
    throw new BertuneError(
      `no such model directory: ${abs}`,
      isDirectory(dirname(abs))
        ? `check the spelling: ${dirname(abs)} has no folder ${basename(abs)}; a Hub model is named org/name (e.g. google-bert/bert-base-uncased)`
        : "check the path; a Hub model is named org/name (e.g. google-bert/bert-base-uncased)",
    );
  }
  return undefined;
}

function resolveLocal(dir: string, required: string[], optional: string[]): ResolvedModel {
  const files: Record<string, string> = {};
  const missing: string[] = [];
  for (const name of [...required, ...optional]) {
    const path = join(dir, name);
    if (existsSync(path)) files[name] = path;
    else if (required.includes(name)) missing.push(name);
  }
  if (files[ONNX_FILE] && existsSync(join(dir, ONNX_DATA_FILE))) files[ONNX_DATA_FILE] = join(dir, ONNX_DATA_FILE);
  if (missing.length > 0) {
    throw new BertuneError(
      `model directory ${dir} has no ${missing.join(", ")}`,
      missing.includes(ONNX_FILE)
        ? "export the model to ONNX into onnx/model.onnx (e.g. optimum-cli export onnx --model <id> <dir>), or use a Hub id"
        : "a local model needs the files of its Hub repo (config.json, tokenizer.json, weights) in Hub layout",
    );
  }
  return { id: dir, revision: "local", local: true, files };
}

// ---------------------------------------------------------------------------------------------------------------
// The cache, without the network

/**
 * The repo id to look for in the cache: the legacy table's canonical id, else the name as given (Python tools cache
 * legacy names under it), else a unique cached repo whose folder matches ignoring case, or whose name matches a bare name.
 */
function canonicalOffline(repo: string, cacheDir: string): string {
  const preferred = canonicalFromTable(repo);
  let entries: string[];
  try {
    entries = readdirSync(cacheDir).filter((e) => e.startsWith("models--"));
  } catch {
    return preferred;
  }
  const folderOf = (id: string) => repoFolderName("models", id);
  for (const id of [preferred, repo]) if (entries.includes(folderOf(id))) return id;
  const lower = folderOf(preferred).toLowerCase();
  let matches = entries.filter((e) => e.toLowerCase() === lower);
  if (matches.length === 0 && !repo.includes("/")) {
    matches = entries.filter((e) => {
      const parts = e.split("--");
      return parts.length === 3 && parts[2].toLowerCase() === repo.toLowerCase();
    });
  }
  return matches.length === 1 ? matches[0].split("--").slice(1).join("/") : preferred;
}

/** Files of `repo` at `revision` that the cache holds (only those it holds). */
function cachedFiles(cacheDir: string, repo: string, revision: string, names: string[]): { commit?: string; files: Record<string, string> } {
  const commit = cachedCommit(cacheDir, repo, revision);
  const files: Record<string, string> = {};
  if (!commit) return { files };
  for (const name of names) {
    const path = snapshotPath(cacheDir, repo, commit, name);
    if (existsSync(path)) files[name] = path;
  }
  return { commit, files };
}

/**
 * Resolve from the cache only. `why` says why the network is not used: "offline" (HF_HUB_OFFLINE or the option),
 * "unreachable" (fallback when the Hub cannot be reached; returns undefined instead of throwing on a miss),
 * or "pinned" (a commit sha whose files are all cached; undefined on a miss).
 */
function resolveOffline(repo: string, required: string[], optional: string[], s: HubSettings, why: "offline"): ResolvedModel;
function resolveOffline(repo: string, required: string[], optional: string[], s: HubSettings, why: "unreachable" | "pinned"): ResolvedModel | undefined;
function resolveOffline(
  repo: string,
  required: string[],
  optional: string[],
  s: HubSettings,
  why: "offline" | "unreachable" | "pinned",
): ResolvedModel | undefined {
  const id = canonicalOffline(repo, s.cacheDir);
  const names = [...required, ...optional];
  const { commit, files } = cachedFiles(s.cacheDir, id, s.revision, [...names, ONNX_DATA_FILE]);
  if (!files[ONNX_FILE]) delete files[ONNX_DATA_FILE];
  let onnxFrom: ResolvedModel["onnxFrom"];
  const mirror = onnxMirrorId(id);
  if (names.includes(ONNX_FILE) && !files[ONNX_FILE] && mirror && why !== "pinned") {
    const m = cachedFiles(s.cacheDir, mirror, "main", [ONNX_FILE, ONNX_DATA_FILE]);
    if (m.commit && m.files[ONNX_FILE]) {
      Object.assign(files, m.files);
      onnxFrom = { id: mirror, revision: m.commit };
    }
  }
  const missing = (why === "pinned" ? names : required).filter((n) => !files[n]);
  if (missing.length > 0 || !commit) {
    if (why !== "offline") return undefined;
    const list = (missing.length > 0 ? missing : required).join(", ");
    throw new BertuneError(
      `offline: ${list || "the files"} of model ${id}${s.revision !== "main" ? ` at revision ${s.revision}` : ""} not in the cache (${s.cacheDir})`,
      `run once online (or \`bertune download ${repo}\`) first, or unset HF_HUB_OFFLINE`,
    );
  }
  if (onnxFrom) s.log(`using ONNX export from ${onnxFrom.id} (${id} has no ${ONNX_FILE})`);
  const result: ResolvedModel = { id, revision: commit, local: false, files };
  if (onnxFrom) result.onnxFrom = onnxFrom;
  return result;
}

// ---------------------------------------------------------------------------------------------------------------
// The Hub

type Source = { repo: string; commit: string } | undefined;

function listed(info: ModelInfo, name: string): boolean | undefined {
  return info.siblings ? info.siblings.includes(name) : undefined;
}

async function resolveOnline(repo: string, required: string[], optional: string[], s: HubSettings): Promise<ResolvedModel> {
  const ctx: HubContext = { endpoint: s.endpoint, token: s.token, log: s.log };
  const names = [...required, ...optional];

  // A commit sha whose files are all cached needs no request (as huggingface_hub does).
  if (isCommitHash(s.revision)) {
    const pinned = resolveOffline(repo, required, optional, s, "pinned");
    if (pinned) return pinned;
  }

  let info: ModelInfo;
  try {
    info = await fetchModelInfo(ctx, canonicalFromTable(repo), s.revision);
  } catch (e) {
    if (!(e instanceof HubUnreachableError)) throw e;
    const cached = resolveOffline(repo, required, optional, s, "unreachable");
    if (!cached) throw e;
    s.log(`cannot reach ${s.endpoint}; using the cached copy of ${cached.id} (${cached.revision.slice(0, 12)})`);
    return cached;
  }
  const id = info.id;
  saveRef(s.cacheDir, id, s.revision, info.sha);

  // Plan where each file comes from before downloading anything, so a missing file fails fast.
  const plan = new Map<string, Source>();
  const own: Source = { repo: id, commit: info.sha };
  for (const name of names) if (listed(info, name) !== false) plan.set(name, own);
  let onnxFrom: ResolvedModel["onnxFrom"];
  if (names.includes(ONNX_FILE)) {
    if (plan.has(ONNX_FILE)) {
      if (listed(info, ONNX_DATA_FILE)) plan.set(ONNX_DATA_FILE, own);
    } else {
      const mirror = await mirrorWithOnnx(ctx, id);
      if (mirror) {
        onnxFrom = { id: mirror.info.id, revision: mirror.info.sha };
        const from: Source = { repo: mirror.info.id, commit: mirror.info.sha };
        plan.set(ONNX_FILE, from);
        if (listed(mirror.info, ONNX_DATA_FILE)) plan.set(ONNX_DATA_FILE, from);
        saveRef(s.cacheDir, mirror.info.id, "main", mirror.info.sha);
      }
    }
  }
  const notListed = required.filter((n) => !plan.has(n));
  if (notListed.length > 0) throw missingError(s, id, notListed);
  if (onnxFrom) s.log(`using ONNX export from ${onnxFrom.id} (${id} has no ${ONNX_FILE})`);

  const files: Record<string, string> = {};
  for (const [name, from] of plan) {
    if (!from) continue;
    const path = await downloadToCache(ctx, { repo: from.repo, commit: from.commit, path: name, cacheDir: s.cacheDir, log: s.log });
    if (path) files[name] = path;
    else if (required.includes(name)) throw missingError(s, id, [name]);
  }
  const result: ResolvedModel = { id, revision: info.sha, local: false, files };
  if (onnxFrom && files[ONNX_FILE]) result.onnxFrom = onnxFrom;
  return result;
}

function saveRef(cacheDir: string, id: string, revision: string, sha: string): void {
  try {
    writeRef(cacheDir, id, revision, sha);
  } catch (e) {
    throw cacheWriteError(cacheDir, e) ?? e;
  }
}

/** The mirror repo's info when it lists onnx/model.onnx; undefined when it does not exist or has none. */
async function mirrorWithOnnx(ctx: HubContext, id: string): Promise<{ info: ModelInfo } | undefined> {
  const mirror = onnxMirrorId(id);
  if (!mirror) return undefined;
  try {
    const info = await fetchModelInfo(ctx, mirror, "main");
    return listed(info, ONNX_FILE) === false ? undefined : { info };
  } catch (e) {
    if (e instanceof HubUnreachableError) throw e;
    if (e instanceof BertuneError) return undefined; // no such mirror (404/401): fall through to the error
    throw e;
  }
}

function missingError(s: HubSettings, id: string, missing: string[]): BertuneError {
  if (missing.includes(ONNX_FILE)) {
    const mirror = onnxMirrorId(id);
    return new BertuneError(
      `model ${id} has no ONNX export (${ONNX_FILE})${mirror ? `, and neither has the transformers.js mirror ${mirror}` : ""}`,
      `export it (e.g. optimum-cli export onnx --model ${id} <dir>) and pass a local directory that holds ${ONNX_FILE}`,
    );
  }
  return new BertuneError(
    `model ${id} has no ${missing.join(", ")}${s.revision !== "main" ? ` at revision ${s.revision}` : ""}`,
    `see its files at ${s.endpoint}/${id}/tree/${encodeURIComponent(s.revision)}`,
  );
}
