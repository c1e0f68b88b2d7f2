/**
 * `npm run bench`: throughput of full fine-tuning (bert-random-tiny on SST-2, and the bert-mini
 * and bert-base shapes at 32 × 128 tokens) on every tensorflow.js backend that starts here,
 * frozen feature extraction (bertune's own graph, also against the model's own ONNX export),
 * predict on a full run (its ONNX export against tensorflow.js), and the head on cached features — each figure beside a baseline
 * measured in the same run (PyTorch on the same threads when python3 has torch; else the
 * pure-JS cpu backend), with peak memory and a tensor-count check for leaks.
 *
 * Options: --base (also the bert-base shape on CPU backends: minutes a step), --json FILE,
 * --backends wasm,webgpu,tensorflow,cpu (default: all but the pure-JS cpu backend, which is very slow), --threads N (PyTorch baseline threads; default: cores),
 * --software-gpu (run webgpu even on a software adapter such as Mesa's lavapipe).
 * BERTUNE_PYTHON names the Python with torch (default /usr/bin/python3, else python3).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { BertConfig } from "../bert/config.js";
import type { LoadedDataset } from "../data/types.js";
import { OnnxSequenceClassifier } from "../bert/onnx-classifier.js";
import { OnnxEncoder, type FeatureEncoder } from "../bert/onnx-encoder.js";
import { nativeOps } from "../backend/native-ops.js";
import { BertClassifier, classifierLogits } from "../bert/sequence-classifier.js";
import { TfBertModel } from "../bert/tfjs-bert.js";
import { readBertWeights } from "../bert/weights.js";
import { extractFeatures, mapSortedBatches } from "../features/extract.js";
import { readSafetensors } from "../formats/safetensors.js";
import { ClassificationHead } from "../heads/classification-head.js";
import { LinearHead } from "../heads/linear-head.js";
import { writeBertOnnx } from "../onnx/bert-graph.js";
import { featureGraph } from "../onnx/feature-graph.js";
import type { Tokenizer } from "../tokenizer/tokenizer.js";
import { loadFullModelSource, loadModel, type FullModelSource } from "../model.js";
import { resolveArgs } from "../train/args.js";
import { tf, useBackend, webgpuAdapterInfo, type Device } from "../backend/tfjs.js";
import { trainFull } from "../train/full-trainer.js";
import { trainHead } from "../train/head-trainer.js";
import { Rng } from "../util/rng.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const TINY = join(ROOT, "models/bert-random-tiny");
const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(name);
const value = (name: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const threads = Number(value("--threads") ?? availableParallelism());

interface Row {
  what: string;
  backend: string;
  seqPerS: number;
  tokensPerS?: number;
  baseline?: { name: string; seqPerS: number; peakRss?: number };
  /** Peak RSS (bytes) of a process that ran only this row, beside the baseline's own process (host memory only). */
  peakRss?: number;
  note?: string;
}
const rows: Row[] = [];
let peakRss = 0;
const sampleRss = () => (peakRss = Math.max(peakRss, process.memoryUsage().rss));
const fmt = (x: number) => (x >= 100 ? Math.round(x).toLocaleString("en-US") : x.toFixed(1));

const SHAPES: Record<string, Partial<BertConfig>> = {
  "bert-mini": { hidden_size: 256, num_hidden_layers: 4, num_attention_heads: 4, intermediate_size: 1024, max_position_embeddings: 512 },
  "bert-base": { hidden_size: 768, num_hidden_layers: 12, num_attention_heads: 12, intermediate_size: 3072, max_position_embeddings: 512 },
};

function sst2(n: number): { text: string; label: number }[] {
  return readFileSync(join(ROOT, "datasets/sst2/train.tsv"), "utf8")
    .split("\n")
    .slice(1, n + 1)
    .map((l) => l.split("\t"))
    .map(([text, label]) => ({ text, label: Number(label) }));
}

/** Texts of random vocabulary words long enough to fill `tokens` word pieces. */
function fullLengthTexts(n: number, tokens: number): { text: string; label: number }[] {
  const words = readFileSync(join(TINY, "vocab.txt"), "utf8").split("\n").slice(2000, 20000).filter((w) => /^[a-z]+$/.test(w));
  const rng = new Rng(1);
  return Array.from({ length: n }, (_, i) => ({ text: Array.from({ length: tokens }, () => words[rng.int(words.length)]).join(" "), label: i % 2 }));
}

/** Seq/s of pooler extraction over `texts`, after its first `warm` untimed (the timed pass then holds every text but those). */
async function extractionRate(encoder: FeatureEncoder, tokenizer: Tokenizer, texts: { text: string }[], warm: number): Promise<number> {
  await extractFeatures(encoder, tokenizer, texts.slice(0, warm), { maxLength: 128, pooling: "pooler" });
  const timed = texts.slice(warm);
  const t0 = performance.now();
  await extractFeatures(encoder, tokenizer, timed, { maxLength: 128, pooling: "pooler" });
  return timed.length / ((performance.now() - t0) / 1000);
}

function dataset(train: { text: string; label: number }[]): LoadedDataset {
  return { name: "bench", source: "bench", contentHash: "bench", splits: { train, validation: train.slice(0, 1) }, validationSource: "file", id2label: ["0", "1"], problemType: "single_label_classification", problemTypeReason: "bench", columns: { text: "text", label: "label" } };
}

/** Steps per second of trainFull itself (the product's code path), excluding the first (warm-up) step. */
async function fullTraining(source: FullModelSource, data: LoadedDataset, batch: number, maxLength: number, steps: number, fromScratch: boolean, groupByLength = false) {
  const times: number[] = [];
  let tensorsAfterSteps: number[] = [];
  const r = await trainFull({
    source,
    dataset: data,
    args: resolveArgs({ numTrainEpochs: 1, perDeviceTrainBatchSize: batch, maxLength, evalStrategy: "no", saveStrategy: "no", fromScratch, loggingSteps: 1000, groupByLength }),
    progress: () => ({
      tick: (n = 1) => {
        if (n === 0) return;
        times.push(performance.now());
        tensorsAfterSteps.push(tf.memory().numTensors);
        sampleRss();
      },
      done() {},
    }),
  });
  r.model.dispose();
  tensorsAfterSteps = tensorsAfterSteps.slice(1);
  const measured = Math.min(steps, times.length) - 1;
  const seconds = (times[measured] - times[0]) / 1000;
  return { seqPerS: (measured * batch) / seconds, flat: new Set(tensorsAfterSteps).size <= 1, paddedPerSeq: r.trainTokensPerSecond / r.trainSamplesPerSecond };
}

/**
 * Peak RSS of a full fine-tuning row in a fresh process (as the PyTorch baseline's is): this script
 * again with --peak-memory-of tiny|mini --backend B, which runs only that row and prints its maxRSS.
 */
function peakMemoryOf(row: "tiny" | "mini", backend: string): number | undefined {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), "--peak-memory-of", row, "--backend", backend], { encoding: "utf8", timeout: 600_000 });
  if (r.status !== 0) return undefined;
  return (JSON.parse(r.stdout.trim().split("\n").pop()!) as { maxRssBytes: number }).maxRssBytes;
}

/** bert-random-tiny's weights source with another shape (its weights are then drawn at random). */
function withShape(source: FullModelSource, shape: Partial<BertConfig>): FullModelSource {
  return { ...source, config: { ...source.config, ...shape } };
}

/** The two full fine-tuning rows measured again for memory: bert-random-tiny on SST-2, and the bert-mini shape at 32 × 128. */
function tinyRow(tiny: FullModelSource, groupByLength = false) {
  return fullTraining(tiny, dataset(sst2(32 * 21)), 32, 64, 21, false, groupByLength);
}
function miniRow(tiny: FullModelSource) {
  return fullTraining(withShape(tiny, SHAPES["bert-mini"]), dataset(fullLengthTexts(32 * 4, 128)), 32, 128, 4, true);
}

async function peakMemoryChild(row: string, backend: Device): Promise<void> {
  await useBackend(backend);
  const tiny = await loadFullModelSource(TINY);
  const r = await (row === "tiny" ? tinyRow(tiny) : miniRow(tiny));
  process.stdout.write(JSON.stringify({ maxRssBytes: process.resourceUsage().maxRSS * 1024, seqPerS: r.seqPerS }) + "\n");
}

/** The Python with torch: $BERTUNE_PYTHON, else Debian's /usr/bin/python3 where present, else python3 on PATH. */
const PYTHON = process.env.BERTUNE_PYTHON ?? (existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3");

function torchBaseline(config: Partial<BertConfig>, mode: "train" | "infer", batch: number, seq: number, steps: number, cuda = false): { seqPerS: number; impl: string; peakRss?: number } | undefined {
  return runTorch({ config: { vocab_size: 30522, type_vocab_size: 2, ...config }, mode, batch, seq, steps, threads, cuda });
}

/** PyTorch training the same dropout + Linear head on the same number of cached features. */
function torchHeadBaseline(rows: number, hidden: number, batch: number): { seqPerS: number; impl: string } | undefined {
  return runTorch({ mode: "head", rows, hidden, batch, threads });
}

/** Below this, a 2-thread baseline is not running at its machine's speed (reference BLAS gives ~3 GFLOP/s). */
const MIN_BASELINE_GFLOPS = 20;

/**
 * The environment the baseline runs in. OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE, set on some machines
 * to keep old OpenBLAS builds safe, slow a current one down: the baseline runs without them when
 * its GEMM is still exact that way (checked against float64), else with them.
 */
let torchEnv: NodeJS.ProcessEnv = process.env;

interface Gemm {
  gflops: number;
  correct: boolean;
  blas: string;
  torch: string;
  env: string;
}

function spawnTorch(job: Record<string, unknown>, env: NodeJS.ProcessEnv): Record<string, unknown> | undefined {
  const r = spawnSync(PYTHON, [join(ROOT, "scripts/torch_baseline.py"), JSON.stringify(job)], { encoding: "utf8", timeout: 600_000, env });
  if (r.status !== 0) return undefined;
  return JSON.parse(r.stdout.trim().split("\n").pop()!) as Record<string, unknown>;
}

/** The baseline's own 1024² GEMM speed (and the environment that gives it), or undefined without torch. */
function baselineGemm(): Gemm | undefined {
  const { OPENBLAS_CORETYPE: _c, OPENBLAS_L2_SIZE: _l, ...unset } = process.env;
  const candidates: [string, NodeJS.ProcessEnv][] = [["OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE unset", unset], ["as given", process.env]];
  for (const [name, env] of candidates) {
    const out = spawnTorch({ mode: "gemm", threads }, env);
    if (out?.correct) {
      torchEnv = env;
      return { gflops: out.gflops as number, correct: true, blas: String(out.blas), torch: String(out.torch), env: name };
    }
  }
  return undefined;
}

function runTorch(job: Record<string, unknown>): { seqPerS: number; impl: string; peakRss?: number } | undefined {
  const out = spawnTorch(job, torchEnv);
  if (!out) return undefined;
  return { seqPerS: out.seq_per_s as number, peakRss: out.peak_rss_bytes as number | undefined, impl: `PyTorch ${out.torch} ${out.impl}, ${out.device === "cuda" ? "CUDA" : `${threads} threads`}` };
}

function tinyConfigShape(source: FullModelSource): Partial<BertConfig> {
  const c = source.config;
  return { hidden_size: c.hidden_size, num_hidden_layers: c.num_hidden_layers, num_attention_heads: c.num_attention_heads, intermediate_size: c.intermediate_size, max_position_embeddings: c.max_position_embeddings };
}

async function main() {
  const child = value("--peak-memory-of");
  if (child) return peakMemoryChild(child, (value("--backend") ?? "wasm") as Device);
  const wanted = (value("--backends") ?? "wasm,webgpu,tensorflow").split(",") as Device[];
  const backends: string[] = [];
  for (const b of wanted) {
    try {
      await useBackend(b);
      // Mesa's lavapipe or SwiftShader: WebGPU on the CPU, which would take hours over the bert-base shape.
      if (b === "webgpu" && webgpuAdapterInfo()?.software && !flag("--software-gpu")) {
        process.stderr.write(`skipping webgpu: the adapter is a software renderer (${webgpuAdapterInfo()!.description}); --software-gpu to run it anyway\n`);
        continue;
      }
      backends.push(b);
    } catch (e) {
      process.stderr.write(`skipping ${b}: ${(e as Error).message}\n`);
    }
  }
  const gemm = baselineGemm();
  const gemmLine = gemm
    ? `baseline: PyTorch ${gemm.torch}, 1024² float32 GEMM ${gemm.gflops.toFixed(1)} GFLOP/s on ${threads} threads (BLAS: ${gemm.blas}; OpenBLAS environment ${gemm.env})`
    : `baseline: no PyTorch at ${PYTHON} (apt-get install python3-torch libopenblas0-pthread, or set BERTUNE_PYTHON)`;
  process.stderr.write(gemmLine + "\n");
  const slowBaseline = gemm !== undefined && gemm.gflops < MIN_BASELINE_GFLOPS;
  if (slowBaseline) process.stderr.write(`the baseline's BLAS runs at ${gemm!.gflops.toFixed(1)} GFLOP/s (< ${MIN_BASELINE_GFLOPS}): ratios against PyTorch are withheld; fix: apt-get install libopenblas0-pthread\n`);
  const tiny = await loadFullModelSource(TINY);
  // The tiny row's baseline trains batches as long as bertune's padded ones (measured on the first backend's run).
  let torchTiny: ReturnType<typeof torchBaseline>;
  let torchTinySeq = 64;
  const torchMini = torchBaseline(SHAPES["bert-mini"], "train", 32, 128, 3);
  const torchBase = flag("--base") ? torchBaseline(SHAPES["bert-base"], "train", 32, 128, 1) : undefined;
  let cpuTiny: number | undefined;

  for (const b of backends) {
    await useBackend(b as Device);
    process.stderr.write(`full fine-tuning on ${b}...\n`);
    const t = await tinyRow(tiny);
    if (b === "cpu") cpuTiny = t.seqPerS;
    const padded = (x: { paddedPerSeq: number }) => `${x.paddedPerSeq.toFixed(1)} tokens/seq padded`;
    if (!torchTiny) {
      torchTinySeq = Math.round(t.paddedPerSeq);
      torchTiny = torchBaseline(tinyConfigShape(tiny), "train", 32, torchTinySeq, 30);
    }
    rows.push({ what: "full fine-tune bert-random-tiny, SST-2, len 64, batch 32", backend: b, seqPerS: t.seqPerS, peakRss: peakMemoryOf("tiny", b), baseline: torchTiny && { name: `${torchTiny.impl} (${torchTinySeq} tokens/seq, as bertune's padded batches)`, seqPerS: torchTiny.seqPerS, peakRss: torchTiny.peakRss }, note: `${t.flat ? "tensors flat" : "TENSOR COUNT GREW"}; ${padded(t)}` });
    if (b === "cpu") continue; // the pure-JS backend is only the slow fallback
    // The group_by_length lever, against the same run without it: less padding in the same epoch.
    const g = await tinyRow(tiny, true);
    rows.push({ what: "full fine-tune bert-random-tiny, SST-2, len 64, batch 32, --group-by-length", backend: b, seqPerS: g.seqPerS, baseline: { name: "the row above (no grouping)", seqPerS: t.seqPerS }, note: `${g.flat ? "tensors flat" : "TENSOR COUNT GREW"}; ${padded(g)}` });
    const mini = await miniRow(tiny);
    rows.push({ what: "full fine-tune bert-mini shape, 32 x 128", backend: b, seqPerS: mini.seqPerS, tokensPerS: mini.seqPerS * 128, peakRss: peakMemoryOf("mini", b), baseline: torchMini && { name: torchMini.impl, seqPerS: torchMini.seqPerS, peakRss: torchMini.peakRss }, note: mini.flat ? "tensors flat" : "TENSOR COUNT GREW" });
    if (b !== "wasm" || flag("--base")) {
      const base = await fullTraining(withShape(tiny, SHAPES["bert-base"]), dataset(fullLengthTexts(32 * 3, 128)), 32, 128, 3, true);
      // On a GPU backend the fair baseline is PyTorch on the same GPU (fp32).
      const baseline = b === "webgpu" || b === "tensorflow" ? torchBaseline(SHAPES["bert-base"], "train", 32, 128, 10, true) ?? torchBase : torchBase;
      rows.push({ what: "full fine-tune bert-base shape, 32 x 128", backend: b, seqPerS: base.seqPerS, tokensPerS: base.seqPerS * 128, baseline: baseline && { name: baseline.impl, seqPerS: baseline.seqPerS }, note: "target >= 150 seq/s on a GPU" });
    }
  }
  if (cpuTiny) for (const r of rows) if (!r.baseline && r.what.includes("tiny")) r.baseline = { name: "tfjs cpu backend", seqPerS: cpuTiny };

  // Frozen feature extraction through onnxruntime (the frozen path's encoder).
  process.stderr.write("frozen feature extraction...\n");
  const onnx = await loadModel(TINY, { threads });
  for (const [label, texts] of [
    ["SST-2 sentences", sst2(2048)],
    ["32 x 128 tokens", fullLengthTexts(512, 128)],
  ] as const) {
    const seqPerS = await extractionRate(onnx.encoder, onnx.tokenizer, texts, 64);
    sampleRss();
    const base = label.startsWith("32") ? torchBaseline(tinyConfigShape(tiny), "infer", 32, 128, 30) : undefined;
    rows.push({ what: `frozen features bert-random-tiny (onnx), ${label}`, backend: `onnxruntime cpu, ${threads} threads`, seqPerS, baseline: base && { name: base.impl, seqPerS: base.seqPerS } });
  }
  // The bert-base shape (random weights in bertune's own graph): the frozen path's cost at the size users train.
  // (tensorflow.js only draws the random weights.)
  if (backends.length > 0) {
    await useBackend(backends[0] as Device);
    process.stderr.write("frozen feature extraction, bert-base shape...\n");
    const config = { ...tiny.config, ...SHAPES["bert-base"] };
    const random = TfBertModel.random(config, 1);
    const weights = new Map(Object.entries(await random.toTensors()).map(([name, t]) => [name, t.data as Float32Array]));
    random.dispose();
    const graphDir = mkdtempSync(join(tmpdir(), "bertune-bench-"));
    const rates: Record<string, number> = {};
    const texts = fullLengthTexts(32 * 5, 128);
    for (const head of ["first-token-features", "features"] as const) {
      const graph = join(graphDir, `base-${head}.onnx`);
      writeFileSync(graph, writeBertOnnx(config, weights, { head }));
      const encoder = await OnnxEncoder.load(graph, config.hidden_size, { threads });
      rates[head] = await extractionRate(encoder, onnx.tokenizer, texts, 32);
      await encoder.close();
    }
    weights.clear();
    rmSync(graphDir, { recursive: true, force: true });
    const seqPerS = rates["first-token-features"];
    const base = torchBaseline(SHAPES["bert-base"], "infer", 32, 128, 4);
    rows.push({ what: "frozen features bert-base shape (onnx, bertune's [CLS] graph), 32 x 128 tokens", backend: `onnxruntime cpu, ${threads} threads`, seqPerS, tokensPerS: seqPerS * 128, baseline: base && { name: base.impl, seqPerS: base.seqPerS }, note: "target >= 1.5x" });
    rows.push({ what: "frozen features bert-base shape, 32 x 128: the [CLS] graph (pooler, cls) vs the every-token graph (mean)", backend: `onnxruntime cpu, ${threads} threads`, seqPerS, baseline: { name: "every-token graph", seqPerS: rates.features } });
  }
  // The same extraction on the model's own ONNX export (optimum's, shipped with the fixture): what bertune's graph replaced;
  // and on bertune's every-token graph, which mean pooling runs.
  const exportEncoder = await OnnxEncoder.load(join(TINY, "onnx/model.onnx"), onnx.config.hidden_size, { threads });
  const graphCache = mkdtempSync(join(tmpdir(), "bertune-bench-"));
  const everyToken = await OnnxEncoder.load((await featureGraph(onnx.config, onnx.files["model.safetensors"], { cacheDir: graphCache, tokens: "all" })).path, onnx.config.hidden_size, { threads });
  const tinyRates: Record<string, number> = {};
  for (const [name, encoder] of [["export", exportEncoder], ["every-token", everyToken], ["bertune", onnx.encoder]] as const) {
    tinyRates[name] = await extractionRate(encoder, onnx.tokenizer, fullLengthTexts(512, 128), 64);
  }
  rows.push({ what: "frozen features bert-random-tiny, 32 x 128: bertune's [CLS] graph vs the model's own ONNX export", backend: `onnxruntime cpu, ${threads} threads`, seqPerS: tinyRates.bertune, baseline: { name: "optimum's export (fixture)", seqPerS: tinyRates.export } });
  rows.push({ what: "frozen features bert-random-tiny, 32 x 128: the [CLS] graph vs the every-token graph", backend: `onnxruntime cpu, ${threads} threads`, seqPerS: tinyRates.bertune, baseline: { name: "every-token graph", seqPerS: tinyRates["every-token"] } });
  await everyToken.close();
  rmSync(graphCache, { recursive: true, force: true });
  await exportEncoder.close();
  await onnx.close();

  // predict on a full run: its exported graph on onnxruntime against the tensorflow.js model (wasm), same weights.
  if (backends.includes("wasm")) {
    await useBackend("wasm");
    process.stderr.write("predict: tfjs vs onnx...\n");
    const texts = sst2(2048);
    const head = LinearHead.init(tiny.config.hidden_size, 2, { seed: 1, dropout: 0, initializerRange: 0.02 });
    const bert = TfBertModel.fromSafetensors(readSafetensors(tiny.weights), tiny.config);
    const model = new BertClassifier(bert, new ClassificationHead(head));
    const encoded = texts.map((t) => tiny.tokenizer.encodeOne(t.text, undefined, 128));
    await classifierLogits(model, encoded.slice(0, 64), tiny.tokenizer.padTokenId, 32);
    let t0 = performance.now();
    await classifierLogits(model, encoded, tiny.tokenizer.padTokenId, 32);
    const tfjsRate = texts.length / ((performance.now() - t0) / 1000);
    model.dispose();
    const graph = join(mkdtempSync(join(tmpdir(), "bertune-bench-")), "model.onnx");
    writeFileSync(graph, writeBertOnnx(tiny.config, readBertWeights(readSafetensors(tiny.weights), tiny.config), { head: { pooling: "pooler", weight: head.weight, bias: head.bias, numLabels: 2 } }));
    const exported = await OnnxSequenceClassifier.load(graph, 2, { threads });
    const run = (xs: typeof texts) => mapSortedBatches(tiny.tokenizer, xs, 2, { maxLength: 128 }, (b) => exported.logits(b));
    await run(texts.slice(0, 64));
    t0 = performance.now();
    await run(texts);
    const onnxRate = texts.length / ((performance.now() - t0) / 1000);
    await exported.close();
    rows.push({ what: "predict, full run of bert-random-tiny, SST-2 sentences, batch 32", backend: `onnxruntime cpu (bertune export), ${threads} threads`, seqPerS: onnxRate, baseline: { name: "tfjs wasm (same weights)", seqPerS: tfjsRate } });
  }

  // The head on cached features: one epoch of trainHead on 20,000 × 768 features, evaluated at
  // the epoch's end on 872 rows (SST-2's validation size), as a frozen run does, timed after one
  // warm-up epoch as the PyTorch baseline is. Plain arrays: no backend.
  const n = 20_000;
  const h = 768;
  const rng = new Rng(3);
  const feats = new Float32Array(n * h).map(() => rng.normal());
  const labels = Array.from({ length: n }, (_, i) => i % 2);
  for (const batch of [8, 32, 256]) {
    const epoch = () =>
      trainHead(
        { train: { data: feats, rows: n, labels }, validation: { data: feats.subarray(0, h * 872), rows: 872, labels: labels.slice(0, 872) }, hiddenSize: h, id2label: ["0", "1"], dropout: 0.1, initializerRange: 0.02 },
        resolveArgs({ freezeBackbone: true, numTrainEpochs: 1, perDeviceTrainBatchSize: batch }),
      );
    // One untimed epoch first, as the baseline's (JIT and onnxruntime sessions warm on both sides).
    epoch();
    const r = epoch();
    const base = torchHeadBaseline(n, h, batch);
    rows.push({ what: `head on cached features (768-d), batch ${batch}, 1 epoch + eval`, backend: nativeOps() ? "arrays, onnxruntime products" : "plain arrays", seqPerS: r.trainSamplesPerSecond, baseline: base && { name: base.impl, seqPerS: base.seqPerS }, note: "target >= 100,000 ex/s" });
  }

  const mib = (b?: number) => (b === undefined ? "" : (b / 2 ** 20).toFixed(0));
  const lines = [
    "| what | backend | seq/s | tokens/s | baseline (same run) | ratio | peak RSS MiB (bertune / baseline) | note |",
    "| --- | --- | ---: | ---: | --- | ---: | ---: | --- |",
    ...rows.map((r) => {
      const withheld = slowBaseline && r.baseline?.name.startsWith("PyTorch");
      const ratio = !r.baseline ? "" : withheld ? "withheld (slow BLAS)" : `${(r.seqPerS / r.baseline.seqPerS).toFixed(2)}×`;
      const memory = r.peakRss === undefined ? "" : `${mib(r.peakRss)} / ${mib(r.baseline?.peakRss) || "—"}`;
      return `| ${r.what} | ${r.backend} | ${fmt(r.seqPerS)} | ${r.tokensPerS ? fmt(r.tokensPerS) : ""} | ${r.baseline ? `${r.baseline.name}: ${fmt(r.baseline.seqPerS)}` : "—"} | ${ratio} | ${memory} | ${r.note ?? ""} |`;
    }),
  ];
  process.stdout.write(`${gemmLine}\n\n` + lines.join("\n") + `\n\npeak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB; node ${process.version}; ${availableParallelism()} cores\n`);
  const jsonOut = value("--json");
  if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ rows, peakRssBytes: peakRss, threads, baselineGemm: gemm ?? null, ratiosWithheld: slowBaseline }, null, 2));
}

await main();
