import { vi } from "vitest";
import { tempDir } from "./fixtures.js";

/** Keep the user's Hugging Face environment (token, token file, offline flag, endpoint, cache) out of a test. */
export function isolateHubEnv(): void {
  vi.stubEnv("HF_TOKEN", "");
  vi.stubEnv("HF_TOKEN_PATH", "");
  vi.stubEnv("HF_HOME", tempDir("bertune-hfhome-"));
  vi.stubEnv("HF_HUB_OFFLINE", "");
  vi.stubEnv("HF_HUB_CACHE", "");
  vi.stubEnv("HF_ENDPOINT", "");
}
