/**
 * PNG files of the report's charts, rendered server-side by resvg from the very SVG the HTML
 * page holds. resvg draws text only with fonts it can find: it loads the system fonts and falls
 * back to DejaVu Sans (Debian's fonts-dejavu-core), which the charts also name first.
 */
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { BertuneError } from "../errors.js";
import { writeFileAtomic } from "../util/atomic.js";
import type { Chart } from "./charts.js";

export const PNG_FONT_FAMILY = "DejaVu Sans";

/** Render one SVG to PNG bytes at `scale` × its own size (2 gives crisp images on HiDPI screens). */
export async function svgToPng(svg: string, scale = 2): Promise<Uint8Array> {
  let Resvg: typeof import("@resvg/resvg-js").Resvg;
  try {
    ({ Resvg } = await import("@resvg/resvg-js"));
  } catch (e) {
    // Its prebuilt binary is platform-specific; without it only the PNG files are lost.
    throw new BertuneError(`cannot load the SVG renderer @resvg/resvg-js: ${(e as Error).message}`, "the HTML report does not need it; reinstall bertune for PNG charts, or leave out --png");
  }
  const r = new Resvg(svg, {
    fitTo: { mode: "zoom", value: scale },
    background: "#ffffff",
    font: { loadSystemFonts: true, defaultFontFamily: PNG_FONT_FAMILY, sansSerifFamily: PNG_FONT_FAMILY },
    logLevel: "off",
  });
  return r.render().asPng();
}

/** Write `<id>.png` for each chart into `dir`; returns the absolute paths. */
export async function writePngCharts(dir: string, charts: readonly Chart[], scale = 2): Promise<string[]> {
  const out = resolve(dir);
  try {
    mkdirSync(out, { recursive: true });
  } catch (e) {
    throw new BertuneError(`cannot create the folder ${out} for the PNG charts: ${(e as Error).message}`, "pass --png with a folder you can write to");
  }
  const paths: string[] = [];
  for (const c of charts) {
    const path = join(out, `${c.id}.png`);
    writeFileAtomic(path, await svgToPng(c.svg, scale));
    paths.push(path);
  }
  return paths;
}
