/**
 * A scatter plot of predicted against true values, as a standalone SVG string: one dot per
 * example, both axes on the same scale (a square plot), and the y = x line a perfect model's
 * dots would lie on. Like the other charts it has no scripts and no external resources.
 */
import { FONT, PALETTE } from "./line-chart.js";
import { extent, formatTick, linearScale, niceTicks } from "./scale.js";
import { el, esc, num, text } from "./svg.js";

export interface ScatterOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  /** [x, y] = [true value, predicted value], in example order. */
  points: readonly (readonly [number, number])[];
  /** Written as data-chart, to find the chart in a page. */
  id?: string;
  /** Side of the square plot area in pixels (default 380). */
  size?: number;
  /** At most this many dots are drawn (default 5000), evenly spread over the examples; the rest would only blot the plot and the page. */
  maxPoints?: number;
}

/** The indices of the examples drawn: all of them, or an even, deterministic sample of `max`. */
export function drawnIndices(n: number, max: number): number[] {
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  return Array.from({ length: max }, (_, i) => Math.floor((i * n) / max));
}

export function scatterChart(o: ScatterOptions): string {
  const size = o.size ?? 380;
  const margin = { top: 34, right: 20, bottom: 46, left: 64 };
  const width = margin.left + size + margin.right;
  const height = margin.top + size + margin.bottom;
  const plot = { x0: margin.left, x1: margin.left + size, y0: margin.top + size, y1: margin.top };
  const finite = o.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));

  const parts: string[] = [el("title", {}, esc(o.title)), el("rect", { x: 0, y: 0, width, height, fill: "#ffffff" })];
  parts.push(text(width / 2, 18, o.title, { "text-anchor": "middle", "font-size": 14, "font-weight": "bold", fill: "#222" }));
  parts.push(el("rect", { x: plot.x0, y: plot.y1, width: size, height: size, fill: "none", stroke: "#bbb" }));
  parts.push(text((plot.x0 + plot.x1) / 2, height - 8, o.xLabel, { "text-anchor": "middle", "font-size": 12, fill: "#333" }));
  const yMid = (plot.y0 + plot.y1) / 2;
  parts.push(text(16, yMid, o.yLabel, { "text-anchor": "middle", "font-size": 12, fill: "#333", transform: `rotate(-90 16 ${num(yMid)})` }));

  const range = extent(finite.flatMap(([x, y]) => [x, y]));
  if (!range) {
    parts.push(text((plot.x0 + plot.x1) / 2, yMid, "no predictions", { "text-anchor": "middle", "font-size": 13, fill: "#888", class: "empty" }));
    return svg(width, height, o, parts);
  }
  // One scale for both axes, so that the diagonal is y = x and distances mean the same both ways.
  const ticks = niceTicks(range[0], range[1], 5);
  const sx = linearScale([ticks.min, ticks.max], [plot.x0, plot.x1]);
  const sy = linearScale([ticks.min, ticks.max], [plot.y0, plot.y1]);

  const grid: string[] = [];
  for (const v of ticks.values) {
    const label = formatTick(v, ticks.step);
    grid.push(el("line", { x1: plot.x0, y1: sy(v), x2: plot.x1, y2: sy(v), stroke: "#eee" }));
    grid.push(el("line", { x1: sx(v), y1: plot.y0, x2: sx(v), y2: plot.y1, stroke: "#eee" }));
    grid.push(text(plot.x0 - 6, sy(v) + 4, label, { "text-anchor": "end", "font-size": 11, fill: "#555" }));
    grid.push(text(sx(v), plot.y0 + 18, label, { "text-anchor": "middle", "font-size": 11, fill: "#555" }));
  }
  parts.push(el("g", { class: "axes" }, grid.join("")));
  parts.push(
    el("line", { class: "identity", x1: sx(ticks.min), y1: sy(ticks.min), x2: sx(ticks.max), y2: sy(ticks.max), stroke: "#888", "stroke-width": 1.5, "stroke-dasharray": "6 4" }),
  );

  const shown = drawnIndices(finite.length, o.maxPoints ?? 5000);
  const dots = shown.map((i) => el("circle", { cx: sx(finite[i][0]), cy: sy(finite[i][1]), r: 2.2, fill: PALETTE[0], "fill-opacity": 0.45 }));
  // The mapping back from pixels to values, for whoever reads the chart's markup (tests, scrapers).
  const attrs = {
    class: "points",
    "data-domain": `${ticks.min} ${ticks.max}`,
    "data-plot": `${plot.x0} ${plot.y0} ${plot.x1} ${plot.y1}`,
    "data-n": String(finite.length),
    "data-shown": String(shown.length),
  };
  parts.push(el("g", attrs, dots.join("")));
  const note = shown.length < finite.length ? `${shown.length} of ${finite.length} examples shown` : `${finite.length} examples`;
  parts.push(text(plot.x0 + 8, plot.y1 + 16, note, { "font-size": 11, fill: "#555" }));
  parts.push(text(plot.x1 - 8, plot.y1 + 16, "y = x", { "text-anchor": "end", "font-size": 11, fill: "#888" }));
  return svg(width, height, o, parts);
}

function svg(width: number, height: number, o: ScatterOptions, parts: string[]): string {
  return el(
    "svg",
    { xmlns: "http://www.w3.org/2000/svg", width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": o.title, "data-chart": o.id, "font-family": FONT },
    parts.join(""),
  );
}
