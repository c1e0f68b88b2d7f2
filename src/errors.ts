/**
 * An error the user can fix: printed as one plain line (plus an optional hint) by the CLI,
 * which exits with code 2. Anything else is a bug and keeps its stack trace.
 */
export class BertuneError extends Error {
  readonly hint?: string;
  constructor(message: string, hint?: string) {
    super(message);
    this.name = "BertuneError";
    this.hint = hint;
  }
}

export function isBertuneError(e: unknown): e is BertuneError {
  return e instanceof BertuneError;
}
