import { createInterface } from "node:readline/promises";
import { Command } from "commander";
import { BertuneError } from "../../errors.js";
import { hubCacheDir, type RepoType } from "../../hub/cache.js";
import { deleteCachedRepo, findCachedRepos, formatCacheSize, scanCache, type CachedRepo } from "../../hub/scan.js";
import { action, choiceArg } from "../common.js";

const TYPE_NAMES: Record<RepoType, string> = { models: "model", datasets: "dataset", spaces: "space" };

function ago(date: Date, now = Date.now()): string {
  const s = Math.max(0, (now - date.getTime()) / 1000);
  const units: [number, string][] = [
    [365 * 86400, "year"],
    [30 * 86400, "month"],
    [7 * 86400, "week"],
    [86400, "day"],
    [3600, "hour"],
    [60, "minute"],
  ];
  for (const [size, unit] of units) {
    const n = Math.floor(s / size);
    if (n >= 1) return `${n} ${unit}${n > 1 ? "s" : ""} ago`;
  }
  return "a few seconds ago";
}

/** Rows under a header, columns padded to their widest cell (numbers right-aligned). */
function table(header: string[], rows: string[][], right: Set<number>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (right.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(" ").trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join(" "), ...rows.map(line)].join("\n") + "\n";
}

function repoJson(r: CachedRepo) {
  return {
    repo_id: r.id,
    repo_type: TYPE_NAMES[r.type],
    size_on_disk: r.size,
    nb_files: r.files,
    refs: r.refs,
    last_modified: r.lastModified.toISOString(),
    path: r.path,
    revisions: r.revisions.map((v) => ({ commit_hash: v.commit, refs: v.refs, nb_files: v.files, size_on_disk: v.size })),
  };
}

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

function lsCommand(): Command {
  return new Command("ls")
    .description("list the cached models and data sets with their size, files, revisions and refs (like `huggingface-cli scan-cache`)")
    .option("--json", "print JSON", false)
    .option("-v, --verbose", "one line per revision", false)
    .option("--offline", "accepted for symmetry: listing never uses the network", false)
    .action(
      action(async (o: { json?: boolean; verbose?: boolean }) => {
        const dir = hubCacheDir();
        const scan = scanCache(dir);
        if (o.json) {
          process.stdout.write(JSON.stringify({ cache_dir: dir, size_on_disk: scan.size, repos: scan.repos.map(repoJson), warnings: scan.warnings }) + "\n");
          return;
        }
        if (scan.repos.length === 0) {
          process.stdout.write(`the cache at ${dir} holds no models or data sets\n`);
          return;
        }
        if (o.verbose) {
          const rows = scan.repos.flatMap((r) =>
            r.revisions.map((v) => [r.id, TYPE_NAMES[r.type], v.commit, formatCacheSize(v.size), String(v.files), ago(v.lastModified), v.refs.join(", "), `${r.path}/snapshots/${v.commit}`]),
          );
          process.stdout.write(table(["REPO ID", "REPO TYPE", "REVISION", "SIZE ON DISK", "NB FILES", "LAST_MODIFIED", "REFS", "LOCAL PATH"], rows, new Set([3, 4])));
        } else {
          const rows = scan.repos.map((r) => [r.id, TYPE_NAMES[r.type], formatCacheSize(r.size), String(r.files), String(r.revisions.length), ago(r.lastModified), r.refs.join(", "), r.path]);
          process.stdout.write(table(["REPO ID", "REPO TYPE", "SIZE ON DISK", "NB FILES", "REVISIONS", "LAST_MODIFIED", "REFS", "LOCAL PATH"], rows, new Set([2, 3, 4])));
        }
        process.stdout.write(`\n${scan.repos.length} repo(s) in ${dir}, ${formatCacheSize(scan.size)} in all.\n`);
        for (const w of scan.warnings) process.stderr.write(`warning: ${w}\n`);
      }),
    );
}

function rmCommand(): Command {
  return new Command("rm")
    .description("delete one cached model or data set (every revision)")
    .argument("<repo>", "org/name (models/org/name or datasets/org/name, hub:org/name for a data set, or the cache folder name)")
    .option("--repo-type <type>", "model or dataset, when both are cached under that name", choiceArg("--repo-type", ["model", "dataset"] as const))
    .option("-y, --yes", "do not ask for confirmation", false)
    .option("--offline", "accepted for symmetry: deleting never uses the network", false)
    .action(
      action(async (spec: string, o: { repoType?: "model" | "dataset"; yes?: boolean }) => {
        const dir = hubCacheDir();
        const scan = scanCache(dir);
        const type: RepoType | undefined = o.repoType === "dataset" ? "datasets" : o.repoType === "model" ? "models" : undefined;
        const hits = findCachedRepos(scan, spec, type);
        if (hits.length === 0) {
          throw new BertuneError(`${spec} is not in the cache (${dir})`, "`bertune cache ls` lists what it holds");
        }
        if (hits.length > 1) {
          throw new BertuneError(
            `${spec} names ${hits.length} cached repos: ${hits.map((h) => `${TYPE_NAMES[h.type]} ${h.id}`).join(", ")}`,
            "say which with --repo-type model or --repo-type dataset",
          );
        }
        const repo = hits[0];
        const what = `${TYPE_NAMES[repo.type]} ${repo.id} (${formatCacheSize(repo.size)}, ${repo.revisions.length} revision(s)) at ${repo.path}`;
        if (!o.yes) {
          if (!process.stdin.isTTY) throw new BertuneError(`not deleting ${what} without confirmation`, "pass --yes to delete it");
          if (!(await confirm(`delete ${what}? [y/N] `))) {
            process.stderr.write("nothing deleted\n");
            return;
          }
        }
        const freed = deleteCachedRepo(dir, repo);
        process.stdout.write(`deleted ${TYPE_NAMES[repo.type]} ${repo.id}: ${formatCacheSize(freed)} freed\n`);
      }),
    );
}

export function cacheCommand(): Command {
  const cmd = new Command("cache")
    .description("inspect or clean the Hugging Face cache ($HF_HUB_CACHE, else $HF_HOME/hub), shared with the Python tools")
    .addCommand(lsCommand())
    .addCommand(rmCommand());
  // Usage errors exit with 2 like every command's (main.ts sets this on top-level commands only).
  for (const c of cmd.commands) c.exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));
  return cmd;
}
