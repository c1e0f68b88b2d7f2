/** Checkpoint options through the CLI: --save-total-limit 0 keeps every checkpoint; frozen mode refuses to "resume". */
import { join } from "node:path";
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
