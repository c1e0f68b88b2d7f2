/**
 * An exported run in the browser: a page on localhost loads transformers.js's web build (from
 * node_modules, with onnxruntime-web's wasm served beside it) and the run folder, classifies
 * sentences in headless Chromium (Debian's /usr/bin/chromium through playwright-core), and must
 * give the scores Node gives: bertune predict for float32, transformers.js in Node for int8.
 * Nothing may be fetched from anywhere but the test's own server.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { basename, dirname, extname, join, normalize } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "./helpers/cli.js";
import { DATASETS, ROOT, TINY_MODEL, sst2Subset, tempDir } from "./helpers/fixtures.js";

const CHROMIUM = "/usr/bin/chromium";
const haveChromium = existsSync(CHROMIUM);
// Under CI (.ci/run installs Chromium), a missing browser is an error, not a skip.
if (!haveChromium && (process.env.CI || process.env.BERTUNE_REQUIRE_CHROMIUM === "1")) throw new Error(`${CHROMIUM} is absent but CI requires the browser tests`);
if (!haveChromium) console.warn(`transformers-js.browser.test: skipped: ${CHROMIUM} is absent (apt-get install -y chromium; .ci/run installs it)`);

type Playwright = typeof import("playwright-core");
type Context = Awaited<ReturnType<Playwright["chromium"]["launchPersistentContext"]>>;
type Scores = Record<string, number>[];

const TEXTS = readFileSync(join(DATASETS, "sst2", "dev.tsv"), "utf8").split("\n").slice(1, 65).map((l) => l.split("\t")[0]);
const TYPES: Record<string, string> = { ".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm", ".json": "application/json", ".onnx": "application/octet-stream", ".txt": "text/plain", ".html": "text/html" };

const PAGE = `<!doctype html><meta charset="utf-8"><title>bertune run in transformers.js</title>
<script type="module">
  import { pipeline, env } from "/tjs/transformers.js";
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = "/models/";
  env.useBrowserCache = false;
  env.backends.onnx.wasm.wasmPaths = { mjs: "/ort/ort-wasm-simd-threaded.asyncify.mjs", wasm: "/ort/ort-wasm-simd-threaded.asyncify.wasm" };
  env.backends.onnx.wasm.numThreads = 1;
  window.classify = async (run, dtype, texts) => {
    const classifier = await pipeline("text-classification", run, { dtype, device: "wasm" });
    const out = await classifier(texts, { top_k: null });
    await classifier.dispose();
    return out.map((row) => Object.fromEntries(row.map((x) => [x.label, x.score])));
  };
  window.ready = true;
</script>`;

/** Serves the page, transformers.js's dist, onnxruntime-web's dist and the run folders; records every path asked for. */
function serve(runs: string): Promise<{ server: Server; url: string; asked: string[] }> {
  const roots: Record<string, string> = {
    "/tjs/": join(ROOT, "node_modules/@huggingface/transformers/dist"),
    "/ort/": join(ROOT, "node_modules/onnxruntime-web/dist"),
    "/models/": runs,
  };
  const asked: string[] = [];
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    asked.push(path);
    if (path === "/") {
      res.writeHead(200, { "content-type": "text/html" }).end(PAGE);
      return;
    }
    const prefix = Object.keys(roots).find((p) => path.startsWith(p));
    const file = prefix && normalize(join(roots[prefix], path.slice(prefix.length)));
    if (!prefix || !file || !file.startsWith(roots[prefix]) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" }).end(readFileSync(file));
  });
  return new Promise((ok) => server.listen(0, "127.0.0.1", () => ok({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, asked })));
}

function maxDiff(a: Scores, b: Scores): number {
  expect(a).toHaveLength(b.length);
  let m = 0;
  a.forEach((s, i) => Object.keys(s).forEach((k) => (m = Math.max(m, Math.abs(s[k] - b[i][k])))));
  return m;
}

describe.skipIf(!haveChromium)("an exported run in transformers.js's web build, in headless Chromium", () => {
  const work = tempDir("bertune-tjs-browser-");
  const env = { HF_HOME: join(work, "hf"), BERTUNE_CACHE: join(work, "cache") };
  const runs = join(work, "runs");
  let context: Context;
  let site: Awaited<ReturnType<typeof serve>>;
  const outside: string[] = [];

  beforeAll(async () => {
    const data = sst2Subset(join(work, "data"), 256, 64);
    for (const [name, args] of [
      ["frozen", ["--freeze-backbone", "--pooling", "mean", "--epochs", "5", "--learning-rate", "1e-2"]],
      ["full", ["--epochs", "1", "--batch-size", "16", "--max-length", "64", "--device", "wasm"]],
    ] as const) {
      const r = await runCli(["train", "--model", TINY_MODEL, "--dataset", data, "--output", join(runs, name), "--export-onnx", "-q", ...args], env);
      expect(r.code).toBe(0);
    }
    site = await serve(runs);
    const { chromium } = (await import("playwright-core")) as Playwright;
    context = await chromium.launchPersistentContext(tempDir("bertune-chromium-profile-"), {
      executablePath: CHROMIUM,
      headless: true,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    // Nothing but the test's server: any other request is recorded and refused.
    await context.route("**/*", (route) => {
      const url = route.request().url();
      if (url.startsWith(site.url)) return route.continue();
      outside.push(url);
      return route.abort();
    });
  });

  afterAll(async () => {
    await context?.close();
    await new Promise((ok) => site?.server.close(ok));
  });

  async function inBrowser(run: string, dtype: "fp32" | "q8"): Promise<Scores> {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(site.url + "/");
    await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true, undefined, { timeout: 60_000 });
    const scores = (await page.evaluate(([r, d, t]) => (window as unknown as { classify: (r: string, d: string, t: string[]) => Promise<Scores> }).classify(r, d, t), [run, dtype, TEXTS] as const)) as Scores;
    await page.close();
    expect(errors).toEqual([]);
    return scores;
  }

  async function inNode(run: string, dtype: "fp32" | "q8"): Promise<Scores> {
    const { pipeline, env: tenv } = await import("@huggingface/transformers");
    tenv.allowRemoteModels = false;
    tenv.localModelPath = dirname(join(runs, run)) + "/";
    const classify = await pipeline("text-classification", basename(join(runs, run)), { dtype });
    const out = (await classify(TEXTS, { top_k: null })) as unknown as { label: string; score: number }[][];
    await classify.dispose();
    return out.map((row) => Object.fromEntries(row.map((x) => [x.label, x.score])));
  }

  it.each(["frozen", "full"])("a %s run: float32 scores equal bertune predict's in Node within 1e-5; int8 equal Node's int8", async (run) => {
    const r = await runCli(["predict", join(runs, run), "--json", "--device", "wasm"], env, TEXTS.join("\n") + "\n");
    expect(r.code).toBe(0);
    const node = r.stdout.trim().split("\n").map((l) => JSON.parse(l).probabilities as Record<string, number>);
    const fp32 = await inBrowser(run, "fp32");
    expect(maxDiff(fp32, node)).toBeLessThan(1e-5);
    const q8 = await inBrowser(run, "q8");
    const d = maxDiff(q8, await inNode(run, "q8"));
    console.log(`${run}: browser q8 vs Node q8 max |Δp| ${d.toExponential(2)}; browser q8 vs float32 ${maxDiff(q8, fp32).toExponential(2)}`);
    expect(d).toBeLessThan(1e-4);
    expect(site.asked).toContain(`/models/${run}/onnx/model_quantized.onnx`);
    expect(outside).toEqual([]);
  });
});
