/** Model names: legacy (org-less) Hub names, id validation, and the transformers.js ONNX mirror. */
import { BertuneError } from "../errors.js";

/**
 * Bare legacy names the Hub moved under an organisation; the Hub still answers for the old name with the
 * new canonical id. The table saves a request and lets offline runs find the cached copy.
 */
export const LEGACY_MODELS: Readonly<Record<string, string>> = {
  "bert-base-uncased": "google-bert/bert-base-uncased",
  "bert-base-cased": "google-bert/bert-base-cased",
  "bert-large-uncased": "google-bert/bert-large-uncased",
  "bert-large-cased": "google-bert/bert-large-cased",
  "bert-base-multilingual-cased": "google-bert/bert-base-multilingual-cased",
  "bert-base-multilingual-uncased": "google-bert/bert-base-multilingual-uncased",
  "bert-base-chinese": "google-bert/bert-base-chinese",
  "distilbert-base-uncased": "distilbert/distilbert-base-uncased",
  "distilbert-base-cased": "distilbert/distilbert-base-cased",
  "distilbert-base-multilingual-cased": "distilbert/distilbert-base-multilingual-cased",
  "distilbert-base-uncased-finetuned-sst-2-english": "distilbert/distilbert-base-uncased-finetuned-sst-2-english",
  "roberta-base": "FacebookAI/roberta-base",
  "roberta-large": "FacebookAI/roberta-large",
};

/** The canonical id for a legacy name from the table, or the name unchanged. */
export function canonicalFromTable(repo: string): string {
  return LEGACY_MODELS[repo] ?? repo;
}

/**
 * Check that `repo` is a valid Hub model id (`org/name` or a bare legacy name), with the rules huggingface_hub
 * applies: word characters, `-` and `.`, at most 96 per part, no `--` or `..`.
 */
export function checkRepoId(repo: string): string {
  const ok =
    /^([\w.-]{1,96}\/)?[\w.-]{1,96}$/.test(repo) &&
    !repo.includes("--") &&
    !repo.includes("..") &&
    !repo.split("/").some((p) => /^[-.]|[-.]$/.test(p)) &&
    !repo.endsWith(".git");
  if (!ok) {
    throw new BertuneError(
      `"${repo}" is neither a model directory nor a Hub model id`,
      "Hub ids have the form org/name (e.g. google-bert/bert-base-uncased); a local model must be an existing directory",
    );
  }
  return repo;
}

/** The transformers.js conversion mirror holding an ONNX export: `google-bert/bert-base-uncased` → `Xenova/bert-base-uncased`. */
export function onnxMirrorId(canonicalId: string): string | undefined {
  const slash = canonicalId.indexOf("/");
  if (slash >= 0 && canonicalId.slice(0, slash) === "Xenova") return undefined;
  return `Xenova/${canonicalId.slice(slash + 1)}`;
}
