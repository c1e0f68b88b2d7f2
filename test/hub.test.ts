import { createHash } from "node:crypto";
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { BertuneError } from "../src/errors.js";
import { resolveModel, type ResolveOptions } from "../src/hub/index.js";
import { TINY_MODEL, tempDir } from "./helpers/fixtures.js";
import { hubServerPool, startHubServer, type HubServer } from "./helpers/hub-server.js";
import { isolateHubEnv } from "./helpers/hub-env.js";
import { errorOf } from "./helpers/errors.js";

const FROZEN = {
  required: ["config.json", "tokenizer.json", "onnx/model.onnx"],
  optional: ["tokenizer_config.json", "vocab.txt", "special_tokens_map.json"],
};
const PRESENT = ["config.json", "tokenizer.json", "onnx/model.onnx", "tokenizer_config.json", "vocab.txt"];
const SHA = "0123456789abcdef0123456789abcdef01234567";
const ID = "google-bert/bert-base-uncased";
const WITHOUT_ONNX = ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "vocab.txt"];

const pool = hubServerPool();
const { servers } = pool;
const hub = pool.start;

function fileRequests(s: HubServer) {
  return s.requests.filter((r) => r.path.includes("/resolve/") || r.path.startsWith("/__cdn/"));
}

let cacheDir: string;
let lines: string[];
let opts: (extra?: ResolveOptions) => ResolveOptions;

beforeEach(() => {
  isolateHubEnv();
  cacheDir = tempDir("bertune-hub-cache-");
  lines = [];
  opts = (extra = {}) => ({ cacheDir, log: (l) => lines.push(l), ...extra });
});

afterEach(async () => {
  vi.unstubAllEnvs();
  await pool.closeAll();
});

describe("local directories", () => {
  it("maps every requested file that exists", async () => {
    const m = await resolveModel(TINY_MODEL, FROZEN);
    expect(m).toMatchObject({ id: TINY_MODEL, revision: "local", local: true });
    expect(Object.keys(m.files).sort()).toEqual([...PRESENT].sort());
    for (const name of PRESENT) expect(m.files[name]).toBe(join(TINY_MODEL, name));
    expect(m.onnxFrom).toBeUndefined();
  });

  it("names the missing required file and the folder", async () => {
    const e = await errorOf(resolveModel(TINY_MODEL, { required: ["config.json", "pytorch_model.bin"] }));
    expect(e.message).toContain("pytorch_model.bin");
    expect(e.message).toContain(TINY_MODEL);
  });

  it("rejects a path that does not exist", async () => {
    for (const p of ["./no-such-model-dir", "/nonexistent/bert", "~/no-such-bertune-model", "a/b/c"]) {
      const e = await errorOf(resolveModel(p, FROZEN, opts({ offline: true })));
      expect(e.message).toMatch(/^no such model directory: /);
    }
  });

  it("rejects a file and an invalid id", async () => {
    expect((await errorOf(resolveModel(join(TINY_MODEL, "config.json"), FROZEN))).message).toContain("not a model directory");
    expect((await errorOf(resolveModel("bad--name", FROZEN, opts({ offline: true })))).message).toContain("neither a model directory nor a Hub model id");
  });
});

describe("downloads from the Hub", () => {
  it("fills the standard cache layout, resolves legacy names, and does not download twice", async () => {
    const s = await hub({ repos: { [ID]: { dir: TINY_MODEL, sha: SHA } }, legacy: { "bert-base-uncased": ID } });
    const m = await resolveModel(ID, FROZEN, opts({ endpoint: s.url }));
    const repoDir = join(cacheDir, "models--google-bert--bert-base-uncased");
    expect(m).toMatchObject({ id: ID, revision: SHA, local: false });
    expect(m.onnxFrom).toBeUndefined();
    expect(Object.keys(m.files).sort()).toEqual([...PRESENT].sort());
    for (const name of PRESENT) {
      expect(m.files[name]).toBe(join(repoDir, "snapshots", SHA, ...name.split("/")));
      expect(readFileSync(m.files[name]).equals(readFileSync(join(TINY_MODEL, name)))).toBe(true);
    }
    expect(readFileSync(join(repoDir, "refs", "main"), "utf8")).toBe(SHA);

    // Snapshot files are relative symlinks into blobs/, named by etag: sha256 for LFS files, git blob sha1 otherwise.
    const onnx = readFileSync(join(TINY_MODEL, "onnx/model.onnx"));
    const onnxSha256 = createHash("sha256").update(onnx).digest("hex");
    expect(onnxSha256).toBe("818b891fc874b539a88a288539fb2c04ef383cebec4f211c7b8143432a538589");
    expect(lstatSync(m.files["onnx/model.onnx"]).isSymbolicLink()).toBe(true);
    expect(readlinkSync(m.files["onnx/model.onnx"])).toBe(`../../../blobs/${onnxSha256}`);
    const config = readFileSync(join(TINY_MODEL, "config.json"));
    const gitSha1 = createHash("sha1").update(`blob ${config.length}\0`).update(config).digest("hex");
    expect(readlinkSync(m.files["config.json"])).toBe(`../../blobs/${gitSha1}`);
    expect(readdirSync(join(repoDir, "blobs")).sort()).toHaveLength(PRESENT.length);
    expect(readdirSync(join(repoDir, "blobs")).some((n) => n.includes("incomplete"))).toBe(false);

    // No token configured: no Authorization header.
    expect(s.requests.every((r) => r.headers.authorization === undefined)).toBe(true);
    expect(s.requests[0].path).toBe(`/api/models/${ID}/revision/main`);
    expect(lines.some((l) => l.includes("downloading onnx/model.onnx"))).toBe(true);

    // Second call, with the legacy name: same result, no file requests.
    const before = fileRequests(s).length;
    const again = await resolveModel("bert-base-uncased", FROZEN, opts({ endpoint: s.url }));
    expect(again).toEqual(m);
    expect(fileRequests(s).length).toBe(before);

    // The full path adds model.safetensors: only that file is downloaded.
    const full = await resolveModel(ID, { required: [...FROZEN.required, "model.safetensors"], optional: FROZEN.optional }, opts({ endpoint: s.url }));
    expect(readFileSync(full.files["model.safetensors"]).equals(readFileSync(join(TINY_MODEL, "model.safetensors")))).toBe(true);
    const resolves = fileRequests(s).slice(before).filter((r) => r.path.includes("/resolve/"));
    expect(resolves.map((r) => r.path)).toEqual([`/${ID}/resolve/${SHA}/model.safetensors`]);
  });

  it("asks the Hub for the canonical id of a legacy name it does not know", async () => {
    const s = await hub({ repos: { "someorg/tiny-bert": { dir: TINY_MODEL, sha: SHA } }, legacy: { "tiny-bert": "someorg/tiny-bert" } });
    const m = await resolveModel("tiny-bert", FROZEN, opts({ endpoint: s.url }));
    expect(m.id).toBe("someorg/tiny-bert");
    expect(m.files["config.json"]).toBe(join(cacheDir, "models--someorg--tiny-bert", "snapshots", SHA, "config.json"));
    expect(s.requests[0].path).toBe("/api/models/tiny-bert/revision/main");
    // Offline, the cached copy is found by its name.
    const off = await resolveModel("tiny-bert", FROZEN, opts({ offline: true }));
    expect(off.files).toEqual(m.files);
  });

  it("pins a commit: refs are left alone, and a fully cached commit needs no request", async () => {
    const s = await hub({ repos: { [ID]: { dir: TINY_MODEL, sha: SHA } } });
    const m = await resolveModel(ID, FROZEN, opts({ endpoint: s.url, revision: SHA }));
    expect(m.revision).toBe(SHA);
    expect(existsSync(join(cacheDir, "models--google-bert--bert-base-uncased", "refs"))).toBe(false);
    const count = s.requests.length;
    // special_tokens_map.json is not in the repo, so all-cached means the required and present optional files:
    await resolveModel(ID, { required: ["config.json", "vocab.txt"] }, opts({ endpoint: s.url, revision: SHA }));
    expect(s.requests.length).toBe(count);
  });

  it("reports a missing required file before downloading anything", async () => {
    const s = await hub({ repos: { [ID]: { dir: TINY_MODEL, sha: SHA } } });
    const e = await errorOf(resolveModel(ID, { required: ["config.json", "pytorch_model.bin"] }, opts({ endpoint: s.url })));
    expect(e.message).toBe(`model ${ID} has no pytorch_model.bin`);
    expect(fileRequests(s)).toHaveLength(0);
  });

  it("never leaves a partial download in the cache", async () => {
    // A server that lists a file, then drops the connection half-way through sending it.
    const server = createServer((req, res) => {
      if (req.url?.startsWith("/api/models/")) {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ id: "org/broken", sha: SHA, siblings: [{ rfilename: "config.json" }] }));
        return;
      }
      res.writeHead(200, { etag: '"abc123"', "x-repo-commit": SHA, "content-length": "100000" });
      res.write(Buffer.alloc(1000, 1));
      setTimeout(() => res.socket?.destroy(), 20);
    });
    await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const e = await errorOf(resolveModel("org/broken", { required: ["config.json"] }, opts({ endpoint: url })));
      expect(e.message).toMatch(/download of config\.json from model org\/broken (was interrupted|was cut short)/);
      const repoDir = join(cacheDir, "models--org--broken");
      expect(existsSync(join(repoDir, "snapshots", SHA, "config.json"))).toBe(false);
      expect(readdirSync(join(repoDir, "blobs"))).toEqual([]);
    } finally {
      server.closeAllConnections();
      await new Promise((ok) => server.close(ok));
    }
  });
});

describe("ONNX mirror fallback", () => {
  it("takes onnx/model.onnx from Xenova/{name} when the repo has none", async () => {
    const XSHA = "fedcba9876543210fedcba9876543210fedcba98";
    const s = await hub({
      repos: {
        [ID]: { dir: TINY_MODEL, sha: SHA, files: WITHOUT_ONNX },
        "Xenova/bert-base-uncased": { dir: TINY_MODEL, sha: XSHA, files: ["config.json", "onnx/model.onnx"] },
      },
    });
    const m = await resolveModel(ID, FROZEN, opts({ endpoint: s.url }));
    expect(m.onnxFrom).toEqual({ id: "Xenova/bert-base-uncased", revision: XSHA });
    expect(m.revision).toBe(SHA);
    expect(m.files["onnx/model.onnx"]).toBe(join(cacheDir, "models--Xenova--bert-base-uncased", "snapshots", XSHA, "onnx", "model.onnx"));
    expect(m.files["config.json"]).toBe(join(cacheDir, "models--google-bert--bert-base-uncased", "snapshots", SHA, "config.json"));
    expect(readFileSync(m.files["onnx/model.onnx"]).equals(readFileSync(join(TINY_MODEL, "onnx/model.onnx")))).toBe(true);
    expect(readFileSync(join(cacheDir, "models--Xenova--bert-base-uncased", "refs", "main"), "utf8")).toBe(XSHA);
    expect(lines.filter((l) => l.startsWith("using ONNX export from Xenova/bert-base-uncased"))).toHaveLength(1);

    // Offline too, from the cache.
    lines.length = 0;
    const off = await resolveModel(ID, FROZEN, opts({ offline: true }));
    expect(off).toEqual(m);
    expect(lines.filter((l) => l.startsWith("using ONNX export from Xenova/bert-base-uncased"))).toHaveLength(1);
  });

  it("explains when neither the repo nor the mirror has an ONNX export", async () => {
    const s = await hub({ repos: { "someorg/plain-bert": { dir: TINY_MODEL, files: WITHOUT_ONNX } } });
    const e = await errorOf(resolveModel("someorg/plain-bert", FROZEN, opts({ endpoint: s.url })));
    expect(e.message).toBe("model someorg/plain-bert has no ONNX export (onnx/model.onnx), and neither has the transformers.js mirror Xenova/plain-bert");
    expect(e.hint).toContain("local directory");
    expect(fileRequests(s)).toHaveLength(0);
    // Optional ONNX: no error, no file.
    const m = await resolveModel("someorg/plain-bert", { required: ["config.json"], optional: ["onnx/model.onnx"] }, opts({ endpoint: s.url }));
    expect(Object.keys(m.files)).toEqual(["config.json"]);
  });
});

describe("offline", () => {
  it("uses the cache with the server gone, by option or HF_HUB_OFFLINE", async () => {
    const s = await hub({ repos: { [ID]: { dir: TINY_MODEL, sha: SHA } } });
    const online = await resolveModel(ID, FROZEN, opts({ endpoint: s.url }));
    await s.close();
    servers.splice(servers.indexOf(s), 1);

    expect(await resolveModel(ID, FROZEN, opts({ endpoint: s.url, offline: true }))).toEqual(online);
    expect(await resolveModel("bert-base-uncased", FROZEN, opts({ endpoint: s.url, offline: true }))).toEqual(online);
    vi.stubEnv("HF_HUB_OFFLINE", "1");
    expect(await resolveModel(ID, FROZEN, opts({ endpoint: s.url }))).toEqual(online);
    vi.stubEnv("HF_HUB_OFFLINE", "");

    // Online but unreachable: falls back to the cached copy, and says so.
    expect(await resolveModel(ID, FROZEN, opts({ endpoint: s.url }))).toEqual(online);
    expect(lines.some((l) => l.startsWith(`cannot reach ${s.url}; using the cached copy of ${ID}`))).toBe(true);

    // A file never downloaded is named.
    const e = await errorOf(resolveModel(ID, { required: ["config.json", "model.safetensors"] }, opts({ offline: true })));
    expect(e.message).toContain("model.safetensors");
    expect(e.message).not.toContain("config.json");
    expect(e.hint).toContain("run once online");
  });

  it("finds copies that Python cached under a legacy name, and ids in another case", async () => {
    // huggingface_hub caches hf_hub_download("bert-base-uncased", ...) under models--bert-base-uncased.
    const snap = join(cacheDir, "models--bert-base-uncased", "snapshots", SHA);
    mkdirSync(join(cacheDir, "models--bert-base-uncased", "refs"), { recursive: true });
    writeFileSync(join(cacheDir, "models--bert-base-uncased", "refs", "main"), SHA);
    mkdirSync(snap, { recursive: true });
    writeFileSync(join(snap, "config.json"), "{}");
    const m = await resolveModel("bert-base-uncased", { required: ["config.json"] }, opts({ offline: true }));
    expect(m).toMatchObject({ id: "bert-base-uncased", revision: SHA, files: { "config.json": join(snap, "config.json") } });

    const s = await hub({ repos: { "Xenova/tiny": { dir: TINY_MODEL, sha: SHA } } });
    await resolveModel("Xenova/tiny", { required: ["config.json"] }, opts({ endpoint: s.url }));
    const off = await resolveModel("xenova/TINY", { required: ["config.json"] }, opts({ offline: true }));
    expect(off.id).toBe("Xenova/tiny");
  });

  it("names the missing file for a model never downloaded", async () => {
    const e = await errorOf(resolveModel("someorg/never-downloaded", FROZEN, opts({ offline: true })));
    expect(e.message).toContain("config.json");
    expect(e.message).toContain("someorg/never-downloaded");
    expect(e.hint).toContain("run once online (or `bertune download someorg/never-downloaded`) first");
  });
});

describe("errors", () => {
  it("404: model not found", async () => {
    const s = await hub({ repos: { [ID]: { dir: TINY_MODEL } } });
    const e = await errorOf(resolveModel("google-bert/bert-base-uncassed", FROZEN, opts({ endpoint: s.url })));
    expect(e.message).toBe("model google-bert/bert-base-uncassed not found on the Hub; check the spelling");
    expect(e.hint).toContain("org/name");
  });

  it("404: revision not found", async () => {
    const s = await hub({ repos: { [ID]: { dir: TINY_MODEL } } });
    const e = await errorOf(resolveModel(ID, FROZEN, opts({ endpoint: s.url, revision: "v9" })));
    expect(e.message).toBe(`revision "v9" not found in model ${ID}`);
  });

  it("401: asks for HF_TOKEN and never shows the token", async () => {
    const s = await hub({ repos: { [ID]: { dir: TINY_MODEL } }, requireToken: "hf_right" });
    const anon = await errorOf(resolveModel(ID, FROZEN, opts({ endpoint: s.url })));
    expect(anon.message).toContain("set HF_TOKEN");
    expect(anon.message).toMatch(/private or gated/);

    const wrong = await errorOf(resolveModel(ID, FROZEN, opts({ endpoint: s.url, token: "hf_secret123" })));
    expect(s.requests.at(-1)?.headers.authorization).toBe("Bearer hf_secret123");
    expect(wrong.message).toContain("HF_TOKEN");
    for (const text of [wrong.message, wrong.hint ?? "", String(wrong.stack), ...lines]) expect(text).not.toContain("hf_secret123");
  });

  it("sends the token (option, HF_TOKEN, token file) as a Bearer header only", async () => {
    const s = await hub({ repos: { [ID]: { dir: TINY_MODEL, sha: SHA } }, requireToken: "hf_secret123" });
    const m = await resolveModel(ID, FROZEN, opts({ endpoint: s.url, token: "hf_secret123" }));
    expect(Object.keys(m.files)).toHaveLength(PRESENT.length);
    const hubRequests = s.requests.filter((r) => !r.path.startsWith("/__cdn/"));
    expect(hubRequests.every((r) => r.headers.authorization === "Bearer hf_secret123")).toBe(true);
    expect(s.requests.every((r) => !r.path.includes("hf_secret123"))).toBe(true);
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(l).not.toContain("hf_secret123");

    vi.stubEnv("HF_TOKEN", "hf_secret123");
    await resolveModel(ID, FROZEN, opts({ endpoint: s.url }));
    vi.stubEnv("HF_TOKEN", "");
    const home = process.env.HF_HOME as string;
    mkdirSync(home, { recursive: true });
    writeFileSync(join(home, "token"), "hf_secret123\n");
    await resolveModel(ID, FROZEN, opts({ endpoint: s.url }));
    expect(s.requests.at(-1)?.headers.authorization).toBe("Bearer hf_secret123");
  });

  it("connection refused: the network message", async () => {
    const s = await startHubServer({ repos: {} });
    await s.close();
    const e = await errorOf(resolveModel(ID, FROZEN, opts({ endpoint: s.url })));
    expect(e.message).toBe(`cannot reach ${s.url}; check your connection, or set HF_HUB_OFFLINE=1 to use the cache`);
  });

  it("HF_ENDPOINT is the default endpoint", async () => {
    const s = await hub({ repos: { [ID]: { dir: TINY_MODEL, sha: SHA } } });
    vi.stubEnv("HF_ENDPOINT", `${s.url}/`);
    const m = await resolveModel(ID, FROZEN, opts());
    expect(m.revision).toBe(SHA);
  });
});
