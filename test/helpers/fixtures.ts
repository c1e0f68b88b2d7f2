import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root and the read-only fixtures beside it (../shared). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
// BERTUNE_TEST_SHARED: for a copy of the tree elsewhere (Stryker's sandbox sets it).
export const SHARED = process.env.BERTUNE_TEST_SHARED ?? resolve(ROOT, "../shared");
export const TINY_MODEL = join(SHARED, "models/bert-random-tiny");
export const DATASETS = join(SHARED, "datasets");

/** A fresh temporary folder; tests never write into ../shared. */
export function tempDir(prefix = "bertune-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A small slice of the real SST-2 fixture (header + first rows of train.tsv and dev.tsv), as a data set folder. */
export function sst2Subset(dir: string, train: number, dev: number): string {
  const take = (file: string, n: number) => readFileSync(join(DATASETS, "sst2", file), "utf8").split("\n").slice(0, n + 1).join("\n") + "\n";
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "train.tsv"), take("train.tsv", train));
  writeFileSync(join(dir, "dev.tsv"), take("dev.tsv", dev));
  return dir;
}
