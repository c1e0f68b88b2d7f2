/** Checkpoint options through the CLI: --save-total-limit 0 keeps every checkpoint; frozen mode refuses to "resume". */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { readSafetensors, tensorToFloat32 } from "../src/formats/safetensors.js";
import { describe, expect, it } from "vitest";
import { listCheckpoints } from "../src/train/checkpoint.js";
import { runCli } from "./helpers/cli.js";
import { TINY_MODEL, sst2Subset, tempDir } from "./helpers/fixtures.js";

const work = tempDir("bertune-ckpt-");
const data = sst2Subset(join(work, "data"), 40, 16);
const env = { HF_HOME: join(work, "hf"), BERTUNE_CACHE: join(work, "cache") };

describe("checkpoint options", () => {
  it("--save-total-limit 0 means no limit (as transformers' save_total_limit), not 'delete every checkpoint'", async () => {
    const out = join(work, "all");
    const r = await runCli(["train", "--model", TINY_MODEL, "--dataset", data, "--output", out, "--epochs", "2", "--batch-size", "8", "--max-length", "32", "--save-steps", "2", "--save-total-limit", "0", "-q"], env);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(listCheckpoints(out).map((c) => c.step)).toEqual([2, 4, 6, 8, 10]);
    const limited = join(work, "limited");
    expect((await runCli(["train", "--model", TINY_MODEL, "--dataset", data, "--output", limited, "--epochs", "2", "--batch-size", "8", "--max-length", "32", "--save-steps", "2", "--save-total-limit", "2", "-q"], env)).code).toBe(0);
    expect(listCheckpoints(limited).map((c) => c.step)).toEqual([8, 10]);
  });

  it("on tied evaluations, best_model_checkpoint names the checkpoint whose weights are kept (the first of the tie)", async () => {
    const out = join(work, "ties");
    // A learning rate too small to change any prediction: every evaluation ties.
    const r = await runCli(["train", "--model", TINY_MODEL, "--dataset", data, "--output", out, "--epochs", "3", "--batch-size", "8", "--max-length", "32", "--learning-rate", "1e-7", "--load-best-model-at-end", "--save-total-limit", "0", "-q"], env);
    expect(r.code).toBe(0);
    const state = JSON.parse(readFileSync(join(out, "trainer_state.json"), "utf8"));
    const evals = state.log_history.filter((e: { eval_accuracy?: number }) => e.eval_accuracy !== undefined);
    expect(new Set(evals.map((e: { eval_accuracy: number }) => e.eval_accuracy)).size).toBe(1); // the scenario: a tie
    expect(state.best_model_checkpoint).toBe(join(out, `checkpoint-${evals[0].step}`));
    const kept = readSafetensors(join(out, "model.safetensors"));
    for (const c of listCheckpoints(out)) {
      const ckpt = readSafetensors(join(c.dir, "model.safetensors"));
      const bytes = (f: typeof kept, k: string) => {
        const a = tensorToFloat32(f, k);
        return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
      };
      const same = [...kept.tensors.keys()].every((k) => bytes(kept, k).equals(bytes(ckpt, k)));
      expect(same, c.dir).toBe(c.dir === state.best_model_checkpoint);
    }
  });

  it("frozen mode honours --early-stopping-patience (and keeps the best head)", async () => {
    const out = join(work, "early");
    const r = await runCli(["train", "--model", TINY_MODEL, "--dataset", data, "--output", out, "--freeze-backbone", "--epochs", "50", "--learning-rate", "3e-2", "--early-stopping-patience", "2", "--json"], env);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.stopped).toBe("early-stopping");
    expect(summary.global_step).toBeLessThan(50 * 5);
    expect(summary.eval_accuracy).toBe(summary.best_eval_accuracy);
  });

  it("--resume-from-checkpoint with --freeze-backbone is refused (frozen training keeps no checkpoints), not silently restarted", async () => {
    const r = await runCli(["train", "--model", TINY_MODEL, "--dataset", data, "--output", join(work, "frozen"), "--freeze-backbone", "--resume-from-checkpoint", "latest"], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: --resume-from-checkpoint does not apply to frozen-backbone training: it keeps no checkpoints/m);
    expect(r.stderr).toMatch(/^hint: train again without --resume-from-checkpoint/m);
  });
});
