import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FeatureCache, type FeatureKey, featureKeyId } from "../src/features/cache.js";
import { tempDir } from "./helpers/fixtures.js";

const key: FeatureKey = { model: "m", revision: "r", encoder: "sha256:abc", dataset: "d", split: "train", maxLength: 128, pooling: "pooler" };
const features = { rows: 2, hiddenSize: 3, data: Float32Array.from([1, 2, 3, 4, 5, 6]) };

describe("the frozen-feature cache", () => {
  it("names an entry by 32 hex digits of the key's hash; any field of the key gives another entry", () => {
    expect(featureKeyId(key)).toMatch(/^[0-9a-f]{32}$/);
    const ids = new Set([key, ...Object.keys(key).map((k) => ({ ...key, [k]: k === "maxLength" ? 64 : "other" }))].map(featureKeyId));
    expect(ids.size).toBe(Object.keys(key).length + 1);
    const cache = new FeatureCache(tempDir());
    cache.put(key, features);
    expect(readdirSync(cache.dir).sort()).toEqual([`${featureKeyId(key)}.f32`, `${featureKeyId(key)}.json`]);
  });

  it("returns what was put, and nothing for another key", () => {
    const cache = new FeatureCache(tempDir());
    expect(cache.get(key)).toBeUndefined();
    cache.put(key, features);
    expect(cache.get(key)).toEqual(features);
    expect(cache.get({ ...key, encoder: "sha256:def" })).toBeUndefined();
  });

  it("ignores an entry whose description names another key, whose data is damaged or of the wrong size, or whose description is not JSON", () => {
    const dir = tempDir();
    const cache = new FeatureCache(dir);
    const id = featureKeyId(key);
    const meta = join(cache.dir, `${id}.json`);
    const data = join(cache.dir, `${id}.f32`);
    const reset = () => cache.put(key, features);

    reset();
    writeFileSync(meta, JSON.stringify({ ...JSON.parse(readFileSync(meta, "utf8")), key: { ...key, split: "test" } }));
    expect(cache.get(key)).toBeUndefined();

    reset();
    const bytes = readFileSync(data);
    bytes[5] ^= 1; // same size, other content: the hash differs
    writeFileSync(data, bytes);
    expect(cache.get(key)).toBeUndefined();

    reset();
    writeFileSync(meta, JSON.stringify({ ...JSON.parse(readFileSync(meta, "utf8")), rows: 1 })); // hash right, size wrong
    expect(cache.get(key)).toBeUndefined();

    reset();
    writeFileSync(meta, "{not json");
    expect(cache.get(key)).toBeUndefined();

    reset();
    expect(cache.get(key)).toEqual(features);
  });
});
