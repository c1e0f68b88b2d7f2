#!/usr/bin/env node
// The transfer-learning grid of docs/transfer.md (issue 13): pretrain bert-tiny on imdb-unlabelled,
// then fine-tune it and its random initialisation on SST-2 (and other sets) by every method, data
// size and seed, through the CLI. Resumable: finished cells are kept in WORK/results.jsonl.
//
//   npm run build && node scripts/transfer_grid.mjs --work runs/transfer [--seeds 1,2,3]
//     [--sizes 500,2000,6920] [--datasets sst2] [--pretrain-steps 600] [--methods frozen,top2,full,gradual]
//     [--inits pretrained,random]
//
// Prints the mean ± standard deviation of each cell's dev accuracy as a Markdown table.
import { spawnSync } from "node:child_process";
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const CLI = join(ROOT, "dist/cli/main.js");
const SHARED = process.env.BERTUNE_TEST_SHARED ?? resolve(ROOT, "../shared");
const argv = process.argv.slice(2);
const opt = (name, fallback) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : fallback);
const list = (name, fallback) => opt(name, fallback).split(",");

const work = resolve(opt("--work", "runs/transfer"));
const seeds = list("--seeds", "1,2,3").map(Number);
const sizes = list("--sizes", "500,2000,6920").map(Number);
const datasets = list("--datasets", "sst2");
const methods = list("--methods", "frozen,top2,full,gradual");
const inits = list("--inits", "pretrained,random");
const pretrainSteps = opt("--pretrain-steps", "600");
mkdirSync(work, { recursive: true });

/** The fine-tuning recipe of each method (3 epochs, batch 32; lr 1e-4 for the encoder, the frozen default 1e-3 for a probe). */
const METHOD = {
  frozen: ["--freeze-backbone", "--pooling", "mean"],
  top2: ["--unfreeze-top", "2", "--learning-rate", "1e-4"],
  full: ["--learning-rate", "1e-4"],
  gradual: ["--gradual-unfreeze", "--learning-rate", "1e-4"],
};

function cli(args) {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [CLI, ...args, "--json", "--device", "wasm"], { encoding: "utf8", maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`bertune ${args.join(" ")} failed (${r.status}): ${r.stderr.trim().split("\n").pop()}`);
  return { ...JSON.parse(r.stdout.trim().split("\n").pop()), wall_s: (Date.now() - t0) / 1000 };
}

// bert-tiny (Turc et al. 2019): 2 layers, hidden 128, 2 heads, intermediate 512, BERT's uncased vocabulary.
const configPath = join(work, "bert-tiny-config.json");
if (!existsSync(configPath)) {
  const base = JSON.parse(readFileSync(join(ROOT, "models/bert-random-tiny/config.json"), "utf8"));
  writeFileSync(configPath, JSON.stringify({ ...base, hidden_size: 128, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 512, max_position_embeddings: 512, architectures: ["BertForMaskedLM"] }, null, 2));
}
const tokenizer = join(ROOT, "models/bert-random-tiny");
const pretrained = join(work, "tiny-imdb");
const random = join(work, "tiny-random");
if (!existsSync(join(pretrained, "model.safetensors"))) {
  process.stderr.write(`pretraining ${pretrainSteps} steps on imdb-unlabelled...\n`);
  const r = cli(["pretrain", "--config", configPath, "--tokenizer", tokenizer, "--dataset", join(SHARED, "datasets/imdb-unlabelled"), "--output", pretrained, "--overwrite-output-dir",
    "--max-steps", pretrainSteps, "--batch-size", "16", "--max-seq-length", "128", "--learning-rate", "1e-3", "--warmup-ratio", "0.06", "--weight-decay", "0.01",
    "--validation-split-percentage", "0.5", "--eval-every", "100", "--save-steps", "200", "--logging-steps", "25"]);
  writeFileSync(join(work, "pretrain.json"), JSON.stringify(r, null, 2));
}
if (!existsSync(join(random, "model.safetensors"))) {
  // The same seed-42 initialisation pretraining started from, saved untrained (one step at lr 1e-30).
  const text = join(work, "tiny.txt");
  writeFileSync(text, Array.from({ length: 64 }, (_, i) => `a short line of text number ${i} for one step`).join("\n") + "\n");
  cli(["pretrain", "--config", configPath, "--tokenizer", tokenizer, "--dataset", text, "--output", random, "--overwrite-output-dir", "--max-steps", "1", "--batch-size", "16",
    "--learning-rate", "1e-30", "--validation-split-percentage", "0", "--eval-every", "no", "--save-steps", "no"]);
}

/**
 * The data set as the CLI is given it. Rotten Tomatoes ships as one all.csv sorted by label, whose
 * first N examples are one class: it is shuffled once (fixed seed) and split into train.csv and a
 * fixed validation.csv of 1,066 sentences (10%, as the Hub's split), so every cell sees the same dev set.
 */
function datasetArg(name) {
  if (name !== "rotten_tomatoes") return name;
  const dir = join(work, "data", name);
  if (!existsSync(join(dir, "validation.csv"))) {
    const [header, ...rows] = readFileSync(join(SHARED, "datasets", name, "all.csv"), "utf8").trimEnd().split("\n");
    let state = 12345;
    const next = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32;
    for (let i = rows.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [rows[i], rows[j]] = [rows[j], rows[i]];
    }
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "validation.csv"), [header, ...rows.slice(0, 1066)].join("\n") + "\n");
    writeFileSync(join(dir, "train.csv"), [header, ...rows.slice(1066)].join("\n") + "\n");
  }
  return dir;
}

const resultsPath = join(work, "results.jsonl");
const done = new Map((existsSync(resultsPath) ? readFileSync(resultsPath, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l)) : []).map((r) => [r.cell, r]));
for (const dataset of datasets) {
  for (const seed of seeds) {
    for (const size of sizes) {
      for (const [init, model] of [["pretrained", pretrained], ["random", random]].filter(([name]) => inits.includes(name))) {
        for (const method of methods) {
          const cell = `${dataset}/${method}/${init}/${size}/${seed}`;
          if (done.has(cell)) continue;
          const out = join(work, "ft", cell.replaceAll("/", "-"));
          const r = cli(["train", "--model", model, "--dataset", datasetArg(dataset), "--output", out, "--overwrite-output-dir", "--seed", String(seed), "--max-train-samples", String(size),
            "--epochs", "3", "--batch-size", "32", "--eval-every", "no", "--save-steps", "no", ...METHOD[method]]);
          const row = { cell, dataset, method, init, size, seed, accuracy: r.eval_accuracy, macro_f1: r.eval_macro_f1, train_runtime: r.train_runtime, wall_s: r.wall_s };
          appendFileSync(resultsPath, JSON.stringify(row) + "\n");
          done.set(cell, row);
          process.stderr.write(`${cell}: ${(100 * r.eval_accuracy).toFixed(2)}% (${r.wall_s.toFixed(0)} s)\n`);
        }
      }
    }
  }
}

// The table: mean ± sample standard deviation of dev accuracy (%) over the seeds.
const stat = (xs) => {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1)) : 0;
  return `${(100 * m).toFixed(2)} ± ${(100 * sd).toFixed(2)}`;
};
for (const dataset of datasets) {
  const lines = [`### ${dataset}: dev accuracy (%), mean ± std over seeds ${seeds.join(", ")}`, "", `| method | init | ${sizes.map((n) => `${n} examples`).join(" | ")} |`, `| --- | --- | ${sizes.map(() => "---:").join(" | ")} |`];
  for (const method of methods) {
    for (const init of ["pretrained", "random"]) {
      const cells = sizes.map((size) => seeds.map((seed) => done.get(`${dataset}/${method}/${init}/${size}/${seed}`)?.accuracy).filter((x) => x !== undefined));
      lines.push(`| ${method} | ${init} | ${cells.map((c) => (c.length ? stat(c) : "—")).join(" | ")} |`);
    }
  }
  process.stdout.write(lines.join("\n") + "\n\n");
}
