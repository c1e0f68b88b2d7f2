/**
 * Opens the written report in headless Chromium (Debian's /usr/bin/chromium through
 * playwright-core): no console or page errors, no request leaves file://, every chart is
 * visible with a real size. Screenshots go to a temporary folder (their paths are printed; set BERTUNE_KEEP_TEMP=1 to keep them after the run).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "./helpers/cli.js";
import { DATASETS, TINY_MODEL, tempDir } from "./helpers/fixtures.js";

const CHROMIUM = "/usr/bin/chromium";
const haveChromium = existsSync(CHROMIUM);
// .ci/run sets BERTUNE_REQUIRE_CHROMIUM=1 once it has installed Chromium (under CI a failed install
// fails the run): then a missing browser is an error, not a skip.
if (!haveChromium && process.env.BERTUNE_REQUIRE_CHROMIUM === "1") throw new Error(`BERTUNE_REQUIRE_CHROMIUM=1 but ${CHROMIUM} is absent`);
if (!haveChromium) console.warn(`report.browser.test: skipped: ${CHROMIUM} is absent (apt-get install -y chromium; .ci/run installs it)`);

type Playwright = typeof import("playwright-core");
type Context = Awaited<ReturnType<Playwright["chromium"]["launchPersistentContext"]>>;

describe.skipIf(!haveChromium)("the HTML report in headless Chromium", () => {
  const work = tempDir("bertune-browser-");
  const shots = tempDir("bertune-screenshots-");
  const env = { BERTUNE_CACHE: join(work, "cache"), HF_HOME: join(work, "hf") };
  let context: Context;

  beforeAll(async () => {
    const data = join(work, "data");
    mkdirSync(data);
    const take = (file: string, n: number) => readFileSync(join(DATASETS, "sst2", file), "utf8").split("\n").slice(0, n + 1).join("\n") + "\n";
    writeFileSync(join(data, "train.tsv"), take("train.tsv", 120));
    writeFileSync(join(data, "dev.tsv"), take("dev.tsv", 40));
    for (const [run, lr] of [["run-a", "1e-3"], ["run-b", "3e-3"]]) {
      const r = await runCli(["train", "--model", TINY_MODEL, "--dataset", data, "--freeze-backbone", "--epochs", "3", "--logging-steps", "3", "--learning-rate", lr, "--output", join(work, run), "-q"], env);
      expect(r.code).toBe(0);
    }
    expect((await runCli(["report", join(work, "run-a"), "-q"], env)).code).toBe(0);
    expect((await runCli(["report", "--compare", join(work, "run-a"), join(work, "run-b"), "--out", join(work, "compare.html"), "-q"], env)).code).toBe(0);

    const { chromium } = (await import("playwright-core")) as Playwright;
    context = await chromium.launchPersistentContext(tempDir("bertune-chromium-profile-"), {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1400, height: 1000 },
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
  });

  afterAll(async () => {
    await context?.close();
  });

  async function open(file: string, shot: string) {
    const page = await context.newPage();
    const problems: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warning") problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    page.on("request", (r) => {
      if (!r.url().startsWith("file:")) problems.push(`request: ${r.url()}`);
    });
    await page.goto(pathToFileURL(file).href, { waitUntil: "load" });
    const charts = await page.locator("svg[data-chart]").all();
    const sizes: { id: string | null; width: number; height: number; visible: boolean }[] = [];
    for (const c of charts) {
      await c.scrollIntoViewIfNeeded();
      const box = await c.boundingBox();
      sizes.push({ id: await c.getAttribute("data-chart"), width: box?.width ?? 0, height: box?.height ?? 0, visible: await c.isVisible() });
    }
    const path = join(shots, shot);
    await page.screenshot({ path, fullPage: true });
    console.log(`report.browser.test: screenshot ${path}`);
    const title = await page.title();
    const textLength = (await page.locator("main").innerText()).length;
    await page.close();
    return { problems, sizes, title, path, textLength };
  }

  it("shows a run's report without errors, every chart visible with a real size", async () => {
    const r = await open(join(work, "run-a", "report.html"), "run-report.png");
    expect(r.problems).toEqual([]);
    expect(r.title).toBe("bertune run run-a");
    expect(r.sizes.map((s) => s.id)).toEqual(["loss", "metric", "loss-epoch", "metric-epoch", "lr", "confusion"]);
    for (const s of r.sizes) {
      expect(s.visible, `${s.id} visible`).toBe(true);
      expect(s.width, `${s.id} width`).toBeGreaterThan(150);
      expect(s.height, `${s.id} height`).toBeGreaterThan(100);
    }
    expect(r.textLength).toBeGreaterThan(500);
    expect(readFileSync(r.path).length).toBeGreaterThan(10_000);
  });

  it("shows the comparison page without errors", async () => {
    const r = await open(join(work, "compare.html"), "compare-report.png");
    expect(r.problems).toEqual([]);
    expect(r.sizes.map((s) => s.id)).toEqual(["loss", "eval-loss", "metric", "lr"]);
    for (const s of r.sizes) {
      expect(s.visible).toBe(true);
      expect(s.width).toBeGreaterThan(150);
      expect(s.height).toBeGreaterThan(100);
    }
  });
});
