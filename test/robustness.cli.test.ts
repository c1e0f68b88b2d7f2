/**
 * Promises kept under interruption, concurrency and bad input, through the built CLI as a user
 * runs it (real processes, real pipes): option values checked before anything loads, a closed
 * stdout, two trainings into one folder, an old run folder, `predict --file` line for line.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { runCli, runCliClosingStdout, type CliResult } from "./helpers/cli.js";
import { TINY_MODEL, sst2Subset, tempDir } from "./helpers/fixtures.js";

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
    [["--epochs", "0"], /--epochs must be a whole number of 1 or more/],
    [["--epochs", "1.5"], /--epochs must be a whole number/],
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
    [["--save-total-limit", "0"], /--save-total-limit must be/],
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
    for (const extra of [["--max-grad-norm", "0"], ["--eval-every", "no"], ["--save-steps", "10"], ["--warmup-ratio", "0"], ["--learning-rate", "2e-5"]]) {
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
