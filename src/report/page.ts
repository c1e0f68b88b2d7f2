/**
 * The HTML shell shared by the run and comparison reports: one self-contained file with inline
 * CSS and inline SVG. Its Content-Security-Policy forbids scripts and every network fetch, so the
 * page is safe to open from anywhere and looks the same offline.
 */
import { esc } from "./svg.js";

const CSS = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.5 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", Arial, sans-serif; color: #1f2328; background: #f6f8fa; }
header { background: #24292f; color: #fff; padding: 18px 28px; }
header h1 { margin: 0; font-size: 22px; }
header p { margin: 4px 0 0; color: #c9d1d9; font-size: 13px; word-break: break-all; }
nav { padding: 8px 28px; background: #fff; border-bottom: 1px solid #d0d7de; font-size: 13px; }
nav a { margin-right: 16px; color: #0969da; text-decoration: none; }
main { padding: 8px 28px 40px; max-width: 1500px; }
section { background: #fff; border: 1px solid #d0d7de; border-radius: 8px; padding: 16px 20px; margin: 16px 0; }
h2 { margin: 0 0 12px; font-size: 18px; }
h3 { margin: 16px 0 8px; font-size: 15px; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; }
.card { border: 1px solid #d0d7de; border-radius: 6px; padding: 8px 14px; min-width: 130px; }
.card .k { color: #57606a; font-size: 12px; }
.card .v { font-size: 20px; font-weight: 600; font-variant-numeric: tabular-nums; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
figure.chart { margin: 0; }
figure.chart svg { display: block; max-width: 100%; height: auto; border: 1px solid #eaeef2; border-radius: 4px; }
figcaption { color: #57606a; font-size: 12px; margin-top: 4px; max-width: 640px; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; margin: 4px 0; }
th, td { border-bottom: 1px solid #eaeef2; padding: 4px 10px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; font-weight: 600; }
td.n { text-align: right; white-space: nowrap; }
td:first-child { white-space: nowrap; }
td.text { max-width: 640px; white-space: pre-wrap; word-break: break-word; }
.bar { background-repeat: no-repeat; }
.note { color: #57606a; }
.warn { color: #9a6700; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px; margin-right: 6px; vertical-align: -1px; }
code { font-family: "DejaVu Sans Mono", ui-monospace, Menlo, Consolas, monospace; font-size: 12px; }
`;

export interface Section {
  id: string;
  title: string;
  /** Markup (already escaped). */
  body: string;
}

export function page(title: string, subtitle: string, sections: readonly Section[]): string {
  const nav = sections.map((s) => `<a href="#${esc(s.id)}">${esc(s.title)}</a>`).join("");
  const body = sections.map((s) => `<section id="${esc(s.id)}"><h2>${esc(s.title)}</h2>${s.body}</section>`).join("\n");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
<header><h1>${esc(title)}</h1><p>${esc(subtitle)}</p></header>
<nav>${nav}</nav>
<main>
${body}
</main>
</body>
</html>
`;
}

export type Cell = string | number | { html: string; className?: string } | undefined;

/** A number with four decimals (or "—"), as metrics are shown elsewhere in bertune. */
export function fmt(v: number | undefined, digits = 4): string {
  if (v === undefined || !Number.isFinite(v)) return "—";
  if (v !== 0 && Math.abs(v) < 1e-3) return v.toExponential(2);
  return Number.isInteger(v) ? String(v) : v.toFixed(digits);
}

function cell(c: Cell, tag: "td" | "th"): string {
  if (c === undefined) return `<${tag}>—</${tag}>`;
  if (typeof c === "number") return `<${tag} class="n">${esc(fmt(c))}</${tag}>`;
  if (typeof c === "string") return `<${tag}>${esc(c)}</${tag}>`;
  return `<${tag}${c.className ? ` class="${esc(c.className)}"` : ""}>${c.html}</${tag}>`;
}

export function table(headers: readonly string[], rows: readonly (readonly Cell[])[], className?: string): string {
  const head = `<tr>${headers.map((h) => cell(h, "th")).join("")}</tr>`;
  const body = rows.map((r) => `<tr>${r.map((c) => cell(c, "td")).join("")}</tr>`).join("");
  return `<table${className ? ` class="${esc(className)}"` : ""}><thead>${head}</thead><tbody>${body}</tbody></table>`;
}

/** A score in [0, 1] with a proportional bar behind it. */
export function barCell(v: number, color = "#b6e3ff"): Cell {
  const pct = Math.max(0, Math.min(100, v * 100)).toFixed(1);
  return { className: "n bar", html: `<span style="display:inline-block;min-width:64px;background:linear-gradient(to right, ${color} ${pct}%, transparent ${pct}%)">${esc(Number.isFinite(v) ? v.toFixed(4) : "—")}</span>` };
}

export function figure(svg: string, caption?: string): string {
  return `<figure class="chart">${svg}${caption ? `<figcaption>${esc(caption)}</figcaption>` : ""}</figure>`;
}

export function cards(items: readonly [string, string][]): string {
  return `<div class="cards">${items.map(([k, v]) => `<div class="card"><div class="k">${esc(k)}</div><div class="v">${esc(v)}</div></div>`).join("")}</div>`;
}
