import { beforeAll, describe, expect, it } from "vitest";
import { useBackend } from "../src/backend/tfjs.js";
import { BertuneError } from "../src/errors.js";
import { loadFullModelSource, loadModel } from "../src/model.js";
import { Trainer } from "../src/train/trainer.js";
import { keywordDataset } from "./helpers/datasets.js";
import { TINY_MODEL } from "./helpers/fixtures.js";

// The Trainer's own work, in process: loading the model each mode needs, clamping --max-length,
// --strategy auto, what it logs and returns. (The CLI tests see the same through dist/.)

beforeAll(async () => {
  await useBackend("wasm");
});

const data = keywordDataset(48, 9);
const quick = { numTrainEpochs: 1, perDeviceTrainBatchSize: 16, evalStrategy: "no" as const, saveStrategy: "no" as const };

describe("the Trainer", () => {
  it("frozen, from a folder name: loads and closes the encoder, clamps --max-length to the positions and says so", async () => {
    const lines: string[] = [];
    const bars: string[] = [];
    const progress = (label: string) => (bars.push(label), { tick() {}, done() {} });
    const trainer = new Trainer({ model: TINY_MODEL, dataset: data, args: { ...quick, freezeBackbone: true, maxLength: 10_000 }, featureCache: false, log: (l) => lines.push(l), progress });
    expect(trainer.mode).toBe("frozen");
    const r = await trainer.train();
    expect(lines).toContain("--max-length 10000 exceeds the model's 128 positions: using 128");
    // Without --strategy auto, no strategy line; the head's training reports progress through the same factory.
    expect(lines.some((l) => l.startsWith("--strategy"))).toBe(false);
    expect(bars).toContain("training");
    expect(trainer.args.maxLength).toBe(128);
    expect([r.mode, r.backend, r.base.id, r.base.local, r.strategy]).toEqual(["frozen", "cpu", TINY_MODEL, true, undefined]);
    expect(r.featuresFromCache).toEqual({ train: false, validation: false });
    expect("encoder" in r.base).toBe(false);
    expect(Object.keys(await r.tensors()).sort()).toEqual(["classifier.bias", "classifier.weight"]);
    expect(r.state.global_step).toBe(3);
  });

  it("frozen, from a loaded model: uses it and leaves it open for the caller", async () => {
    const model = await loadModel(TINY_MODEL);
    const lines: string[] = [];
    await new Trainer({ model, dataset: data, args: { ...quick, freezeBackbone: true }, featureCache: false, log: (l) => lines.push(l) }).train();
    expect(lines.some((l) => l.includes("exceeds"))).toBe(false);
    // Still open: the encoder runs.
    const again = await new Trainer({ model, dataset: data, args: { ...quick, freezeBackbone: true }, featureCache: false }).train();
    expect(again.mode).toBe("frozen");
    await model.close();
  });

  it("full, from a model loaded for the frozen path: fetches its safetensors weights and trains every layer on the backend", async () => {
    const model = await loadModel(TINY_MODEL);
    const r = await new Trainer({ model, dataset: data, args: quick }).train();
    expect([r.mode, r.backend]).toEqual(["full", "wasm"]);
    const names = Object.keys(await r.tensors());
    expect(names).toContain("bert.pooler.dense.weight");
    expect(names).toContain("classifier.weight");
    expect("weights" in r.base).toBe(false);
    r.dispose();
    await model.close();
  });

  it("full, from a folder name: loads the safetensors source itself", async () => {
    const r = await new Trainer({ model: TINY_MODEL, dataset: data, args: quick }).train();
    expect([r.mode, r.backend, r.base.id]).toEqual(["full", "wasm", TINY_MODEL]);
    r.dispose();
  });

  it("--strategy auto picks the mode by size, logs why, and reports it", async () => {
    const lines: string[] = [];
    const source = await loadFullModelSource(TINY_MODEL);
    const trainer = new Trainer({ model: source, dataset: data, strategy: "auto", args: quick, featureCache: false, log: (l) => lines.push(l) });
    expect(lines[0]).toBe("--strategy auto: 48 training examples (< 1,000): feature extraction with a frozen encoder");
    expect(trainer.mode).toBe("frozen");
    // The source has no ONNX encoder: frozen mode refuses it, in one line with a hint.
    const err = (await trainer.train().catch((e: unknown) => e)) as BertuneError;
    expect(err).toBeInstanceOf(BertuneError);
    expect([err.message, err.hint]).toEqual(["frozen mode needs the model's ONNX encoder", "pass the model id or loadModel(...) to the Trainer"]);
  });

  it("refuses empty splits before loading anything", async () => {
    const noTrain = { ...data, splits: { ...data.splits, train: [] } };
    const empty = (await new Trainer({ model: TINY_MODEL, dataset: noTrain, args: quick }).train().catch((e: unknown) => e)) as BertuneError;
    expect([empty.message, empty.hint]).toEqual(["the training split is empty", "check the data set"]);
    const noValidation = { ...data, splits: { ...data.splits, validation: [] } };
    const err = (await new Trainer({ model: TINY_MODEL, dataset: noValidation, args: quick }).train().catch((e: unknown) => e)) as BertuneError;
    expect([err.message, err.hint]).toEqual(["the validation split is empty", "pass --validation-ratio, or give a validation file"]);
  });
});
