/**
 * A small local server that answers like the Hugging Face Hub, for tests (no network needed).
 *
 *   GET  /api/models/{repo}[/revision/{rev}]     → { id, modelId, sha, private, siblings: [{ rfilename }] }
 *   HEAD /{repo}/resolve/{rev}/{path}            → the headers of the GET below, no body
 *   GET  /{repo}/resolve/{rev}/{path}            → small files: 200 with `etag` = git blob sha1
 *                                                   LFS files: 302 to /__cdn/{sha256} with `etag` and
 *                                                   `x-linked-etag` = sha256, `x-linked-size`
 *   GET  /__cdn/{sha256}                          → the bytes (like the Hub's storage: no Hub headers)
 *
 * Both carry `x-repo-commit`. Legacy names answer with the canonical id (API) or a 307 to the canonical
 * path (resolve). Unknown repos: 404 `x-error-code: RepoNotFound`; unknown revision: 404 `RevisionNotFound`;
 * unknown file: 404 `EntryNotFound`. With `requireToken`, any request without `Authorization: Bearer {token}`
 * gets 401 (storage URLs excepted, as on the Hub). Revisions: "main" or the repo's sha.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join, relative, sep } from "node:path";

export interface HubRepo {
  /** Folder whose files the repo serves. */
  dir: string;
  /** Repo-relative names to expose (default: every file under dir). */
  files?: string[];
  /** Commit sha (default: derived from the repo id). */
  sha?: string;
}

export interface HubServerOptions {
  repos: Record<string, HubRepo>;
  /** Legacy name → canonical id, e.g. { "bert-base-uncased": "google-bert/bert-base-uncased" }. */
  legacy?: Record<string, string>;
  /** When set, every Hub request must carry `Authorization: Bearer {requireToken}`. */
  requireToken?: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | undefined>;
}

export interface HubServer {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/** Extensions the Hub stores with Git LFS (served through a redirect with x-linked-etag). */
const LFS_EXTENSIONS = [".safetensors", ".onnx", ".onnx_data", ".bin", ".h5", ".msgpack", ".pt", ".ckpt"];

interface FileEntry {
  data: Buffer;
  lfs: boolean;
  gitSha1: string;
  sha256: string;
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

export async function startHubServer(options: HubServerOptions): Promise<HubServer> {
  const requests: RecordedRequest[] = [];
  const legacy = options.legacy ?? {};
  const entries = new Map<string, FileEntry>(); // "{repo}\0{path}" → contents, read lazily
  const bySha256 = new Map<string, FileEntry>();

  const shaOf = (id: string) => options.repos[id].sha ?? createHash("sha1").update(`commit:${id}`).digest("hex");
  const filesOf = (id: string) => options.repos[id].files ?? listFiles(options.repos[id].dir);

  function entry(id: string, path: string): FileEntry | undefined {
    if (!filesOf(id).includes(path)) return undefined;
    const key = `${id}\0${path}`;
    let e = entries.get(key);
    if (!e) {
      const data = readFileSync(join(options.repos[id].dir, ...path.split("/")));
      e = {
        data,
        lfs: LFS_EXTENSIONS.some((x) => path.endsWith(x)),
        gitSha1: createHash("sha1").update(`blob ${data.length}\0`).update(data).digest("hex"),
        sha256: createHash("sha256").update(data).digest("hex"),
      };
      entries.set(key, e);
      bySha256.set(e.sha256, e);
    }
    return e;
  }

  function error(res: ServerResponse, status: number, code: string | undefined, message: string) {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (code) headers["x-error-code"] = code;
    headers["x-error-message"] = message;
    res.writeHead(status, headers).end(JSON.stringify({ error: message }));
  }

  /** Split "{repo}/{marker}/{rest}" where repo is "org/name" or a bare name; undefined when marker is absent. */
  function splitRepo(path: string, marker: string): { repo: string; rest: string } | undefined {
    const parts = path.split("/");
    for (const n of [2, 1]) {
      if (parts[n] === marker) return { repo: parts.slice(0, n).join("/"), rest: parts.slice(n + 1).join("/") };
    }
    return undefined;
  }

  function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? "/", "http://localhost");
    const headers: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(", ") : v;
    requests.push({ method: req.method ?? "GET", path: url.pathname + url.search, headers });

    const raw = url.pathname.slice(1);
    if (raw.startsWith("__cdn/")) {
      const e = bySha256.get(raw.slice("__cdn/".length));
      if (!e) return error(res, 404, undefined, "Not found");
      res.writeHead(200, { "content-length": String(e.data.length), etag: `"cdn-${e.sha256.slice(0, 8)}"` });
      return res.end(req.method === "HEAD" ? undefined : e.data);
    }
    if (options.requireToken && req.headers.authorization !== `Bearer ${options.requireToken}`) {
      return error(res, 401, undefined, "Invalid credentials in Authorization header");
    }
    const path = raw.split("/").map(decodeURIComponent).join("/");

    if (path.startsWith("api/models/") && req.method === "GET") {
      const rest = path.slice("api/models/".length);
      const split = splitRepo(rest, "revision");
      const asked = split ? split.repo : rest;
      const rev = split ? split.rest : "main";
      const id = legacy[asked] ?? asked;
      if (!options.repos[id]) return error(res, 404, "RepoNotFound", "Repository not found");
      const sha = shaOf(id);
      if (rev !== "main" && rev !== sha) return error(res, 404, "RevisionNotFound", `Invalid rev id: ${rev}`);
      const body = { _id: sha.slice(0, 24), id, modelId: id, sha, private: false, siblings: filesOf(id).map((rfilename) => ({ rfilename })) };
      res.writeHead(200, { "content-type": "application/json" });
      return res.end(JSON.stringify(body));
    }

    const resolved = splitRepo(path, "resolve");
    if (resolved && (req.method === "GET" || req.method === "HEAD")) {
      const { repo, rest } = resolved;
      if (!options.repos[repo] && legacy[repo]) {
        res.writeHead(307, { location: `/${legacy[repo]}/resolve/${raw.split("/").slice(2).join("/")}` });
        return res.end();
      }
      if (!options.repos[repo]) return error(res, 404, "RepoNotFound", "Repository not found");
      const sha = shaOf(repo);
      const slash = rest.indexOf("/");
      const rev = rest.slice(0, slash);
      const file = rest.slice(slash + 1);
      if (slash < 0 || (rev !== "main" && rev !== sha)) return error(res, 404, "RevisionNotFound", `Invalid rev id: ${rev}`);
      const e = entry(repo, file);
      if (!e) {
        res.setHeader("x-repo-commit", sha);
        return error(res, 404, "EntryNotFound", `${file} does not exist on "${rev}"`);
      }
      if (e.lfs) {
        res.writeHead(302, {
          "x-repo-commit": sha,
          etag: `"${e.sha256}"`,
          "x-linked-etag": `"${e.sha256}"`,
          "x-linked-size": String(e.data.length),
          location: `/__cdn/${e.sha256}`,
          "content-length": "0",
        });
        return res.end();
      }
      res.writeHead(200, { "x-repo-commit": sha, etag: `"${e.gitSha1}"`, "content-length": String(e.data.length) });
      return res.end(req.method === "HEAD" ? undefined : e.data);
    }
    return error(res, 404, undefined, "Not found");
  }

  const server = createServer((req, res) => {
    try {
      handle(req, res);
    } catch (e) {
      error(res, 500, undefined, String(e));
    }
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((ok, fail) => {
        server.close((e) => (e ? fail(e) : ok()));
        server.closeAllConnections();
      }),
  };
}
