import { expect, vi } from "vitest";
import { BertuneError } from "../../src/errors.js";
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

/** The BertuneError a promise rejects with (fails the test if it resolves or throws anything else). */
export async function rejection(p: Promise<unknown>): Promise<BertuneError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(BertuneError);
  return e as BertuneError;
}
