/**
 * A model folder whose config.json does not fit its weights or graph is refused before training,
 * naming the file and the mismatch (exit 2); so is a --device webgpu with no Vulkan loader.
 */
import { cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { webgpuUnavailableReason } from "../src/backend/vulkan.js";
import { runCli } from "./helpers/cli.js";
import { TINY_MODEL, sst2Subset, tempDir } from "./helpers/fixtures.js";

const work = tempDir("bertune-model-check-");
const data = sst2Subset(join(work, "data"), 32, 16);
const env = { HF_HOME: join(work, "hf"), BERTUNE_CACHE: join(work, "cache") };
const baseConfig = JSON.parse(readFileSync(join(TINY_MODEL, "config.json"), "utf8"));

/** A copy of the tiny model with config.json changed (and without its safetensors or ONNX, if asked). */
function variant(name: string, change: Record<string, unknown>, files = ["model.safetensors"]): string {
  const dir = join(work, name);
  mkdirSync(dir);
  for (const f of ["tokenizer.json", "tokenizer_config.json", "vocab.txt", ...files]) cpSync(join(TINY_MODEL, f), join(dir, f), { recursive: true });
  writeFileSync(join(dir, "config.json"), JSON.stringify({ ...baseConfig, ...change }));
  return dir;
}

describe("config.json is checked against the weights before training (frozen mode)", () => {
  it.each([
    ["hidden_size 48 on a 32-wide model", { hidden_size: 48 }, ["model.safetensors"], /model\.safetensors: tensor "embeddings\.word_embeddings\.weight" has shape \[30522, 32\], expected \[30522, 48\]/],
    ["fewer layers than the weights hold", { num_hidden_layers: 1 }, ["model.safetensors"], /model\.safetensors holds 2 encoder layers, but config\.json says num_hidden_layers 1/],
    ["more layers than the weights hold", { num_hidden_layers: 3 }, ["model.safetensors"], /has no tensor "encoder\.layer\.2\./],
    ["another vocabulary size", { vocab_size: 30000 }, ["model.safetensors"], /expected \[30000, 32\]/],
    ["a DistilBERT config", { model_type: "distilbert" }, ["model.safetensors"], /config\.json at .*: model_type "distilbert" is not BERT/],
    ["an ONNX export narrower than hidden_size (no safetensors)", { hidden_size: 48 }, ["onnx"], /onnx\/model\.onnx gives pooler_output of width 32, but config\.json says hidden_size 48/],
  ])("%s: one line naming the file and the mismatch, exit 2", async (name, change, files, message) => {
    const dir = variant(name.replace(/\W+/g, "-"), change, files);
    const r = await runCli(["train", "--model", dir, "--dataset", data, "--freeze-backbone", "--epochs", "1", "--output", join(work, `run-${name.replace(/\W+/g, "-")}`)], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/^hint: /m);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe("--device webgpu without the Vulkan loader", () => {
  it("is recognised before Dawn is asked, on Linux only", () => {
    const empty = tempDir("bertune-no-vulkan-");
    expect(webgpuUnavailableReason([empty], "linux")).toMatch(/Vulkan loader \(libvulkan\.so\.1\) is not installed/);
    const withLoader = tempDir("bertune-vulkan-");
    writeFileSync(join(withLoader, "libvulkan.so.1"), "");
    expect(webgpuUnavailableReason([empty, withLoader], "linux")).toBeUndefined();
    expect(webgpuUnavailableReason([empty], "darwin")).toBeUndefined();
  });

  it.skipIf(webgpuUnavailableReason() === undefined)("says so with what to install, in both modes, and Dawn stays quiet", async () => {
    for (const mode of [["--freeze-backbone"], []]) {
      const r = await runCli(["train", "--model", TINY_MODEL, "--dataset", data, "--device", "webgpu", "--epochs", "1", "--output", join(work, `gpu${mode.length}`), ...mode], env);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/no WebGPU adapter: the Vulkan loader \(libvulkan\.so\.1\) is not installed/);
      expect(r.stderr).toMatch(/apt-get install libvulkan1/);
      expect(r.stderr).not.toMatch(/missing or corrupt|Couldn't load Vulkan/);
    }
  });
});
