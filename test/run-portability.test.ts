/**
 * A run folder carries no absolute path of the machine it was trained on: a local base model and
 * data set are recorded relative to the run, so moving them together keeps the run working, and
 * moving the run alone gives one line naming the config.json field to fix.
 */
import { cpSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "./helpers/cli.js";
import { TINY_MODEL, sst2Subset, tempDir } from "./helpers/fixtures.js";

function textOfFiles(dir: string): string {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .map((f) => join(dir, f))
    .filter((p) => statSync(p).isFile() && !p.endsWith(".safetensors") && !p.endsWith(".onnx"))
    .map((p) => readFileSync(p, "utf8"))
    .join("\n");
}

describe("portable run folders", () => {
  it("record local paths relative to the run; moved together with the base model and data, the run still works", async () => {
    const root = tempDir("bertune-portable-");
    const project = join(root, "project");
    mkdirSync(join(project, "models"), { recursive: true });
    cpSync(TINY_MODEL, join(project, "models", "bert"), { recursive: true });
    sst2Subset(join(project, "data"), 48, 16);
    const env = { HF_HOME: join(root, "hf"), BERTUNE_CACHE: join(root, "cache") };
    const run = join(project, "runs", "sst2");
    const r = await runCli(["train", "--model", join(project, "models", "bert"), "--dataset", join(project, "data"), "--freeze-backbone", "--epochs", "1", "--output", run, "-q"], env);
    expect(r.code).toBe(0);
    const config = JSON.parse(readFileSync(join(run, "config.json"), "utf8"));
    expect(config.base_model).toBe("../../models/bert");
    const args = JSON.parse(readFileSync(join(run, "training_args.json"), "utf8"));
    expect(args).toMatchObject({ output_dir: ".", dataset_spec: "../../data", dataset_source: "../../data" });
    expect(textOfFiles(run)).not.toContain(root); // nothing of this machine's layout
    const before = await runCli(["predict", run, "a gripping film", "--json"], env);
    expect(before.code).toBe(0);

    const moved = join(root, "elsewhere");
    renameSync(project, moved);
    const movedRun = join(moved, "runs", "sst2");
    const after = await runCli(["predict", movedRun, "a gripping film", "--json"], env);
    expect(after.stderr).not.toMatch(/error/);
    expect(after.code).toBe(0);
    expect(JSON.parse(after.stdout).probabilities).toEqual(JSON.parse(before.stdout).probabilities);
    const ev = await runCli(["evaluate", movedRun, "--json"], env); // the data set is found beside it too
    expect(ev.code).toBe(0);
    expect(JSON.parse(ev.stdout).eval_accuracy).toBe(JSON.parse(readFileSync(join(movedRun, "eval_results.json"), "utf8")).eval_accuracy);

    // The run alone, without its base model beside it: one line naming the field to fix.
    const alone = join(root, "alone");
    cpSync(movedRun, alone, { recursive: true });
    const lost = await runCli(["predict", alone, "a gripping film"], env);
    expect(lost.code).toBe(2);
    expect(lost.stderr).toMatch(/^error: the base model of the run .* is not at .*\(config\.json: "base_model": "\.\.\/\.\.\/models\/bert"\)/m);
    expect(lost.stderr).toMatch(/^hint: .*set "base_model" in .*config\.json/m);
  });
});
