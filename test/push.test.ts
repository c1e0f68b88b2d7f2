import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { BertuneError } from "../src/errors.js";
import { pushRun, type PushOptions } from "../src/push/push.js";
import { runCli } from "./helpers/cli.js";
import { DATASETS, TINY_MODEL, tempDir, sst2Subset } from "./helpers/fixtures.js";
import { hubServerPool, startHubServer, type HubServer, type HubServerOptions } from "./helpers/hub-server.js";
import { parseFrontMatter } from "./helpers/yaml-subset.js";

const TOKEN = "hf_pushSecret0123456789";
const READ_TOKEN = "hf_readOnly0123456789";
const TOKENS: HubServerOptions["tokens"] = {
  [TOKEN]: { user: "alice", role: "write", orgs: ["acme"] },
  [READ_TOKEN]: { user: "alice", role: "read" },
};
const BASE = "google-bert/bert-base-uncased";
const RUN_FILES = ["config.json", "eval_results.json", "model.safetensors", "train_results.json", "trainer_state.json", "training_args.json"];

const work = tempDir("bertune-push-");
const run = join(work, "run");
const fullRun = join(work, "full-run");
let modelHub: HubServer;

/** Every file under dir (recursively), as text. */
function allText(dir: string): string {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .map((f) => join(dir, f))
    .filter((p) => statSync(p).isFile())
    .map((p) => readFileSync(p).toString("latin1"))
    .join("\n");
}

beforeAll(async () => {
  // A real run, trained by the CLI on the tiny model served as google-bert/bert-base-uncased.
  modelHub = await startHubServer({ repos: { [BASE]: { dir: TINY_MODEL } } });
  const data = sst2Subset(join(work, "data"), 64, 32);
  const r = await runCli(
    ["train", "--model", BASE, "--dataset", data, "--freeze-backbone", "--epochs", "2", "--batch-size", "16", "--logging-steps", "2", "--output", run, "-q"],
    { HF_ENDPOINT: modelHub.url, HF_HOME: join(work, "hf"), BERTUNE_CACHE: join(work, "features") },
  );
  expect(r.stderr).not.toMatch(/error/i);
  expect(r.code).toBe(0);
  // And a full fine-tuning run (the whole model, its tokenizer, a checkpoint folder).
  const full = await runCli(["train", "--model", BASE, "--dataset", data, "--epochs", "1", "--batch-size", "16", "--output", fullRun, "-q"], {
    HF_ENDPOINT: modelHub.url,
    HF_HOME: join(work, "hf"),
    BERTUNE_CACHE: join(work, "features"),
  });
  expect(full.stderr).not.toMatch(/error/i);
  expect(full.code).toBe(0);
});
afterAll(() => modelHub.close());

const pool = hubServerPool();
const hub = (options: Partial<HubServerOptions> = {}): Promise<HubServer> => pool.start({ tokens: TOKENS, ...options });
let lines: string[];
beforeEach(() => {
  vi.stubEnv("HF_TOKEN", "");
  vi.stubEnv("HF_TOKEN_PATH", "");
  vi.stubEnv("HF_HOME", tempDir("bertune-push-home-"));
  vi.stubEnv("HF_HUB_OFFLINE", "");
  vi.stubEnv("HF_ENDPOINT", "");
  lines = [];
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await pool.closeAll();
});

function push(s: HubServer, extra: Partial<PushOptions> & { dir?: string } = {}) {
  const { dir, ...rest } = extra;
  return pushRun(dir ?? run, { repo: "alice/bert-sst2-head", token: TOKEN, endpoint: s.url, log: (l) => lines.push(l), ...rest });
}

async function rejection(p: Promise<unknown>): Promise<BertuneError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(BertuneError);
  const b = e as BertuneError;
  for (const text of [b.message, b.hint ?? "", ...lines]) expect(text).not.toContain(TOKEN);
  return b;
}

/** A copy of the run to damage. */
function copyRun(): string {
  const dir = tempDir("bertune-push-run-");
  cpSync(run, dir, { recursive: true });
  return dir;
}

describe("pushRun", () => {
  it("creates the repo and uploads the run and its card in one commit, the weights through LFS", async () => {
    const s = await hub();
    const r = await push(s, { commitMessage: "first push" });
    expect(r).toMatchObject({ repo: "alice/bert-sst2-head", revision: "main", created: true });
    expect(r.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(s.created).toEqual([{ type: "models", id: "alice/bert-sst2-head", private: false }]);
    expect(s.commits).toHaveLength(1);
    const c = s.commits[0];
    expect(c).toMatchObject({ repo: "alice/bert-sst2-head", revision: "main", summary: "first push", oid: r.commit });
    expect(Object.keys(c.files).sort()).toEqual([...RUN_FILES, "README.md"].sort());
    expect(r.files.sort()).toEqual([...RUN_FILES, "README.md"].sort());
    for (const f of RUN_FILES) expect(c.files[f].equals(readFileSync(join(run, f))), f).toBe(true);
    expect(c.lfs).toEqual(["model.safetensors"]); // the Hub's .gitattributes sends *.safetensors through LFS
    expect(Object.keys(s.files("alice/bert-sst2-head")!).sort()).toEqual([".gitattributes", ...RUN_FILES, "README.md"].sort());

    // The card arrived whole, and says what the run is.
    const { meta, body } = parseFrontMatter(c.files["README.md"].toString("utf8"));
    const evalResults = JSON.parse(readFileSync(join(run, "eval_results.json"), "utf8"));
    // SST-2 has two classes: the positive class's F1 and MCC beside accuracy and macro F1.
    expect(meta).toMatchObject({ base_model: BASE, library_name: "bertune", pipeline_tag: "text-classification", metrics: ["accuracy", "f1", "matthews_correlation"] });
    const results = (meta["model-index"] as { results: { metrics: { type: string; name: string; value: number }[] }[] }[])[0].results[0];
    expect(results.metrics.map((m) => [m.type, m.name, m.value])).toEqual([
      ["accuracy", "Accuracy", evalResults.eval_accuracy],
      ["f1", "Macro F1", evalResults.eval_macro_f1],
      ["f1", "F1", evalResults.eval_f1],
      ["f1", "Weighted F1", evalResults.eval_weighted_f1],
      ["matthews_correlation", "Matthews Correlation", evalResults.eval_matthews_correlation],
    ]);
    const evals = JSON.parse(readFileSync(join(run, "trainer_state.json"), "utf8")).log_history.filter((e: { eval_accuracy?: number }) => e.eval_accuracy !== undefined);
    const header = "| Training Loss | Epoch | Step | Validation Loss | Accuracy | Macro F1 | F1 | Matthews Correlation |";
    expect(body).toContain(header);
    expect(body.split("\n").filter((l) => /^\| (\d|No log)/.test(l) && l.split("|").length === header.split("|").length)).toHaveLength(evals.length);
    expect(body).toContain(`base = "${BASE}"`);
    expect(body).toContain("model.classifier.load_state_dict(");

    // The token: in the Authorization header of every Hub request, nowhere else, and never sent to LFS storage.
    const hubRequests = s.requests.filter((q) => !q.path.startsWith("/__lfs/"));
    expect(hubRequests.every((q) => q.headers.authorization === `Bearer ${TOKEN}`)).toBe(true);
    const storage = s.requests.filter((q) => q.path.startsWith("/__lfs/"));
    expect(storage).toHaveLength(1);
    expect(storage[0].headers.authorization).toBeUndefined();
    for (const q of s.requests) {
      const { authorization: _auth, ...others } = q.headers;
      expect(q.path + JSON.stringify(others) + q.body.toString("latin1")).not.toContain(TOKEN);
    }
    expect(s.requests.map((q) => `${q.method} ${q.path.replace(/\?.*/, "")}`)).toEqual([
      "GET /api/models/alice/bert-sst2-head",
      "POST /api/repos/create",
      "POST /api/models/alice/bert-sst2-head/preupload/main",
      "POST /alice/bert-sst2-head.git/info/lfs/objects/batch",
      `PUT /__lfs/${storage[0].path.split("/").at(-1)}`,
      "POST /api/models/alice/bert-sst2-head/commit/main",
    ]);
    expect(lines.join("\n")).not.toContain(TOKEN);
    expect(allText(run)).not.toContain(TOKEN);
  });

  it("pushes again to an existing repo, to a new branch, privately, and under the token owner for a bare name", async () => {
    const s = await hub();
    await push(s);
    const again = await push(s);
    expect(again.created).toBe(false);
    expect(s.created).toHaveLength(1);
    expect(s.commits.map((c) => c.summary)).toEqual(["Upload model trained with bertune", "Upload model trained with bertune"]);

    const dev = await push(s, { revision: "dev", commitMessage: "on dev" });
    expect(dev.revision).toBe("dev");
    expect(s.commits.at(-1)).toMatchObject({ revision: "dev", summary: "on dev" });
    expect(lines).toContain("created branch dev in alice/bert-sst2-head");

    const priv = await push(s, { repo: "acme/private-head", private: true });
    expect(priv.created).toBe(true);
    expect(s.created.at(-1)).toEqual({ type: "models", id: "acme/private-head", private: true });

    const bare = await push(s, { repo: "bare-head" });
    expect(bare.repo).toBe("alice/bare-head");
    expect(s.requests.some((q) => q.path === "/api/whoami-v2")).toBe(true);
    expect(parseFrontMatter(s.commits.at(-1)!.files["README.md"].toString()).body).toContain("# bare-head");
  });

  it("a full run goes up with its tokenizer, as a transformers model; checkpoints stay home", async () => {
    const s = await hub();
    await push(s, { dir: fullRun, repo: "alice/bert-sst2-full" });
    const c = s.commits[0];
    const expected = [...RUN_FILES, "tokenizer.json", "tokenizer_config.json", "vocab.txt", "README.md"].sort();
    expect(Object.keys(c.files).sort()).toEqual(expected);
    for (const f of expected.filter((f) => f !== "README.md")) expect(c.files[f].equals(readFileSync(join(fullRun, f))), f).toBe(true);
    expect(c.lfs).toEqual(["model.safetensors"]);
    const { meta, body } = parseFrontMatter(c.files["README.md"].toString());
    expect(meta).toMatchObject({ base_model: BASE, library_name: "transformers", base_model_relation: "finetune" });
    expect(body).toContain('AutoModelForSequenceClassification.from_pretrained("alice/bert-sst2-full")');
    expect(body).toContain('AutoTokenizer.from_pretrained("alice/bert-sst2-full")');
  });

  it("an exported run goes up with onnx/ (through LFS) and a transformers.js snippet; a stale export stays home", async () => {
    const dir = copyRun();
    const e = await runCli(["export", dir, "--quantize", "-q"], { HF_ENDPOINT: modelHub.url, HF_HOME: join(work, "hf") });
    expect(e.code).toBe(0);
    const s = await hub();
    await push(s, { dir, repo: "alice/bert-sst2-onnx" });
    const c = s.commits[0];
    for (const f of ["onnx/model.onnx", "onnx/model_quantized.onnx", "tokenizer.json", "tokenizer_config.json"]) {
      expect(c.files[f]?.equals(readFileSync(join(dir, f))), f).toBe(true);
    }
    expect(c.lfs.sort()).toEqual(["model.safetensors", "onnx/model.onnx", "onnx/model_quantized.onnx"]);
    const { meta, body } = parseFrontMatter(c.files["README.md"].toString());
    expect(meta).toMatchObject({ library_name: "transformers.js", pipeline_tag: "text-classification" });
    expect(meta.tags).toEqual(expect.arrayContaining(["onnx", "transformers.js"]));
    expect(body).toContain('import { pipeline } from "@huggingface/transformers";');
    expect(body).toContain('await pipeline("text-classification", "alice/bert-sst2-onnx", { dtype: "q8" })');

    // A graph the manifest does not record (left from other weights) is not published.
    const stale = copyRun();
    mkdirSync(join(stale, "onnx"));
    writeFileSync(join(stale, "onnx", "model.onnx"), "not this run's graph");
    const s2 = await hub();
    await push(s2, { dir: stale, repo: "alice/bert-sst2-stale" });
    expect(Object.keys(s2.commits[0].files).filter((f) => f.startsWith("onnx/"))).toEqual([]);
    expect(parseFrontMatter(s2.commits[0].files["README.md"].toString()).body).not.toContain("transformers.js");
  });

  it("refuses a run never evaluated, or changed since training, or without a manifest, unless forced", async () => {
    const s = await hub();
    const noEval = copyRun();
    rmSync(join(noEval, "eval_results.json"));
    expect((await rejection(push(s, { dir: noEval }))).message).toContain("has no eval_results.json");
    expect(s.requests).toHaveLength(0); // checked before any request
    await push(s, { dir: noEval, force: true });
    expect(lines).toContain("pushing anyway (--force): no eval_results.json");
    const forced = s.commits.at(-1)!;
    expect(forced.files["eval_results.json"]).toBeUndefined();
    expect(parseFrontMatter(forced.files["README.md"].toString()).meta["model-index"]).toBeUndefined();

    const edited = copyRun();
    const weights = readFileSync(join(edited, "model.safetensors"));
    weights[weights.length - 1] ^= 0xff;
    writeFileSync(join(edited, "model.safetensors"), weights);
    const e = await rejection(push(s, { dir: edited }));
    expect(e.message).toMatch(/^model\.safetensors in .* changed since training/);
    expect(e.hint).toContain("--force");
    await push(s, { dir: edited, force: true });
    expect(s.commits.at(-1)!.files["model.safetensors"].equals(weights)).toBe(true);

    const config = copyRun();
    const c = JSON.parse(readFileSync(join(config, "config.json"), "utf8"));
    writeFileSync(join(config, "config.json"), JSON.stringify({ ...c, id2label: { 0: "bad", 1: "good" } }));
    expect((await rejection(push(s, { dir: config }))).message).toMatch(/^config\.json in .* changed since training/);

    const noManifest = copyRun();
    rmSync(join(noManifest, "run_manifest.json"));
    expect((await rejection(push(s, { dir: noManifest }))).message).toContain("has no run_manifest.json");

    expect((await rejection(push(s, { dir: join(work, "no-such-run") }))).message).toContain("no run folder");

    // Only the run's own files go up: not notes, reports, the manifest or anything else in the folder.
    const extra = copyRun();
    writeFileSync(join(extra, "notes.txt"), "private notes");
    await push(s, { dir: extra });
    expect(Object.keys(s.commits.at(-1)!.files).sort()).toEqual([...RUN_FILES, "README.md"].sort());
  });

  it("errors: no token, invalid token, read-only token, another namespace, offline, no network", async () => {
    const s = await hub();
    const none = await rejection(push(s, { token: undefined }));
    expect(none.message).toBe("pushing needs a Hugging Face access token with write access");
    expect(none.hint).toContain("HF_TOKEN");
    expect(s.requests).toHaveLength(0);

    const invalid = await rejection(push(s, { token: "hf_notARealToken" }));
    expect(invalid.message).toContain("refused the token (HTTP 401)");
    const readOnly = await rejection(push(s, { token: READ_TOKEN }));
    expect(readOnly.message).toMatch(/^the token may not create repos under alice \(HTTP 403/);
    expect(readOnly.hint).toContain("write role");
    const other = await rejection(push(s, { repo: "bob/head" }));
    expect(other.message).toMatch(/^the token may not create repos under bob \(HTTP 403/);
    expect(s.commits).toHaveLength(0);

    const requests = s.requests.length;
    const notHf = await rejection(push(s, { token: "abc" }));
    expect(notHf.message).toBe("the token given is not a Hugging Face access token (those start with hf_)");
    const offline = await rejection(push(s, { offline: true }));
    expect(offline.message).toContain("offline mode");
    vi.stubEnv("HF_HUB_OFFLINE", "1");
    expect((await rejection(push(s))).message).toContain("offline mode");
    vi.stubEnv("HF_HUB_OFFLINE", "");
    expect(s.requests).toHaveLength(requests);

    const down = await startHubServer({ repos: {} });
    await down.close();
    const e = await rejection(push(down));
    expect(e.message).toBe(`cannot reach ${down.url}; check your connection, or set HF_HUB_OFFLINE=1 to use the cache`);
  });

  it("waits out a rate limit (Retry-After), bounded, and reports server errors in one line", async () => {
    let refused = 0;
    const s = await hub({
      intercept: (req, res) => {
        if (req.path.includes("/commit/") && refused < 2) {
          refused++;
          res.writeHead(429, { "retry-after": "0", "content-type": "application/json" }).end(JSON.stringify({ error: "slow down" }));
          return true;
        }
        return false;
      },
    });
    const r = await push(s);
    expect(r.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(s.requests.filter((q) => q.path.includes("/commit/"))).toHaveLength(3);
    expect(lines.filter((l) => l.includes("HTTP 429"))).toHaveLength(2);

    const always = await hub({
      intercept: (req, res) => {
        if (!req.path.includes("/preupload/")) return false;
        res.writeHead(429, { "retry-after": "0" }).end();
        return true;
      },
    });
    const e = await rejection(push(always));
    expect(e.message).toBe("the Hub is rate-limiting requests (HTTP 429) while pushing to alice/bert-sst2-head");
    expect(always.requests.filter((q) => q.path.includes("/preupload/"))).toHaveLength(6); // 1 + 5 retries

    const broken = await hub({
      intercept: (req, res) => {
        if (!req.path.includes("/commit/")) return false;
        res.writeHead(500, { "content-type": "application/json" }).end(JSON.stringify({ error: `internal error for ${TOKEN}` }));
        return true;
      },
    });
    const b = await rejection(push(broken));
    expect(b.message).toBe("the Hub answered HTTP 500 while pushing to alice/bert-sst2-head: internal error for ***");
  });
});

describe("bertune push (CLI)", () => {
  it("pushes with --token, HF_TOKEN or the token file, and never prints or saves the token", async () => {
    const s = await hub({ repos: { [BASE]: { dir: TINY_MODEL } } });
    const home = tempDir("bertune-push-cli-");
    const env = { HF_ENDPOINT: s.url, HF_HOME: home };
    const outputs: string[] = [];

    const byOption = await runCli(["push", run, "--repo", "alice/cli-head", "--token", TOKEN, "--commit-message", "from the CLI"], env);
    outputs.push(byOption.stdout, byOption.stderr);
    expect(byOption.stderr).not.toMatch(/error/);
    expect(byOption.code).toBe(0);
    expect(byOption.stdout).toMatch(/pushed\n\s+repo\s+alice\/cli-head \(created\)/);
    expect(byOption.stdout).toContain(s.commits[0].oid);
    expect(s.commits[0].summary).toBe("from the CLI");

    const byEnv = await runCli(["push", run, "--repo", "alice/cli-head", "--json"], { ...env, HF_TOKEN: TOKEN });
    outputs.push(byEnv.stdout, byEnv.stderr);
    expect(byEnv.code).toBe(0);
    expect(JSON.parse(byEnv.stdout)).toMatchObject({ repo: "alice/cli-head", created: false, commit: s.commits[1].oid });

    writeFileSync(join(home, "token"), `${TOKEN}\n`);
    const byFile = await runCli(["push", run, "--repo", "alice/cli-head"], env);
    outputs.push(byFile.stdout, byFile.stderr);
    expect(byFile.code).toBe(0);
    expect(s.commits).toHaveLength(3);
    expect(s.requests.filter((q) => !q.path.startsWith("/__lfs/")).every((q) => q.headers.authorization === `Bearer ${TOKEN}`)).toBe(true);

    for (const text of [...outputs, allText(run), ...s.commits.map((c) => c.files["README.md"].toString())]) expect(text).not.toContain(TOKEN);

    // What the card says to do with bertune works: download the repo into a folder, then predict with it.
    const local = join(tempDir("bertune-push-cli-"), "cli-head");
    const dl = await runCli(["download", "alice/cli-head", "--local-dir", local, "--token", TOKEN], env);
    expect(dl.code).toBe(0);
    const predicted = await runCli(["predict", local, "a gripping, beautifully acted film", "--json"], env);
    expect(predicted.stderr).not.toMatch(/error/);
    expect(predicted.code).toBe(0);
    const direct = await runCli(["predict", run, "a gripping, beautifully acted film", "--json"], env);
    expect(JSON.parse(predicted.stdout).probabilities).toEqual(JSON.parse(direct.stdout).probabilities);
  });

  it("fails with one line and a hint, exit code 2; --dry-run needs no token and sends nothing", async () => {
    const s = await hub();
    const env = { HF_ENDPOINT: s.url, HF_HOME: tempDir("bertune-push-cli-") };
    const none = await runCli(["push", run, "--repo", "alice/x"], env);
    expect(none.code).toBe(2);
    expect(none.stderr).toBe(
      "error: pushing needs a Hugging Face access token with write access\n" +
        `hint: pass --token, set HF_TOKEN, or run \`huggingface-cli login\`; create one at ${s.url}/settings/tokens\n`,
    );
    const bad = await runCli(["push", run, "--repo", "alice/x", "--token", "hf_wrongWrongWrong"], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error: the Hub refused the token \(HTTP 401\)/);
    expect(bad.stderr + bad.stdout).not.toContain("hf_wrongWrongWrong");
    const offline = await runCli(["push", run, "--repo", "alice/x", "--token", TOKEN, "--offline"], env);
    expect(offline.code).toBe(2);
    expect(offline.stderr).toContain("offline mode");

    const before = s.requests.length;
    const dry = await runCli(["push", run, "--repo", "alice/x", "--dry-run"], env);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/would upload to alice\/x\n\s+model\.safetensors/);
    expect(parseFrontMatter(dry.stdout.slice(dry.stdout.indexOf("---\n"))).meta.base_model).toBe(BASE);
    expect(s.requests).toHaveLength(before);
  });
});
