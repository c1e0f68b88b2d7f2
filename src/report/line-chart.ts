/**
 * A line chart as a standalone SVG string: axes with nice ticks (a linear or a log y axis), one
 * polyline per series (with point markers when there are few points), optional labelled vertical
 * guides (epoch boundaries), and a legend. No scripts and no external resources, so it renders the same in a browser and in
 * resvg.
 */
import { extent, formatTick, linearScale, logScale, logTicks, niceTicks } from "./scale.js";
import { el, esc, num, shorten, text, textWidth } from "./svg.js";

export type Point = readonly [number, number];

export interface Series {
  name: string;
  points: readonly Point[];
  color?: string;
  dashed?: boolean;
  /** Dots on the points (default: when there are at most 60). */
  markers?: boolean;
}

export interface LineChartOptions {
  /** Shown above the chart and used as its accessible name. */
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly Series[];
  width?: number;
  height?: number;
  /** A fixed y range (e.g. [0, 1] for accuracy) instead of the data's extent. */
  yDomain?: readonly [number, number];
  /** Start the y axis at 0 (losses, learning rates). */
  yFromZero?: boolean;
  /**
   * "log": a logarithmic y axis (perplexities, which fall by orders of magnitude), when every
   * plotted value is > 0 and neither yDomain nor yFromZero is set; otherwise the axis is linear.
   * The scale used is written as data-y-scale on the chart's `g.plot` element.
   */
  yScale?: "linear" | "log";
  /** Whole-number ticks on the x axis (steps). */
  integerX?: boolean;
  /** Start the x axis at 0 (steps: training starts there). */
  xFromZero?: boolean;
  /** Labelled vertical lines, e.g. where each epoch ends on a step axis. */
  guides?: readonly { x: number; label: string }[];
  /** Written as data-chart, to find the chart in a page. */
  id?: string;
  /** Text shown in place of the plot when no series has a point. */
  emptyMessage?: string;
  /** One point ringed and labelled, e.g. the best evaluation of the metric the run is selected by. */
  highlight?: { x: number; y: number; label: string };
}

/** Colour-blind-safe series colours (Okabe–Ito), in order of use. */
export const PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"];

export const FONT = "'DejaVu Sans', system-ui, -apple-system, 'Segoe UI', Arial, sans-serif";
const FONT_SIZE = 12;
const MARKERS_UP_TO = 60;

interface LegendItem {
  name: string;
  color: string;
  dashed: boolean;
  x: number;
  row: number;
}

function layoutLegend(series: readonly { name: string; color: string; dashed: boolean }[], width: number): { items: LegendItem[]; rows: number } {
  const items: LegendItem[] = [];
  let x = 0;
  let row = 0;
  for (const s of series) {
    const w = 26 + textWidth(shorten(s.name, 40), FONT_SIZE) + 14;
    if (x > 0 && x + w > width) {
      row++;
      x = 0;
    }
    items.push({ ...s, x, row });
    x += w;
  }
  return { items, rows: series.length ? row + 1 : 0 };
}

export function lineChart(o: LineChartOptions): string {
  const width = o.width ?? 640;
  const height = o.height ?? 320;
  const series = o.series.map((s, i) => ({
    name: s.name,
    color: s.color ?? PALETTE[i % PALETTE.length],
    dashed: s.dashed ?? false,
    markers: s.markers,
    points: s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)),
  }));
  const legend = layoutLegend(series, width - 70);
  const margin = { top: 30 + legend.rows * 18 + (o.guides?.length ? 14 : 0), right: 20, bottom: 46, left: 64 };
  const plot = { x0: margin.left, x1: width - margin.right, y0: height - margin.bottom, y1: margin.top };

  const parts: string[] = [];
  parts.push(el("title", {}, esc(o.title)));
  parts.push(el("rect", { x: 0, y: 0, width, height, fill: "#ffffff" }));
  parts.push(text(width / 2, 18, o.title, { "text-anchor": "middle", "font-size": 14, "font-weight": "bold", fill: "#222" }));
  legend.items.forEach((it) => {
    const lx = margin.left + it.x;
    const ly = 30 + it.row * 18;
    parts.push(
      el("g", { class: "legend-item", "data-series": it.name }, [
        el("line", { x1: lx, y1: ly, x2: lx + 20, y2: ly, stroke: it.color, "stroke-width": 2.5, "stroke-dasharray": it.dashed ? "5 3" : undefined }),
        text(lx + 26, ly + 4, shorten(it.name, 40), { "font-size": FONT_SIZE, fill: "#333" }),
      ].join("")),
    );
  });

  const all = series.flatMap((s) => s.points);
  const xs = extent(all.map(([x]) => x));
  const ysData = extent(all.map(([, y]) => y));
  // Axes frame.
  parts.push(el("rect", { x: plot.x0, y: plot.y1, width: plot.x1 - plot.x0, height: plot.y0 - plot.y1, fill: "none", stroke: "#bbb" }));
  parts.push(text((plot.x0 + plot.x1) / 2, height - 8, o.xLabel, { "text-anchor": "middle", "font-size": FONT_SIZE, fill: "#333" }));
  const yMid = (plot.y0 + plot.y1) / 2;
  parts.push(text(16, yMid, o.yLabel, { "text-anchor": "middle", "font-size": FONT_SIZE, fill: "#333", transform: `rotate(-90 16 ${num(yMid)})` }));

  if (!xs || !ysData) {
    parts.push(text((plot.x0 + plot.x1) / 2, yMid, o.emptyMessage ?? "nothing was logged", { "text-anchor": "middle", "font-size": 13, fill: "#888", class: "empty" }));
    return svg(width, height, o, parts);
  }

  const [yLo, yHi] = o.yDomain ?? [o.yFromZero ? Math.min(0, ysData[0]) : ysData[0], ysData[1]];
  const logY = o.yScale === "log" && !o.yDomain && !o.yFromZero ? logTicks(yLo, yHi) : undefined;
  const yTicks = logY ?? niceTicks(yLo, yHi, 5);
  const yLabels = logY?.labels ?? yTicks.values.map((v) => formatTick(v, yTicks.step));
  const xTicks = niceTicks(o.xFromZero ? Math.min(0, xs[0]) : xs[0], xs[1], 6, o.integerX);
  const sx = linearScale([xTicks.min, xTicks.max], [plot.x0, plot.x1]);
  const sy = (logY ? logScale : linearScale)([yTicks.min, yTicks.max], [plot.y0, plot.y1]);

  const grid: string[] = [];
  yTicks.values.forEach((v, i) => {
    const y = sy(v);
    grid.push(el("line", { x1: plot.x0, y1: y, x2: plot.x1, y2: y, stroke: "#eee" }));
    grid.push(text(plot.x0 - 6, y + 4, yLabels[i], { "text-anchor": "end", "font-size": 11, fill: "#555" }));
  });
  for (const v of xTicks.values) {
    const x = sx(v);
    grid.push(el("line", { x1: x, y1: plot.y0, x2: x, y2: plot.y0 + 5, stroke: "#999" }));
    grid.push(text(x, plot.y0 + 18, formatTick(v, xTicks.step), { "text-anchor": "middle", "font-size": 11, fill: "#555" }));
  }
  parts.push(el("g", { class: "axes" }, grid.join("")));
  // The mapping from values to pixels, for whoever reads the chart's markup (tests, scrapers).
  parts.push(
    el("g", {
      class: "plot",
      "data-x-domain": `${xTicks.min} ${xTicks.max}`,
      "data-y-domain": `${yTicks.min} ${yTicks.max}`,
      "data-y-scale": logY ? "log" : "linear",
      "data-plot": `${plot.x0} ${plot.y0} ${plot.x1} ${plot.y1}`,
    }),
  );

  if (o.guides?.length) {
    const g = o.guides
      .filter((d) => d.x >= xTicks.min && d.x <= xTicks.max)
      .map((d) => {
        const x = sx(d.x);
        return (
          el("line", { x1: x, y1: plot.y1, x2: x, y2: plot.y0, stroke: "#c8c8c8", "stroke-dasharray": "3 3" }) +
          text(x, plot.y1 - 4, d.label, { "text-anchor": "middle", "font-size": 10, fill: "#777" })
        );
      });
    parts.push(el("g", { class: "guides" }, g.join("")));
  }

  for (const s of series) {
    const pts = s.points.map(([x, y]) => `${num(sx(x))},${num(sy(y))}`).join(" ");
    const body: string[] = [
      el("polyline", {
        class: "series",
        "data-series": s.name,
        points: pts,
        fill: "none",
        stroke: s.color,
        "stroke-width": 2,
        "stroke-linejoin": "round",
        "stroke-dasharray": s.dashed ? "6 4" : undefined,
      }),
    ];
    if (s.markers ?? s.points.length <= MARKERS_UP_TO) {
      for (const [x, y] of s.points) body.push(el("circle", { cx: sx(x), cy: sy(y), r: 3, fill: s.color }));
    }
    parts.push(el("g", { class: "series-group" }, body.join("")));
  }
  const h = o.highlight;
  if (h && Number.isFinite(h.x) && Number.isFinite(h.y)) {
    const hx = sx(h.x);
    const hy = sy(h.y);
    // The label goes to whichever side of the point has room.
    const leftSide = hx > (plot.x0 + plot.x1) / 2;
    parts.push(
      el(
        "g",
        { class: "highlight", "data-x": String(h.x), "data-y": String(h.y) },
        el("circle", { cx: hx, cy: hy, r: 7, fill: "none", stroke: "#222", "stroke-width": 1.5 }) +
          text(leftSide ? hx - 10 : hx + 10, hy - 8, h.label, { "text-anchor": leftSide ? "end" : "start", "font-size": 11, fill: "#222" }),
      ),
    );
  }
  return svg(width, height, o, parts);
}

function svg(width: number, height: number, o: LineChartOptions, parts: string[]): string {
  return el(
    "svg",
    {
      xmlns: "http://www.w3.org/2000/svg",
      width,
      height,
      viewBox: `0 0 ${width} ${height}`,
      role: "img",
      "aria-label": o.title,
      "data-chart": o.id,
      "font-family": FONT,
    },
    parts.join(""),
  );
}
