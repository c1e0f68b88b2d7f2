import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { randomBytes } from "node:crypto";
import { readSafetensors, tensorToFloat32, writeSafetensors, type SafetensorsFile, type TensorToWrite } from "../formats/safetensors.js";
import { BertuneError } from "../errors.js";
import { writeJsonAtomic } from "../util/atomic.js";
import type { SavedParamState } from "./adamw.js";
import type { TrainerState } from "./state.js";

/** What a checkpoint holds: the model, the optimizer's moments and step counts, and the Trainer's state. */
export interface CheckpointContents {
  weights: Record<string, TensorToWrite>;
  optimizer: Map<string, SavedParamState>;
  state: TrainerState;
  trainingArgs: Record<string, unknown>;
}

export interface LoadedCheckpoint {
  dir: string;
  weights: SafetensorsFile;
  optimizer: Map<string, SavedParamState>;
  state: TrainerState;
}

const PREFIX = "checkpoint-";

/** Folder names as the Hugging Face Trainer uses them: output/checkpoint-<global step>. */
export function checkpointDir(outputDir: string, step: number): string {
  return join(outputDir, `${PREFIX}${step}`);
}

function optimizerTensors(optimizer: Map<string, SavedParamState>): { tensors: Record<string, TensorToWrite>; steps: Record<string, number> } {
  const tensors: Record<string, TensorToWrite> = {};
  const steps: Record<string, number> = {};
  for (const [name, s] of optimizer) {
    tensors[`${name}.exp_avg`] = { dtype: "F32", shape: s.shape, data: s.m };
    tensors[`${name}.exp_avg_sq`] = { dtype: "F32", shape: s.shape, data: s.v };
    steps[name] = s.step;
  }
  return { tensors, steps };
}

/**
 * Write a checkpoint into a temporary folder and rename it into place, so a checkpoint folder
 * either is complete or does not exist — whatever moment the process is killed at.
 */
export function saveCheckpoint(outputDir: string, c: CheckpointContents): string {
  const final = checkpointDir(outputDir, c.state.global_step);
  const tmp = `${final}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  mkdirSync(tmp, { recursive: true });
  try {
    writeSafetensors(join(tmp, "model.safetensors"), c.weights, { format: "pt" });
    const opt = optimizerTensors(c.optimizer);
    writeSafetensors(join(tmp, "optimizer.safetensors"), opt.tensors, { steps: JSON.stringify(opt.steps) });
    writeJsonAtomic(join(tmp, "training_args.json"), c.trainingArgs);
    writeJsonAtomic(join(tmp, "trainer_state.json"), c.state);
    rmSync(final, { recursive: true, force: true });
    renameSync(tmp, final);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  return final;
}

/** Complete checkpoints in a run folder, oldest first. */
export function listCheckpoints(outputDir: string): { dir: string; step: number }[] {
  if (!existsSync(outputDir)) return [];
  return readdirSync(outputDir)
    .map((name) => ({ name, m: /^checkpoint-(\d+)$/.exec(name) }))
    .filter((x) => x.m && existsSync(join(outputDir, x.name, "trainer_state.json")))
    .map((x) => ({ dir: join(outputDir, x.name), step: Number(x.m![1]) }))
    .sort((a, b) => a.step - b.step);
}

/**
 * Delete the oldest checkpoints beyond the limit, never the best one nor the newest (as the
 * Trainer's _rotate_checkpoints: with a limit of 1 and a best checkpoint that is not the newest,
 * both stay, so a run can still resume); also sweep leftovers of killed writes.
 */
export function rotateCheckpoints(outputDir: string, limit: number | null, keep: string | null): void {
  for (const name of existsSync(outputDir) ? readdirSync(outputDir) : []) {
    if (/^checkpoint-\d+\.tmp-/.test(name)) rmSync(join(outputDir, name), { recursive: true, force: true });
  }
  // No limit, or 0 (as transformers' save_total_limit: nothing is rotated away).
  if (limit === null || limit <= 0) return;
  const all = listCheckpoints(outputDir);
  const keepIsNewest = keep !== null && all.length > 0 && resolve(all[all.length - 1].dir) === resolve(keep);
  let excess = all.length - (limit === 1 && keep !== null && !keepIsNewest ? 2 : limit);
  for (const c of all) {
    if (excess <= 0) break;
    if (keep && resolve(c.dir) === resolve(keep)) continue;
    rmSync(c.dir, { recursive: true, force: true });
    excess--;
  }
}

/** "latest" → the newest complete checkpoint of the run folder; a path → that checkpoint. */
export function findCheckpoint(outputDir: string, which: string): string {
  if (which === "latest") {
    const all = listCheckpoints(outputDir);
    if (all.length === 0) throw new BertuneError(`no checkpoint to resume from in ${outputDir}`, "train without --resume-from-checkpoint, or point --output at the interrupted run");
    return all[all.length - 1].dir;
  }
  if (!existsSync(join(which, "trainer_state.json"))) {
    throw new BertuneError(`${which} is not a complete checkpoint (no trainer_state.json)`, `use --resume-from-checkpoint latest, or a ${PREFIX}N folder`);
  }
  return which;
}

export function loadCheckpoint(dir: string): LoadedCheckpoint {
  let state: TrainerState;
  try {
    state = JSON.parse(readFileSync(join(dir, "trainer_state.json"), "utf8")) as TrainerState;
  } catch {
    throw new BertuneError(`the checkpoint ${basename(dir)} has an unreadable trainer_state.json`, "resume from an earlier checkpoint");
  }
  const weights = readSafetensors(join(dir, "model.safetensors"));
  const optFile = readSafetensors(join(dir, "optimizer.safetensors"));
  const steps = JSON.parse(optFile.metadata.steps ?? "{}") as Record<string, number>;
  const optimizer = new Map<string, SavedParamState>();
  for (const [name, step] of Object.entries(steps)) {
    const info = optFile.tensors.get(`${name}.exp_avg`);
    if (!info) continue;
    optimizer.set(name, {
      m: tensorToFloat32(optFile, `${name}.exp_avg`),
      v: tensorToFloat32(optFile, `${name}.exp_avg_sq`),
      shape: info.shape,
      step,
    });
  }
  return { dir, weights, optimizer, state };
}
