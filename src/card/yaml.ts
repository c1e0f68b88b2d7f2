/**
 * A small YAML emitter for model card metadata: block mappings and sequences of plain data. Strings are written
 * plain only when every YAML reader takes them back as the same string (no reserved words, nothing number-like,
 * no indicators); otherwise double-quoted with JSON escapes, which YAML reads the same. Numbers are written so
 * that YAML 1.1 readers (PyYAML, which huggingface_hub uses) and YAML 1.2 ones both read a float: "1.0e-08",
 * never "1e-8". Non-finite numbers are refused: the caller leaves such metrics out.
 */

export type YamlValue = string | number | boolean | null | YamlValue[] | { [key: string]: YamlValue };

const RESERVED = /^(?:true|false|yes|no|on|off|y|n|null|~)$/i;
const PLAIN = /^[A-Za-z_][A-Za-z0-9_ ./()+-]*$/;

/** A string as a YAML scalar. */
export function yamlString(s: string): string {
  if (PLAIN.test(s) && !RESERVED.test(s) && !s.endsWith(" ") && !s.includes(" #")) return s;
  return JSON.stringify(s);
}

/** A finite number as a YAML scalar both YAML 1.1 and 1.2 read back as the same number. */
export function yamlNumber(n: number): string {
  if (!Number.isFinite(n)) throw new Error(`YAML metadata cannot hold ${n}`);
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return String(n);
  const s = String(n);
  const m = /^(-?\d+)(\.\d+)?e([+-])(\d+)$/.exec(s);
  if (!m) return s; // plain decimal such as 0.8125
  return `${m[1]}${m[2] ?? ".0"}e${m[3]}${m[4].padStart(2, "0")}`;
}

function scalar(v: string | number | boolean | null): string {
  if (v === null) return "null";
  if (typeof v === "boolean") return v ? "true" : "false";
  if (typeof v === "number") return yamlNumber(v);
  return yamlString(v);
}

const isMap = (v: YamlValue): v is { [key: string]: YamlValue } => typeof v === "object" && v !== null && !Array.isArray(v);

/** Lines of `value` (a mapping or sequence) indented by `indent` spaces. */
function block(value: YamlValue[] | { [key: string]: YamlValue }, indent: number): string[] {
  const pad = " ".repeat(indent);
  const lines: string[] = [];
  if (Array.isArray(value)) {
    for (const item of value) {
      if ((isMap(item) && Object.keys(item).length > 0) || (Array.isArray(item) && item.length > 0)) {
        const inner = block(item, indent + 2);
        lines.push(`${pad}- ${inner[0].slice(indent + 2)}`, ...inner.slice(1));
      } else lines.push(`${pad}- ${inline(item)}`);
    }
    return lines;
  }
  for (const [key, v] of Object.entries(value)) {
    const k = yamlString(key);
    if ((isMap(v) && Object.keys(v).length > 0) || (Array.isArray(v) && v.length > 0)) {
      // Sequences under a key sit at the key's indentation, as most YAML in model cards does.
      lines.push(`${pad}${k}:`, ...block(v, Array.isArray(v) ? indent : indent + 2));
    } else lines.push(`${pad}${k}: ${inline(v)}`);
  }
  return lines;
}

function inline(v: YamlValue): string {
  if (Array.isArray(v)) return "[]";
  if (isMap(v)) return "{}";
  return scalar(v);
}

/** A YAML document body (without the `---` markers) for a mapping. */
export function toYaml(value: { [key: string]: YamlValue }): string {
  return block(value, 0).join("\n") + "\n";
}
