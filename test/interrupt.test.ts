import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readSafetensors } from "../src/formats/safetensors.js";
import { listCheckpoints, loadCheckpoint } from "../src/train/checkpoint.js";
import { runCli } from "./helpers/cli.js";
import { DATASETS, ROOT, TINY_MODEL, tempDir, sst2Subset } from "./helpers/fixtures.js";

describe("nothing is lost when training is killed", () => {
  const work = tempDir();
  const data = sst2Subset(join(work, "data"), 320, 32);
  const run = join(work, "run");
  const env = { BERTUNE_CACHE: join(work, "cache"), HF_HOME: join(work, "hf") };
  const args = ["train", "--model", TINY_MODEL, "--dataset", data, "--output", run, "--epochs", "2", "--batch-size", "8", "--max-length", "32", "--save-steps", "2", "--save-total-limit", "3"];

  it("kill -9 mid-run leaves the last complete checkpoint loadable, and --resume-from-checkpoint latest finishes the run", async () => {
    const child = spawn(process.execPath, [join(ROOT, "dist/cli/main.js"), ...args, "--quiet"], { env: { ...process.env, ...env }, stdio: "ignore" });
    // Kill at an arbitrary moment once a few checkpoints exist, possibly in the middle of writing one.
    await new Promise<void>((resolve, reject) => {
      const started = Date.now();
      const poll = setInterval(() => {
        if (listCheckpoints(run).length >= 2 || Date.now() - started > 60_000) {
          clearInterval(poll);
          setTimeout(() => {
            child.kill("SIGKILL");
            resolve();
          }, 37);
        }
      }, 5);
      child.on("error", reject);
    });
    await new Promise((r) => child.on("close", r));
    const ckpts = listCheckpoints(run);
    expect(ckpts.length).toBeGreaterThan(0);
    expect(ckpts.length).toBeLessThanOrEqual(4);
    // Every checkpoint that exists is complete and parses; no half-written run files.
    for (const c of ckpts) {
      const loaded = loadCheckpoint(c.dir);
      expect(loaded.state.global_step).toBe(c.step);
      expect(loaded.weights.tensors.has("classifier.weight")).toBe(true);
    }
    expect(existsSync(join(run, "model.safetensors"))).toBe(false);

    const resumed = await runCli([...args, "--resume-from-checkpoint", "latest", "--json"], env);
    expect(resumed.stderr).not.toMatch(/error/i);
    expect(resumed.code).toBe(0);
    expect(JSON.parse(resumed.stdout).global_step).toBe(80);
    expect(readSafetensors(join(run, "model.safetensors")).tensors.size).toBeGreaterThan(30);
    // Leftovers of a killed checkpoint write are swept, and the limit holds.
    expect(readdirSync(run).filter((f) => f.includes(".tmp-"))).toEqual([]);
    expect(listCheckpoints(run).length).toBeLessThanOrEqual(3);
  });

  it("a loss that becomes NaN stops the run with the step number and names the last good checkpoint", async () => {
    const out = join(work, "nan");
    const r = await runCli(["train", "--model", TINY_MODEL, "--dataset", data, "--output", out, "--epochs", "1", "--batch-size", "8", "--max-length", "32", "--save-steps", "1", "--learning-rate", "1e12", "--max-grad-norm", "0"], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/the training loss became (NaN|Infinity) at step (\d+); the last good checkpoint is .*checkpoint-\d+/);
    const step = Number(/at step (\d+)/.exec(r.stderr)![1]);
    const last = listCheckpoints(out).pop()!;
    expect(last.step).toBe(step - 1);
    expect(loadCheckpoint(last.dir).state.global_step).toBe(step - 1);
  });
});

describe("Ctrl-C and SIGTERM during full training (real signals through the CLI)", () => {
  const work = tempDir();
  const data = sst2Subset(join(work, "data"), 320, 32);
  const env = { BERTUNE_CACHE: join(work, "cache"), HF_HOME: join(work, "hf") };
  const args = (out: string) => ["train", "--model", TINY_MODEL, "--dataset", data, "--output", out, "--epochs", "2", "--batch-size", "8", "--max-length", "32", "--save-steps", "4", "--device", "wasm"];
  let uninterrupted: Buffer;

  /** Start a training, send `signal` (count times) once it has written a checkpoint; its exit code and stderr. */
  async function interrupt(out: string, signal: NodeJS.Signals, count = 1): Promise<{ code: number | null; stderr: string }> {
    const child = spawn(process.execPath, [join(ROOT, "dist/cli/main.js"), ...args(out)], { env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    const closed = new Promise<number | null>((r) => child.on("close", (code) => r(code)));
    const started = Date.now();
    while (listCheckpoints(out).length === 0 && Date.now() - started < 60_000) await new Promise((r) => setTimeout(r, 10));
    for (let i = 0; i < count; i++) child.kill(signal);
    return { code: await closed, stderr };
  }

  it("an uninterrupted run, for comparison", async () => {
    const out = join(work, "whole");
    const r = await runCli([...args(out), "-q"], env);
    expect(r.code).toBe(0);
    uninterrupted = readFileSync(join(out, "model.safetensors"));
  });

  it.each([
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const)("%s finishes the step, writes a checkpoint and exits %i; resuming gives the uninterrupted weights bit for bit", async (signal, code) => {
    const out = join(work, signal);
    const r = await interrupt(out, signal);
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(new RegExp(`interrupted \\(${signal}\\): stopping after this step`));
    expect(r.stderr).toMatch(/interrupted at step (\d+); continue with --resume-from-checkpoint latest/);
    const step = Number(/interrupted at step (\d+)/.exec(r.stderr)![1]);
    expect(step).toBeLessThan(80); // it did stop early
    expect(listCheckpoints(out).at(-1)!.step).toBe(step);
    expect(existsSync(join(out, "model.safetensors"))).toBe(false);
    const resumed = await runCli([...args(out), "--resume-from-checkpoint", "latest", "--json"], env);
    expect(resumed.code).toBe(0);
    expect(JSON.parse(resumed.stdout).global_step).toBe(80);
    expect(readFileSync(join(out, "model.safetensors")).equals(uninterrupted)).toBe(true);
  });

  it("the same signal twice quits at once, with no stack trace", async () => {
    const r = await interrupt(join(work, "twice"), "SIGINT", 2);
    expect(r.code).toBe(130);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
