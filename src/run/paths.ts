/**
 * Local paths in a run folder's files are written relative to the run ("./data", "../models/bert"),
 * so that a moved, copied or pushed run never carries (or depends on) an absolute path of the
 * machine it was trained on. Values that are no local path (Hub ids, built-in names) pass through.
 */
import { existsSync } from "node:fs";
import { isAbsolute, relative, resolve, sep } from "node:path";

/** `path` (an existing local path) relative to the run folder, always starting with "./" or "../". */
export function toRunRelative(runDir: string, path: string): string {
  const rel = relative(resolve(runDir), resolve(path)).split(sep).join("/");
  if (rel === "") return ".";
  return rel.startsWith("../") || rel === ".." ? rel : `./${rel}`;
}

/** A value for a run file: run-relative when it names an existing local path, else unchanged. */
export function portablePath(runDir: string, value: string): string {
  return isAbsolute(value) || value.startsWith("./") || value.startsWith("../") || existsSync(value) ? toRunRelative(runDir, value) : value;
}

/** A stored value back as a usable path: "./" and "../" resolve against the run folder (absolute ones, from older runs, stay). */
export function fromRunRelative(runDir: string, value: string): string {
  return value === "." || value.startsWith("./") || value.startsWith("../") ? resolve(runDir, value) : value;
}
