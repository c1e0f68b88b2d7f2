import { existsSync, lstatSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { loadDataset } from "../src/data/dataset.js";
import type { HubDatasetOptions } from "../src/data/types.js";
import { BertuneError } from "../src/errors.js";
import { runCli } from "./helpers/cli.js";
import { TINY_MODEL, tempDir } from "./helpers/fixtures.js";
import { hubServerPool, startHubServer, type HubRepo, type HubServer } from "./helpers/hub-server.js";
import { hfFeaturesMetadata, writeParquet, type ParquetColumn } from "./helpers/parquet-writer.js";
import { isolateHubEnv } from "./helpers/hub-env.js";
import { errorOf } from "./helpers/errors.js";

const SHA = "0123456789abcdef0123456789abcdef01234567";
const CONV_SHA = "fedcba9876543210fedcba9876543210fedcba98";
const TEXTS = ["a gripping film", "dull and lifeless", "beautifully acted", "the plot is thin", "great fun", "a mess", "moving", "boring"];

function split(n: number, from: number, labels: (i: number) => number = (i) => i % 2): ParquetColumn[] {
  return [
    { name: "text", type: "string", values: Array.from({ length: n }, (_, i) => `${TEXTS[(from + i) % TEXTS.length]} #${from + i}`) },
    { name: "label", type: "int64", values: Array.from({ length: n }, (_, i) => labels(from + i)) },
  ];
}
const META = hfFeaturesMetadata({ text: "string", label: { names: ["neg", "pos"] } });

/** A data set repo laid out as `datasets.push_to_hub` writes it: sharded train, validation, hidden-label test. */
const REVIEWS: HubRepo = {
  sha: SHA,
  content: {
    "README.md": "---\nlicense: mit\n---\n# reviews\n",
    "data/train-00000-of-00002.parquet": writeParquet(split(30, 0), { keyValueMetadata: META }),
    "data/train-00001-of-00002.parquet": writeParquet(split(20, 30), { keyValueMetadata: META, codec: "gzip" }),
    "data/validation-00000-of-00001.parquet": writeParquet(split(10, 50), { keyValueMetadata: META }),
    "data/test-00000-of-00001.parquet": writeParquet(split(8, 60, () => -1), { keyValueMetadata: META }),
  },
  cardData: {
    configs: [
      {
        config_name: "default",
        data_files: [
          { split: "train", path: "data/train-*" },
          { split: "validation", path: "data/validation-*" },
          { split: "test", path: "data/test-*" },
        ],
      },
    ],
  },
};

/** A repo with CSV only, and the Hub's Parquet conversion in refs/convert/parquet. */
const CONVERTED: HubRepo = {
  content: { "README.md": "# csv only\n", "train.csv": "text,label\na,0\n" },
  branches: {
    "refs/convert/parquet": {
      sha: CONV_SHA,
      content: {
        "default/train/0000.parquet": writeParquet(split(24, 0), { keyValueMetadata: META }),
        "default/validation/0000.parquet": writeParquet(split(6, 24), { keyValueMetadata: META }),
      },
    },
  },
};

/** GLUE-like: one folder per config, no default. */
const MULTI: HubRepo = {
  content: {
    "cola/train-00000-of-00001.parquet": writeParquet(split(12, 0)),
    "sst2/train-00000-of-00001.parquet": writeParquet(split(16, 0), { keyValueMetadata: META }),
    "sst2/validation-00000-of-00001.parquet": writeParquet(split(4, 16), { keyValueMetadata: META }),
  },
};

const pool = hubServerPool();
const { servers } = pool;
const hub = pool.start;

let cacheDir: string;
let lines: string[];
let opts: (extra?: HubDatasetOptions) => { hub: HubDatasetOptions };

beforeEach(() => {
  isolateHubEnv();
  cacheDir = tempDir("bertune-ds-cache-");
  lines = [];
  opts = (extra = {}) => ({ hub: { cacheDir, log: (l) => lines.push(l), ...extra } });
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await pool.closeAll();
});

describe("Hub data sets", () => {
  it("downloads the Parquet files of hub:org/name into the HF cache and reads every split", async () => {
    const s = await hub({ datasets: { "acme/reviews": REVIEWS } });
    const d = await loadDataset("hub:acme/reviews", opts({ endpoint: s.url }));
    expect(d.name).toBe("reviews");
    expect(d.source).toBe(`Hub data set acme/reviews (configuration default) at ${SHA}`);
    expect(d.id2label).toEqual(["neg", "pos"]); // from the Parquet files' ClassLabel metadata
    expect(d.columns).toEqual({ text: "text", label: "label" });
    expect(d.splits.train).toHaveLength(50); // both shards, in order
    expect(d.splits.train[31]).toEqual({ text: `${TEXTS[31 % 8]} #31`, label: 1 });
    expect(d.splits.validation).toHaveLength(10);
    expect(d.validationSource).toBe("file");
    expect(d.splits.test).toBeUndefined(); // labels hidden (-1)

    // The cache layout huggingface_hub uses: datasets--org--name, refs/main, snapshot links into blobs/.
    const repoDir = join(cacheDir, "datasets--acme--reviews");
    expect(readFileSync(join(repoDir, "refs", "main"), "utf8")).toBe(SHA);
    const shard = join(repoDir, "snapshots", SHA, "data", "train-00000-of-00002.parquet");
    expect(lstatSync(shard).isSymbolicLink()).toBe(true);
    expect(readFileSync(shard).equals(REVIEWS.content!["data/train-00000-of-00002.parquet"] as Buffer)).toBe(true);
    expect(readdirSync(join(repoDir, "blobs"))).toHaveLength(4);
    expect(s.requests[0].path).toBe("/api/datasets/acme/reviews/revision/main");
    expect(s.requests.filter((r) => r.path.startsWith("/datasets/acme/reviews/resolve/")).map((r) => r.path.split("/").at(-1))).toEqual([
      "train-00000-of-00002.parquet",
      "train-00001-of-00002.parquet",
      "validation-00000-of-00001.parquet",
      "test-00000-of-00001.parquet",
    ]);

    // A bare org/name that is no local path means the Hub too; a second load downloads nothing.
    const files = s.requests.filter((r) => r.path.includes("/resolve/")).length;
    const again = await loadDataset("acme/reviews", opts({ endpoint: s.url }));
    expect(again.contentHash).toBe(d.contentHash);
    expect(s.requests.filter((r) => r.path.includes("/resolve/")).length).toBe(files);
    // Row numbers run on across shards in messages.
    const e = await errorOf(loadDataset("hub:acme/reviews", { ...opts({ endpoint: s.url }), labelColumn: "text" }));
    expect(e.message).toContain("hub:acme/reviews train");
  });

  it("works offline from the cache, and falls back to it when the Hub is unreachable", async () => {
    const s = await hub({ datasets: { "acme/reviews": REVIEWS } });
    const online = await loadDataset("hub:acme/reviews", opts({ endpoint: s.url }));
    await s.close();
    servers.splice(servers.indexOf(s), 1);

    const offline = await loadDataset("hub:acme/reviews", opts({ offline: true }));
    expect(offline.contentHash).toBe(online.contentHash);
    expect(offline.id2label).toEqual(online.id2label);
    vi.stubEnv("HF_HUB_OFFLINE", "1");
    expect((await loadDataset("acme/reviews", opts())).contentHash).toBe(online.contentHash);
    vi.stubEnv("HF_HUB_OFFLINE", "");

    const fallback = await loadDataset("hub:acme/reviews", opts({ endpoint: s.url }));
    expect(fallback.contentHash).toBe(online.contentHash);
    expect(lines.some((l) => l.startsWith(`cannot reach ${s.url}; using the cached copy of data set acme/reviews`))).toBe(true);
    // A mistyped local path that could be a Hub id: both readings are named.
    const typo = await errorOf(loadDataset("data/trian", opts({ endpoint: s.url })));
    expect(typo.message).toBe('"data/trian" is not an existing file or folder, and the Hub cannot be reached to look for a data set of that name.');

    const missing = await errorOf(loadDataset("hub:acme/other", opts({ offline: true })));
    expect(missing.message).toBe(`offline: data set acme/other is not in the cache (${cacheDir})`);
    expect(missing.hint).toContain("bertune download hub:acme/other");
  });

  it("uses the Hub's Parquet conversion (refs/convert/parquet) when the repo has no Parquet files", async () => {
    const s = await hub({ datasets: { "acme/csv-only": CONVERTED } });
    const d = await loadDataset("hub:acme/csv-only", opts({ endpoint: s.url }));
    expect(d.splits.train).toHaveLength(24);
    expect(d.splits.validation).toHaveLength(6);
    expect(d.source).toContain(`at ${CONV_SHA} (the Hub's Parquet conversion)`);
    expect(lines).toContain("data set acme/csv-only has no Parquet files of its own; using the Hub's Parquet conversion (refs/convert/parquet)");
    expect(s.requests.map((r) => r.path)).toContain("/api/datasets/acme/csv-only/revision/refs%2Fconvert%2Fparquet");
    expect(readFileSync(join(cacheDir, "datasets--acme--csv-only", "refs", "refs", "convert", "parquet"), "utf8")).toBe(CONV_SHA);
    expect(existsSync(join(cacheDir, "datasets--acme--csv-only", "snapshots", CONV_SHA, "default", "train", "0000.parquet"))).toBe(true);
    // Offline, the cached conversion serves.
    expect((await loadDataset("hub:acme/csv-only", opts({ offline: true }))).contentHash).toBe(d.contentHash);
  });

  it("picks a configuration: the only one, the one asked for, or says which exist", async () => {
    const s = await hub({ datasets: { "acme/glue": MULTI } });
    const e = await errorOf(loadDataset("hub:acme/glue", opts({ endpoint: s.url })));
    expect(e.message).toBe("data set acme/glue has several configurations (cola, sst2); say which one to load");
    expect(e.hint).toBe("e.g. --dataset hub:acme/glue:cola");
    const d = await loadDataset("hub:acme/glue:sst2", opts({ endpoint: s.url }));
    expect(d.name).toBe("glue-sst2");
    expect(d.splits.train).toHaveLength(16);
    expect(d.id2label).toEqual(["neg", "pos"]);
    expect((await loadDataset("hub:acme/glue", opts({ endpoint: s.url, config: "sst2" }))).contentHash).toBe(d.contentHash);
    const unknown = await errorOf(loadDataset("hub:acme/glue:mnli", opts({ endpoint: s.url })));
    expect(unknown.message).toBe('data set acme/glue has no configuration "mnli"; it has cola, sst2');
    // The revision in the spec: an unknown one is named.
    const rev = await errorOf(loadDataset("hub:acme/glue:sst2@v9", opts({ endpoint: s.url })));
    expect(rev.message).toBe('revision "v9" not found in data set acme/glue');
  });

  it("hub:<built-in name> reads the built-in's Hub repo with the registry's columns and label names", async () => {
    const sst2: HubRepo = {
      content: {
        "data/train-00000-of-00001.parquet": writeParquet([
          { name: "idx", type: "int64", values: [0, 1, 2, 3, 4, 5] },
          { name: "sentence", type: "string", values: TEXTS.slice(0, 6) },
          { name: "label", type: "int64", values: [1, 0, 1, 0, 1, 0] },
        ]),
      },
    };
    const s = await hub({ datasets: { "stanfordnlp/sst2": sst2 } });
    const d = await loadDataset("hub:sst2", opts({ endpoint: s.url }));
    expect(d.name).toBe("sst2");
    expect(d.columns).toEqual({ text: "sentence", label: "label" });
    expect(d.id2label).toEqual(["negative", "positive"]); // the registry's labelNames (no metadata in these files)
    expect(s.requests[0].path).toBe("/api/datasets/stanfordnlp/sst2/revision/main");
    // The plain built-in name still means the bundled copy, with no request.
    const count = s.requests.length;
    expect((await loadDataset("sst2", opts({ endpoint: s.url }))).source).toContain("bundled copy");
    expect(s.requests).toHaveLength(count);
  });

  it("errors in one line: unknown, gated, private, rate limited, no Parquet, no train split", async () => {
    let limited = 0;
    const s = await hub({
      datasets: {
        "acme/reviews": REVIEWS,
        "acme/gated": { ...REVIEWS, gated: true },
        "acme/private": { ...REVIEWS, private: true },
        "acme/csv": { content: { "train.csv": "text,label\na,0\n" } },
        "acme/testonly": { content: { "data/test-0.parquet": writeParquet(split(4, 0)) } },
        "acme/limited": REVIEWS,
      },
      intercept: (req, res) => {
        if (req.path.startsWith("/api/datasets/acme/limited") && limited++ < 2) {
          res.writeHead(429, { "retry-after": "0" }).end();
          return true;
        }
        return false;
      },
    });
    const unknown = await errorOf(loadDataset("hub:acme/nope", opts({ endpoint: s.url })));
    expect(unknown.message).toBe("data set acme/nope not found on the Hub; check the spelling");
    const implicit = await errorOf(loadDataset("acme/nope", opts({ endpoint: s.url })));
    expect(implicit.message).toBe('"acme/nope" is neither an existing file or folder nor a data set on the Hub.');
    const gated = await errorOf(loadDataset("hub:acme/gated", opts({ endpoint: s.url })));
    expect(gated.message).toBe("data set acme/gated is gated: its page asks you to accept its terms before downloading");
    expect(gated.hint).toContain(`${s.url}/datasets/acme/gated`);
    const priv = await errorOf(loadDataset("hub:acme/private", opts({ endpoint: s.url })));
    expect(priv.message).toContain("data set acme/private is private or gated, or does not exist");
    expect((await loadDataset("hub:acme/private", opts({ endpoint: s.url, token: "hf_any" }))).splits.train).toHaveLength(50);
    expect(s.requests.filter((r) => r.path.startsWith("/datasets/acme/private/")).every((r) => r.headers.authorization === "Bearer hf_any")).toBe(true);

    const d = await loadDataset("hub:acme/limited", opts({ endpoint: s.url }));
    expect(d.splits.train).toHaveLength(50);
    expect(lines.filter((l) => l.includes("HTTP 429"))).toHaveLength(2);

    const csv = await errorOf(loadDataset("hub:acme/csv", opts({ endpoint: s.url })));
    expect(csv.message).toBe("data set acme/csv has no Parquet files (neither in its files nor in its refs/convert/parquet branch)");
    const testOnly = await errorOf(loadDataset("hub:acme/testonly", opts({ endpoint: s.url })));
    expect(testOnly.message).toBe("data set acme/testonly has no train split among its Parquet files (found: test)");
    const bad = await errorOf(loadDataset("hub:acme/--bad", opts({ endpoint: s.url })));
    expect(bad.message).toBe('"acme/--bad" is not a Hub data set id');
  });
});

describe("bertune train with a Hub data set (CLI)", () => {
  it("trains on hub:org/name, then evaluates the run offline from the cache", async () => {
    const s = await hub({ datasets: { "acme/reviews": REVIEWS } });
    const work = tempDir("bertune-ds-cli-");
    const env = { HF_ENDPOINT: s.url, HF_HOME: join(work, "hf"), BERTUNE_CACHE: join(work, "features") };
    const run = join(work, "run");
    const r = await runCli(["train", "--model", TINY_MODEL, "--dataset", "hub:acme/reviews", "--freeze-backbone", "--epochs", "1", "--output", run, "--json"], env);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ dataset: "reviews", train_samples: 50, eval_samples: 10 });
    expect(JSON.parse(readFileSync(join(run, "config.json"), "utf8")).id2label).toEqual({ 0: "neg", 1: "pos" });
    expect(existsSync(join(work, "hf", "hub", "datasets--acme--reviews", "refs", "main"))).toBe(true);

    await s.close();
    servers.splice(servers.indexOf(s), 1);
    const evaluated = await runCli(["evaluate", run, "--json"], { ...env, HF_HUB_OFFLINE: "1" });
    expect(evaluated.stderr).not.toMatch(/error/);
    expect(evaluated.code).toBe(0);
    expect(JSON.parse(evaluated.stdout).eval_accuracy).toBe(JSON.parse(readFileSync(join(run, "eval_results.json"), "utf8")).eval_accuracy);
  });
});
