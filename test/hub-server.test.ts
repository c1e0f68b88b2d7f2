import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TINY_MODEL } from "./helpers/fixtures.js";
import { startHubServer, type HubServer } from "./helpers/hub-server.js";

const SHA = "0123456789abcdef0123456789abcdef01234567";
let s: HubServer;

beforeAll(async () => {
  s = await startHubServer({
    repos: { "google-bert/bert-base-uncased": { dir: TINY_MODEL, sha: SHA, files: ["config.json", "onnx/model.onnx"] } },
    legacy: { "bert-base-uncased": "google-bert/bert-base-uncased" },
  });
});
afterAll(() => s.close());

describe("mock Hub server", () => {
  it("answers the model-info API, for legacy names too", async () => {
    for (const path of ["/api/models/google-bert/bert-base-uncased", "/api/models/bert-base-uncased/revision/main", `/api/models/google-bert/bert-base-uncased/revision/${SHA}`]) {
      const res = await fetch(s.url + path);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({
        id: "google-bert/bert-base-uncased",
        sha: SHA,
        siblings: [{ rfilename: "config.json" }, { rfilename: "onnx/model.onnx" }],
      });
    }
    const missing = await fetch(`${s.url}/api/models/google-bert/nope`);
    expect([missing.status, missing.headers.get("x-error-code")]).toEqual([404, "RepoNotFound"]);
    const rev = await fetch(`${s.url}/api/models/google-bert/bert-base-uncased/revision/v2`);
    expect([rev.status, rev.headers.get("x-error-code")]).toEqual([404, "RevisionNotFound"]);
  });

  it("serves small files with a git-sha1 etag and LFS files through a redirect with x-linked-etag", async () => {
    const config = readFileSync(join(TINY_MODEL, "config.json"));
    const head = await fetch(`${s.url}/google-bert/bert-base-uncased/resolve/main/config.json`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("x-repo-commit")).toBe(SHA);
    expect(head.headers.get("etag")).toBe(`"${createHash("sha1").update(`blob ${config.length}\0`).update(config).digest("hex")}"`);
    expect(head.headers.get("content-length")).toBe(String(config.length));

    const onnx = readFileSync(join(TINY_MODEL, "onnx/model.onnx"));
    const lfs = await fetch(`${s.url}/google-bert/bert-base-uncased/resolve/${SHA}/onnx/model.onnx`, { redirect: "manual" });
    expect(lfs.status).toBe(302);
    expect(lfs.headers.get("x-linked-etag")).toBe(`"${createHash("sha256").update(onnx).digest("hex")}"`);
    expect(lfs.headers.get("x-linked-size")).toBe(String(onnx.length));
    const body = Buffer.from(await (await fetch(new URL(lfs.headers.get("location") as string, s.url))).arrayBuffer());
    expect(body.equals(onnx)).toBe(true);

    const legacy = await fetch(`${s.url}/bert-base-uncased/resolve/main/config.json`);
    expect(Buffer.from(await legacy.arrayBuffer()).equals(config)).toBe(true);

    const entry = await fetch(`${s.url}/google-bert/bert-base-uncased/resolve/main/vocab.txt`);
    expect([entry.status, entry.headers.get("x-error-code")]).toEqual([404, "EntryNotFound"]);
  });

  it("records requests", () => {
    expect(s.requests.length).toBeGreaterThan(5);
    expect(s.requests[0]).toMatchObject({ method: "GET", path: "/api/models/google-bert/bert-base-uncased" });
  });

  it("requires the token when asked to", async () => {
    const locked = await startHubServer({ repos: { "a/b": { dir: TINY_MODEL } }, requireToken: "hf_x" });
    try {
      expect((await fetch(`${locked.url}/api/models/a/b`)).status).toBe(401);
      expect((await fetch(`${locked.url}/api/models/a/b`, { headers: { authorization: "Bearer hf_y" } })).status).toBe(401);
      expect((await fetch(`${locked.url}/api/models/a/b`, { headers: { authorization: "Bearer hf_x" } })).status).toBe(200);
    } finally {
      await locked.close();
    }
  });
});
