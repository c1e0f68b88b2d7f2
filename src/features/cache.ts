import { existsSync, readFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic, writeJsonAtomic } from "../util/atomic.js";
import { bertuneCacheDir } from "../util/cache-dir.js";
import { sha256 } from "../util/hash.js";

export { bertuneCacheDir };

/** Everything that changes a frozen feature: a change in any field gives a new cache entry. */
export interface FeatureKey {
  model: string;
  revision: string;
  /** Identity of the encoder weights themselves (sha256 of a local ONNX file, or the Hub commit). */
  encoder: string;
  dataset: string;
  split: string;
  maxLength: number;
  pooling: string;
}

export interface CachedFeatures {
  rows: number;
  hiddenSize: number;
  data: Float32Array;
}

export function featureKeyId(key: FeatureKey): string {
  const ordered = [key.model, key.revision, key.encoder, key.dataset, key.split, String(key.maxLength), key.pooling];
  return sha256(JSON.stringify(ordered)).slice(0, 32);
}

/** Frozen encoder outputs stored as raw float32 rows plus a JSON description, both written atomically. */
export class FeatureCache {
  readonly dir: string;
  constructor(cacheDir: string = bertuneCacheDir()) {
    this.dir = join(cacheDir, "features");
  }

  private paths(key: FeatureKey) {
    const id = featureKeyId(key);
    return { data: join(this.dir, `${id}.f32`), meta: join(this.dir, `${id}.json`) };
  }

  /** The cached features for this key, or undefined when absent or unusable (then they are recomputed). */
  get(key: FeatureKey): CachedFeatures | undefined {
    const p = this.paths(key);
    if (!existsSync(p.meta) || !existsSync(p.data)) return undefined;
    try {
      const meta = JSON.parse(readFileSync(p.meta, "utf8")) as { key: FeatureKey; rows: number; hiddenSize: number; sha256: string };
      if (JSON.stringify(meta.key) !== JSON.stringify(key)) return undefined;
      const bytes = readFileSync(p.data);
      if (bytes.byteLength !== meta.rows * meta.hiddenSize * 4 || sha256(bytes) !== meta.sha256) return undefined;
      const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
      return { rows: meta.rows, hiddenSize: meta.hiddenSize, data };
    } catch {
      return undefined;
    }
  }

  put(key: FeatureKey, features: CachedFeatures): void {
    mkdirSync(this.dir, { recursive: true });
    const p = this.paths(key);
    const bytes = new Uint8Array(features.data.buffer, features.data.byteOffset, features.data.byteLength);
    // Data first, description last: a description only ever points at complete data.
    writeFileAtomic(p.data, bytes);
    writeJsonAtomic(p.meta, { key, rows: features.rows, hiddenSize: features.hiddenSize, sha256: sha256(bytes) });
  }
}
