import { homedir } from "node:os";
import { join } from "node:path";

/**
 * Where bertune keeps what it computes once: $BERTUNE_CACHE, else next to the Hugging Face
 * cache ($HF_HOME/bertune, default ~/.cache/huggingface/bertune).
 */
export function bertuneCacheDir(): string {
  if (process.env.BERTUNE_CACHE) return process.env.BERTUNE_CACHE;
  const hfHome = process.env.HF_HOME ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "huggingface");
  return join(hfHome, "bertune");
}
