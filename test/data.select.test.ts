/**
 * --max-train-samples keeps the first N training examples, as run_glue.py does; on a file sorted by
 * label (Rotten Tomatoes' all.csv: 5,331 negatives, then 5,331 positives) that is one class, and the
 * user is told so — in the library's dataset and on the CLI's stderr.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadDataset } from "../src/data/index.js";
import { runCli } from "./helpers/cli.js";
import { TINY_MODEL, tempDir } from "./helpers/fixtures.js";

describe("a --max-train-samples cut that loses labels", () => {
  it("warns with the labels it kept when the first N examples of a sorted file hold one class", async () => {
    const d = await loadDataset("rotten_tomatoes", { maxTrainSamples: 2000 });
    expect(d.splits.train).toHaveLength(2000);
    expect(new Set(d.splits.train.map((e) => e.label))).toEqual(new Set([0]));
    expect(d.warnings).toEqual([
      `--max-train-samples 2000 keeps 1 of the 2 labels of train (the first 2000 examples hold only "${d.id2label[0]}"): the data is likely sorted by label; shuffle it first, or train on more examples`,
    ]);
  });

  it("says nothing when the cut keeps every label, when nothing is cut, or for regression", async () => {
    expect((await loadDataset("sst2", { maxTrainSamples: 50 })).warnings).toBeUndefined();
    expect((await loadDataset("rotten_tomatoes", { maxTrainSamples: 6000 })).warnings).toBeUndefined(); // past the ~4,800 negatives left after the carve
    expect((await loadDataset("rotten_tomatoes")).warnings).toBeUndefined();
    expect((await loadDataset("stsb", { maxTrainSamples: 10 })).warnings).toBeUndefined();
  });

  it("bertune train prints it as a warning on stderr, and trains on the cut as asked", async () => {
    const work = tempDir("bertune-select-");
    const data = join(work, "data");
    mkdirSync(data, { recursive: true });
    const rows = (label: string, n: number) => Array.from({ length: n }, (_, i) => `a ${label} sentence number ${i}\t${label}`);
    writeFileSync(join(data, "train.tsv"), ["sentence\tlabel", ...rows("neg", 30), ...rows("pos", 30)].join("\n") + "\n");
    writeFileSync(join(data, "dev.tsv"), ["sentence\tlabel", ...rows("neg", 4), ...rows("pos", 4)].join("\n") + "\n");
    const r = await runCli(["train", "--model", TINY_MODEL, "--dataset", data, "--freeze-backbone", "--max-train-samples", "20", "--epochs", "1", "--output", join(work, "run")], { HF_HOME: join(work, "hf"), BERTUNE_CACHE: join(work, "cache") });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('warning: --max-train-samples 20 keeps 1 of the 2 labels of train (the first 20 examples hold only "neg")');
  });
});
