import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join, sep } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { fetchHubDataset } from "../src/data/hub-dataset.js";
import { prefetchModel } from "../src/hub/prefetch.js";
import { findCachedRepos, formatCacheSize, scanCache } from "../src/hub/scan.js";
import { FROZEN_FILES } from "../src/model.js";
import { runCli } from "./helpers/cli.js";
import { TINY_MODEL, tempDir } from "./helpers/fixtures.js";
import { hubServerPool, startHubServer, type HubServer } from "./helpers/hub-server.js";
import { writeParquet } from "./helpers/parquet-writer.js";

const SHA = "0123456789abcdef0123456789abcdef01234567";
const ID = "google-bert/bert-base-uncased";
const WITHOUT_ONNX = ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "vocab.txt"];
const ONNX_ONLY = ["config.json", "onnx/model.onnx", "tokenizer.json", "tokenizer_config.json", "vocab.txt"];

const pool = hubServerPool();
const { servers } = pool;
const hub = pool.start;
afterEach(async () => {
  await pool.closeAll();
});

/** Files (not folders) under dir, as repo paths; snapshot links are followed. */
function snapshotFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((f) => statSync(join(dir, f)).isFile())
    .map((f) => f.split(sep).join("/"))
    .sort();
}

describe("bertune download", () => {
  it("prefetches what frozen and full training need into the cache, then verifies it offline", async () => {
    const s = await hub({ repos: { [ID]: { dir: TINY_MODEL, sha: SHA } }, legacy: { "bert-base-uncased": ID } });
    const home = tempDir("bertune-dl-");
    const env = { HF_ENDPOINT: s.url, HF_HOME: home };
    const r = await runCli(["download", "bert-base-uncased"], env);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    const snap = join(home, "hub", "models--google-bert--bert-base-uncased", "snapshots", SHA);
    expect(r.stdout).toBe(`${snap}\n`);
    // Both modes need only the weights (the frozen path writes its own ONNX graph): the repo's export is not fetched.
    expect(snapshotFiles(snap)).toEqual(WITHOUT_ONNX);
    expect(r.stderr).toContain(`model ${ID} @ ${SHA.slice(0, 12)}: 5 files, ready for frozen and full training`);

    await s.close();
    const offline = await runCli(["download", "bert-base-uncased", "--offline"], env);
    expect(offline.code).toBe(0);
    expect(offline.stdout).toBe(`${snap}\n`);
    const train = await runCli(["download", ID], { ...env, HF_HUB_OFFLINE: "1" });
    expect(train.code).toBe(0);
  });

  it("--mode picks one set; a repo with only an ONNX export serves frozen training only", async () => {
    const s = await hub({
      repos: { [ID]: { dir: TINY_MODEL, sha: SHA }, "acme/onnx-only": { dir: TINY_MODEL, files: ONNX_ONLY }, "acme/bare": { dir: TINY_MODEL, files: ["config.json", "tokenizer.json"] } },
    });
    const home = tempDir("bertune-dl-");
    const env = { HF_ENDPOINT: s.url, HF_HOME: home };
    const frozen = await runCli(["download", ID, "--mode", "frozen"], env);
    expect(frozen.code).toBe(0);
    expect(snapshotFiles(frozen.stdout.trim())).toEqual(WITHOUT_ONNX);

    const onnxOnly = await runCli(["download", "acme/onnx-only"], env);
    expect(onnxOnly.code).toBe(0);
    expect(snapshotFiles(onnxOnly.stdout.trim())).toEqual(ONNX_ONLY);
    expect(onnxOnly.stderr).toContain("note: acme/onnx-only has no model.safetensors: full fine-tuning cannot use it");
    expect(onnxOnly.stderr).toContain("ready for frozen training");
    const onnxOnlyFull = await runCli(["download", "acme/onnx-only", "--mode", "full"], env);
    expect(onnxOnlyFull.code).toBe(2);
    expect(onnxOnlyFull.stderr).toMatch(/^error: model acme\/onnx-only has no model\.safetensors/);
    const bare = await runCli(["download", "acme/bare", "--mode", "frozen"], env);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toMatch(/^error: model acme\/bare has no ONNX export/);

    const missing = await runCli(["download", "acme/nope"], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^error: model acme\/nope not found on the Hub/);
    const offline = await runCli(["download", "acme/never", "--offline"], env);
    expect(offline.code).toBe(2);
    expect(offline.stderr).toContain("error: offline: config.json, tokenizer.json, model.safetensors of model acme/never not in the cache");
  });

  it("--local-dir copies every file of a repo (a pushed run), and hub:org/name fetches a data set's Parquet files", async () => {
    const parquet = writeParquet([
      { name: "text", type: "string", values: ["good", "bad"] },
      { name: "label", type: "int64", values: [1, 0] },
    ]);
    const s = await hub({
      repos: { "alice/head": { dir: TINY_MODEL, files: ["config.json", "vocab.txt"], content: { "README.md": "# head\n" } } },
      datasets: { "acme/reviews": { sha: SHA, content: { "data/train-00000-of-00001.parquet": parquet, "README.md": "# data\n" } } },
    });
    const home = tempDir("bertune-dl-");
    const env = { HF_ENDPOINT: s.url, HF_HOME: home };
    const local = join(tempDir("bertune-dl-"), "head");
    const r = await runCli(["download", "alice/head", "--local-dir", local], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${local}\n`);
    expect(readdirSync(local).sort()).toEqual(["README.md", "config.json", "vocab.txt"]);
    expect(readFileSync(join(local, "config.json")).equals(readFileSync(join(TINY_MODEL, "config.json")))).toBe(true);

    const ds = await runCli(["download", "hub:acme/reviews"], env);
    expect(ds.code).toBe(0);
    const snap = join(home, "hub", "datasets--acme--reviews", "snapshots", SHA);
    expect(ds.stdout).toBe(`${snap}\n`);
    expect(readFileSync(join(snap, "data", "train-00000-of-00001.parquet")).equals(parquet)).toBe(true);
    expect(existsSync(join(snap, "README.md"))).toBe(false); // only what training reads
    const byType = await runCli(["download", "acme/reviews", "--repo-type", "dataset", "--offline"], env);
    expect(byType.code).toBe(0);
    expect(byType.stdout).toBe(`${snap}\n`);
  });
});

describe("bertune cache", () => {
  it("ls lists cached models and data sets with size, files, revisions and refs; rm deletes one", async () => {
    const s = await hub({
      repos: { [ID]: { dir: TINY_MODEL, sha: SHA }, "acme/reviews": { dir: TINY_MODEL, files: ["config.json"] } },
      datasets: { "acme/reviews": { content: { "data/train-0.parquet": writeParquet([{ name: "text", type: "string", values: ["a"] }]) } } },
    });
    const home = tempDir("bertune-cache-");
    const env = { HF_ENDPOINT: s.url, HF_HOME: home };
    expect(scanCache(join(home, "hub")).repos).toEqual([]);
    // Fill the cache in-process (the CLI's download is tested above).
    const cache = { endpoint: s.url, cacheDir: join(home, "hub") };
    await prefetchModel(ID, [{ name: "frozen", ...FROZEN_FILES }], cache);
    await prefetchModel("acme/reviews", [{ name: "config", required: ["config.json"] }], cache);
    await fetchHubDataset({ repo: "acme/reviews" }, cache);

    const ls = await runCli(["cache", "ls"], env);
    expect(ls.code).toBe(0);
    const [header, rule, ...rows] = ls.stdout.split("\n");
    expect(header).toMatch(/^REPO ID\s+REPO TYPE\s+SIZE ON DISK\s+NB FILES\s+REVISIONS\s+LAST_MODIFIED\s+REFS\s+LOCAL PATH$/);
    expect(rule).toMatch(/^-+( -+)+$/);
    expect(rows[0]).toMatch(new RegExp(`^${ID}\\s+model\\s+\\d+\\.\\dM\\s+5\\s+1\\s+a few seconds ago\\s+main\\s+${join(home, "hub", "models--google-bert--bert-base-uncased")}$`));
    expect(ls.stdout).toMatch(/acme\/reviews\s+model\s+\S+\s+1\s+1 /);
    expect(ls.stdout).toMatch(/acme\/reviews\s+dataset\s+/);
    expect(ls.stdout).toMatch(/3 repo\(s\) in .*, \d+\.\dM in all\.\n$/);

    expect(formatCacheSize(999)).toBe("999.0");
    expect(formatCacheSize(1_234_567)).toBe("1.2M");
    const json = JSON.parse((await runCli(["cache", "ls", "--json"], env)).stdout);
    const bert = json.repos.find((r: { repo_id: string }) => r.repo_id === ID);
    expect(bert).toMatchObject({ repo_type: "model", nb_files: 5, refs: ["main"], revisions: [{ commit_hash: SHA, refs: ["main"], nb_files: 5 }] });

    // rm: confirmation needed when not on a terminal; ambiguous names; then deletion.
    const noYes = await runCli(["cache", "rm", ID], env);
    expect(noYes.code).toBe(2);
    expect(noYes.stderr).toMatch(/^error: not deleting model google-bert\/bert-base-uncased \(4\.9M, 1 revision\(s\)\) at \S+ without confirmation\nhint: pass --yes/);
    const ambiguous = await runCli(["cache", "rm", "acme/reviews", "--yes"], env);
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toContain("acme/reviews names 2 cached repos: model acme/reviews, dataset acme/reviews");
    const ds = await runCli(["cache", "rm", "acme/reviews", "--repo-type", "dataset", "--yes"], env);
    expect(ds.code).toBe(0);
    expect(existsSync(join(home, "hub", "datasets--acme--reviews"))).toBe(false);
    expect(existsSync(join(home, "hub", "models--acme--reviews"))).toBe(true);
    const legacy = await runCli(["cache", "rm", "bert-base-uncased", "-y"], env);
    expect(legacy.code).toBe(0);
    expect(legacy.stdout).toMatch(/^deleted model google-bert\/bert-base-uncased: \d+\.\dM freed\n$/);
    expect(readdirSync(join(home, "hub")).sort()).toEqual(["models--acme--reviews"]);
    expect(findCachedRepos(scanCache(join(home, "hub")), ID)).toEqual([]);
    const bogus = await runCli(["cache", "rm", "--bogus"], env);
    expect(bogus.code).toBe(2);
    expect(bogus.stderr).toContain("unknown option '--bogus'");
  });
});
