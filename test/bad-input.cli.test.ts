/**
 * Bad input through the command line: each case is either one clear line (`error: ...`, a
 * `hint: ...`, exit code 2, no stack trace) or a documented recovery. The readers' own details
 * are tested in data.*.test.ts and safetensors.test.ts; this file checks what a user sees.
 */
import { cpSync, mkdirSync, readFileSync, symlinkSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { Classifier } from "../src/classifier.js";
import { clampMaxLength } from "../src/bert/config.js";
import { BertuneError } from "../src/errors.js";
import { Tokenizer } from "../src/tokenizer/tokenizer.js";
import { runCli, type CliResult } from "./helpers/cli.js";
import { DATASETS, TINY_MODEL, tempDir } from "./helpers/fixtures.js";

const RAW_LATIN1 = join(DATASETS, "raw/rt-polarity.latin1.txt");

function expectUserError(r: CliResult, message: RegExp, hint?: RegExp): void {
  expect(r.code, r.stderr).toBe(2);
  const lines = r.stderr.trimEnd().split("\n");
  const error = lines.find((l) => l.startsWith("error: "));
  expect(error, r.stderr).toBeDefined();
  expect(error).toMatch(message);
  if (hint) expect(lines.find((l) => l.startsWith("hint: "))).toMatch(hint);
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  expect(r.stdout).toBe("");
}

/** A copy of the tiny model folder (files linked, not copied) with some files replaced or removed. */
function modelVariant(dir: string, change: Record<string, string | null>): string {
  mkdirSync(dir, { recursive: true });
  for (const f of readdirSync(TINY_MODEL)) if (!(f in change)) symlinkSync(join(TINY_MODEL, f), join(dir, f));
  for (const [f, content] of Object.entries(change)) if (content !== null) writeFileSync(join(dir, f), content);
  return dir;
}

/** Build a safetensors file from a header object and a data section. */
function safetensors(header: unknown, data: Uint8Array, claimedLength?: bigint): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, claimedLength ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

const f32 = (n: number, v = 0.01) => new Uint8Array(new Float32Array(n).fill(v).buffer);

// Each case spawns the CLI: run them side by side.
describe.concurrent("bad input through the CLI", () => {
  const work = tempDir("bertune-bad-");
  const env = { BERTUNE_CACHE: join(work, "cache"), HF_HOME: join(work, "hf") };
  const run = join(work, "run");
  const file = (name: string, content: string | Uint8Array) => {
    const p = join(work, name);
    writeFileSync(p, content);
    return p;
  };
  let outputs = 0;
  const train = (dataset: string, ...extra: string[]) =>
    runCli(["train", "--model", TINY_MODEL, "--dataset", dataset, "--freeze-backbone", "--epochs", "1", ...(extra.includes("--output") ? [] : ["--output", join(work, `out-${++outputs}`)]), ...extra], env);

  beforeAll(async () => {
    const data = join(work, "sst2");
    mkdirSync(data);
    const take = (f: string, n: number) => readFileSync(join(DATASETS, "sst2", f), "utf8").split("\n").slice(0, n + 1).join("\n") + "\n";
    writeFileSync(join(data, "train.tsv"), take("train.tsv", 64));
    writeFileSync(join(data, "dev.tsv"), take("dev.tsv", 16));
    const r = await runCli(["train", "--model", TINY_MODEL, "--dataset", data, "--freeze-backbone", "--epochs", "1", "--output", run, "-q"], env);
    expect(r.code).toBe(0);
  });

  it("invalid UTF-8: names the line and the byte, and suggests --encoding latin1", async () => {
    const r = await train(RAW_LATIN1);
    expectUserError(r, /rt-polarity\.latin1\.txt is not valid UTF-8: line 32 has the invalid byte 0xe9\./, /--encoding latin1/);
  });

  it("--encoding latin1 reads the Latin-1 file (rt-polarity.latin1.txt)", async () => {
    const r = await train(RAW_LATIN1, "--encoding", "latin1", "--json");
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.train_samples + s.eval_samples).toBe(10662);
  });

  it("CSV with quoted newlines, embedded commas and quotes, a BOM, CRLF and empty lines trains", async () => {
    const csv = '\uFEFFtext,label\r\n"two\r\nlines",pos\r\n\r\n"a, b, c",neg\r\n"say ""hi""",pos\r\n   \r\nplain,neg\r\n';
    const r = await train(file("edge.csv", csv), "--validation-ratio", "0.25", "--json");
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.train_samples + s.eval_samples).toBe(4);
    const config = JSON.parse(readFileSync(join(s.output, "config.json"), "utf8"));
    expect(config.id2label).toEqual({ 0: "neg", 1: "pos" }); // "text" was found: the BOM is not part of the name
  });

  it("a ragged TSV row: file, line and how to fix it", async () => {
    const r = await train(file("ragged.tsv", "sentence\tlabel\ngood\t1\nbad\t0\nthis\thas\ttabs\t1\n"));
    expectUserError(r, /ragged\.tsv, line 4: expected 2 tab-separated fields \(as in the header\) but found 4\./, /one tab between fields/);
  });

  it.each([
    ["an empty file", "empty.csv", "", /empty\.csv is empty\./],
    ["a header without rows", "header.csv", "text,label\r\n", /header\.csv holds no examples\./],
    ["only blank lines", "blank.jsonl", "\n  \n\r\n", /blank\.jsonl holds no examples\./],
  ])("an empty data set (%s) is refused", async (_what, name, content, message) => {
    expectUserError(await train(file(name, content)), message, /at least one example/);
  });

  it("a folder without data files is refused", async () => {
    mkdirSync(join(work, "no-data"));
    expectUserError(await train(join(work, "no-data")), /no-data has no train file \(found no data files\)/, /Name the training file train/);
  });

  it("a misspelled column gets the closest name as a suggestion", async () => {
    const path = file("cols.csv", "review,sentiment\ngood,pos\nbad,neg\nok,pos\n");
    expectUserError(await train(path, "--text-column", "reveiw"), /cols\.csv has no column "reveiw" \(--text-column\); its columns are "review", "sentiment"\./, /Did you mean "review"\? Pass --text-column review\./);
    expectUserError(await train(path, "--label-column", "sentimnet"), /no column "sentimnet"/, /Did you mean "sentiment"\?/);
  });

  it("evaluating a run on data with a label the run does not know is refused", async () => {
    const path = file("unknown-label.tsv", "sentence\tlabel\ngood\t1\nbad\t0\nmeh\t2\nfine\t1\n");
    const r = await runCli(["evaluate", run, "--dataset", path, "--split", "train", "-q"], env);
    expectUserError(r, /the data set's labels \(LABEL_0, LABEL_1, LABEL_2\) differ from the run's \(LABEL_0, LABEL_1\)/, /labels the model was trained on/);
  });

  // 600 words: far more tokens than bert-random-tiny's 128 positions.
  const long = Array.from({ length: 600 }, (_, i) => ["good", "bad", "film", "plot"][i % 4]).join(" ");
  const longData = () => file("long.tsv", ["sentence\tlabel", ...Array.from({ length: 24 }, (_, i) => `${i % 3 === 0 ? long : `short text ${i}`}\t${i % 2}`)].join("\n") + "\n");

  it("texts longer than the model's positions are truncated, in training and in predict", async () => {
    const r = await train(longData(), "--json");
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout).output;
    const p = await runCli(["predict", out, long, "--json", "-q"], env);
    expect(p.code, p.stderr).toBe(0);
    expect(JSON.parse(p.stdout).text).toBe(long);
  });

  it("clampMaxLength caps a sequence length at max_position_embeddings", () => {
    expect(clampMaxLength(512, { max_position_embeddings: 128 })).toEqual({ maxLength: 128, clamped: true });
    expect(clampMaxLength(128, { max_position_embeddings: 128 })).toEqual({ maxLength: 128, clamped: false });
    expect(clampMaxLength(64, { max_position_embeddings: 128 })).toEqual({ maxLength: 64, clamped: false });
  });

  it("--max-length above max_position_embeddings is clamped with a log line", async () => {
    const r = await train(longData(), "--max-length", "512", "--output", join(work, "clamped"));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/--max-length 512 .* 128/);
    expect(JSON.parse(readFileSync(join(work, "clamped", "config.json"), "utf8")).max_length).toBe(128);
    const p = await runCli(["predict", join(work, "clamped"), long, "-q"], env);
    expect(p.code, p.stderr).toBe(0);
  });

  it("an empty text is a valid example: [CLS] [SEP]", async () => {
    const tok = Tokenizer.fromFiles({ tokenizer: join(TINY_MODEL, "tokenizer.json"), tokenizerConfig: join(TINY_MODEL, "tokenizer_config.json") });
    expect(tok.encodeOne("", undefined, 128).ids).toEqual([101, 102]);
    expect(tok.encodeOne("", "", 128).ids).toEqual([101, 102, 102]);
    const r = await runCli(["predict", run, "", "--json", "-q"], env);
    expect(r.code, r.stderr).toBe(0);
    const p = JSON.parse(r.stdout);
    expect(p.text).toBe("");
    expect(p.probabilities.LABEL_0 + p.probabilities.LABEL_1).toBeCloseTo(1, 5);
    const csv = await train(file("empty-text.csv", 'text,label\n"",0\ngood,1\n,0\nbad,1\n'), "--validation-ratio", "0.5", "-q");
    expect(csv.code, csv.stderr).toBe(0);
  });

  it.each([
    ["config.json missing", { "config.json": null }, /has no config\.json/],
    ["config.json truncated", { "config.json": '{"hidden_size": 32,' }, /config\.json at .* is not valid JSON/],
    ["config.json not an object", { "config.json": "[1, 2]" }, /config\.json at .* is not a JSON object/],
    ["config.json inconsistent", { "config.json": '{"hidden_size": 30, "num_attention_heads": 4}' }, /hidden_size 30 is not a multiple of num_attention_heads 4/],
    ["a dropout probability of 1", { "config.json": '{"hidden_size": 32, "num_attention_heads": 4, "classifier_dropout": 1}' }, /"classifier_dropout" must be a probability in \[0, 1\), got 1/],
    ["tokenizer.json missing", { "tokenizer.json": null }, /has no tokenizer\.json/],
    ["tokenizer.json truncated", { "tokenizer.json": '{"version": "1.0", "model": {' }, /tokenizer\.json at .* is not valid JSON/],
    ["tokenizer.json not an object", { "tokenizer.json": '"x"' }, /tokenizer\.json at .* is not a JSON object/],
    ["tokenizer.json without a model", { "tokenizer.json": '{"version": "1.0"}' }, /has no "model" section/],
    ["tokenizer.json with a broken model", { "tokenizer.json": '{"version": "1.0", "model": null}' }, /cannot build the tokenizer/],
  ])("a model folder with %s is refused", async (what, change, message) => {
    const dir = modelVariant(join(work, `model-${what.replace(/\W+/g, "-")}`), change);
    const r = await runCli(["train", "--model", dir, "--dataset", join(work, "sst2"), "--freeze-backbone", "--output", join(work, `never-${what.replace(/\W+/g, "-")}`)], env);
    expectUserError(r, message);
  });

  describe("a damaged model.safetensors in a run folder", () => {
    const bias = { dtype: "F32", shape: [2], data_offsets: [0, 8] };
    const weight = { dtype: "F32", shape: [2, 32], data_offsets: [8, 264] };
    const good = safetensors({ "classifier.bias": bias, "classifier.weight": weight }, f32(66));
    const cases: [string, Uint8Array, RegExp][] = [
      ["truncated", good.subarray(0, good.length - 10), /run past the end of the 254-byte data section/],
      ["shorter than its header length field", good.subarray(0, 5), /shorter than the 8-byte header length/],
      ["with a header longer than the file", safetensors({ "classifier.bias": bias, "classifier.weight": weight }, f32(66), 100_000n), /the header claims to be 100000 bytes but only/],
      ["with an absurd header size", safetensors({}, f32(66), 2n ** 62n), /more than the 100000000-byte limit/],
      ["with overlapping tensors", safetensors({ "classifier.bias": bias, "classifier.weight": { ...weight, data_offsets: [0, 256] } }, f32(64)), /overlaps/],
      ["with out-of-range offsets", safetensors({ "classifier.bias": bias, "classifier.weight": { ...weight, data_offsets: [8, 10_264] } }, f32(66)), /run past the end/],
      ["with classifier.weight of the wrong shape", safetensors({ "classifier.bias": bias, "classifier.weight": { ...weight, shape: [3, 32], data_offsets: [8, 392] } }, f32(98)), /tensor "classifier\.weight" has shape \[3, 32\], expected \[2, 32\]/],
      ["with classifier.weight of the wrong dtype", safetensors({ "classifier.bias": bias, "classifier.weight": { ...weight, dtype: "I32" } }, f32(66)), /tensor "classifier\.weight" has dtype I32, which cannot be read as floating point/],
      ["without classifier.weight", safetensors({ "classifier.bias": bias, "other.weight": weight }, f32(66)), /tensor "classifier\.weight" not found/],
    ];

    it.each(cases)("%s: predict fails with one line, and Classifier.load with a BertuneError", async (what, bytes, message) => {
      const dir = join(work, `run-${what.replace(/\W+/g, "-")}`);
      cpSync(run, dir, { recursive: true });
      writeFileSync(join(dir, "model.safetensors"), bytes);
      const r = await runCli(["predict", dir, "a fine film"], env);
      expectUserError(r, message);
      expect(r.stderr).toContain(join(dir, "model.safetensors"));
      await expect(Classifier.load(dir)).rejects.toThrow(BertuneError);
    });
  });
});
