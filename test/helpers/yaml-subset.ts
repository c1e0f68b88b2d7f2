/**
 * A strict reader for the YAML subset model cards use (block mappings and sequences, `- key: value` items,
 * plain and double-quoted scalars, `[]`/`{}`), and for the `---` front matter around it. It throws on anything
 * outside the subset (tabs, flow collections with content, anchors, block scalars, bad indentation), so a test
 * that parses a card with it checks that the card stays within what every YAML reader takes the same way.
 */

export type Yaml = string | number | boolean | null | Yaml[] | { [key: string]: Yaml };

interface Line {
  indent: number;
  text: string;
  no: number;
}

function scalar(raw: string, no: number): Yaml {
  const s = raw.trim();
  if (s.startsWith('"')) {
    try {
      return JSON.parse(s) as string;
    } catch {
      throw new Error(`line ${no}: bad double-quoted string ${s}`);
    }
  }
  if (s === "[]") return [];
  if (s === "{}") return {};
  if (/^[[{'&*!|>%@`]/.test(s) || s.includes(": ") || s.includes(" #")) throw new Error(`line ${no}: outside the subset: ${s}`);
  if (s === "null" || s === "~") return null;
  if (s === "true" || s === "false") return s === "true";
  if (/^(yes|no|on|off|y|n)$/i.test(s)) throw new Error(`line ${no}: ambiguous boolean ${s} (YAML 1.1 vs 1.2)`);
  if (/^-?\d+$/.test(s)) return Number(s);
  // YAML 1.1 floats need a dot (1.0e-08); YAML 1.2 takes those too.
  if (/^-?\d+\.\d*(e[-+]\d+)?$/i.test(s)) return Number(s);
  if (/^[-+]?(\.\d|\d)/.test(s)) throw new Error(`line ${no}: number-like plain scalar ${s} reads differently in YAML 1.1 and 1.2`);
  return s;
}

function key(raw: string, no: number): string {
  const k = scalar(raw, no);
  if (typeof k !== "string") throw new Error(`line ${no}: mapping keys must be strings`);
  return k;
}

/** Split "key: value" / "key:" at the first ": " outside quotes. */
function splitKey(text: string): [string, string] | undefined {
  let inQuote = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"' && text[i - 1] !== "\\") inQuote = !inQuote;
    if (!inQuote && c === ":" && (i === text.length - 1 || text[i + 1] === " ")) return [text.slice(0, i), text.slice(i + 1).trim()];
  }
  return undefined;
}

function parseBlock(lines: Line[], start: number, indent: number): [Yaml, number] {
  const first = lines[start];
  if (first.text.startsWith("- ") || first.text === "-") {
    const out: Yaml[] = [];
    let i = start;
    while (i < lines.length && lines[i].indent === indent && lines[i].text.startsWith("-")) {
      const rest = lines[i].text.slice(1).trimStart();
      if (rest === "") {
        const [v, next] = parseBlock(lines, i + 1, lines[i + 1].indent);
        out.push(v);
        i = next;
      } else if (splitKey(rest) && !rest.startsWith('"')) {
        // "- key: value": a mapping whose first line shares the dash's line
        const inner = [{ indent: indent + 2, text: rest, no: lines[i].no }, ...lines.slice(i + 1)];
        const [v, consumed] = parseBlock(inner, 0, indent + 2);
        out.push(v);
        i = i + consumed;
      } else {
        out.push(scalar(rest, lines[i].no));
        i++;
      }
    }
    return [out, i];
  }
  const out: { [key: string]: Yaml } = {};
  let i = start;
  while (i < lines.length && lines[i].indent === indent) {
    const kv = splitKey(lines[i].text);
    if (!kv) throw new Error(`line ${lines[i].no}: expected "key: value", got ${lines[i].text}`);
    const k = key(kv[0], lines[i].no);
    if (k in out) throw new Error(`line ${lines[i].no}: duplicate key ${k}`);
    if (kv[1] !== "") {
      out[k] = scalar(kv[1], lines[i].no);
      i++;
      continue;
    }
    const next = lines[i + 1];
    if (!next || next.indent < indent || (next.indent === indent && !next.text.startsWith("-"))) {
      out[k] = null;
      i++;
      continue;
    }
    const [v, after] = parseBlock(lines, i + 1, next.indent);
    out[k] = v;
    i = after;
  }
  if (i < lines.length && lines[i].indent > indent) throw new Error(`line ${lines[i].no}: bad indentation`);
  return [out, i];
}

export function parseYamlSubset(text: string): Yaml {
  const lines: Line[] = [];
  text.split("\n").forEach((raw, k) => {
    if (raw.includes("\t")) throw new Error(`line ${k + 1}: tab`);
    if (raw.trim() === "" || raw.trim().startsWith("#")) return;
    lines.push({ indent: raw.length - raw.trimStart().length, text: raw.trim(), no: k + 1 });
  });
  if (lines.length === 0) return null;
  const [v, end] = parseBlock(lines, 0, lines[0].indent);
  if (end !== lines.length) throw new Error(`line ${lines[end].no}: unexpected content`);
  return v;
}

/** A card's front matter (parsed) and Markdown body; throws unless it starts with a `---` … `---` block. */
export function parseFrontMatter(card: string): { meta: { [key: string]: Yaml }; body: string } {
  const m = /^---\n([\s\S]*?)\n---\n([\s\S]*)$/.exec(card);
  if (!m) throw new Error("no front matter: the card must start with ---, YAML, ---");
  const meta = parseYamlSubset(m[1]);
  if (!meta || typeof meta !== "object" || Array.isArray(meta)) throw new Error("front matter is not a mapping");
  return { meta, body: m[2] };
}
