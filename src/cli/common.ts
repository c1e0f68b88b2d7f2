import { InvalidArgumentError, Option, type Command } from "commander";
import { isBertuneError } from "../errors.js";
import { curvesFromLogHistory, epochSummaries } from "../report/history.js";
import { Progress } from "./progress.js";
import { DEVICES, type Device } from "../backend/tfjs.js";
import type { ProgressFactory } from "../util/progress.js";

/** Options shared by every command that loads a model. */
export interface ModelCliOptions {
  revision?: string;
  offline?: boolean;
  threads?: number;
  device: Device;
  quiet?: boolean;
  verbose?: boolean;
}

export function intArg(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n)) throw new InvalidArgumentError(`${name} must be a whole number.`);
    return n;
  };
}

export function numberArg(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a number.`);
    return n;
  };
}

export function choiceArg<T extends string>(name: string, choices: readonly T[]) {
  return (value: string): T => {
    if (!(choices as readonly string[]).includes(value)) throw new InvalidArgumentError(`${name} must be one of ${choices.join(", ")}.`);
    return value as T;
  };
}

export function addModelOptions(cmd: Command): Command {
  return cmd
    .option("--revision <rev>", "branch, tag or commit of the model on the Hub", undefined)
    .option("--offline", "use only the local Hugging Face cache (same as HF_HUB_OFFLINE=1)", false)
    .option("--threads <n>", "CPU threads for the ONNX encoder (default: all cores)", intArg("--threads"))
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
  return quiet ? () => {} : (line) => process.stderr.write(`${line}\n`);
}

/** Log lines shown only with --verbose (and never with --quiet or --json, which keep stderr quiet). */
export function verboseLogger(o: { quiet?: boolean; verbose?: boolean; json?: boolean }): (line: string) => void {
  return o.verbose && !o.quiet && !o.json ? (line) => process.stderr.write(`${colors(process.stderr).dim(line)}\n`) : () => {};
}

/**
 * Whether to colour what goes to a stream: only a terminal, and never when NO_COLOR is set to
 * anything (https://no-color.org); FORCE_COLOR (other than "0"/"false") turns it on elsewhere.
 */
export function colorEnabled(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR) return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "0" && env.FORCE_COLOR !== "false") return true;
  return stream.isTTY === true && env.TERM !== "dumb";
}

export interface Colors {
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

const sgr = (open: number, close: number) => (s: string) => `\x1b[${open}m${s}\x1b[${close}m`;
const plain = (s: string) => s;

/** ANSI styles for a stream, or identity functions where colour is off. */
export function colors(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): Colors {
  if (!colorEnabled(stream, env)) return { red: plain, green: plain, yellow: plain, dim: plain, bold: plain };
  return { red: sgr(31, 39), green: sgr(32, 39), yellow: sgr(33, 39), dim: sgr(2, 22), bold: sgr(1, 22) };
}

/** A warning on stderr (yellow on a terminal), unless quiet. */
export function warn(quiet: boolean | undefined, line: string): void {
  if (!quiet) process.stderr.write(`${colors(process.stderr).yellow(`warning: ${line}`)}\n`);
}

/** Run a command body: user errors become one plain line (plus a hint) and exit code 2. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (e) {
      if (isBertuneError(e)) {
        const c = colors(process.stderr);
        process.stderr.write(`${c.red(c.bold("error:"))} ${e.message}\n`);
        if (e.hint) process.stderr.write(`${c.dim(`hint: ${e.hint}`)}\n`);
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
