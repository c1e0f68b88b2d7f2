/** Tiny helpers for writing SVG and HTML as strings: escaping, numbers, elements. */

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Escape text for element content and attribute values (HTML and XML alike). */
export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

/** A coordinate with at most two decimals, never "-0", so the markup stays short and stable. */
export function num(v: number): string {
  const r = Math.round(v * 100) / 100;
  return Object.is(r, -0) ? "0" : String(r);
}

export type Attrs = Record<string, string | number | undefined>;

function attrs(a: Attrs): string {
  return Object.entries(a)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${typeof v === "number" ? num(v) : esc(v as string)}"`)
    .join("");
}

/** An element; `children` is markup (already escaped), undefined makes it self-closing. */
export function el(name: string, a: Attrs = {}, children?: string): string {
  return children === undefined ? `<${name}${attrs(a)}/>` : `<${name}${attrs(a)}>${children}</${name}>`;
}

/** A text element whose content is escaped. */
export function text(x: number, y: number, content: string, a: Attrs = {}): string {
  return el("text", { x, y, ...a }, esc(content));
}

/** Shorten a label for an axis, keeping the start (the full name goes in a tooltip). */
export function shorten(s: string, max: number): string {
  const chars = [...s];
  return chars.length <= max ? s : chars.slice(0, Math.max(1, max - 1)).join("") + "…";
}

/** Rough width of text in the charts' sans-serif font, for layout without measuring. */
export function textWidth(s: string, fontSize: number): number {
  return [...s].length * fontSize * 0.6;
}
