import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readSafetensors, tensorToFloat32 } from "../src/formats/safetensors.js";
import { checkpointDir, findCheckpoint, listCheckpoints, loadCheckpoint, rotateCheckpoints, saveCheckpoint } from "../src/train/checkpoint.js";
import type { TrainerState } from "../src/train/state.js";
import { tempDir } from "./helpers/fixtures.js";

const state = (step: number) => ({ global_step: step, max_steps: 10, epoch: step / 5, log_history: [], best_metric: null, best_model_checkpoint: null }) as unknown as TrainerState;
const contents = (step: number) => ({
  weights: { "classifier.weight": { dtype: "F32" as const, shape: [2, 2], data: Float32Array.from([1, 2, 3, 4]) } },
  optimizer: new Map([
    ["classifier.weight", { m: Float32Array.from([0.1, 0.2, 0.3, 0.4]), v: Float32Array.from([1, 2, 3, 4]), shape: [2, 2], step: 7 }],
    ["classifier.bias", { m: Float32Array.from([5, 6]), v: Float32Array.from([7, 8]), shape: [2], step: 3 }],
  ]),
  state: state(step),
  trainingArgs: { learning_rate: 0.5 },
});

describe("checkpoints in the Trainer's layout", () => {
  it("writes checkpoint-<step>/ with model, optimizer moments and step counts, trainer state and args, and reads them back", () => {
    const out = tempDir();
    const dir = saveCheckpoint(out, contents(5));
    expect(dir).toBe(join(out, "checkpoint-5"));
    expect(checkpointDir(out, 12)).toBe(join(out, "checkpoint-12"));
    expect(readdirSync(dir).sort()).toEqual(["model.safetensors", "optimizer.safetensors", "trainer_state.json", "training_args.json"]);
    expect(JSON.parse(readFileSync(join(dir, "training_args.json"), "utf8"))).toEqual({ learning_rate: 0.5 });
    expect(readSafetensors(join(dir, "model.safetensors")).metadata).toEqual({ format: "pt" });
    const opt = readSafetensors(join(dir, "optimizer.safetensors"));
    expect([...opt.tensors.keys()].sort()).toEqual(["classifier.bias.exp_avg", "classifier.bias.exp_avg_sq", "classifier.weight.exp_avg", "classifier.weight.exp_avg_sq"]);
    expect(JSON.parse(opt.metadata.steps)).toEqual({ "classifier.weight": 7, "classifier.bias": 3 });
    const back = loadCheckpoint(dir);
    expect(back.dir).toBe(dir);
    expect(back.state).toEqual(state(5));
    expect(Array.from(tensorToFloat32(back.weights, "classifier.weight"))).toEqual([1, 2, 3, 4]);
    expect(back.optimizer.get("classifier.weight")).toEqual({ m: Float32Array.from([0.1, 0.2, 0.3, 0.4]), v: Float32Array.from([1, 2, 3, 4]), shape: [2, 2], step: 7 });
    expect(back.optimizer.get("classifier.bias")).toEqual({ m: Float32Array.from([5, 6]), v: Float32Array.from([7, 8]), shape: [2], step: 3 });
    // Saving the same step again replaces the folder; no temporary folder is left behind.
    saveCheckpoint(out, { ...contents(5), trainingArgs: { learning_rate: 0.25 } });
    expect(JSON.parse(readFileSync(join(dir, "training_args.json"), "utf8"))).toEqual({ learning_rate: 0.25 });
    expect(readdirSync(out)).toEqual(["checkpoint-5"]);
  });

  it("creates the run folder when it does not exist yet", () => {
    const out = join(tempDir(), "runs", "new");
    expect(saveCheckpoint(out, contents(1))).toBe(join(out, "checkpoint-1"));
    expect(listCheckpoints(out).map((c) => c.step)).toEqual([1]);
  });

  it("leaves no folder when a write fails", () => {
    const out = tempDir();
    const bad = { ...contents(3), weights: { x: { dtype: "F32" as const, shape: [3], data: new Float32Array(2) } } };
    expect(() => saveCheckpoint(out, bad)).toThrow();
    expect(readdirSync(out)).toEqual([]);
  });

  it("lists complete checkpoints in numeric step order, ignoring other and unfinished folders", () => {
    const out = tempDir();
    for (const s of [10, 9, 100]) saveCheckpoint(out, contents(s));
    mkdirSync(join(out, "checkpoint-11")); // no trainer_state.json: incomplete
    mkdirSync(join(out, "checkpoint-12.tmp-1-ab"));
    mkdirSync(join(out, "runs"));
    for (const other of ["old-checkpoint-4", "checkpoint-5-copy"]) {
      mkdirSync(join(out, other));
      writeFileSync(join(out, other, "trainer_state.json"), "{}");
    }
    writeFileSync(join(out, "checkpoint-7"), "a file, not a folder");
    expect(listCheckpoints(out)).toEqual([9, 10, 100].map((step) => ({ dir: join(out, `checkpoint-${step}`), step })));
    expect(listCheckpoints(join(out, "missing"))).toEqual([]);
    expect(findCheckpoint(out, "latest")).toBe(join(out, "checkpoint-100"));
    expect(findCheckpoint(out, join(out, "checkpoint-9"))).toBe(join(out, "checkpoint-9"));
    rotateCheckpoints(join(out, "missing"), 1, null); // nothing to do, no error
    rotateCheckpoints(tempDir(), 1, join(out, "checkpoint-9")); // no checkpoints at all, a best named: no error
  });

  it("rotates by the limit: 0 keeps all (as save_total_limit 0), 3 keeps the newest three, the best never goes", () => {
    const out = tempDir();
    for (const s of [1, 2, 3, 4, 5, 6]) saveCheckpoint(out, contents(s));
    mkdirSync(join(out, "checkpoint-12.tmp-9-ff"));
    mkdirSync(join(out, "my-checkpoint-1.tmp-x"));
    rotateCheckpoints(out, 0, null);
    expect(listCheckpoints(out).map((c) => c.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(existsSync(join(out, "checkpoint-12.tmp-9-ff"))).toBe(false);
    expect(existsSync(join(out, "my-checkpoint-1.tmp-x"))).toBe(true);
    rotateCheckpoints(out, 3, join(out, "checkpoint-2"));
    expect(listCheckpoints(out).map((c) => c.step)).toEqual([2, 5, 6]);
    rotateCheckpoints(out, 3, null);
    expect(listCheckpoints(out).map((c) => c.step)).toEqual([2, 5, 6]);
  });

  it("explains what is wrong with a checkpoint it cannot resume from", () => {
    const out = tempDir();
    expect(() => findCheckpoint(out, "latest")).toThrow(`no checkpoint to resume from in ${out}`);
    expect(() => findCheckpoint(out, join(out, "checkpoint-3"))).toThrow(`${join(out, "checkpoint-3")} is not a complete checkpoint (no trainer_state.json)`);
    try {
      findCheckpoint(out, "latest");
    } catch (e) {
      expect((e as { hint?: string }).hint).toBe("train without --resume-from-checkpoint, or point --output at the interrupted run");
    }
    try {
      findCheckpoint(out, join(out, "x"));
    } catch (e) {
      expect((e as { hint?: string }).hint).toBe("use --resume-from-checkpoint latest, or a checkpoint-N folder");
    }
    mkdirSync(join(out, "checkpoint-2"));
    expect(() => findCheckpoint(out, join(out, "checkpoint-2"))).toThrow("is not a complete checkpoint (no trainer_state.json)");
    const dir = saveCheckpoint(out, contents(4));
    writeFileSync(join(dir, "trainer_state.json"), "{not json");
    expect(() => loadCheckpoint(dir)).toThrow("the checkpoint checkpoint-4 has an unreadable trainer_state.json");
    try {
      loadCheckpoint(dir);
    } catch (e) {
      expect((e as { hint?: string }).hint).toBe("resume from an earlier checkpoint");
    }
    expect(existsSync(dir)).toBe(true);
  });
});
