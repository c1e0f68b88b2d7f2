/**
 * What a user meets with `--model bert-base-uncased` on the real Hub, through the mock Hub: the
 * model repo (BertForPreTraining names, gamma/beta, MLM/NSP heads, no ONNX) as
 * google-bert/bert-base-uncased, and its transformers.js mirror (a fill-mask ONNX with only
 * `logits`) as Xenova/bert-base-uncased. Then the same from the cache, offline.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "./helpers/cli.js";
import { SHARED, sst2Subset, tempDir } from "./helpers/fixtures.js";
import { startHubServer, type HubServer } from "./helpers/hub-server.js";

const LAYOUT = join(SHARED, "models/bert-tiny-hub-layout");
const ref = JSON.parse(readFileSync(join(LAYOUT, "reference.json"), "utf8"));
const json = (p: string) => JSON.parse(readFileSync(p, "utf8"));

function maxAbsDiff(rows: number[][], expected: number[][]): number {
  let m = 0;
  expected.forEach((row, i) => row.forEach((v, j) => (m = Math.max(m, Math.abs(rows[i][j] - v)))));
  return m;
}

describe("bert-base-uncased as the Hub serves it (model repo without ONNX + fill-mask mirror)", () => {
  let hub: HubServer;
  const work = tempDir("bertune-hub-layout-");
  const data = sst2Subset(join(work, "data"), 96, 32);
  const env = { HF_HOME: join(work, "hf"), BERTUNE_CACHE: join(work, "bertune") };
  const online = () => ({ ...env, HF_ENDPOINT: hub.url });
  const offline = { ...env, HF_HUB_OFFLINE: "1" };
  const frozenRun = join(work, "frozen");
  const fullRun = join(work, "full");

  beforeAll(async () => {
    hub = await startHubServer({
      repos: {
        "google-bert/bert-base-uncased": { dir: join(LAYOUT, "model-repo") },
        "Xenova/bert-base-uncased": { dir: join(LAYOUT, "onnx-mirror") },
      },
      legacy: { "bert-base-uncased": "google-bert/bert-base-uncased" },
    });
  });
  afterAll(() => hub.close().catch(() => {}));

  it("train --freeze-backbone with the default pooling works, on a graph bertune writes from the weights", async () => {
    const r = await runCli(["train", "--model", "bert-base-uncased", "--dataset", data, "--freeze-backbone", "--epochs", "2", "--output", frozenRun, "--json"], online());
    expect(r.stderr).not.toMatch(/error|Error/);
    expect(r.code).toBe(0);
    expect(json(join(frozenRun, "config.json"))).toMatchObject({ base_model: "google-bert/bert-base-uncased", pooling: "pooler", bertune_mode: "frozen" });
    expect(JSON.parse(r.stdout).eval_samples).toBe(32);
    // The fill-mask mirror is never fetched: bertune wrote its own graph, once, into its cache.
    expect(hub.requests.some((q) => q.path.includes("Xenova"))).toBe(false);
    expect(readdirSync(join(work, "bertune", "onnx")).filter((f) => f.endsWith(".onnx"))).toHaveLength(1);
  });

  it.each([
    ["pooler", "pooler_output"],
    ["cls", "cls_hidden"],
    ["mean", "mean_pooled"],
  ])("encode --pooling %s matches PyTorch's %s within 1e-5 with both engines", async (pooling, key) => {
    for (const engine of ["onnx", "tfjs"]) {
      const r = await runCli(["encode", "--model", "bert-base-uncased", "--pooling", pooling, "--engine", engine, "--json", "--device", "wasm", ...ref.sentences], online());
      expect(r.stderr, engine).not.toMatch(/error/);
      expect(r.code, engine).toBe(0);
      const vectors = r.stdout.trim().split("\n").map((l) => JSON.parse(l).vector as number[]);
      expect(maxAbsDiff(vectors, ref.encoder[key]), engine).toBeLessThan(1e-5);
    }
  });

  it("full fine-tuning loads the BertForPreTraining checkpoint; evaluate and predict read the run", async () => {
    const r = await runCli(["train", "--model", "bert-base-uncased", "--dataset", data, "--epochs", "1", "--batch-size", "16", "--max-length", "32", "--device", "wasm", "--output", fullRun, "--json"], online());
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).mode).toBe("full");
    const ev = await runCli(["evaluate", fullRun, "--json", "--device", "wasm"], online());
    expect(ev.code).toBe(0);
    expect(JSON.parse(ev.stdout).eval_accuracy).toBe(json(join(fullRun, "eval_results.json")).eval_accuracy);
    const p = await runCli(["predict", fullRun, "a gripping, beautifully acted film", "--json", "--device", "wasm"], online());
    expect(p.code).toBe(0);
    expect(["LABEL_0", "LABEL_1"]).toContain(JSON.parse(p.stdout).label);
  });

  it("then offline, from the Hugging Face cache: evaluate, predict and encode", async () => {
    await hub.close();
    const ev = await runCli(["evaluate", frozenRun, "--json"], offline);
    expect(ev.stderr).not.toMatch(/error/);
    expect(ev.code).toBe(0);
    expect(JSON.parse(ev.stdout).eval_accuracy).toBe(json(join(frozenRun, "eval_results.json")).eval_accuracy);
    const p = await runCli(["predict", frozenRun, "dull and lifeless", "--json"], offline);
    expect(p.code).toBe(0);
    const e = await runCli(["encode", "--model", "bert-base-uncased", "--json", ...ref.sentences], offline);
    expect(e.code).toBe(0);
    expect(maxAbsDiff(e.stdout.trim().split("\n").map((l) => JSON.parse(l).vector), ref.encoder.pooler_output)).toBeLessThan(1e-5);
  });

  it("the mirror alone (no safetensors) gives one line and a hint, not a stack trace", async () => {
    const mirror = join(LAYOUT, "onnx-mirror");
    for (const pooling of ["pooler", "cls"]) {
      const r = await runCli(["train", "--model", mirror, "--dataset", data, "--freeze-backbone", "--pooling", pooling, "--output", join(work, `mirror-${pooling}`)], env);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^error: the ONNX export .*onnx-mirror\/onnx\/model\.onnx has no (pooler_output|last_hidden_state) output \(its outputs: logits\)/m);
      expect(r.stderr).toMatch(/^hint: .*model\.safetensors/m);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });
});
