import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root and the read-only fixtures beside it (../shared). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
// BERTUNE_TEST_SHARED: for a copy of the tree elsewhere (Stryker's sandbox sets it).
export const SHARED = process.env.BERTUNE_TEST_SHARED ?? resolve(ROOT, "../shared");
export const TINY_MODEL = join(SHARED, "models/bert-random-tiny");
export const DATASETS = join(SHARED, "datasets");

/** Every folder tempDir made in this process (this test file), removed after it. */
const tempDirs = new Set<string>();

/** Remove every folder tempDir made so far. */
export function removeTempDirs(): void {
  for (const dir of tempDirs) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 2 });
    } catch {
      // Leave it: cleanup must never fail a test run.
    }
    tempDirs.delete(dir);
  }
}
// Vitest ends a test file's worker with a signal, which runs no 'exit' handler: remove the folders in
// a file-level afterAll (this module is evaluated afresh while each test file is collected). The
// 'exit' handler covers other processes (test/helpers/tempdir-probe.ts run by vite-node).
if (process.env.VITEST) {
  const { afterAll } = await import("vitest");
  afterAll(removeTempDirs);
}
process.once("exit", removeTempDirs);

/**
 * A fresh temporary folder; tests never write into ../shared. It is removed after the test file
 * (set BERTUNE_KEEP_TEMP=1 to keep them for a post-mortem).
 */
export function tempDir(prefix = "bertune-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  if (!process.env.BERTUNE_KEEP_TEMP) tempDirs.add(dir);
  return dir;
}

/** A small slice of the real SST-2 fixture (header + first rows of train.tsv and dev.tsv), as a data set folder. */
export function sst2Subset(dir: string, train: number, dev: number): string {
  const take = (file: string, n: number) => readFileSync(join(DATASETS, "sst2", file), "utf8").split("\n").slice(0, n + 1).join("\n") + "\n";
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "train.tsv"), take("train.tsv", train));
  writeFileSync(join(dir, "dev.tsv"), take("dev.tsv", dev));
  return dir;
}
