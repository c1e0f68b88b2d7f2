/**
 * What the command line feels like: no ANSI codes unless a terminal (or FORCE_COLOR) asks for
 * them and never with NO_COLOR, --quiet keeps stderr empty, --verbose adds detail, --json
 * prints parseable JSON, every command's --help ends with examples.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { colorEnabled, colors } from "../src/cli/common.js";
import { runCli } from "./helpers/cli.js";
import { DATASETS, ROOT, TINY_MODEL, tempDir } from "./helpers/fixtures.js";

const ANSI = /\x1b\[/;
/** The child's environment with no colour preference at all (vitest itself may set FORCE_COLOR). */
const NO_PREFERENCE = { FORCE_COLOR: undefined, NO_COLOR: undefined } as unknown as Record<string, string>;

describe("colour decisions", () => {
  it("colours a terminal only, never with NO_COLOR, and anywhere with FORCE_COLOR", () => {
    const tty = { isTTY: true };
    const pipe = { isTTY: false };
    expect(colorEnabled(tty, {})).toBe(true);
    expect(colorEnabled(pipe, {})).toBe(false);
    expect(colorEnabled({}, {})).toBe(false);
    expect(colorEnabled(tty, { NO_COLOR: "1" })).toBe(false);
    expect(colorEnabled(tty, { NO_COLOR: "" })).toBe(true); // no-color.org: only a non-empty value counts
    expect(colorEnabled(tty, { TERM: "dumb" })).toBe(false);
    expect(colorEnabled(pipe, { FORCE_COLOR: "1" })).toBe(true);
    expect(colorEnabled(pipe, { FORCE_COLOR: "0" })).toBe(false);
    expect(colorEnabled(tty, { FORCE_COLOR: "1", NO_COLOR: "1" })).toBe(false); // NO_COLOR wins
    expect(colors(pipe, {}).red("x")).toBe("x");
    expect(colors(tty, {}).red("x")).toBe("\x1b[31mx\x1b[39m");
    expect(colors(tty, {}).dim("x")).toBe("\x1b[2mx\x1b[22m");
  });
});

describe("the CLI's output", () => {
  const work = tempDir("bertune-ux-");
  const env = { ...NO_PREFERENCE, BERTUNE_CACHE: join(work, "cache"), HF_HOME: join(work, "hf") };
  const data = join(work, "data");
  const run = join(work, "run");
  const trainArgs = (out: string) => ["train", "--model", TINY_MODEL, "--dataset", data, "--freeze-backbone", "--epochs", "2", "--logging-steps", "4", "--output", out];
  let plain: Awaited<ReturnType<typeof runCli>>;

  beforeAll(async () => {
    mkdirSync(data);
    const take = (f: string, n: number) => readFileSync(join(DATASETS, "sst2", f), "utf8").split("\n").slice(0, n + 1).join("\n") + "\n";
    writeFileSync(join(data, "train.tsv"), take("train.tsv", 48));
    writeFileSync(join(data, "dev.tsv"), take("dev.tsv", 16));
    plain = await runCli(trainArgs(run), env);
  });

  it("has no ANSI codes when stdout and stderr are not terminals", async () => {
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stderr).toMatch(/training 100%/); // progress went to stderr, as plain lines
    const outputs = [
      plain,
      await runCli(["evaluate", run], env),
      await runCli(["predict", run, "a fine film"], env),
      await runCli(["report", run, "--out", join(work, "r.html")], env),
      await runCli(["evaluate", "/no/such/run"], env),
      await runCli(["train", "--help"], env),
    ];
    for (const r of outputs) {
      expect(r.stdout).not.toMatch(ANSI);
      expect(r.stderr).not.toMatch(ANSI);
      expect(r.stderr).not.toContain("\r");
    }
    expect(outputs[4].stderr).toBe("error: no run folder at /no/such/run\nhint: give the folder passed to `bertune train --output`\n");
  });

  it("colours errors (red) and hints (dim) with FORCE_COLOR, and never with NO_COLOR", async () => {
    const forced = await runCli(["evaluate", "/no/such/run"], { ...env, FORCE_COLOR: "1" });
    expect(forced.code).toBe(2);
    expect(forced.stderr).toContain("\x1b[31m\x1b[1merror:\x1b[22m\x1b[39m no run folder");
    expect(forced.stderr).toContain("\x1b[2mhint: ");
    const off = await runCli(["evaluate", "/no/such/run"], { ...env, FORCE_COLOR: "1", NO_COLOR: "1" });
    expect(off.stderr).not.toMatch(ANSI);
  });

  it.skipIf(!existsSync("/usr/bin/script"))("colours errors on a real terminal (a pseudo-terminal from script(1))", () => {
    const cli = join(ROOT, "dist/cli/main.js");
    const shell = (extra: Record<string, string | undefined>) =>
      spawnSync("/usr/bin/script", ["-qec", `"${process.execPath}" "${cli}" evaluate /no/such/run`, "/dev/null"], { encoding: "utf8", env: { ...process.env, FORCE_COLOR: undefined, NO_COLOR: undefined, TERM: "xterm", ...extra } });
    const tty = shell({});
    expect(tty.stdout).toContain("\x1b[31m");
    expect(tty.stdout).toContain("no run folder");
    expect(shell({ NO_COLOR: "1" }).stdout).not.toMatch(ANSI);
  });

  it("--quiet prints nothing on stderr for a successful train (and evaluate, predict, report)", async () => {
    const q = await runCli([...trainArgs(join(work, "quiet-run")), "--quiet"], env);
    expect(q.code).toBe(0);
    expect(q.stderr).toBe("");
    expect(q.stdout).toMatch(/eval accuracy/);
    for (const args of [["evaluate", run, "-q"], ["predict", run, "good", "-q"], ["report", run, "-q", "--out", join(work, "q.html")]]) {
      const r = await runCli(args, env);
      expect(r.code, args.join(" ")).toBe(0);
      expect(r.stderr, args.join(" ")).toBe("");
    }
  });

  it("--verbose adds per-epoch details and file and cache paths; --quiet with --verbose is refused", async () => {
    const v = await runCli([...trainArgs(join(work, "verbose-run")), "--verbose"], env);
    expect(v.code).toBe(0);
    expect(v.stderr).toContain(`feature cache ${join(work, "cache", "features")}`);
    expect(v.stderr).toContain(`model file config.json: ${join(TINY_MODEL, "config.json")}`);
    expect(v.stderr).toMatch(/^epoch 1 \(to step 6\): train_loss 0\.\d{4} {2}eval_loss 0\.\d{4} {2}eval_accuracy 0\.\d{4} {2}eval_macro_f1 0\.\d{4} {2}learning_rate \S+$/m);
    expect(v.stderr).toMatch(/^epoch 2 \(to step 12\)/m);
    expect(plain.stderr).not.toContain("model file");
    const e = await runCli(["evaluate", run, "-v"], env);
    expect(e.stderr).toContain(`run ${run}; data source ${data}`);
    const both = await runCli(["evaluate", run, "-q", "-v"], env);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--quiet.*cannot be used with.*--verbose/);
  });

  it("--json prints parseable JSON on stdout for train, evaluate, predict and report", async () => {
    const t = await runCli([...trainArgs(join(work, "json-run")), "--json"], env);
    expect(t.stderr).toBe(""); // --json keeps stderr clean too
    expect(JSON.parse(t.stdout)).toMatchObject({ output: join(work, "json-run"), global_step: 12 });
    const e = await runCli(["evaluate", run, "--json"], env);
    expect(JSON.parse(e.stdout).eval_samples).toBe(16);
    const p = await runCli(["predict", run, "good", "bad", "--json"], env);
    expect(p.stdout.trim().split("\n").map((l) => JSON.parse(l).text)).toEqual(["good", "bad"]);
    const r = await runCli(["report", run, "--json", "--no-examples", "--out", join(work, "j.html")], env);
    expect(JSON.parse(r.stdout)).toEqual({ html: join(work, "j.html"), png: [], examples: expect.objectContaining({ included: false, reason: expect.stringContaining("--no-examples") }) });
  });

  it("every command's --help ends with examples", async () => {
    for (const command of ["train", "evaluate", "predict", "report"]) {
      const r = await runCli([command, "--help"], env);
      expect(r.code).toBe(0);
      expect(r.stdout, command).toMatch(new RegExp(`\\nExamples:\\n(  \\$ .*bertune ${command} .*\\n)+$`));
    }
    const top = await runCli(["--help"], env);
    expect(top.stdout).toMatch(/Typical use:\n\s+\$ bertune train/);
    expect(top.stdout).toMatch(/report \[options\] <runs\.\.\.>/);
  });
});
