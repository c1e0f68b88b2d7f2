/**
 * What `push` would upload from a run folder, checked before any request: the run's own files (never anything
 * else the folder may hold) and the generated model card. A run without evaluation results, or whose weights or
 * config changed since training (run_manifest.json), is refused unless forced.
 */
import { existsSync, readFileSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { buildModelCard, type CardInput } from "../card/card.js";
import { parseHubSpec } from "../data/hub-dataset.js";
import { findBuiltin } from "../data/registry.js";
import { BertuneError } from "../errors.js";
import { ONNX_EXPORT, RUN_FILES } from "../run/files.js";
import { runDir } from "../run/load.js";
import { changedSinceTraining, readRunManifest, RUN_MANIFEST } from "../run/manifest.js";

/** Run files pushed when present, besides the weights and config (which must be there). */
export const OPTIONAL_RUN_FILES: readonly string[] = [
  RUN_FILES.trainingArgs,
  RUN_FILES.trainerState,
  RUN_FILES.evalResults,
  RUN_FILES.trainResults,
  // A full run carries its tokenizer, so that from_pretrained(repo) finds everything.
  "tokenizer.json",
  "tokenizer_config.json",
  "vocab.txt",
  "special_tokens_map.json",
  "added_tokens.json",
];

export interface PushPlan {
  /** Absolute run folder. */
  dir: string;
  /** Repo path → local file, in upload order. */
  files: { path: string; local: string }[];
  /** README.md's content. */
  card: string;
  /** Checks skipped with `force`, in words (for the log). */
  forced: string[];
}

function readJson(path: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(path, "utf8"));
  } catch {
    throw new BertuneError(`${path} is not valid JSON`, "the run folder is damaged; train the run again");
  }
  if (!v || typeof v !== "object" || Array.isArray(v)) throw new BertuneError(`${path} does not hold a JSON object`, "the run folder is damaged; train the run again");
  return v as Record<string, unknown>;
}

/** A file only the card's details come from (eval_report.json): missing or unreadable, the card goes without them. */
function optionalJson(path: string): Record<string, unknown> | undefined {
  try {
    return existsSync(path) ? readJson(path) : undefined;
  } catch {
    return undefined;
  }
}

/** The data set of a run as the card names it, from training_args.json's `dataset_spec` and `dataset`. */
export function cardDataset(args: Record<string, unknown> | undefined): CardInput["dataset"] {
  const spec = typeof args?.dataset_spec === "string" ? args.dataset_spec.trim() : undefined;
  const name = typeof args?.dataset === "string" ? args.dataset : undefined;
  if (!spec) return name ? { name } : undefined;
  const hub = spec.startsWith("hub:") ? spec.slice(4) : !isAbsolute(spec) && !spec.startsWith(".") && spec.split("/").length === 2 ? spec : undefined;
  if (hub !== undefined) {
    const ref = parseHubSpec(hub);
    if (ref) {
      const builtin = ref.repo.includes("/") ? undefined : findBuiltin(ref.repo);
      const out: NonNullable<CardInput["dataset"]> = { name: name ?? ref.repo, hubRepo: builtin?.entry.hub.repo ?? ref.repo };
      if (ref.config) out.config = ref.config;
      return out;
    }
  }
  const builtin = !spec.includes("/") ? findBuiltin(spec) : undefined;
  if (builtin) return { name: builtin.name, hubRepo: builtin.entry.hub.repo, ...(builtin.entry.hub.config ? { config: builtin.entry.hub.config } : {}), bundled: true };
  return { name: name ?? "local data" };
}

/** Check the run folder and list what to upload; `repo` is the target id (for the card). */
export function preparePush(dir: string, options: { repo: string; force?: boolean; bertuneVersion: string }): PushPlan {
  const abs = runDir(dir);
  const forced: string[] = [];
  for (const f of [RUN_FILES.config, RUN_FILES.weights]) {
    if (!existsSync(join(abs, f))) throw new BertuneError(`the run folder ${abs} has no ${f}`, "training did not finish: train again");
  }
  const config = readJson(join(abs, RUN_FILES.config));
  if (typeof config.base_model !== "string" || !config.id2label) {
    throw new BertuneError(`${join(abs, RUN_FILES.config)} is not a bertune run config (no base_model or id2label)`, "push a folder written by `bertune train --output`");
  }

  if (!existsSync(join(abs, RUN_FILES.evalResults))) {
    if (!options.force) {
      throw new BertuneError(
        `the run in ${abs} has no ${RUN_FILES.evalResults}: it was never evaluated, so its card would have no results`,
        "train it to the end (training writes eval_results.json), or pass --force to push it anyway",
      );
    }
    forced.push(`no ${RUN_FILES.evalResults}`);
  }

  const manifest = readRunManifest(abs);
  if (!manifest) {
    if (!options.force) {
      throw new BertuneError(
        `the run in ${abs} has no ${RUN_MANIFEST}, so bertune cannot check that its weights are the ones training wrote`,
        "train it again with this version of bertune, or pass --force to push it as it is",
      );
    }
    forced.push(`no ${RUN_MANIFEST}`);
  } else {
    const changed = changedSinceTraining(abs, manifest);
    if (changed.length > 0) {
      if (!options.force) {
        throw new BertuneError(
          `${changed.join(" and ")} in ${abs} changed since training (${RUN_MANIFEST} records other contents)`,
          "train the run again, or pass --force if you changed them on purpose",
        );
      }
      forced.push(`${changed.join(" and ")} changed since training`);
    }
  }

  // The ONNX export goes up only when the manifest records it, i.e. it was written for these weights.
  const exported = Object.values(ONNX_EXPORT).filter((f) => manifest?.files[f]);
  const files = [RUN_FILES.weights, RUN_FILES.config, ...OPTIONAL_RUN_FILES, ...exported]
    .filter((f) => existsSync(join(abs, f)))
    .map((f) => ({ path: f, local: join(abs, f) }));
  const json = (f: string) => (existsSync(join(abs, f)) ? readJson(join(abs, f)) : undefined);
  const trainingArgs = json(RUN_FILES.trainingArgs);
  const card = buildModelCard({
    repo: options.repo,
    config,
    trainingArgs,
    trainerState: json(RUN_FILES.trainerState) as CardInput["trainerState"],
    evalResults: json(RUN_FILES.evalResults),
    evalReport: optionalJson(join(abs, RUN_FILES.evalReport)),
    dataset: cardDataset(trainingArgs),
    files: files.map((f) => f.path),
    bertuneVersion: options.bertuneVersion,
  });
  return { dir: abs, files, card, forced };
}
