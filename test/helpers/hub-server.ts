/**
 * A small local server that answers like the Hugging Face Hub, for tests (no network needed).
 *
 * Reading (models at /, data sets under /datasets/ and /api/datasets/):
 *   GET  /api/{models|datasets}/{repo}[/revision/{rev}]  → { id, sha, private, gated, cardData?, siblings: [{ rfilename }] }
 *   HEAD /[datasets/]{repo}/resolve/{rev}/{path}        → the headers of the GET below, no body
 *   GET  /[datasets/]{repo}/resolve/{rev}/{path}        → small files: 200 with `etag` = git blob sha1
 *                                                          LFS files: 302 to /__cdn/{sha256} with `etag` and
 *                                                          `x-linked-etag` = sha256, `x-linked-size`
 *   GET  /__cdn/{sha256}                                 → the bytes (like the Hub's storage: no Hub headers)
 *   GET  /api/whoami-v2                                  → { type: "user", name, auth: { accessToken: { role } } }
 *
 * Writing, as @huggingface/hub's createRepo / commit (uploadFiles) / createBranch call it:
 *   POST /api/repos/create                               → { url, name, id }; 409 when it exists
 *   POST /api/{models|datasets}/{repo}/branch/{branch}   → 409 when it exists
 *   POST /api/{models|datasets}/{repo}/preupload/{rev}   → { files: [{ path, uploadMode: "lfs"|"regular" }] }
 *   POST /[datasets/]{repo}.git/info/lfs/objects/batch   → basic transfer: upload href /__lfs/{oid} (none if stored)
 *   PUT  /__lfs/{oid}                                    → stores the bytes after checking their sha256
 *   POST /api/{models|datasets}/{repo}/commit/{rev}      → NDJSON header / file (base64) / lfsFile / deletedFile
 *                                                          lines; { commitOid, commitUrl }; the files are then served
 *
 * Both resolve answers carry `x-repo-commit`. Legacy model names answer with the canonical id (API) or a 307 to the
 * canonical path (resolve). Unknown repos: 404 `x-error-code: RepoNotFound`; unknown revision: 404
 * `RevisionNotFound`; unknown file: 404 `EntryNotFound`; private repos without a known token: 401 `RepoNotFound`;
 * gated repos without a token: 401 `GatedRepo`. Revisions: a branch name ("main", "refs/convert/parquet", ...) or a
 * branch's sha. Storage URLs (/__cdn/, /__lfs/) never need a token, as on the Hub.
 *
 * Tokens: with `requireToken`, every Hub request must carry `Authorization: Bearer {requireToken}` (else 401).
 * With `tokens`, a token not listed gets 401, and writes need a listed "write" token whose user (or orgs) owns the
 * namespace (else 401 without a token, 403 with a read token or another namespace). Without `tokens`, any bearer
 * token may write. `intercept` sees every request first (to inject 429s, dropped connections, delays).
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join, relative, sep } from "node:path";

export interface HubRepo {
  /** Folder whose files the repo serves. */
  dir?: string;
  /** Repo-relative names to expose from dir (default: every file under dir). */
  files?: string[];
  /** In-memory files, added to (or replacing) those of dir. */
  content?: Record<string, string | Uint8Array>;
  /** Commit sha (default: derived from the repo id and branch). */
  sha?: string;
  /** Reads need a listed token (with `tokens`) or any token. */
  private?: boolean;
  /** Reads without a token get 401 GatedRepo. */
  gated?: boolean;
  /** The card metadata the info API returns (data sets: configs, dataset_info). */
  cardData?: Record<string, unknown>;
  /** Other branches, e.g. "refs/convert/parquet", each with its own files and sha. */
  branches?: Record<string, Omit<HubRepo, "branches" | "private" | "gated">>;
}

export interface HubToken {
  user: string;
  role: "read" | "write";
  orgs?: string[];
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | undefined>;
  body: Buffer;
}

export interface HubServerOptions {
  /** Model repos by id. */
  repos?: Record<string, HubRepo>;
  /** Data set repos by id. */
  datasets?: Record<string, HubRepo>;
  /** Legacy name → canonical id, e.g. { "bert-base-uncased": "google-bert/bert-base-uncased" }. */
  legacy?: Record<string, string>;
  /** When set, every Hub request must carry `Authorization: Bearer {requireToken}`. */
  requireToken?: string;
  /** Known tokens; see the header comment. */
  tokens?: Record<string, HubToken>;
  /** Called first for every request; return true when it answered. */
  intercept?: (req: RecordedRequest, res: ServerResponse) => boolean | Promise<boolean>;
}

export type RepoKind = "models" | "datasets";

export interface RecordedCommit {
  type: RepoKind;
  repo: string;
  revision: string;
  summary: string;
  description?: string;
  oid: string;
  /** Every file the commit added or changed, with the bytes that arrived. */
  files: Record<string, Buffer>;
  /** The paths that came as lfsFile (uploaded to LFS storage first). */
  lfs: string[];
  deleted: string[];
  headers: Record<string, string | undefined>;
}

export interface CreatedRepo {
  type: RepoKind;
  id: string;
  private: boolean;
}

export interface HubServer {
  url: string;
  requests: RecordedRequest[];
  commits: RecordedCommit[];
  created: CreatedRepo[];
  /** Current files of a repo's branch (default main), e.g. after a commit. */
  files(repo: string, type?: RepoKind, branch?: string): Record<string, Buffer> | undefined;
  close(): Promise<void>;
}

/** Extensions the Hub stores with Git LFS (served through a redirect with x-linked-etag). */
const LFS_EXTENSIONS = [".safetensors", ".onnx", ".onnx_data", ".bin", ".h5", ".msgpack", ".pt", ".ckpt", ".parquet", ".arrow"];
/** What a new repo's .gitattributes says (abridged): the Hub's default LFS patterns. */
const DEFAULT_GITATTRIBUTES = LFS_EXTENSIONS.map((x) => `*${x} filter=lfs diff=lfs merge=lfs -text`).join("\n") + "\n";
const LFS_SIZE = 10 * 1024 * 1024;

interface FileEntry {
  data: Buffer;
  lfs: boolean;
  gitSha1: string;
  sha256: string;
}

interface Branch {
  sha: string;
  files: Map<string, () => FileEntry>; // loaded lazily from disk, then kept
}

interface RepoState {
  private: boolean;
  gated: boolean;
  cardData?: Record<string, unknown>;
  branches: Map<string, Branch>;
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const full = join(d, e.name);
      if (e.isDirectory()) walk(full);
      else if (statSync(full).isFile()) out.push(relative(dir, full).split(sep).join("/"));
    }
  };
  walk(dir);
  return out.sort();
}

const sha1 = (text: string) => createHash("sha1").update(text).digest("hex");

export async function startHubServer(options: HubServerOptions): Promise<HubServer> {
  const requests: RecordedRequest[] = [];
  const commits: RecordedCommit[] = [];
  const created: CreatedRepo[] = [];
  const legacy = options.legacy ?? {};
  const bySha256 = new Map<string, FileEntry>(); // what /__cdn/ serves
  const lfsStore = new Map<string, Buffer>(); // what PUT /__lfs/ received
  const repos: Record<RepoKind, Map<string, RepoState>> = { models: new Map(), datasets: new Map() };
  let base = "";

  function makeEntry(path: string, data: Buffer): FileEntry {
    const e: FileEntry = {
      data,
      lfs: LFS_EXTENSIONS.some((x) => path.endsWith(x)),
      gitSha1: createHash("sha1").update(`blob ${data.length}\0`).update(data).digest("hex"),
      sha256: createHash("sha256").update(data).digest("hex"),
    };
    bySha256.set(e.sha256, e);
    return e;
  }

  function lazy(path: string, load: () => Buffer): () => FileEntry {
    let e: FileEntry | undefined;
    return () => (e ??= makeEntry(path, load()));
  }

  function branchOf(spec: Omit<HubRepo, "branches">, sha: string): Branch {
    const files = new Map<string, () => FileEntry>();
    const dir = spec.dir;
    if (dir) for (const p of spec.files ?? listFiles(dir)) files.set(p, lazy(p, () => readFileSync(join(dir, ...p.split("/")))));
    for (const [p, c] of Object.entries(spec.content ?? {})) files.set(p, lazy(p, () => Buffer.from(c)));
    return { sha, files };
  }

  for (const type of ["models", "datasets"] as const) {
    for (const [id, spec] of Object.entries((type === "models" ? options.repos : options.datasets) ?? {})) {
      const branches = new Map<string, Branch>([["main", branchOf(spec, spec.sha ?? sha1(`commit:${id}`))]]);
      for (const [name, b] of Object.entries(spec.branches ?? {})) branches.set(name, branchOf(b, b.sha ?? sha1(`commit:${id}@${name}`)));
      repos[type].set(id, { private: spec.private ?? false, gated: spec.gated ?? false, cardData: spec.cardData, branches });
    }
  }

  function findBranch(state: RepoState, rev: string): Branch | undefined {
    return state.branches.get(rev) ?? [...state.branches.values()].find((b) => b.sha === rev);
  }

  function error(res: ServerResponse, status: number, code: string | undefined, message: string) {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (code) headers["x-error-code"] = code;
    headers["x-error-message"] = message;
    res.writeHead(status, headers).end(JSON.stringify({ error: message }));
  }

  function json(res: ServerResponse, body: unknown, status = 200) {
    res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
  }

  function bearer(req: RecordedRequest): string | undefined {
    const h = req.headers.authorization;
    return h?.startsWith("Bearer ") ? h.slice(7) : undefined;
  }

  /** The known token's owner, "invalid" for an unknown token, undefined for none. */
  function who(req: RecordedRequest): HubToken | "invalid" | undefined {
    const t = bearer(req);
    if (t === undefined) return undefined;
    if (!options.tokens) return { user: "user", role: "write" };
    return options.tokens[t] ?? "invalid";
  }

  /** Read access to a repo; answers and returns false when refused. */
  function canRead(req: RecordedRequest, res: ServerResponse, state: RepoState): boolean {
    const user = who(req);
    if (state.gated && user === undefined) {
      error(res, 401, "GatedRepo", "Access to this repo is restricted. You must have access to it and be authenticated to access it.");
      return false;
    }
    if (state.private && (user === undefined || user === "invalid")) {
      error(res, 401, "RepoNotFound", "Repository not found");
      return false;
    }
    return true;
  }

  /** Write access to namespace/name; answers and returns false when refused. */
  function canWrite(req: RecordedRequest, res: ServerResponse, repo: string): boolean {
    const user = who(req);
    if (user === undefined) {
      error(res, 401, undefined, "You must be authenticated to write to the Hub");
      return false;
    }
    if (user === "invalid") {
      error(res, 401, undefined, "Invalid credentials in Authorization header");
      return false;
    }
    const namespace = repo.split("/")[0];
    if (user.role !== "write" || (options.tokens && namespace !== user.user && !(user.orgs ?? []).includes(namespace))) {
      error(res, 403, undefined, `You don't have the rights to write to ${repo}`);
      return false;
    }
    return true;
  }

  /** Split "{repo}/{marker}/{rest}" where repo is "org/name" or a bare name; undefined when no marker follows. */
  function splitRepo(parts: string[], markers: string[]): { repo: string; marker: string; rest: string[] } | undefined {
    for (const n of [2, 1]) {
      if (parts.length > n && markers.includes(parts[n])) return { repo: parts.slice(0, n).join("/"), marker: parts[n], rest: parts.slice(n + 1) };
    }
    return undefined;
  }

  const decode = (segments: string[]) => segments.map(decodeURIComponent).join("/");

  function serveInfo(req: RecordedRequest, res: ServerResponse, type: RepoKind, asked: string, rev: string) {
    const id = type === "models" ? (legacy[asked] ?? asked) : asked;
    const state = repos[type].get(id);
    if (!state) return error(res, 404, "RepoNotFound", "Repository not found");
    if (!canRead(req, res, state)) return;
    const branch = findBranch(state, rev);
    if (!branch) return error(res, 404, "RevisionNotFound", `Invalid rev id: ${rev}`);
    const body: Record<string, unknown> = {
      _id: branch.sha.slice(0, 24),
      id,
      ...(type === "models" ? { modelId: id } : {}),
      sha: branch.sha,
      private: state.private,
      gated: state.gated ? "auto" : false,
      siblings: [...branch.files.keys()].sort().map((rfilename) => ({ rfilename })),
    };
    if (state.cardData) body.cardData = state.cardData;
    json(res, body);
  }

  function serveFile(req: RecordedRequest, res: ServerResponse, type: RepoKind, repo: string, rawRev: string, file: string) {
    const state = repos[type].get(repo);
    if (!state) return error(res, 404, "RepoNotFound", "Repository not found");
    if (!canRead(req, res, state)) return;
    const rev = decodeURIComponent(rawRev);
    const branch = findBranch(state, rev);
    if (!branch) return error(res, 404, "RevisionNotFound", `Invalid rev id: ${rev}`);
    const load = branch.files.get(file);
    if (!load) {
      res.setHeader("x-repo-commit", branch.sha);
      return error(res, 404, "EntryNotFound", `${file} does not exist on "${rev}"`);
    }
    const e = load();
    if (e.lfs) {
      res.writeHead(302, {
        "x-repo-commit": branch.sha,
        etag: `"${e.sha256}"`,
        "x-linked-etag": `"${e.sha256}"`,
        "x-linked-size": String(e.data.length),
        location: `/__cdn/${e.sha256}`,
        "content-length": "0",
      });
      return res.end();
    }
    res.writeHead(200, { "x-repo-commit": branch.sha, etag: `"${e.gitSha1}"`, "content-length": String(e.data.length) });
    res.end(req.method === "HEAD" ? undefined : e.data);
  }

  function createRepo(req: RecordedRequest, res: ServerResponse) {
    const body = JSON.parse(req.body.toString("utf8") || "{}") as { name?: string; organization?: string; type?: string; visibility?: string; private?: boolean };
    const user = who(req);
    const namespace = body.organization ?? (typeof user === "object" ? user.user : "user");
    const id = `${namespace}/${body.name}`;
    if (!body.name) return error(res, 400, undefined, "name is required");
    if (!canWrite(req, res, id)) return;
    const type: RepoKind = body.type === "dataset" ? "datasets" : "models";
    if (repos[type].has(id)) return json(res, { error: `You already created this ${type.slice(0, -1)} repo`, url: `${base}/${id}` }, 409);
    const isPrivate = body.visibility === "private" || body.private === true;
    const main: Branch = { sha: sha1(`created:${type}:${id}`), files: new Map([[".gitattributes", lazy(".gitattributes", () => Buffer.from(DEFAULT_GITATTRIBUTES))]]) };
    repos[type].set(id, { private: isPrivate, gated: false, branches: new Map([["main", main]]) });
    created.push({ type, id, private: isPrivate });
    json(res, { url: `${base}/${type === "datasets" ? "datasets/" : ""}${id}`, name: id, id });
  }

  function repoApi(req: RecordedRequest, res: ServerResponse, type: RepoKind, parts: string[]) {
    const split = splitRepo(parts, ["revision", "preupload", "commit", "branch"]);
    if (!split) {
      if (req.method === "GET") return serveInfo(req, res, type, decode(parts), "main");
      return error(res, 404, undefined, "Not found");
    }
    const repo = decodeURIComponent(split.repo);
    const arg = decode(split.rest);
    if (split.marker === "revision" && req.method === "GET") return serveInfo(req, res, type, repo, arg);
    if (req.method !== "POST") return error(res, 405, undefined, "Method not allowed");
    const state = repos[type].get(repo);
    if (!state) return error(res, 404, "RepoNotFound", "Repository not found");
    if (!canWrite(req, res, repo)) return;

    if (split.marker === "branch") {
      if (state.branches.has(arg)) return error(res, 409, undefined, `Reference already exists: refs/heads/${arg}`);
      const body = JSON.parse(req.body.toString("utf8") || "{}") as { startingPoint?: string };
      const from = findBranch(state, body.startingPoint ?? "main");
      if (!from) return error(res, 404, "RevisionNotFound", `Invalid rev id: ${body.startingPoint}`);
      state.branches.set(arg, { sha: from.sha, files: new Map(from.files) });
      return json(res, {});
    }
    const branch = state.branches.get(arg);
    if (!branch) return error(res, 404, "RevisionNotFound", `Invalid rev id: ${arg}`);

    if (split.marker === "preupload") {
      const body = JSON.parse(req.body.toString("utf8")) as { files: { path: string; size: number; sample: string }[] };
      const files = body.files.map((f) => {
        const binary = Buffer.from(f.sample, "base64").includes(0);
        const lfs = LFS_EXTENSIONS.some((x) => f.path.endsWith(x)) || f.size >= LFS_SIZE || binary;
        return { path: f.path, uploadMode: lfs ? "lfs" : "regular", shouldIgnore: false };
      });
      return json(res, { files, commitOid: branch.sha });
    }

    // commit
    const lines = req.body
      .toString("utf8")
      .split("\n")
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as { key: string; value: Record<string, unknown> });
    const header = lines.find((l) => l.key === "header")?.value as { summary?: string; description?: string } | undefined;
    if (!header?.summary) return error(res, 400, undefined, "A commit needs a summary");
    const files = new Map(branch.files);
    const commit: Omit<RecordedCommit, "oid"> = {
      type,
      repo,
      revision: arg,
      summary: header.summary,
      description: header.description || undefined,
      files: {},
      lfs: [],
      deleted: [],
      headers: req.headers,
    };
    for (const { key, value } of lines) {
      const path = String(value.path ?? "");
      if (key === "file") {
        const data = Buffer.from(String(value.content), value.encoding === "base64" ? "base64" : "utf8");
        commit.files[path] = data;
        files.set(path, lazy(path, () => data));
      } else if (key === "lfsFile") {
        const data = lfsStore.get(String(value.oid));
        if (!data) return error(res, 422, undefined, `LFS object ${String(value.oid)} for ${path} was never uploaded`);
        commit.files[path] = data;
        commit.lfs.push(path);
        files.set(path, lazy(path, () => data));
      } else if (key === "deletedFile") {
        commit.deleted.push(path);
        files.delete(path);
      }
    }
    const oid = sha1(`${branch.sha}:${req.body.toString("base64")}`);
    state.branches.set(arg, { sha: oid, files });
    commits.push({ ...commit, oid });
    json(res, { success: true, commitOid: oid, commitUrl: `${base}/${type === "datasets" ? "datasets/" : ""}${repo}/commit/${oid}`, hookOutput: "" });
  }

  function lfsBatch(req: RecordedRequest, res: ServerResponse, type: RepoKind, repo: string) {
    const state = repos[type].get(repo);
    if (!state) return error(res, 404, "RepoNotFound", "Repository not found");
    if (!canWrite(req, res, repo)) return;
    const body = JSON.parse(req.body.toString("utf8")) as { operation: string; objects: { oid: string; size: number }[] };
    if (body.operation !== "upload") return error(res, 400, undefined, "only uploads here");
    const objects = body.objects.map(({ oid, size }) =>
      lfsStore.has(oid) ? { oid, size } : { oid, size, authenticated: true, actions: { upload: { href: `${base}/__lfs/${oid}`, expires_in: 86400 } } },
    );
    res.writeHead(200, { "content-type": "application/vnd.git-lfs+json" }).end(JSON.stringify({ transfer: "basic", objects }));
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url ?? "/", "http://localhost");
    const headers: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(", ") : v;
    const rec: RecordedRequest = { method: req.method ?? "GET", path: url.pathname + url.search, headers, body: Buffer.concat(chunks) };
    requests.push(rec);
    if (options.intercept && (await options.intercept(rec, res))) return;

    const raw = url.pathname.slice(1);
    const parts = raw.split("/");
    if (parts[0] === "__cdn") {
      const e = bySha256.get(parts[1]);
      if (!e) return error(res, 404, undefined, "Not found");
      res.writeHead(200, { "content-length": String(e.data.length), etag: `"cdn-${e.sha256.slice(0, 8)}"` });
      return res.end(req.method === "HEAD" ? undefined : e.data);
    }
    if (parts[0] === "__lfs" && req.method === "PUT") {
      const oid = parts[1];
      if (createHash("sha256").update(rec.body).digest("hex") !== oid) return error(res, 400, undefined, "sha256 mismatch");
      lfsStore.set(oid, rec.body);
      res.writeHead(200, { etag: `"${oid.slice(0, 16)}"` });
      return res.end();
    }
    if (options.requireToken && req.headers.authorization !== `Bearer ${options.requireToken}`) {
      return error(res, 401, undefined, "Invalid credentials in Authorization header");
    }
    if (who(rec) === "invalid") return error(res, 401, undefined, "Invalid credentials in Authorization header");

    if (raw === "api/whoami-v2" && req.method === "GET") {
      const user = who(rec);
      if (typeof user !== "object") return error(res, 401, undefined, "Invalid credentials in Authorization header");
      return json(res, { type: "user", name: user.user, orgs: (user.orgs ?? []).map((name) => ({ name })), auth: { type: "access_token", accessToken: { role: user.role } } });
    }
    if (raw === "api/repos/create" && req.method === "POST") return createRepo(rec, res);
    if (parts[0] === "api" && (parts[1] === "models" || parts[1] === "datasets")) return repoApi(rec, res, parts[1], parts.slice(2));

    const type: RepoKind = parts[0] === "datasets" ? "datasets" : "models";
    const rest = type === "datasets" ? parts.slice(1) : parts;
    const gitIndex = rest.findIndex((p) => p.endsWith(".git"));
    if (gitIndex >= 0 && rest.slice(gitIndex + 1).join("/") === "info/lfs/objects/batch" && req.method === "POST") {
      const repo = decode([...rest.slice(0, gitIndex), rest[gitIndex].slice(0, -4)]);
      return lfsBatch(rec, res, type, repo);
    }

    const resolved = splitRepo(rest, ["resolve"]);
    if (resolved && (req.method === "GET" || req.method === "HEAD")) {
      const repo = decodeURIComponent(resolved.repo);
      if (type === "models" && !repos.models.has(repo) && legacy[repo]) {
        res.writeHead(307, { location: `/${legacy[repo]}/resolve/${resolved.rest.join("/")}` });
        return res.end();
      }
      if (resolved.rest.length < 2) return error(res, 404, "RevisionNotFound", "Invalid rev id");
      return serveFile(rec, res, type, repo, resolved.rest[0], decode(resolved.rest.slice(1)));
    }
    return error(res, 404, undefined, "Not found");
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) error(res, 500, undefined, String(e));
      else res.destroy();
    });
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const { port } = server.address() as AddressInfo;
  base = `http://127.0.0.1:${port}`;
  return {
    url: base,
    requests,
    commits,
    created,
    files(repo, type = "models", branch = "main") {
      const b = repos[type].get(repo)?.branches.get(branch);
      if (!b) return undefined;
      return Object.fromEntries([...b.files].map(([p, load]) => [p, load().data]));
    },
    close: () =>
      new Promise<void>((ok, fail) => {
        server.close((e) => (e ? fail(e) : ok()));
        server.closeAllConnections();
      }),
  };
}

/** The Hub servers a test file starts, so one afterEach can close them all. */
export function hubServerPool() {
  const servers: HubServer[] = [];
  return {
    servers,
    async start(options: HubServerOptions): Promise<HubServer> {
      const s = await startHubServer(options);
      servers.push(s);
      return s;
    },
    // A test may already have closed a server (to simulate a dead network): that is fine.
    closeAll: () => Promise.all(servers.splice(0).map((s) => s.close().catch(() => undefined))),
  };
}
