/**
 * A confusion matrix as an SVG heat map. Each cell's shade is its share of the true class's row
 * (so a rare class is as readable as a frequent one); the cell shows the count, and its tooltip
 * the count and the share.
 */
import { FONT } from "./line-chart.js";
import { el, esc, num, shorten, text, textWidth } from "./svg.js";

export interface HeatMapOptions {
  title: string;
  /** Class names, in the order of the matrix's rows and columns. */
  labels: readonly string[];
  /** matrix[true][predicted] = count. */
  matrix: readonly (readonly number[])[];
  id?: string;
}

const LABEL_CHARS = 16;

/** White → dark blue, t in [0, 1]. */
export function heatColor(t: number): string {
  const c = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0));
  const from = [247, 251, 255];
  const to = [8, 48, 107];
  const rgb = from.map((f, i) => Math.round(f + (to[i] - f) * c));
  return `rgb(${rgb.join(",")})`;
}

export function heatMap(o: HeatMapOptions): string {
  const k = o.labels.length;
  const names = o.labels.map((l) => shorten(l, LABEL_CHARS));
  const cell = Math.max(18, Math.min(64, Math.floor(380 / Math.max(1, k))));
  const longest = Math.max(0, ...names.map((n) => textWidth(n, 11)));
  const rotate = longest > cell - 4;
  const top = 32;
  const bottom = 30 + (rotate ? longest * 0.75 + 6 : 16);
  const gridSize = cell * k;
  const needed = 34 + longest + 8 + gridSize + 20;
  const width = Math.max(needed, 260, textWidth(o.title, 14) + 24);
  // Centre the matrix when the title or the minimum width is wider than it needs.
  const shift = (width - needed) / 2;
  const left = shift + 34 + longest + 8;
  const height = top + gridSize + bottom;
  const fontSize = cell >= 30 ? 12 : 9;

  const parts: string[] = [el("title", {}, esc(o.title)), el("rect", { x: 0, y: 0, width, height, fill: "#ffffff" })];
  parts.push(text(width / 2, 18, o.title, { "text-anchor": "middle", "font-size": 14, "font-weight": "bold", fill: "#222" }));

  const cells: string[] = [];
  for (let r = 0; r < k; r++) {
    const row = o.matrix[r] ?? [];
    const total = row.reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
    for (let c = 0; c < k; c++) {
      const count = Number.isFinite(row[c]) ? row[c] : 0;
      const share = total > 0 ? count / total : 0;
      const x = left + c * cell;
      const y = top + r * cell;
      const tip = `true ${o.labels[r]} → predicted ${o.labels[c]}: ${count} (${(share * 100).toFixed(1)}% of ${o.labels[r]})`;
      cells.push(
        el(
          "g",
          { class: "cell", "data-row": r, "data-col": c, "data-count": count },
          el("title", {}, esc(tip)) +
            el("rect", { x, y, width: cell, height: cell, fill: heatColor(share), stroke: "#fff" }) +
            text(x + cell / 2, y + cell / 2 + fontSize * 0.35, String(count), {
              "text-anchor": "middle",
              "font-size": fontSize,
              fill: share > 0.5 ? "#fff" : "#222",
            }),
        ),
      );
    }
  }
  parts.push(el("g", { class: "cells" }, cells.join("")));

  const axis: string[] = [];
  names.forEach((n, i) => {
    axis.push(text(left - 6, top + i * cell + cell / 2 + 4, n, { "text-anchor": "end", "font-size": 11, fill: "#333" }));
    const cx = left + i * cell + cell / 2;
    const cy = top + gridSize + 14;
    axis.push(
      rotate
        ? text(cx, cy, n, { "text-anchor": "end", "font-size": 11, fill: "#333", transform: `rotate(-40 ${num(cx)} ${num(cy)})` })
        : text(cx, cy, n, { "text-anchor": "middle", "font-size": 11, fill: "#333" }),
    );
  });
  const yMid = top + gridSize / 2;
  const yTitleX = shift + 14;
  axis.push(text(yTitleX, yMid, "true label", { "text-anchor": "middle", "font-size": 12, fill: "#333", transform: `rotate(-90 ${num(yTitleX)} ${num(yMid)})` }));
  axis.push(text(left + gridSize / 2, height - 8, "predicted label", { "text-anchor": "middle", "font-size": 12, fill: "#333" }));
  parts.push(el("g", { class: "axes" }, axis.join("")));

  return el(
    "svg",
    { xmlns: "http://www.w3.org/2000/svg", width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": o.title, "data-chart": o.id, "font-family": FONT },
    parts.join(""),
  );
}
