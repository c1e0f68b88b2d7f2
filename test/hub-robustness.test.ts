import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { BertuneError } from "../src/errors.js";
import { resolveModel, type ResolveOptions } from "../src/hub/index.js";
import { retryAfterMs, withRetry } from "../src/hub/retry.js";
import { runCli } from "./helpers/cli.js";
import { TINY_MODEL, tempDir } from "./helpers/fixtures.js";
import { hubServerPool, startHubServer, type HubServer } from "./helpers/hub-server.js";
import { isolateHubEnv } from "./helpers/hub-env.js";
import { errorOf } from "./helpers/errors.js";

// Writes into the cache can be made to fail as on a full disk (ENOSPC).
const disk = vi.hoisted(() => ({ full: false }));
vi.mock("node:fs", async (importOriginal) => {
  const fs = await importOriginal<typeof import("node:fs")>();
  return {
    ...fs,
    createWriteStream: ((...args: Parameters<typeof fs.createWriteStream>) => {
      if (!disk.full) return fs.createWriteStream(...args);
      return new Writable({
        write(_chunk, _enc, done) {
          done(Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" }));
        },
      });
    }) as typeof fs.createWriteStream,
  };
});

const SHA = "0123456789abcdef0123456789abcdef01234567";
const ID = "google-bert/bert-base-uncased";
const FROZEN = { required: ["config.json", "tokenizer.json", "onnx/model.onnx"], optional: ["vocab.txt"] };
const ONNX = readFileSync(join(TINY_MODEL, "onnx/model.onnx"));
const ONNX_SHA256 = createHash("sha256").update(ONNX).digest("hex");

const pool = hubServerPool();
const { servers } = pool;
const hub = pool.start;

let cacheDir: string;
let lines: string[];
let opts: (extra?: ResolveOptions) => ResolveOptions;
beforeEach(() => {
  isolateHubEnv();
  cacheDir = tempDir("bertune-robust-");
  lines = [];
  opts = (extra = {}) => ({ cacheDir, log: (l) => lines.push(l), ...extra });
});
afterEach(async () => {
  disk.full = false;
  vi.unstubAllEnvs();
  await pool.closeAll();
});

/** Everything under the repo's cache folder that is not a finished blob, link or ref (temporary files). */
function leftovers(repoDir: string): string[] {
  return readdirSync(repoDir, { recursive: true, encoding: "utf8" }).filter((f) => /incomplete|\.tmp-/.test(f));
}

const repoDir = () => join(cacheDir, "models--google-bert--bert-base-uncased");

describe("interrupted and damaged downloads", () => {
  it("a connection dropped mid-file leaves nothing behind, and the next run downloads it whole", async () => {
    let cut = 0;
    const s = await hub({
      repos: { [ID]: { dir: TINY_MODEL, sha: SHA } },
      intercept: (req, res) => {
        if (!req.path.startsWith("/__cdn/") || cut++ > 0) return false;
        // The storage answers for the whole file, sends a third of it, then the connection drops.
        res.writeHead(200, { "content-length": String(ONNX.length) });
        res.write(ONNX.subarray(0, Math.floor(ONNX.length / 3)), () => res.socket?.destroy());
        return true;
      },
    });
    const e = await errorOf(resolveModel(ID, FROZEN, opts({ endpoint: s.url })));
    expect(e.message).toMatch(/^the download of onnx\/model\.onnx from model google-bert\/bert-base-uncased (was interrupted|was cut short)/);
    expect(e.hint).toContain("run the command again");
    expect(existsSync(join(repoDir(), "snapshots", SHA, "onnx", "model.onnx"))).toBe(false);
    expect(existsSync(join(repoDir(), "blobs", ONNX_SHA256))).toBe(false);
    expect(leftovers(repoDir())).toEqual([]);

    const m = await resolveModel(ID, FROZEN, opts({ endpoint: s.url }));
    expect(readFileSync(m.files["onnx/model.onnx"]).equals(ONNX)).toBe(true);
    expect(leftovers(repoDir())).toEqual([]);
  });

  it("bytes that do not match the Hub's sha256 are refused", async () => {
    const s = await hub({
      repos: { [ID]: { dir: TINY_MODEL, sha: SHA } },
      intercept: (req, res) => {
        if (!req.path.startsWith("/__cdn/")) return false;
        const bad = Buffer.from(ONNX);
        bad[100] ^= 0xff;
        res.writeHead(200, { "content-length": String(bad.length) }).end(bad);
        return true;
      },
    });
    const e = await errorOf(resolveModel(ID, FROZEN, opts({ endpoint: s.url })));
    expect(e.message).toBe("the download of onnx/model.onnx from model google-bert/bert-base-uncased is corrupt (its sha256 does not match the Hub's)");
    expect(readdirSync(join(repoDir(), "blobs")).some((b) => b === ONNX_SHA256)).toBe(false);
    expect(leftovers(repoDir())).toEqual([]);
  });

  it("a full disk (ENOSPC) is one line with a hint, and leaves no partial file", async () => {
    const s = await hub({ repos: { [ID]: { dir: TINY_MODEL, sha: SHA } } });
    disk.full = true;
    const e = await errorOf(resolveModel(ID, FROZEN, opts({ endpoint: s.url })));
    expect(e.message).toBe(`cannot write to the Hugging Face cache at ${cacheDir} (ENOSPC)`);
    expect(e.hint).toContain("free some disk space");
    expect(leftovers(repoDir())).toEqual([]);
    disk.full = false;
    await resolveModel(ID, FROZEN, opts({ endpoint: s.url }));
  });
});

describe("a cache shared by concurrent runs", () => {
  it("parallel downloads of the same files (in-process and in two processes) all succeed, with one intact blob each", async () => {
    const s = await hub({
      repos: { [ID]: { dir: TINY_MODEL, sha: SHA } },
      // Slow storage, so that the downloads overlap.
      intercept: async (req) => {
        if (req.path.startsWith("/__cdn/") || req.path.includes("/resolve/")) await new Promise((ok) => setTimeout(ok, 150));
        return false;
      },
    });
    const results = await Promise.all([1, 2, 3].map(() => resolveModel(ID, FROZEN, opts({ endpoint: s.url }))));
    for (const m of results) expect(readFileSync(m.files["onnx/model.onnx"]).equals(ONNX)).toBe(true);
    expect(s.requests.filter((r) => r.path.startsWith("/__cdn/")).length).toBeGreaterThanOrEqual(2); // they did overlap
    expect(readdirSync(join(repoDir(), "blobs")).sort()).toHaveLength(4);
    expect(leftovers(repoDir())).toEqual([]);

    const home = tempDir("bertune-robust-home-");
    const env = { HF_ENDPOINT: s.url, HF_HOME: home };
    const [a, b] = await Promise.all([runCli(["download", ID, "--mode", "frozen", "-q"], env), runCli(["download", ID, "--mode", "frozen", "-q"], env)]);
    expect([a.code, b.code, a.stderr, b.stderr]).toEqual([0, 0, "", ""]);
    expect(a.stdout).toBe(b.stdout);
    const snap = a.stdout.trim();
    // The frozen path writes its own graph from the weights: model.safetensors, not the export, is fetched.
    expect(readFileSync(join(snap, "model.safetensors")).equals(readFileSync(join(TINY_MODEL, "model.safetensors")))).toBe(true);
    expect(existsSync(join(snap, "onnx", "model.onnx"))).toBe(false);
    expect(readFileSync(join(snap, "config.json")).equals(readFileSync(join(TINY_MODEL, "config.json")))).toBe(true);
    const shared = join(home, "hub", "models--google-bert--bert-base-uncased");
    expect(readdirSync(join(shared, "blobs"))).toHaveLength(5); // config, tokenizer, tokenizer_config, vocab, safetensors
    expect(leftovers(shared)).toEqual([]);
  });
});

describe("rate limits (HTTP 429)", () => {
  it("are waited out as Retry-After says, a bounded number of times", async () => {
    let refused = 0;
    const s = await hub({
      repos: { [ID]: { dir: TINY_MODEL, sha: SHA } },
      intercept: (req, res) => {
        if (req.path.startsWith("/api/models/") && refused++ < 2) {
          res.writeHead(429, { "retry-after": "0" }).end();
          return true;
        }
        return false;
      },
    });
    const m = await resolveModel(ID, FROZEN, opts({ endpoint: s.url }));
    expect(m.revision).toBe(SHA);
    expect(lines.filter((l) => l.startsWith("the Hub answered HTTP 429 (rate limit); retry"))).toHaveLength(2);

    const always = await hub({
      repos: { [ID]: { dir: TINY_MODEL, sha: SHA } },
      intercept: (_req, res) => {
        res.writeHead(429, { "retry-after": "0" }).end();
        return true;
      },
    });
    const e = await errorOf(resolveModel(ID, FROZEN, opts({ endpoint: always.url })));
    expect(e.message).toBe(`the Hub is rate-limiting requests (HTTP 429) for model ${ID}`);
    expect(e.hint).toContain("wait a few minutes");
    expect(always.requests).toHaveLength(6); // 1 + 5 retries
  });

  it("back off exponentially without Retry-After, and give up at once when asked to wait too long", async () => {
    const answer = (status: number, headers: Record<string, string> = {}) => async () => new Response(null, { status, headers });
    const delays: number[] = [];
    const sleep = async (ms: number) => void delays.push(ms);
    expect((await withRetry(answer(429), { sleep, baseDelayMs: 10, maxDelayMs: 50 })).status).toBe(429);
    expect(delays).toEqual([10, 20, 40, 50, 50]);

    delays.length = 0;
    expect((await withRetry(answer(429, { "retry-after": "3600" }), { sleep })).status).toBe(429);
    expect(delays).toEqual([]);
    expect((await withRetry(answer(503), { sleep })).status).toBe(503); // a plain outage: no retry
    expect(delays).toEqual([]);
    let n = 0;
    const flaky = async () => new Response(null, { status: n++ < 1 ? 503 : 200, headers: { "retry-after": "2" } });
    expect((await withRetry(flaky, { sleep })).status).toBe(200);
    expect(delays).toEqual([2000]);

    expect(retryAfterMs("7")).toBe(7000);
    expect(retryAfterMs("1.5")).toBe(1500);
    expect(retryAfterMs(new Date(Date.UTC(2030, 0, 1, 0, 0, 30)).toUTCString(), Date.UTC(2030, 0, 1))).toBe(30_000);
    expect(retryAfterMs("soon")).toBeUndefined();
    expect(retryAfterMs(null)).toBeUndefined();
  });
});
