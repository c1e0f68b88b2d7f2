/**
 * run_manifest.json: the sha256 and size of the files that define a trained run (the weights and config.json),
 * written when training saves the run. `bertune push` checks it so that a run edited or damaged since training
 * is not published as if it were the trained one.
 */
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { BertuneError } from "../errors.js";
import { writeJsonAtomic } from "../util/atomic.js";
import { RUN_FILES } from "./files.js";

export const RUN_MANIFEST = "run_manifest.json";

/** The files recorded by default: what a model is made of. */
export const MANIFEST_FILES: readonly string[] = [RUN_FILES.weights, RUN_FILES.config];

export interface RunManifest {
  /** Format version. */
  version: 1;
  created_at: string;
  files: Record<string, { sha256: string; size: number }>;
}

/** sha256 of a file, read in chunks (weights of a full run are hundreds of MB); synchronous like saveRun. */
function sha256FileSync(path: string): string {
  const hash = createHash("sha256");
  const buf = Buffer.allocUnsafe(1 << 20);
  const fd = openSync(path, "r");
  try {
    for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0; ) hash.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return hash.digest("hex");
}

/** Record the sha256 and size of `files` (default: model.safetensors and config.json) of the run in `dir`. */
export function writeRunManifest(dir: string, files: readonly string[] = MANIFEST_FILES): RunManifest {
  const manifest: RunManifest = { version: 1, created_at: new Date().toISOString(), files: {} };
  for (const name of files) {
    const path = join(dir, name);
    manifest.files[name] = { sha256: sha256FileSync(path), size: statSync(path).size };
  }
  writeJsonAtomic(join(dir, RUN_MANIFEST), manifest);
  return manifest;
}

/** The run's manifest, or undefined when it has none; a damaged one is a BertuneError. */
export function readRunManifest(dir: string): RunManifest | undefined {
  const path = join(dir, RUN_MANIFEST);
  if (!existsSync(path)) return undefined;
  let m: RunManifest;
  try {
    m = JSON.parse(readFileSync(path, "utf8")) as RunManifest;
  } catch {
    throw new BertuneError(`${path} is not valid JSON`, "the run folder is damaged; train the run again");
  }
  const ok =
    m && typeof m === "object" && m.files && typeof m.files === "object" &&
    Object.values(m.files).every((f) => f && typeof f.sha256 === "string" && typeof f.size === "number");
  if (!ok) throw new BertuneError(`${path} is not a bertune run manifest`, "the run folder is damaged; train the run again");
  return m;
}

/** Files whose content differs from the manifest (or that are gone), in manifest order. */
export function changedSinceTraining(dir: string, manifest: RunManifest): string[] {
  const changed: string[] = [];
  for (const [name, want] of Object.entries(manifest.files)) {
    const path = join(dir, name);
    if (!existsSync(path) || statSync(path).size !== want.size || sha256FileSync(path) !== want.sha256) changed.push(name);
  }
  return changed;
}
