import { InvalidArgumentError, type Command } from "commander";
import { isBertuneError } from "../errors.js";
import { Progress } from "./progress.js";
import type { ProgressFactory } from "../util/progress.js";

/** Options shared by every command that loads a model. */
export interface ModelCliOptions {
  revision?: string;
  offline?: boolean;
  threads?: number;
  device: "auto" | "wasm" | "cpu";
  quiet?: boolean;
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
    .option("--device <device>", "tensorflow.js backend: auto, wasm (CPU) or cpu (slow fallback)", choiceArg("--device", ["auto", "wasm", "cpu"] as const), "auto")
    .option("-q, --quiet", "no progress bars or log lines", false);
}

export function progressFactory(quiet: boolean | undefined): ProgressFactory {
  return (label, total, unit) => new Progress({ label, total, unit, quiet });
}

export function logger(quiet: boolean | undefined): (line: string) => void {
  return quiet ? () => {} : (line) => process.stderr.write(`${line}\n`);
}

/** Run a command body: user errors become one plain line (plus a hint) and exit code 2. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (e) {
      if (isBertuneError(e)) {
        process.stderr.write(`error: ${e.message}\n`);
        if (e.hint) process.stderr.write(`hint: ${e.hint}\n`);
        process.exitCode = 2;
        return;
      }
      throw e;
    }
  };
}

/** A two-column key/value block for end-of-run summaries. */
export function formatSummary(title: string, rows: [string, string | number][]): string {
  const width = Math.max(...rows.map(([k]) => k.length));
  return [title, ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`)].join("\n") + "\n";
}
