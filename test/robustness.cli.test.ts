/**
 * Promises kept under interruption, concurrency and bad input, through the built CLI as a user
 * runs it (real processes, real pipes): option values checked before anything loads, a closed
 * stdout, two trainings into one folder, an old run folder, `predict --file` line for line.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { RUN_LOCK_FILE } from "../src/run/lock.js";
import { runCli, runCliClosingStdout, type CliResult } from "./helpers/cli.js";
import { ROOT, TINY_MODEL, sst2Subset, tempDir } from "./helpers/fixtures.js";

/** One `error: ...` line naming what is wrong, one `hint: ...` line, exit code 2, no stack. */
function expectOneLineError(r: CliResult, message: RegExp, hint?: RegExp): void {
  expect(r.code, r.stderr).toBe(2);
  const lines = r.stderr.trimEnd().split("\n");
  expect(lines, r.stderr).toHaveLength(2);
  expect(lines[0]).toMatch(/^error: /);
  expect(lines[0]).toMatch(message);
  expect(lines[1]).toMatch(/^hint: /);
  if (hint) expect(lines[1]).toMatch(hint);
  expect(r.stderr).not.toMatch(/\n\s+at |Error:/);
  expect(r.stdout).toBe("");
}

describe("option values are checked before anything loads, named by their flag", () => {
  // The data set does not exist: a value check that passed would fail on it instead.
  const train = (...extra: string[]) => runCli(["train", "--model", TINY_MODEL, "--dataset", "/no/such/data.csv", "--freeze-backbone", ...extra]);

  it.each([
    [["--eval-every", "0"], /--eval-every must be "epoch", "no" or a whole number of steps/],
    [["--eval-every", "abc"], /--eval-every must be/],
    [["--save-steps", "0"], /--save-steps must be/],
    [["--save-steps", "-5"], /--save-steps must be/],
    [["--epochs", "0"], /--epochs must be a number > 0/],
    [["--num_train_epochs", "-1"], /--epochs must be a number > 0/],
    [["--max-steps", "0"], /--max-steps must be a whole number of steps of 1 or more, or -1 \(off\)/],
    [["--max-steps", "2.5"], /--max-steps must be/],
    [["--adam-beta1", "1"], /--adam-beta1 must be a number >= 0 and < 1/],
    [["--adam-epsilon", "-1e-8"], /--adam-epsilon must be a number >= 0/],
    [["--max-train-samples", "0"], /--max-train-samples must be a whole number of 1 or more/],
    [["--max_eval_samples", "x"], /--max-eval-samples must be/],
    [["--eval_strategy", "often"], /--eval_strategy must be one of no, steps, epoch/],
    [["--eval-steps", "0"], /--eval-steps must be a whole number of steps of 1 or more/],
    [["--lr_scheduler_type", "cosine_with_restarts"], /--lr-scheduler must be one of linear, cosine, constant, constant_with_warmup, polynomial/],
    [["--batch-size", "0"], /--batch-size must be a whole number of 1 or more/],
    [["--eval-batch-size", "-1"], /--eval-batch-size must be/],
    [["--max-length", "0"], /--max-length must be a whole number of 2 or more/],
    [["--logging-steps", "0"], /--logging-steps must be a whole number of 1 or more/],
    [["--learning-rate", "-1e-5"], /--learning-rate must be a number > 0/],
    [["--learning-rate", "0"], /--learning-rate must be a number > 0/],
    [["--max-grad-norm", "-1"], /--max-grad-norm must be a number >= 0/],
    [["--weight-decay", "-0.1"], /--weight-decay must be a number >= 0/],
    [["--warmup-ratio", "1"], /--warmup-ratio must be a number >= 0 and < 1/],
    [["--warmup-steps", "-1"], /--warmup-steps must be a whole number \(0 or more\)/],
    [["--gradient-accumulation-steps", "0"], /--gradient-accumulation-steps must be/],
    [["--save-total-limit", "-1"], /--save-total-limit must be/],
    [["--validation-ratio", "1.5"], /--validation-ratio must be a number > 0 and < 1/],
    [["--threads", "0"], /--threads must be/],
    [["--seed", "x"], /--seed must be a whole number/],
  ])("train %j: one line and a hint, exit code 2", async (extra, message) => {
    const r = await train(...extra);
    expectOneLineError(r, message, /^hint: .*--|^hint: a length/);
    expect(r.stderr).not.toMatch(/numTrainEpochs|perDevice|maxLength|loggingSteps/);
    expect(r.stderr).not.toContain("/no/such/data.csv");
  });

  it("encode and report check theirs too", async () => {
    expectOneLineError(await runCli(["encode", "--model", TINY_MODEL, "--max-length", "0", "x"]), /--max-length must be/);
    expectOneLineError(await runCli(["report", "/no/such/run", "--examples", "-3"]), /--examples must be/);
  });

  it("still accepts the documented values (0 turns clipping off, steps are whole numbers)", async () => {
    // Past the value checks, the missing data set is the error.
    for (const extra of [["--max-grad-norm", "0"], ["--eval-every", "no"], ["--save-steps", "10"], ["--warmup-ratio", "0"], ["--learning-rate", "2e-5"], ["--epochs", "1.5"], ["--max_steps", "-1"], ["--save_strategy", "steps"]]) {
      const r = await train(...extra);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain("/no/such/data.csv");
    }
  });
});

describe("a reader that closes stdout early ends the command quietly", () => {
  const work = tempDir("bertune-robust-");
  const env = { BERTUNE_CACHE: join(work, "cache"), HF_HOME: join(work, "hf") };
  const run = join(work, "run");
  const texts = join(work, "texts.txt");

  beforeAll(async () => {
    const data = sst2Subset(join(work, "data"), 64, 16);
    const t = await runCli(["train", "--model", TINY_MODEL, "--dataset", data, "--freeze-backbone", "--output", run, "--epochs", "1", "-q"], env);
    expect(t.code, t.stderr).toBe(0);
    // Far more output than a pipe holds, so writes go on after the reader has gone.
    writeFileSync(texts, Array.from({ length: 6000 }, (_, k) => `a gripping, beautifully acted film number ${k}`).join("\n") + "\n");
  });

  it("predict --file | head -1: exit 0, nothing on stderr", async () => {
    const r = await runCliClosingStdout(["predict", run, "--file", texts], env);
    expect(r.stdout).toMatch(/^LABEL_\d\t/);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  it("encode | head -1: exit 0, nothing on stderr", async () => {
    const many = Array.from({ length: 400 }, (_, k) => `text ${k}`);
    const r = await runCliClosingStdout(["encode", "--model", TINY_MODEL, ...many], env);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  it("push --dry-run into a pipe closed before it writes: exit 0, nothing on stderr", async () => {
    const r = await runCliClosingStdout(["push", run, "--repo", "alice/x", "--dry-run"], env, "start");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  it("predict into a pipe closed before it writes: exit 0, nothing on stderr", async () => {
    const r = await runCliClosingStdout(["predict", run, "one", "two"], env, "start");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });
});

/** Start the CLI in the background (a training to race against). */
function startCli(args: string[], env: Record<string, string>): { child: ChildProcess; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [join(ROOT, "dist/cli/main.js"), ...args], { cwd: ROOT, env: { ...process.env, HF_HUB_OFFLINE: "", HF_TOKEN: "", ...env } });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d) => (stdout += d));
  child.stderr!.on("data", (d) => (stderr += d));
  const done = new Promise<CliResult>((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
  return { child, done };
}

async function until(what: string, test: () => boolean, ms = 60_000): Promise<void> {
  const start = Date.now();
  while (!test()) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A pid that surely names no process now: a child that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
  return Number(r.stdout);
}

describe("one training per --output folder", () => {
  const work = tempDir("bertune-robust-");
  const env = { BERTUNE_CACHE: join(work, "cache"), HF_HOME: join(work, "hf") };
  const data = sst2Subset(join(work, "data"), 240, 16);
  const full = (out: string, ...extra: string[]) => ["train", "--model", TINY_MODEL, "--dataset", data, "--output", out, "--epochs", "2", "--batch-size", "8", "--max-length", "32", "--save-steps", "5", "-q", ...extra];
  const frozen = (out: string, ...extra: string[]) => ["train", "--model", TINY_MODEL, "--dataset", data, "--output", out, "--freeze-backbone", "--epochs", "1", "-q", ...extra];

  it("a second training into a folder that a live run holds is refused, naming that run; the first finishes untouched", async () => {
    const out = join(work, "shared-out");
    const first = startCli(full(out), env);
    // Its lock (or, with no lock, its first checkpoint): the first run is under way.
    await until("the first run to start", () => existsSync(join(out, RUN_LOCK_FILE)) || (existsSync(out) && readdirSync(out).some((f) => f.startsWith("checkpoint-"))));
    const second = await runCli(frozen(out), env);
    expectOneLineError(second, new RegExp(`is in use by another training: process ${first.child.pid} on ${hostname()}, started \\d{4}-\\d\\d-\\d\\dT`), /another --output/);
    const a = await first.done;
    expect(a.stderr).toBe("");
    expect(a.code).toBe(0);
    // The first run's results are its own: a full run (encoder weights and tokenizer), all its steps.
    expect(JSON.parse(readFileSync(join(out, "config.json"), "utf8")).bertune_mode).toBe("full");
    expect(JSON.parse(readFileSync(join(out, "trainer_state.json"), "utf8")).global_step).toBe(60);
    expect(existsSync(join(out, RUN_LOCK_FILE))).toBe(false);
  });

  it("a stale lock (its process is gone, or the pid is now another process) is taken over", async () => {
    for (const [name, owner] of [
      ["dead", { pid: deadPid(), host: hostname(), started: "2020-01-01T00:00:00.000Z", nonce: "x" }],
      ["reused", { pid: process.pid, host: hostname(), started: "2020-01-01T00:00:00.000Z", pid_start: "1", nonce: "y" }],
    ] as const) {
      const out = join(work, `stale-${name}`);
      mkdirSync(out);
      writeFileSync(join(out, RUN_LOCK_FILE), JSON.stringify(owner));
      const r = await runCli(frozen(out), env);
      expect(r.stderr, name).toBe("");
      expect(r.code, name).toBe(0);
      expect(readdirSync(out).filter((f) => f.startsWith(".bertune"))).toEqual([]);
      expect(existsSync(join(out, "model.safetensors"))).toBe(true);
    }
  });

  it("the lock goes when the run ends by SIGTERM, and a folder made only for it goes too", async () => {
    const out = join(work, "terminated");
    const run = startCli(full(out), env);
    await until("a checkpoint", () => existsSync(out) && readdirSync(out).some((f) => /^checkpoint-\d+$/.test(f)));
    run.child.kill("SIGTERM");
    await run.done;
    expect(existsSync(join(out, RUN_LOCK_FILE))).toBe(false);
    const failed = join(work, "never-made");
    const r = await runCli(["train", "--model", TINY_MODEL, "--dataset", "/no/such/data.csv", "--output", failed], env);
    expect(r.code).toBe(2);
    expect(existsSync(failed)).toBe(false);
  });
});

describe("an --output that holds files", () => {
  const work = tempDir("bertune-robust-");
  const env = { BERTUNE_CACHE: join(work, "cache"), HF_HOME: join(work, "hf") };
  const data = sst2Subset(join(work, "data"), 64, 16);
  const frozen = (out: string, ...extra: string[]) => ["train", "--model", TINY_MODEL, "--dataset", data, "--output", out, "--freeze-backbone", "--epochs", "1", "-q", ...extra];
  const old = (out: string) => {
    mkdirSync(join(out, "checkpoint-10"), { recursive: true });
    writeFileSync(join(out, "checkpoint-10", "trainer_state.json"), "{}");
    writeFileSync(join(out, "tokenizer.json"), "{}");
    writeFileSync(join(out, "notes.txt"), "mine");
    return out;
  };

  it("is refused without --overwrite-output-dir or --resume-from-checkpoint, and left as it was", async () => {
    const out = old(join(work, "refused"));
    const r = await runCli(frozen(out), env);
    expectOneLineError(r, /the output folder .*refused is not empty \(checkpoint-10, notes\.txt, tokenizer\.json\)/, /--overwrite-output-dir/);
    expect(readdirSync(out).sort()).toEqual(["checkpoint-10", "notes.txt", "tokenizer.json"]);
  });

  it("--overwrite-output-dir empties it first: only the new run's files remain", async () => {
    const out = old(join(work, "overwritten"));
    const r = await runCli(frozen(out, "--overwrite-output-dir"), env);
    expect(r.code, r.stderr).toBe(0);
    const files = readdirSync(out).sort();
    expect(files).toContain("model.safetensors");
    for (const gone of ["checkpoint-10", "notes.txt", "tokenizer.json", RUN_LOCK_FILE]) expect(files).not.toContain(gone);
    // An empty folder needs no flag.
    const empty = join(work, "empty");
    mkdirSync(empty);
    expect((await runCli(frozen(empty), env)).code).toBe(0);
  });

  it("refuses to empty a folder the run reads from, or to overwrite and resume at once", async () => {
    const out = old(join(work, "holds-data"));
    const inner = sst2Subset(join(out, "data"), 64, 16);
    const r = await runCli(["train", "--model", TINY_MODEL, "--dataset", inner, "--output", out, "--freeze-backbone", "--overwrite-output-dir", "-q"], env);
    expectOneLineError(r, /refuses to empty .*holds-data: the run reads .*holds-data\/data from inside it/);
    expect(existsSync(join(inner, "train.tsv"))).toBe(true);
    const both = await runCli(frozen(old(join(work, "both")), "--overwrite-output-dir", "--resume-from-checkpoint", "latest"), env);
    expectOneLineError(both, /--overwrite-output-dir would delete the checkpoint/);
  });

  it("--help says that overwriting deletes everything in the folder", async () => {
    const r = await runCli(["train", "--help"]);
    expect(r.stdout.replace(/\s+/g, " ")).toMatch(/--overwrite-output-dir .*delete EVERY file and folder in it/);
  });
});

describe("smaller promises", () => {
  const work = tempDir("bertune-robust-");
  // No Hub: anything that tried the network would fail on this closed port.
  const env = { BERTUNE_CACHE: join(work, "cache"), HF_HOME: join(work, "hf"), HF_ENDPOINT: "http://127.0.0.1:9" };
  const data = sst2Subset(join(work, "data"), 64, 16);
  const run = join(work, "run");

  beforeAll(async () => {
    const t = await runCli(["train", "--model", TINY_MODEL, "--dataset", data, "--output", run, "--strategy", "auto", "--epochs", "1", "-q"], env);
    expect(t.code, t.stderr).toBe(0);
  });

  it("--strategy auto's decision is recorded in training_args.json", () => {
    const args = JSON.parse(readFileSync(join(run, "training_args.json"), "utf8"));
    expect(args.strategy).toBe("auto");
    expect(args.strategy_decision).toMatch(/^64 training examples \(< 1,000\): feature extraction/);
    expect(args.freeze_backbone).toBe(true);
  });

  it("predict --file gives one output per input line, an empty line being an empty text", async () => {
    const file = join(work, "texts.txt");
    writeFileSync(file, "a fine film\n\n   \ndull\r\n\nthe end\n");
    const r = await runCli(["predict", run, "--file", file, "--json"], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trimEnd().split("\n").map((l) => JSON.parse(l).text)).toEqual(["a fine film", "", "", "dull", "", "the end"]);
  });

  it("a mistyped local folder is said not to exist, without asking the Hub", async () => {
    const typo = await runCli(["train", "--model", "models/bert-randon-tiny", "--dataset", data, "--freeze-backbone", "--output", join(work, "typo"), "-q"], env);
    expectOneLineError(typo, /^error: no such model directory: .*\/models\/bert-randon-tiny$/, /has no folder bert-randon-tiny/);
    const offline = await runCli(["encode", "--model", "bert-randon-tiny", "x"], { ...env, HF_HUB_OFFLINE: "1" });
    expect(offline.code).toBe(2);
    expect(offline.stderr).toMatch(/there is no model folder .*bert-randon-tiny either/);
  });

  it("the train summary says 'top 1 layer'", async () => {
    const r = await runCli(["train", "--model", TINY_MODEL, "--dataset", data, "--output", join(work, "top1"), "--unfreeze-top", "1", "--epochs", "1", "--max-length", "32", "-q"], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/full fine-tuning, top 1 layer\)/);
  });

  it("npm run demo says its weights are random, prints the evaluation once, and runs again", () => {
    const script = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).scripts.demo as string;
    const out = join(work, "demo");
    const cmd = script.replaceAll("runs/demo", out);
    const runDemo = () => spawnSync("sh", ["-c", cmd], { cwd: ROOT, env: { ...process.env, ...env }, encoding: "utf8" });
    const first = runDemo();
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/random weights/);
    expect(first.stdout.match(/confusion matrix/g)).toHaveLength(1);
    expect(first.stdout.trimEnd().split("\n").slice(-2).map((l) => l.split("\t")[3])).toEqual(["a gripping, beautifully acted film", "the plot is thin and the jokes fall flat"]);
    expect(runDemo().status).toBe(0); // into its own folder again
  });
});
