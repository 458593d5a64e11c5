/**
 * Polls `fn` until it returns something other than undefined, or fails after `ms`: a bound
 * against a hang, generous enough for a machine that other work slows down several times.
 */
export async function until<T>(fn: () => T | undefined | Promise<T | undefined>, ms = 120_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}
