import { mkdirSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  cachedFile,
  hubCacheDir,
  isCommitHash,
  readRef,
  repoFolderName,
  snapshotPath,
  writeRef,
} from "../src/hub/index.js";
import { BertuneError } from "../src/errors.js";
import { tempDir } from "./helpers/fixtures.js";

const SHA = "0123456789abcdef0123456789abcdef01234567";

describe("hub cache helpers", () => {
  it("finds the cache folder as huggingface_hub does", () => {
    expect(hubCacheDir({ HF_HUB_CACHE: "/x/hub", HF_HOME: "/y" })).toBe("/x/hub");
    expect(hubCacheDir({ HF_HOME: "/y" })).toBe("/y/hub");
    expect(hubCacheDir({ XDG_CACHE_HOME: "/z" })).toBe("/z/huggingface/hub");
    expect(hubCacheDir({})).toBe(join(homedir(), ".cache", "huggingface", "hub"));
  });

  it("names repo folders and snapshot paths", () => {
    expect(repoFolderName("models", "org/name")).toBe("models--org--name");
    expect(repoFolderName("datasets", "glue")).toBe("datasets--glue");
    expect(snapshotPath("/c", "org/name", SHA, "onnx/model.onnx")).toBe(`/c/models--org--name/snapshots/${SHA}/onnx/model.onnx`);
    expect(() => snapshotPath("/c", "org/name", SHA, "../escape")).toThrow(BertuneError);
    expect(isCommitHash(SHA)).toBe(true);
    expect(isCommitHash("main")).toBe(false);
  });

  it("reads and writes refs", () => {
    const cache = tempDir();
    expect(readRef(cache, "org/name", "main")).toBeUndefined();
    writeRef(cache, "org/name", "main", SHA);
    expect(readRef(cache, "org/name", "main")).toBe(SHA);
    writeRef(cache, "org/name", "refs/pr/1", SHA);
    expect(readRef(cache, "org/name", "refs/pr/1")).toBe(SHA);
    const file = snapshotPath(cache, "org/name", SHA, "config.json");
    mkdirSync(join(file, ".."), { recursive: true });
    writeFileSync(file, "{}");
    expect(cachedFile(cache, "org/name", "main", "config.json")).toBe(file);
    expect(cachedFile(cache, "org/name", SHA, "config.json")).toBe(file);
    expect(cachedFile(cache, "org/name", "main", "vocab.txt")).toBeUndefined();
  });
});
