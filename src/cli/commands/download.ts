import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { Command } from "commander";
import { fetchHubDataset, parseHubSpec } from "../../data/hub-dataset.js";
import { findBuiltin } from "../../data/registry.js";
import { BertuneError } from "../../errors.js";
import { prefetchModel, snapshotDownload, type FileSet } from "../../hub/prefetch.js";
import { FROZEN_EXPORT_FILES, FROZEN_FILES, FULL_FILES } from "../../model.js";
import { action, choiceArg, logger } from "../common.js";

type Mode = "all" | "frozen" | "full";

interface DownloadCliOptions {
  revision?: string;
  mode: Mode;
  repoType: "model" | "dataset";
  localDir?: string;
  token?: string;
  offline?: boolean;
  quiet?: boolean;
}

const SETS: Record<Exclude<Mode, "all"> | "frozenExport", FileSet> = {
  frozen: { name: "frozen", ...FROZEN_FILES },
  full: { name: "full", ...FULL_FILES },
  // A repo without safetensors: the frozen path runs its ONNX export (or its transformers.js mirror's).
  frozenExport: { name: "frozen", ...FROZEN_EXPORT_FILES },
};

/** Copy cached files into a plain folder (the links' targets, not the links). */
function copyInto(dir: string, files: Record<string, string>): void {
  for (const [name, from] of Object.entries(files)) {
    const to = join(dir, ...name.split("/"));
    try {
      mkdirSync(dirname(to), { recursive: true });
      copyFileSync(from, to);
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      throw new BertuneError(`cannot write ${to}${typeof code === "string" ? ` (${code})` : ""}`, "check the --local-dir folder: free space and permissions");
    }
  }
}

async function downloadDataset(spec: string, o: DownloadCliOptions, log: (line: string) => void): Promise<void> {
  const ref = parseHubSpec(spec);
  if (!ref) throw new BertuneError(`"${spec}" is not a Hub data set id`, "write org/name, optionally with :config and @revision");
  const builtin = ref.repo.includes("/") ? undefined : findBuiltin(ref.repo);
  if (builtin) ref.repo = builtin.entry.hub.repo;
  const got = await fetchHubDataset(ref, { revision: o.revision, offline: o.offline || undefined, token: o.token, log });
  const files = Object.fromEntries(got.files.map((f) => [f.repoPath, f.path]));
  const splits = [...new Set(got.files.map((f) => f.split))];
  log(`data set ${got.repo}${got.config ? ` (${got.config})` : ""} @ ${got.commit.slice(0, 12)}: ${got.files.length} Parquet files for ${splits.join(", ")}`);
  if (o.localDir) {
    copyInto(resolve(o.localDir), files);
    process.stdout.write(resolve(o.localDir) + "\n");
  } else {
    const first = got.files[0];
    process.stdout.write(first.path.slice(0, first.path.length - first.repoPath.length - 1) + "\n"); // the snapshot folder
  }
}

async function downloadModel(model: string, o: DownloadCliOptions, log: (line: string) => void): Promise<void> {
  const options = { revision: o.revision, offline: o.offline || undefined, token: o.token, log };
  if (o.localDir) {
    // Every file of the repo, as `huggingface-cli download REPO --local-dir DIR`: e.g. a pushed run, ready for predict.
    const snap = await snapshotDownload(model, "models", options);
    copyInto(resolve(o.localDir), snap.files);
    log(`model ${snap.id} @ ${snap.commit.slice(0, 12)}: ${Object.keys(snap.files).length} files`);
    process.stdout.write(resolve(o.localDir) + "\n");
    return;
  }
  const sets = o.mode === "all" ? [SETS.frozen, SETS.full] : [SETS[o.mode]];
  let got;
  try {
    got = await prefetchModel(model, sets, options);
  } catch (e) {
    if (o.mode === "full" || !(e instanceof BertuneError) || !e.message.includes("has no model.safetensors")) throw e;
    got = await prefetchModel(model, [SETS.frozenExport], options);
    if (o.mode === "all") got.incomplete.push({ name: "full", missing: ["model.safetensors"] });
  }
  for (const miss of got.incomplete) {
    log(`note: ${got.id} has no ${miss.missing.join(", ")}: ${miss.name === "full" ? "full fine-tuning" : "frozen-backbone training"} cannot use it`);
  }
  log(`model ${got.id}${got.local ? " (local folder: nothing to download)" : ` @ ${got.revision.slice(0, 12)}`}: ${Object.keys(got.files).length} files, ready for ${got.complete.join(" and ")} training`);
  const config = got.files["config.json"];
  process.stdout.write((config ? dirname(config) : got.id) + "\n");
}

export function downloadCommand(): Command {
  const cmd = new Command("download")
    .description("prefetch a model (or a Hub data set) into the Hugging Face cache, so that training works offline")
    .argument("<repo>", "Hub model id (bert-base-uncased, org/name), or a data set as hub:org/name[:config][@revision]")
    .option("--revision <rev>", "branch, tag or commit", undefined)
    .option("--mode <mode>", "files for: all (frozen and full training), frozen or full (both: config, tokenizer, model.safetensors; frozen falls back to onnx/model.onnx for a repo without safetensors)", choiceArg("--mode", ["all", "frozen", "full"] as const), "all")
    .option("--repo-type <type>", "model or dataset (hub:... means dataset)", choiceArg("--repo-type", ["model", "dataset"] as const), "model")
    .option("--local-dir <dir>", "also copy the files into this folder (a model: every file of the repo, e.g. a pushed run)")
    .option("--token <token>", "Hub access token for private or gated repos (default: $HF_TOKEN or the saved token)")
    .option("--offline", "check the cache only, naming what is missing (same as HF_HUB_OFFLINE=1)", false)
    .option("-q, --quiet", "no log lines", false);
  cmd.addHelpText(
    "after",
    `
Prints the snapshot folder in the cache (or --local-dir). Examples:
  $ bertune download bert-base-uncased
  $ bertune download hub:stanfordnlp/imdb
  $ bertune download user/bert-sst2-head --local-dir runs/sst2-head && bertune predict runs/sst2-head "great film"`,
  );
  cmd.action(
    action(async (repo: string, o: DownloadCliOptions) => {
      const log = logger(o.quiet);
      if (repo.startsWith("hub:")) return downloadDataset(repo.slice(4), o, log);
      if (o.repoType === "dataset") return downloadDataset(repo, o, log);
      return downloadModel(repo, o, log);
    }),
  );
  return cmd;
}
