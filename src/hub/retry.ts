/**
 * Retrying requests the Hub turned away for now: 429 (rate limit) and 503 (busy). The wait honours
 * `Retry-After` (seconds or an HTTP date), else backs off exponentially; both are bounded so that a command
 * never hangs for long: past the bounds the last answer is returned and the caller reports it.
 * A refused request was not processed, so resending it (even a POST commit) is safe.
 */

export interface RetryPolicy {
  /** Retries after the first attempt (default 5). */
  maxRetries?: number;
  /** First backoff when the answer has no Retry-After, doubled each time (default 1000 ms). */
  baseDelayMs?: number;
  /** The longest single wait; a Retry-After beyond it ends the retries at once (default 60 s). */
  maxDelayMs?: number;
  /** Told before each wait (for a log line). */
  onRetry?: (info: { status: number; attempt: number; delayMs: number }) => void;
  /** Injected in tests. */
  sleep?: (ms: number) => Promise<void>;
}

const RETRY_STATUSES = new Set([429, 503]);

/** Milliseconds a `Retry-After` header asks for; undefined when absent or unreadable. */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const date = Date.parse(v);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

const defaultSleep = (ms: number) => new Promise<void>((ok) => setTimeout(ok, ms));

/**
 * `send()` until the answer is not a 429/503 or the policy's bounds are reached; returns the last answer.
 * `send` must build a fresh request each time (bodies are Blobs, strings or buffers, which can be resent).
 */
export async function withRetry(send: () => Promise<Response>, policy: RetryPolicy = {}): Promise<Response> {
  const maxRetries = policy.maxRetries ?? 5;
  const base = policy.baseDelayMs ?? 1000;
  const maxDelay = policy.maxDelayMs ?? 60_000;
  const sleep = policy.sleep ?? defaultSleep;
  for (let attempt = 1; ; attempt++) {
    const res = await send();
    if (!RETRY_STATUSES.has(res.status) || attempt > maxRetries) return res;
    const asked = retryAfterMs(res.headers.get("retry-after"));
    if (res.status === 503 && asked === undefined) return res; // a plain 503 is an outage, not a queue
    const delayMs = asked ?? Math.min(base * 2 ** (attempt - 1), maxDelay);
    if (delayMs > maxDelay) return res;
    await res.body?.cancel().catch(() => undefined);
    policy.onRetry?.({ status: res.status, attempt, delayMs });
    await sleep(delayMs);
  }
}

/** A `fetch` that retries as {@link withRetry} does (for clients such as @huggingface/hub that take a fetch). */
export function retryingFetch(policy: RetryPolicy = {}, base: typeof fetch = fetch): typeof fetch {
  return (input, init) => withRetry(() => base(input, init), policy);
}
