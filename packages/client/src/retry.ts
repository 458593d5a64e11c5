/** How the client retries: attempts after the first, and the longest wait it accepts. */
export interface RetryPolicy {
  retries: number;
  /** A Retry-After longer than this is not waited for: the error goes to the caller. */
  maxWaitS: number;
  /** Waits (injectable, so that tests need no clock). */
  sleep: (ms: number) => Promise<void>;
}

const RETRIED = new Set([429, 503]);

/** Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), or null. */
export function retryAfterSeconds(header: string | null, nowMs = Date.now()): number | null {
  if (header === null || header.trim() === '') return null;
  if (/^\d+$/.test(header.trim())) return Number(header.trim());
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - nowMs) / 1000));
}

/**
 * A fetch that repeats a request refused with 429 or 503 and a Retry-After, after waiting
 * that long: Spotter answers those before it admits anything, so a repeat cannot make a second
 * job. A network failure is repeated (after 0.5, 1, 2 s ...) only where a repeat is harmless:
 * GET, HEAD, DELETE, or a request that carries an Idempotency-Key.
 */
export function retryingFetch(base: typeof fetch, policy: RetryPolicy): (request: Request) => Promise<Response> {
  return async (request) => {
    const safe = ['GET', 'HEAD', 'DELETE'].includes(request.method) || request.headers.has('idempotency-key');
    for (let attempt = 0; ; attempt++) {
      const last = attempt >= policy.retries;
      let res: Response;
      try {
        res = await base(last ? request : request.clone());
      } catch (err) {
        if (last || !safe) throw err;
        await policy.sleep(500 * 2 ** attempt);
        continue;
      }
      const wait = RETRIED.has(res.status) ? retryAfterSeconds(res.headers.get('retry-after')) : null;
      if (last || wait === null || wait > policy.maxWaitS) return res;
      await res.body?.cancel();
      await policy.sleep(wait * 1000);
    }
  };
}
