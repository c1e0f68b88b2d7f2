import { writeFileSync, readdirSync, truncateSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FeatureCache, Trainer, loadDataset, loadModel, evaluate, predict, saveRun, type LoadedModel } from "../src/index.js";
import { DATASETS, TINY_MODEL, tempDir } from "./helpers/fixtures.js";
import { readFileSync } from "node:fs";

/** Counts encoder calls, to prove when the frozen encoder does (not) run. */
function countEncoderCalls(model: LoadedModel): { calls: number } {
  const counter = { calls: 0 };
  const encode = model.encoder.encode.bind(model.encoder);
  model.encoder.encode = async (...args) => {
    counter.calls++;
    return encode(...args);
  };
  return counter;
}

describe("library: frozen features are computed once and cached by key", () => {
  const work = tempDir();
  let model: LoadedModel;
  let counter: { calls: number };
  const csv = join(work, "small.csv");

  beforeAll(async () => {
    const rows = readFileSync(join(DATASETS, "rotten_tomatoes/all.csv"), "utf8").split("\n");
    // Header, then 60 rows from each class (the file lists all negatives first).
    writeFileSync(csv, [rows[0], ...rows.slice(1, 61), ...rows.slice(5400, 5460)].join("\n") + "\n");
    model = await loadModel(TINY_MODEL);
    counter = countEncoderCalls(model);
  });
  afterAll(() => model.close());

  const train = async (cache: FeatureCache, args: Record<string, unknown> = {}, datasetOptions = {}) => {
    const dataset = await loadDataset(csv, datasetOptions);
    const before = counter.calls;
    const trainer = new Trainer({ model, dataset, args: { numTrainEpochs: 1, freezeBackbone: true, ...args }, featureCache: cache });
    const result = await trainer.train();
    return { result, dataset, trainer, encoderCalls: counter.calls - before };
  };

  it("runs the encoder on the first run and not at all on the second", async () => {
    const cache = new FeatureCache(join(work, "cache1"));
    const a = await train(cache);
    expect(a.encoderCalls).toBeGreaterThan(0);
    expect(a.result.featuresFromCache).toEqual({ train: false, validation: false });
    const b = await train(cache);
    expect(b.encoderCalls).toBe(0);
    expect(b.result.featuresFromCache).toEqual({ train: true, validation: true });
    // Same features, same seed: the same head, bit for bit.
    expect(Array.from((await b.result.tensors())["classifier.weight"].data)).toEqual(Array.from((await a.result.tensors())["classifier.weight"].data));
  });

  it("recomputes when any part of the key changes: max length, pooling, data split seed", async () => {
    const cache = new FeatureCache(join(work, "cache2"));
    await train(cache);
    expect((await train(cache, { maxLength: 16 })).encoderCalls).toBeGreaterThan(0);
    expect((await train(cache, { pooling: "mean" })).encoderCalls).toBeGreaterThan(0);
    expect((await train(cache, {}, { seed: 7 })).encoderCalls).toBeGreaterThan(0);
    expect((await train(cache, { maxLength: 16 })).encoderCalls).toBe(0);
  });

  it("recomputes instead of trusting a damaged cache file", async () => {
    const dir = join(work, "cache3");
    const cache = new FeatureCache(dir);
    await train(cache);
    for (const f of readdirSync(join(dir, "features")).filter((f) => f.endsWith(".f32"))) truncateSync(join(dir, "features", f), 100);
    const again = await train(cache);
    expect(again.encoderCalls).toBeGreaterThan(0);
    expect(again.result.featuresFromCache).toEqual({ train: false, validation: false });
  });

  it("saves a run that evaluate and predict read back (library calls)", async () => {
    const { result, dataset, trainer } = await train(new FeatureCache(join(work, "cache4")));
    const run = join(work, "run");
    await saveRun(run, dataset, trainer.args, result, { spec: csv, options: {} });
    const ev = await evaluate(run, dataset, { featureCache: false });
    expect(ev.report.accuracy).toBe(result.evalReport.accuracy);
    expect(ev.loss).toBeCloseTo(result.evalLoss, 6);
    const preds = await predict(run, ["a gripping, beautifully acted film", { text: "dull" }]);
    expect(preds.map((p) => p.label).every((l) => dataset.id2label.includes(l))).toBe(true);
  });
});
