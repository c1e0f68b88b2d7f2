/**
 * A training's --output folder must not mix runs: an old run's checkpoints, tokenizer files or ONNX
 * export would sit beside the new weights as if they belonged to them. A folder that holds anything
 * (but the training lock) is refused unless the run resumes from a checkpoint, or overwrite is asked
 * for: then every entry in it but the lock is removed before training, as a fresh folder.
 */
import { existsSync, readdirSync, realpathSync, rmSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { basename, dirname, isAbsolute, relative, resolve, sep } from "node:path";
import { BertuneError } from "../errors.js";
import { RUN_LOCK_FILE } from "./lock.js";

export interface OutputDirOptions {
  /** Empty the folder first (transformers' overwrite_output_dir). */
  overwrite?: boolean;
  /** The run continues from a checkpoint: the folder is expected to hold the interrupted run. */
  resume?: boolean;
  /** Paths the run reads (data set, model, checkpoint): overwriting a folder that holds one is refused. */
  inputs?: string[];
}

/** The folder's entries that are not the training lock (or a leftover of taking it). */
export function runFolderEntries(dir: string): string[] {
  if (!existsSync(dir)) return [];
  if (!statSync(dir).isDirectory()) {
    throw new BertuneError(`--output ${dir} is a file, not a folder`, "give a new or empty folder for the run");
  }
  return readdirSync(dir).filter((name) => name !== RUN_LOCK_FILE && !name.startsWith(`${RUN_LOCK_FILE}.`));
}

const real = (p: string) => {
  // The nearest existing ancestor's real path, so symlinked folders compare as what they are.
  let at = resolve(p);
  const rest: string[] = [];
  while (!existsSync(at) && dirname(at) !== at) {
    rest.unshift(basename(at));
    at = dirname(at);
  }
  return resolve(realpathSync(at), ...rest);
};

/** Whether `inner` is `outer` or lies inside it. */
function within(outer: string, inner: string): boolean {
  const r = relative(outer, inner);
  return r === "" || (!r.startsWith(`..${sep}`) && r !== ".." && !isAbsolute(r));
}

/**
 * Check a training's output folder before anything is read or written: refused when it holds files
 * and the run neither resumes nor overwrites. Returns what overwriting will remove (clearOutputDir),
 * or [] when nothing is to go. Call it while holding the folder's lock (lockRunFolder).
 */
export function checkOutputDir(dir: string, o: OutputDirOptions = {}): string[] {
  const entries = runFolderEntries(dir);
  if (o.overwrite && o.resume) {
    throw new BertuneError("--overwrite-output-dir would delete the checkpoint that --resume-from-checkpoint continues from", "use one of them");
  }
  if (entries.length === 0 || o.resume) return [];
  if (!o.overwrite) {
    const shown = entries.slice(0, 4).join(", ") + (entries.length > 4 ? `, ... (${entries.length} entries)` : "");
    throw new BertuneError(
      `the output folder ${dir} is not empty (${shown}); a new run there would mix its files with the old ones`,
      "train into a new --output, pass --overwrite-output-dir to empty it first, or --resume-from-checkpoint latest to continue the run in it",
    );
  }
  const target = real(dir);
  const guarded = [
    ["the root folder", resolve(sep)],
    ["your home folder", homedir()],
    ["the current folder or one above it", process.cwd()],
  ] as const;
  for (const [what, p] of guarded) {
    const rp = real(p);
    if (what.startsWith("the current") ? within(target, rp) : rp === target) {
      throw new BertuneError(`--overwrite-output-dir refuses to empty ${dir}: it is ${what}`, "give --output a run folder of its own, such as runs/NAME");
    }
  }
  for (const input of o.inputs ?? []) {
    if (existsSync(input) && within(target, real(input))) {
      throw new BertuneError(`--overwrite-output-dir refuses to empty ${dir}: the run reads ${input} from inside it`, "move the data set or model out of the run folder, or train into another --output");
    }
  }
  return entries;
}

/** Remove the entries checkOutputDir returned (every one but the lock), files and folders alike. */
export function clearOutputDir(dir: string, entries: readonly string[]): void {
  for (const name of entries) {
    if (name.includes("/") || name.includes("\\") || name === ".." || name === ".") throw new Error(`not an entry name: ${name}`);
    rmSync(resolve(dir, name), { recursive: true, force: true });
  }
}
