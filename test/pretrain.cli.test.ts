/**
 * `bertune pretrain` and `bertune fill-mask` through the CLI, on real text (a slice of
 * imdb-unlabelled) with a tiny config from scratch: perplexity falls, Ctrl-C + resume gives the
 * uninterrupted weights bit for bit, the output is a BertForMaskedLM by transformers' names (checked
 * by a plain-PyTorch reader, which also gives fill-mask's probabilities), fine-tunes in both modes,
 * and continues pretraining with its own MLM head.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readSafetensors } from "../src/formats/safetensors.js";
import { listCheckpoints } from "../src/train/checkpoint.js";
import { runCli } from "./helpers/cli.js";
import { DATASETS, ROOT, TINY_MODEL, sst2Subset, tempDir } from "./helpers/fixtures.js";

const work = tempDir("bertune-pretrain-");
const env = { HF_HOME: join(work, "hf"), BERTUNE_CACHE: join(work, "cache") };
const text = join(work, "imdb-slice.txt");
writeFileSync(text, readFileSync(join(DATASETS, "imdb-unlabelled/reviews-2-of-4.txt"), "utf8").split("\n").slice(0, 800).join("\n") + "\n");
// bert-random-tiny's shape (2 layers, hidden 32, the 30,522-token BERT vocabulary), to be trained from scratch.
const config = join(work, "config.json");
writeFileSync(config, JSON.stringify({ ...JSON.parse(readFileSync(join(TINY_MODEL, "config.json"), "utf8")), architectures: ["BertForMaskedLM"] }));
const args = (out: string) => [
  "pretrain", "--config", config, "--tokenizer", TINY_MODEL, "--dataset", text, "--output", out,
  "--max-steps", "120", "--eval-every", "40", "--save-steps", "40", "--save-total-limit", "0",
  "--learning-rate", "2e-3", "--warmup-ratio", "0.05", "--max-seq-length", "32", "--batch-size", "8", "--device", "wasm",
];
const torchPython = ["/usr/bin/python3", "python3"].find((py) => spawnSync(py, ["-c", "import torch"], { stdio: "ignore" }).status === 0);

describe("bertune pretrain (masked-LM from scratch on imdb-unlabelled) and fill-mask", () => {
  const whole = join(work, "whole");
  let summary: Record<string, number | string | null>;

  it("trains: the eval perplexity falls at every evaluation; eval_results.json has eval_loss and perplexity = exp(eval_loss)", async () => {
    const r = await runCli([...args(whole), "--json"], env);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    summary = JSON.parse(r.stdout);
    expect(summary.global_step).toBe(120);
    const state = JSON.parse(readFileSync(join(whole, "trainer_state.json"), "utf8"));
    const evals = state.log_history.filter((e: { eval_loss?: number }) => e.eval_loss !== undefined);
    expect(evals.map((e: { step: number }) => e.step)).toEqual([40, 80, 120]);
    const ppl = evals.map((e: { eval_perplexity: number }) => e.eval_perplexity);
    for (let i = 1; i < ppl.length; i++) expect(ppl[i]).toBeLessThan(ppl[i - 1]);
    // From ~vocabulary-size perplexity at random init to a fraction of it (the frequent words are learnt first).
    expect(ppl[ppl.length - 1]).toBeLessThan(0.5 * ppl[0]);
    expect(ppl[ppl.length - 1]).toBeLessThan(5000);
    expect(state.log_history.filter((e: { loss?: number }) => e.loss !== undefined).length).toBeGreaterThan(0);
    const results = JSON.parse(readFileSync(join(whole, "eval_results.json"), "utf8"));
    expect(results.perplexity).toBeCloseTo(Math.exp(results.eval_loss), 6);
    expect(results.perplexity).toBe(summary.perplexity);
    expect(results.eval_loss).toBe(evals[evals.length - 1].eval_loss);
    expect(listCheckpoints(whole).map((c) => c.step)).toEqual([40, 80, 120]);
  });

  it("saves a BertForMaskedLM in transformers' layout: bert.* + cls.predictions.* (decoder tied, not stored), config, tokenizer, state", () => {
    const cfg = JSON.parse(readFileSync(join(whole, "config.json"), "utf8"));
    expect(cfg.architectures).toEqual(["BertForMaskedLM"]);
    expect(cfg.model_type).toBe("bert");
    expect(cfg.id2label).toBeUndefined();
    for (const f of ["tokenizer.json", "vocab.txt", "tokenizer_config.json", "trainer_state.json", "training_args.json", "train_results.json"]) expect(existsSync(join(whole, f)), f).toBe(true);
    const names = [...readSafetensors(join(whole, "model.safetensors")).tensors.keys()];
    expect(names.filter((n) => n.startsWith("cls.")).sort()).toEqual([
      "cls.predictions.bias",
      "cls.predictions.transform.LayerNorm.bias",
      "cls.predictions.transform.LayerNorm.weight",
      "cls.predictions.transform.dense.bias",
      "cls.predictions.transform.dense.weight",
    ]);
    expect(names.every((n) => n.startsWith("bert.") || n.startsWith("cls.predictions."))).toBe(true);
    expect(names).toContain("bert.pooler.dense.weight");
    const targs = JSON.parse(readFileSync(join(whole, "training_args.json"), "utf8"));
    expect(targs).toMatchObject({ mlm_probability: 0.15, line_by_line: false, whole_word_mask: false, max_seq_length: 32, max_steps: 120, pretrained_from: "scratch" });
  });

  it("Ctrl-C stops after the step with a checkpoint (exit 130); --resume-from-checkpoint latest gives the uninterrupted weights bit for bit", async () => {
    const out = join(work, "interrupted");
    const child = spawn(process.execPath, [join(ROOT, "dist/cli/main.js"), ...args(out)], { env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    const closed = new Promise<number | null>((r) => child.on("close", (code) => r(code)));
    const started = Date.now();
    while (listCheckpoints(out).length === 0 && Date.now() - started < 120_000) await new Promise((r) => setTimeout(r, 10));
    child.kill("SIGINT");
    expect(await closed).toBe(130);
    expect(stderr).toMatch(/interrupted \(SIGINT\): stopping after this step/);
    const step = Number(/interrupted at step (\d+); continue with --resume-from-checkpoint latest/.exec(stderr)![1]);
    expect(step).toBeLessThan(120);
    expect(listCheckpoints(out).at(-1)!.step).toBe(step);
    expect(existsSync(join(out, "model.safetensors"))).toBe(false);
    const resumed = await runCli([...args(out), "--resume-from-checkpoint", "latest", "--json"], env);
    expect(resumed.code).toBe(0);
    expect(JSON.parse(resumed.stdout).global_step).toBe(120);
    expect(readFileSync(join(out, "model.safetensors")).equals(readFileSync(join(whole, "model.safetensors")))).toBe(true);
  });

  it("fill-mask: the pipeline's {score, token, token_str, sequence}, most probable first; the same probabilities as a plain-PyTorch BertForMaskedLM reading transformers' names", async () => {
    const r = await runCli(["fill-mask", "--model", whole, "the movie was [MASK] .", "--top-k", "5", "--json", "--device", "wasm"], env);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const top = JSON.parse(r.stdout) as { score: number; token: number; token_str: string; sequence: string }[];
    expect(top).toHaveLength(5);
    for (const c of top) expect(Object.keys(c).sort()).toEqual(["score", "sequence", "token", "token_str"]);
    for (let i = 1; i < top.length; i++) expect(top[i].score).toBeLessThanOrEqual(top[i - 1].score);
    expect(top.reduce((s, c) => s + c.score, 0)).toBeLessThan(1);
    expect(top[0].sequence.startsWith("the movie was")).toBe(true);
    const plain = await runCli(["fill-mask", "--model", whole, "a [MASK] film with a [MASK] cast", "--device", "wasm"], env);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/mask 1:[\s\S]*mask 2:/);
    const none = await runCli(["fill-mask", "--model", whole, "no mask here", "--device", "wasm"], env);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^error: no mask token \(\[MASK\]\) in "no mask here"/m);
    const headless = await runCli(["fill-mask", "--model", TINY_MODEL, "the [MASK] .", "--device", "wasm"], env);
    expect(headless.code).toBe(2);
    expect(headless.stderr).toMatch(/has no masked-LM head \(cls\.predictions\.\*\)/);
    if (!torchPython) return console.warn("PyTorch reader skipped: no python3 with torch");
    const ids = [101, 1996, 3185, 2001, 103, 1012, 102]; // [CLS] the movie was [MASK] . [SEP]
    const py = spawnSync(torchPython, [join(ROOT, "scripts/make_mlm_reference.py"), "--check", whole, ids.join(","), "5"], { encoding: "utf8" });
    expect(py.stderr).toBe("");
    const ref = JSON.parse(py.stdout) as { extra: string[]; top: { token: number; score: number }[][] };
    // Only the pooler is beyond BertForMaskedLM's names (from_pretrained reports it unused); nothing it needs is missing.
    expect(ref.extra).toEqual(["bert.pooler.dense.bias", "bert.pooler.dense.weight"]);
    expect(top.map((c) => c.token)).toEqual(ref.top[0].map((c) => c.token));
    top.forEach((c, i) => expect(Math.abs(c.score - ref.top[0][i].score)).toBeLessThan(1e-5));
  });

  it("the output fine-tunes in both modes (the frozen path's ONNX graph and the full path ignore cls.*)", async () => {
    const data = sst2Subset(join(work, "sst2"), 40, 16);
    const frozen = await runCli(["train", "--model", whole, "--dataset", data, "--freeze-backbone", "--output", join(work, "ft-frozen"), "--json"], env);
    expect(frozen.stderr).toBe("");
    expect(frozen.code).toBe(0);
    expect(JSON.parse(frozen.stdout).mode).toBe("frozen");
    const full = await runCli(["train", "--model", whole, "--dataset", data, "--output", join(work, "ft-full"), "--epochs", "1", "--max-length", "32", "--device", "wasm", "--json"], env);
    expect(full.stderr).toBe("");
    expect(full.code).toBe(0);
    expect(JSON.parse(full.stdout).mode).toBe("full");
    const names = [...readSafetensors(join(work, "ft-full", "model.safetensors")).tensors.keys()];
    expect(names).toContain("classifier.weight");
    expect(names.some((n) => n.startsWith("cls."))).toBe(false);
    const wholeWeights = readSafetensors(join(whole, "model.safetensors"));
    expect(wholeWeights.tensors.get("bert.embeddings.word_embeddings.weight")!.shape).toEqual([30522, 32]);
  });

  it("--model DIR continues pretraining from the output with its own MLM head (domain-adaptive pretraining's path); run_mlm.py's spellings", async () => {
    // run_mlm.py's spellings, as a user brings them.
    const r = await runCli(["pretrain", "--model_name_or_path", whole, "--train_file", text, "--output_dir", join(work, "continued"), "--max_steps", "3", "--max_seq_length", "32", "--whole_word_mask", "--line_by_line", "--device", "wasm", "--eval_strategy", "no"], env);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/encoder from the checkpoint; MLM head from the checkpoint \(cls\.predictions\.\*\)/);
    expect(r.stderr).toMatch(/line by line: \d+ train sequences/);
    const targs = JSON.parse(readFileSync(join(work, "continued", "training_args.json"), "utf8"));
    expect(targs).toMatchObject({ whole_word_mask: true, line_by_line: true });
  });

  it("refuses what it cannot do, in one line with a hint", async () => {
    const neither = await runCli(["pretrain", "--dataset", text, "--output", join(work, "bad1")], env);
    expect(neither.code).toBe(2);
    expect(neither.stderr).toMatch(/^error: pretrain needs --model .* or --config/m);
    const noTok = await runCli(["pretrain", "--config", config, "--dataset", text, "--output", join(work, "bad2")], env);
    expect(noTok.code).toBe(2);
    expect(noTok.stderr).toMatch(/^error: --config needs a tokenizer/m);
    const small = join(work, "small-vocab.json");
    writeFileSync(small, JSON.stringify({ ...JSON.parse(readFileSync(config, "utf8")), vocab_size: 1000 }));
    const vocab = await runCli(["pretrain", "--config", small, "--tokenizer", TINY_MODEL, "--dataset", text, "--output", join(work, "bad3"), "--max-steps", "1"], env);
    expect(vocab.code).toBe(2);
    expect(vocab.stderr).toMatch(/^error: the tokenizer has 30522 tokens but config\.json's vocab_size is 1000/m);
    const prob = await runCli(["pretrain", "--config", config, "--tokenizer", TINY_MODEL, "--dataset", text, "--mlm-probability", "1.5"], env);
    expect(prob.code).toBe(2);
  });
});
