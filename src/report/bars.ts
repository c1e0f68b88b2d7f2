/**
 * A horizontal bar chart of one score per label (multi-label runs: each label's F1), as a
 * standalone SVG string: the label on the left, a bar on a fixed 0–1 axis, the value and the
 * label's support on the right, and a dashed line at a reference value (the macro average).
 */
import { FONT, PALETTE } from "./line-chart.js";
import { linearScale } from "./scale.js";
import { el, esc, num, shorten, text, textWidth } from "./svg.js";

export interface BarItem {
  label: string;
  /** In [0, 1]. */
  value: number;
  /** Examples where the label is true. */
  support: number;
}

export interface BarChartOptions {
  title: string;
  items: readonly BarItem[];
  /** What the bars measure, shown under the axis. */
  xLabel: string;
  /** A labelled dashed vertical line, e.g. the macro average. */
  reference?: { value: number; label: string };
  id?: string;
}

const LABEL_CHARS = 22;
const ROW = 18;
const BAR_WIDTH = 320;

export function barChart(o: BarChartOptions): string {
  const names = o.items.map((it) => shorten(it.label, LABEL_CHARS));
  const labelWidth = Math.max(40, ...names.map((n) => textWidth(n, 11)));
  const left = 12 + labelWidth + 8;
  const right = 110;
  const top = 52;
  const width = Math.max(left + BAR_WIDTH + right, textWidth(o.title, 14) + 24);
  const height = top + o.items.length * ROW + 44;
  const x = linearScale([0, 1], [left, left + BAR_WIDTH]);

  const parts: string[] = [el("title", {}, esc(o.title)), el("rect", { x: 0, y: 0, width, height, fill: "#ffffff" })];
  parts.push(text(width / 2, 18, o.title, { "text-anchor": "middle", "font-size": 14, "font-weight": "bold", fill: "#222" }));
  parts.push(text(left + BAR_WIDTH + 8, top - 8, "value · support", { "font-size": 11, fill: "#555" }));

  const axis: string[] = [];
  for (const v of [0, 0.2, 0.4, 0.6, 0.8, 1]) {
    axis.push(el("line", { x1: x(v), y1: top - 4, x2: x(v), y2: top + o.items.length * ROW, stroke: "#eee" }));
    axis.push(text(x(v), top + o.items.length * ROW + 16, String(v), { "text-anchor": "middle", "font-size": 11, fill: "#555" }));
  }
  axis.push(text(left + BAR_WIDTH / 2, height - 8, o.xLabel, { "text-anchor": "middle", "font-size": 12, fill: "#333" }));
  parts.push(el("g", { class: "axes" }, axis.join("")));

  const rows = o.items.map((it, i) => {
    const y = top + i * ROW;
    const v = Number.isFinite(it.value) ? Math.max(0, Math.min(1, it.value)) : 0;
    const tip = `${it.label}: ${Number.isFinite(it.value) ? it.value.toFixed(4) : "—"} (support ${it.support})`;
    return el(
      "g",
      // Full-precision values as strings: numbers in attributes are rounded for coordinates.
      { class: "bar", "data-label": it.label, "data-value": String(it.value), "data-support": String(it.support) },
      el("title", {}, esc(tip)) +
        text(left - 8, y + ROW / 2 + 4, names[i], { "text-anchor": "end", "font-size": 11, fill: "#333" }) +
        el("rect", { x: left, y: y + 3, width: x(v) - left, height: ROW - 6, fill: PALETTE[0] }) +
        text(left + BAR_WIDTH + 8, y + ROW / 2 + 4, `${Number.isFinite(it.value) ? it.value.toFixed(3) : "—"} · ${it.support}`, { "font-size": 11, fill: "#333" }),
    );
  });
  parts.push(el("g", { class: "bars" }, rows.join("")));
  if (o.reference && Number.isFinite(o.reference.value)) {
    const rx = x(Math.max(0, Math.min(1, o.reference.value)));
    parts.push(el("line", { class: "reference", x1: rx, y1: top - 4, x2: rx, y2: top + o.items.length * ROW, stroke: PALETTE[1], "stroke-width": 1.5, "stroke-dasharray": "5 3" }));
    parts.push(text(rx, top - 22, o.reference.label, { "text-anchor": "middle", "font-size": 11, fill: PALETTE[1] }));
  }
  return el(
    "svg",
    { xmlns: "http://www.w3.org/2000/svg", width, height, viewBox: `0 0 ${num(width)} ${num(height)}`, role: "img", "aria-label": o.title, "data-chart": o.id, "font-family": FONT },
    parts.join(""),
  );
}
