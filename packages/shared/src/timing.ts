/** Rejects with `onTimeout()` when `p` has not settled within `ms`. */
export function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(onTimeout()), ms)));
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** "ok", or "error: <reason>", within `ms` whatever the check does (readiness probes). */
export function probe(check: () => Promise<unknown>, ms: number): Promise<string> {
  return withTimeout(check(), ms, () => new Error(`no answer within ${ms} ms`)).then(
    () => 'ok',
    (err: unknown) => `error: ${(err as Error).message}`,
  );
}
