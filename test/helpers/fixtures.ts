import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root and the read-only fixtures beside it (../shared). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const SHARED = resolve(ROOT, "../shared");
export const TINY_MODEL = join(SHARED, "models/bert-random-tiny");
export const DATASETS = join(SHARED, "datasets");

/** A fresh temporary folder; tests never write into ../shared. */
export function tempDir(prefix = "bertune-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
