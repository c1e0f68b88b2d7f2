/**
 * Which Parquet files of a Hub data set repo make up each split, the way `datasets` decides it:
 *   1. the card's `configs:` metadata (each config's `data_files`: split → glob patterns), when it lists Parquet files;
 *   2. else the naming conventions: a split keyword as a word of the path (`data/train-00000-of-00001.parquet`,
 *      `{config}/{split}/0000.parquet` as in the Hub's refs/convert/parquet branch, `{config}/partial-{split}/…`,
 *      the older `{config}/{name}-{split}.parquet`), with a first folder other than data/ naming a config.
 * Pure functions over file lists, so that the same choice is made online (API listing) and offline (cache listing).
 */
import { BertuneError } from "../errors.js";
import { SPLIT_NAMES, type SplitName } from "./types.js";

export type SplitFiles = Partial<Record<SplitName, string[]>>;

export interface ParquetLayout {
  /** The config chosen (undefined for a repo with a single unnamed one). */
  config?: string;
  files: SplitFiles;
}

/** Words that name each split in file names, as `datasets` knows them. */
const SPLIT_KEYWORDS: Record<SplitName, readonly string[]> = {
  train: ["train", "training"],
  validation: ["validation", "valid", "dev", "val"],
  test: ["test", "testing", "eval", "evaluation"],
};

/** The split a `data_files` split name means ("validation", "dev", ...), or undefined (e.g. "unsupervised"). */
export function splitOfName(name: string): SplitName | undefined {
  const n = name.toLowerCase();
  return SPLIT_NAMES.find((s) => SPLIT_KEYWORDS[s].includes(n));
}

/** The split whose keyword is a word of `path` (words are separated by "/", "-", ".", "_", " " and digits). */
export function splitOfPath(path: string): SplitName | undefined {
  const words = new Set(path.toLowerCase().split(/[/\-._ 0-9]+/));
  return SPLIT_NAMES.find((s) => SPLIT_KEYWORDS[s].some((k) => words.has(k)));
}

/** Glob (`*`, `**`, `?`) → RegExp over repo paths. */
export function globToRegExp(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "*" && glob[i + 1] === "*") {
      re += glob[i + 2] === "/" ? "(?:.*/)?" : ".*";
      i += glob[i + 2] === "/" ? 2 : 1;
    } else if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

interface CardConfig {
  name: string;
  isDefault: boolean;
  dataFiles: { split: string; patterns: string[] }[];
}

const asStrings = (v: unknown): string[] => (typeof v === "string" ? [v] : Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);

/** The `configs:` entries of a card's metadata (as the Hub's API returns it in cardData). */
export function cardConfigs(cardData: Record<string, unknown> | undefined): CardConfig[] {
  const raw = cardData?.configs;
  if (!Array.isArray(raw)) return [];
  const out: CardConfig[] = [];
  for (const c of raw) {
    const entry = c as { config_name?: unknown; default?: unknown; data_files?: unknown } | null;
    if (!entry || typeof entry !== "object") continue;
    const name = typeof entry.config_name === "string" ? entry.config_name : "default";
    const df = entry.data_files;
    const dataFiles =
      Array.isArray(df) && df.some((d) => d && typeof d === "object")
        ? df
            .filter((d): d is { split?: unknown; path?: unknown } => !!d && typeof d === "object")
            .map((d) => ({ split: typeof d.split === "string" ? d.split : "train", patterns: asStrings(d.path) }))
        : asStrings(df).length > 0
          ? [{ split: "train", patterns: asStrings(df) }]
          : [];
    out.push({ name, isDefault: entry.default === true, dataFiles });
  }
  return out;
}

function severalConfigs(repo: string, names: string[]): BertuneError {
  return new BertuneError(
    `data set ${repo} has several configurations (${names.join(", ")}); say which one to load`,
    `e.g. --dataset hub:${repo}:${names[0]}`,
  );
}

function unknownConfig(repo: string, config: string, names: string[]): BertuneError {
  return new BertuneError(
    `data set ${repo} has no configuration "${config}"${names.length > 0 ? `; it has ${names.join(", ")}` : ""}`,
    names.length > 0 ? `e.g. --dataset hub:${repo}:${names[0]}` : `load it without a configuration: --dataset hub:${repo}`,
  );
}

function sortFiles(files: SplitFiles): SplitFiles {
  for (const s of SPLIT_NAMES) files[s]?.sort();
  return files;
}

function byCard(parquet: string[], configs: CardConfig[], repo: string, config: string | undefined): ParquetLayout | undefined {
  let chosen: CardConfig | undefined;
  if (config !== undefined) {
    chosen = configs.find((c) => c.name === config);
    if (!chosen) throw unknownConfig(repo, config, configs.map((c) => c.name));
  } else {
    chosen = configs.find((c) => c.isDefault) ?? (configs.length === 1 ? configs[0] : configs.find((c) => c.name === "default"));
    if (!chosen) throw severalConfigs(repo, configs.map((c) => c.name));
  }
  const files: SplitFiles = {};
  for (const { split, patterns } of chosen.dataFiles) {
    const s = splitOfName(split);
    if (!s) continue;
    const res = patterns.map(globToRegExp);
    const hits = parquet.filter((p) => res.some((re) => re.test(p)));
    if (hits.length > 0) files[s] = [...(files[s] ?? []), ...hits];
  }
  if (Object.keys(files).length === 0) return undefined; // its data files are not Parquet: try the conversion
  return { config: chosen.name, files: sortFiles(files) };
}

function byNames(parquet: string[], repo: string, config: string | undefined): ParquetLayout {
  // A first folder that is neither data/ nor a split name names a config.
  const configOf = (p: string): string | undefined => {
    const parts = p.split("/");
    if (parts.length < 2 || parts[0] === "data" || splitOfName(parts[0]) !== undefined) return undefined;
    return parts[0];
  };
  const configs = [...new Set(parquet.map(configOf).filter((c): c is string => c !== undefined))].sort();
  let chosen: string | undefined;
  let pool: string[];
  if (config !== undefined) {
    if (!configs.includes(config)) throw unknownConfig(repo, config, configs);
    chosen = config;
    pool = parquet.filter((p) => configOf(p) === config);
  } else {
    const loose = parquet.filter((p) => configOf(p) === undefined);
    if (loose.length > 0 || configs.length === 0) pool = loose;
    else if (configs.length === 1 || configs.includes("default")) {
      chosen = configs.length === 1 ? configs[0] : "default";
      pool = parquet.filter((p) => configOf(p) === chosen);
    } else throw severalConfigs(repo, configs);
  }
  const files: SplitFiles = {};
  for (const p of pool) {
    const s = splitOfPath(chosen !== undefined ? p.slice(chosen.length + 1) : p);
    if (s) (files[s] ??= []).push(p);
  }
  const layout: ParquetLayout = { files: sortFiles(files) };
  if (chosen !== undefined) layout.config = chosen;
  return layout;
}

/**
 * The Parquet files per split among `paths` (a repo's files). Throws when the config asked for does not exist
 * or when several configs exist and none is the default; returns empty `files` when there are no Parquet files.
 */
export function pickParquetFiles(
  paths: string[],
  opts: { repo: string; config?: string; cardData?: Record<string, unknown> },
): ParquetLayout {
  const parquet = paths.filter((p) => p.toLowerCase().endsWith(".parquet"));
  if (parquet.length === 0) return { files: {} };
  const configs = cardConfigs(opts.cardData);
  if (configs.length > 0) {
    const fromCard = byCard(parquet, configs, opts.repo, opts.config);
    if (fromCard) return fromCard;
  }
  return byNames(parquet, opts.repo, opts.config);
}
