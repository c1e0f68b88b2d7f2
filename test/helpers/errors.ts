import { expect } from "vitest";
import { BertuneError } from "../../src/errors.js";

/**
 * The BertuneError that a promise rejects with, or that a function throws (sync or async);
 * fails the test if it succeeds or throws anything else.
 */
export async function errorOf(p: Promise<unknown> | (() => unknown)): Promise<BertuneError> {
  try {
    await (typeof p === "function" ? p() : p);
  } catch (e) {
    expect(e).toBeInstanceOf(BertuneError);
    return e as BertuneError;
  }
  throw new Error("expected a BertuneError");
}

/** The BertuneError that `f` throws synchronously, as { message, hint }; fails the test otherwise. */
export function refusal(f: () => unknown): { message: string; hint: string | undefined } {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(BertuneError);
    return { message: (e as BertuneError).message, hint: (e as BertuneError).hint };
  }
  throw new Error("expected a BertuneError, but nothing was thrown");
}
