import { InvalidArgumentError, Option, type Command } from "commander";
import { isBertuneError } from "../errors.js";
import { curvesFromLogHistory, epochSummaries } from "../report/history.js";
import { dropLiveBar, Progress, writeLine } from "./progress.js";
import { DEVICES, type Device } from "../backend/tfjs.js";
import type { ProgressFactory } from "../util/progress.js";
import { colors } from "./output.js";

export { colorEnabled, colors, styleUsageError, type Colors } from "./output.js";

/** Options shared by every command that loads a model. */
export interface ModelCliOptions {
  revision?: string;
  offline?: boolean;
  threads?: number;
  device: Device;
  quiet?: boolean;
  verbose?: boolean;
}

/**
 * A bad option value. Commander prints it as one line, `error: option '--epochs <n>' argument '0' is
 * invalid. <message>`, followed here by a `hint: ...` line, and the CLI exits with code 2 (no stack).
 * Every check runs while the arguments are parsed, before anything loads.
 */
export function invalidArg(message: string, hint: string): InvalidArgumentError {
  return new InvalidArgumentError(`${message}\nhint: ${hint}`);
}

/** "e.g. --epochs 3" for hints, when an example value is known. */
const example = (name: string, eg: string | number | undefined, fallback: string) => (eg === undefined ? fallback : `for example ${name} ${eg}`);

/** A whole number, at least `min` when given (a safe integer: no 1e300). */
export function intArg(name: string, o: { min?: number; example?: number; hint?: string } = {}) {
  return (value: string): number => {
    const n = value.trim() === "" ? NaN : Number(value);
    const bound = o.min === undefined ? "" : o.min === 0 ? " (0 or more)" : ` of ${o.min} or more`;
    const hint = o.hint ?? example(name, o.example, `give a whole number${bound}`);
    if (!Number.isSafeInteger(n)) throw invalidArg(`${name} must be a whole number${bound}.`, hint);
    if (o.min !== undefined && n < o.min) throw invalidArg(`${name} must be a whole number${bound}.`, hint);
    return n;
  };
}

/** A whole number >= 1 (epochs, batch sizes, steps, lengths). */
export function positiveIntArg(name: string, eg?: number, hint?: string) {
  return intArg(name, { min: 1, example: eg, hint });
}

/** A whole number >= 0. */
export function nonNegativeIntArg(name: string, eg?: number, hint?: string) {
  return intArg(name, { min: 0, example: eg, hint });
}

/**
 * A finite number, optionally within bounds: `min`/`max` inclusive unless `minExclusive`/`maxExclusive`.
 */
export function numberArg(
  name: string,
  o: { min?: number; max?: number; minExclusive?: boolean; maxExclusive?: boolean; example?: number | string; hint?: string } = {},
) {
  const parts: string[] = [];
  if (o.min !== undefined) parts.push(o.minExclusive ? `> ${o.min}` : `>= ${o.min}`);
  if (o.max !== undefined) parts.push(o.maxExclusive ? `< ${o.max}` : `<= ${o.max}`);
  const bound = parts.length ? ` ${parts.join(" and ")}` : "";
  return (value: string): number => {
    const n = value.trim() === "" ? NaN : Number(value);
    const hint = o.hint ?? example(name, o.example, `give a number${bound}`);
    if (!Number.isFinite(n)) throw invalidArg(`${name} must be a number${bound}.`, hint);
    const low = o.min !== undefined && (o.minExclusive ? !(n > o.min) : !(n >= o.min));
    const high = o.max !== undefined && (o.maxExclusive ? !(n < o.max) : !(n <= o.max));
    if (low || high) throw invalidArg(`${name} must be a number${bound}.`, hint);
    return n;
  };
}

/** A number > 0 (learning rates, multipliers). */
export function positiveNumberArg(name: string, eg?: number | string, hint?: string) {
  return numberArg(name, { min: 0, minExclusive: true, example: eg, hint });
}

/** A number >= 0 (weight decay, gradient-norm clipping where 0 turns it off). */
export function nonNegativeNumberArg(name: string, eg?: number | string, hint?: string) {
  return numberArg(name, { min: 0, example: eg, hint });
}

/** One of `words` ("epoch", "no") or a whole number of steps >= 1. */
export function stepsOrWordArg<W extends string>(name: string, words: readonly W[]) {
  const listed = words.map((w) => `"${w}"`).join(", ");
  return (value: string): W | number => {
    if ((words as readonly string[]).includes(value)) return value as W;
    const n = value.trim() === "" ? NaN : Number(value);
    if (Number.isSafeInteger(n) && n > 0) return n;
    throw invalidArg(`${name} must be ${listed} or a whole number of steps of 1 or more.`, `for example ${name} ${words[0]} or ${name} 500`);
  };
}

export function choiceArg<T extends string>(name: string, choices: readonly T[]) {
  return (value: string): T => {
    if (!(choices as readonly string[]).includes(value)) throw invalidArg(`${name} must be one of ${choices.join(", ")}.`, `for example ${name} ${choices[0]}`);
    return value as T;
  };
}

/** A multi-label threshold: a probability strictly between 0 and 1 (train, evaluate and predict share it). */
export const thresholdArg = numberArg("--threshold", { min: 0, max: 1, minExclusive: true, maxExclusive: true, example: 0.5 });

/** A comma-separated list of column names, blanks dropped (--label-columns a,b,c). */
export function columnListArg(value: string): string[] {
  return value.split(",").map((c) => c.trim()).filter((c) => c !== "");
}

/** true/false (also 1/0, yes/no), as transformers' HfArgumentParser reads a bool. */
export function booleanArg(name: string) {
  return (value: string): boolean => {
    const v = value.trim().toLowerCase();
    if (["true", "1", "yes"].includes(v)) return true;
    if (["false", "0", "no"].includes(v)) return false;
    throw invalidArg(`${name} must be true or false, got "${value}".`, `for example ${name} false`);
  };
}

export function addModelOptions(cmd: Command): Command {
  return cmd
    .option("--revision <rev>", "branch, tag or commit of the model on the Hub", undefined)
    .option("--offline", "use only the local Hugging Face cache (same as HF_HUB_OFFLINE=1)", false)
    .option("--threads <n>", "CPU threads for the ONNX encoder (default: all cores)", positiveIntArg("--threads", 4))
    .option(
      "--device <device>",
      "tensorflow.js backend: auto (GPU if any, else CPU), wasm (CPU), webgpu (GPU via Dawn), tensorflow (@tensorflow/tfjs-node[-gpu], if installed), cpu (slow fallback)",
      choiceArg("--device", DEVICES),
      "auto",
    )
    .addOption(new Option("-q, --quiet", "no progress bars or log lines").default(false).conflicts("verbose"))
    .addOption(new Option("-v, --verbose", "more log lines: per-epoch details, file and cache paths").default(false));
}

export function progressFactory(quiet: boolean | undefined): ProgressFactory {
  return (label, total, unit) => new Progress({ label, total, unit, quiet });
}

export function logger(quiet: boolean | undefined): (line: string) => void {
  return quiet ? () => {} : (line) => writeLine(line);
}

/** Log lines shown only with --verbose (and never with --quiet or --json, which keep stderr quiet). */
export function verboseLogger(o: { quiet?: boolean; verbose?: boolean; json?: boolean }): (line: string) => void {
  return o.verbose && !o.quiet && !o.json ? (line) => writeLine(colors(process.stderr).dim(line)) : () => {};
}

/** A warning on stderr (yellow on a terminal), unless quiet. */
export function warn(quiet: boolean | undefined, line: string): void {
  if (!quiet) writeLine(colors(process.stderr).yellow(`warning: ${line}`));
}

/** Run a command body: user errors become one plain line (plus a hint) and exit code 2. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (e) {
      if (isBertuneError(e)) {
        const c = colors(process.stderr);
        dropLiveBar();
        writeLine(`${c.red(c.bold("error:"))} ${e.message}`);
        if (e.hint) writeLine(c.dim(`hint: ${e.hint}`));
        process.exitCode = 2;
        return;
      }
      throw e;
    }
  };
}

/** A two-column key/value block for end-of-run summaries (the title green on a terminal). */
export function formatSummary(title: string, rows: [string, string | number][]): string {
  const width = Math.max(...rows.map(([k]) => k.length));
  return [colors(process.stdout).green(title), ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`)].join("\n") + "\n";
}

/** "model file config.json: /path/to/config.json" lines, for --verbose. */
export function fileLines(what: string, files: Record<string, string>): string[] {
  return Object.entries(files).map(([name, path]) => `${what} ${name}: ${path}`);
}

/** One line per epoch from trainer_state's log_history, for --verbose. */
export function epochDetails(logHistory: unknown): string[] {
  const f = (v: number | undefined) => (v === undefined ? "-" : v.toFixed(4));
  const curves = curvesFromLogHistory(logHistory);
  return epochSummaries(curves).map((e) => {
    const lr = curves.learningRate.filter((l) => l.step <= e.lastStep).pop()?.value;
    return `epoch ${e.epoch} (to step ${e.lastStep}): train_loss ${f(e.trainLoss)}  eval_loss ${f(e.evalLoss)}  eval_accuracy ${f(e.evalAccuracy)}  eval_macro_f1 ${f(e.evalMacroF1)}  learning_rate ${lr === undefined ? "-" : lr.toExponential(3)}`;
  });
}
