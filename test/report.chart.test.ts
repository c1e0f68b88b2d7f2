import { describe, expect, it } from "vitest";
import { heatColor, heatMap } from "../src/report/heatmap.js";
import { lineChart } from "../src/report/line-chart.js";
import { extent, formatTick, linearScale, niceStep, niceTicks } from "../src/report/scale.js";
import { esc, num, shorten } from "../src/report/svg.js";

/** The points of every polyline in an SVG string, as numbers. */
function polylines(svg: string): { series: string; points: [number, number][] }[] {
  return [...svg.matchAll(/<polyline class="series" data-series="([^"]*)" points="([^"]*)"/g)].map((m) => ({
    series: m[1],
    points: m[2] === "" ? [] : m[2].split(" ").map((p) => p.split(",").map(Number) as [number, number]),
  }));
}

describe("scales", () => {
  it("maps a domain linearly onto a range, inverted for SVG's downward y", () => {
    const s = linearScale([0, 10], [100, 0]);
    expect(s(0)).toBe(100);
    expect(s(10)).toBe(0);
    expect(s(2.5)).toBe(75);
    expect(linearScale([3, 3], [0, 50])(3)).toBe(25); // a zero-width domain sits in the middle
  });

  it("finds the extent of the finite values only", () => {
    expect(extent([3, NaN, -1, Infinity, 2])).toEqual([-1, 3]);
    expect(extent([NaN])).toBeUndefined();
    expect(extent([])).toBeUndefined();
  });

  it("picks steps of 1, 2 or 5 times a power of ten", () => {
    expect(niceStep(1, 5)).toBe(0.2);
    expect(niceStep(100, 5)).toBe(20);
    expect(niceStep(0.001, 5)).toBeCloseTo(2e-4, 12);
    expect(niceStep(30, 6)).toBe(5);
    expect(niceStep(7, 5)).toBe(1);
    expect(niceStep(3, 6, true)).toBe(1); // never a fractional step on an integer axis
    expect(niceStep(0, 5)).toBe(1);
  });
});

describe("ticks", () => {
  it("covers the data with round ticks, widened to whole steps", () => {
    expect(niceTicks(0, 1, 5)).toEqual({ min: 0, max: 1, step: 0.2, values: [0, 0.2, 0.4, 0.6, 0.8, 1] });
    const t = niceTicks(0.62, 0.71, 5);
    expect(t.min).toBeLessThanOrEqual(0.62);
    expect(t.max).toBeGreaterThanOrEqual(0.71);
    expect(t.values).toEqual([0.62, 0.64, 0.66, 0.68, 0.7, 0.72]); // no 0.6400000000000001
    expect(niceTicks(1, 30, 6, true).values).toEqual([0, 5, 10, 15, 20, 25, 30]);
  });

  it("gives a flat series (one value) room around it, and survives bad input", () => {
    const flat = niceTicks(0.6931, 0.6931, 5);
    expect(flat.min).toBeLessThan(0.6931);
    expect(flat.max).toBeGreaterThan(0.6931);
    expect(niceTicks(0, 0).values).toContain(0);
    expect(niceTicks(5, 1).min).toBeLessThanOrEqual(1); // reversed bounds
    expect(niceTicks(NaN, Infinity).values).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
  });

  it("labels ticks with just the digits the step needs", () => {
    expect(formatTick(0, 0.2)).toBe("0");
    expect(formatTick(0.4, 0.2)).toBe("0.4");
    expect(formatTick(0.64, 0.02)).toBe("0.64");
    expect(formatTick(1200, 200)).toBe("1200");
    expect(formatTick(4e-4, 2e-4)).toBe("4e-4");
    expect(formatTick(1e-3, 2e-4)).toBe("1e-3");
    expect(formatTick(1.5e-5, 5e-6)).toBe("1.5e-5");
  });
});

describe("svg helpers", () => {
  it("escapes markup, rounds coordinates and shortens labels", () => {
    expect(esc(`<a href="x">'&'</a>`)).toBe("&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    expect(num(1.23456)).toBe("1.23");
    expect(num(-0.001)).toBe("0");
    expect(shorten("abcdefghij", 5)).toBe("abcd…");
    expect(shorten("abc", 5)).toBe("abc");
  });
});

describe("line chart", () => {
  const chart = lineChart({
    id: "t",
    title: "Loss <per> step",
    xLabel: "step",
    yLabel: "loss",
    integerX: true,
    xFromZero: true,
    width: 600,
    height: 300,
    guides: [{ x: 15, label: "epoch 1" }],
    series: [
      { name: "train", points: [[5, 0.7], [10, 0.6], [15, 0.5], [20, NaN], [25, 0.4]] },
      { name: "eval", points: [[15, 0.65], [30, 0.55]] },
    ],
  });

  it("is a standalone SVG with a title, axes, guides and a legend", () => {
    expect(chart.startsWith('<svg xmlns="http://www.w3.org/2000/svg" width="600" height="300" viewBox="0 0 600 300"')).toBe(true);
    expect(chart).toContain('data-chart="t"');
    expect(chart).toContain("<title>Loss &lt;per&gt; step</title>"); // escaped
    expect(chart).toContain('class="guides"');
    expect(chart).toContain(">epoch 1</text>");
    expect(chart.match(/class="legend-item"/g)).toHaveLength(2);
    expect(chart).not.toMatch(/NaN|Infinity|undefined/);
  });

  it("draws one polyline per series, one point per finite value, in the plot area", () => {
    const lines = polylines(chart);
    expect(lines.map((l) => l.series)).toEqual(["train", "eval"]);
    expect(lines[0].points).toHaveLength(4); // the NaN point is skipped
    expect(lines[1].points).toHaveLength(2);
    for (const { points } of lines) {
      for (const [x, y] of points) {
        expect(x).toBeGreaterThanOrEqual(0);
        expect(x).toBeLessThanOrEqual(600);
        expect(y).toBeGreaterThanOrEqual(0);
        expect(y).toBeLessThanOrEqual(300);
      }
    }
    // x increases with the step and y decreases as the loss grows (SVG's y points down).
    const [a, b] = lines[0].points;
    expect(b[0]).toBeGreaterThan(a[0]);
    expect(b[1]).toBeGreaterThan(a[1]);
  });

  it("places points by the axis scale: the x axis starts at 0 and ends at the last nice tick", () => {
    const svg = lineChart({ title: "t", xLabel: "x", yLabel: "y", width: 500, height: 300, yDomain: [0, 1], xFromZero: true, integerX: true, series: [{ name: "s", points: [[0, 0], [10, 1]] }] });
    const [{ points }] = polylines(svg);
    // Margins: left 64, right 20; so x runs 64..480. y: bottom margin 46, top 30 + one legend row 18.
    expect(points[0]).toEqual([64, 254]);
    expect(points[1]).toEqual([480, 48]);
  });

  it("shows a message instead of an empty plot", () => {
    const svg = lineChart({ title: "t", xLabel: "x", yLabel: "y", emptyMessage: "no evaluation", series: [{ name: "s", points: [] }] });
    expect(svg).toContain(">no evaluation</text>");
    expect(svg).not.toContain("<polyline");
  });
});

describe("heat map", () => {
  it("draws one cell per matrix entry with its count, shaded by its share of the row", () => {
    const svg = heatMap({ title: "cm", labels: ["neg", "pos", "neutral & <other>"], matrix: [[8, 2, 0], [1, 9, 0], [0, 0, 0]], id: "confusion" });
    const cells = [...svg.matchAll(/<g class="cell" data-row="(\d)" data-col="(\d)" data-count="(\d+)">/g)].map((m) => m.slice(1).map(Number));
    expect(cells).toHaveLength(9);
    expect(cells.find(([r, c]) => r === 1 && c === 1)![2]).toBe(9);
    expect(svg).toContain("neutral &amp; &lt;other&gt;");
    expect(svg).toContain("80.0% of neg");
    expect(heatColor(0)).toBe("rgb(247,251,255)");
    expect(heatColor(1)).toBe("rgb(8,48,107)");
    expect(heatColor(NaN)).toBe(heatColor(0));
    expect(svg).toContain(`fill="${heatColor(0.8)}"`);
    expect(svg).not.toMatch(/NaN/); // an empty row has share 0, not 0/0
  });
});
