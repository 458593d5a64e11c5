import type { Config } from '@spotter/config';

/** The HTTP API as the command line reaches it: SPOTTER_URL and SPOTTER_API_KEY, or --url and --key. */
export function apiClient(config: Config, flags: { url?: string | undefined; key?: string | undefined } = {}) {
  const base = (flags.url ?? config.client.url).replace(/\/$/, '');
  const key = flags.key ?? config.client.apiKey;
  const auth: Record<string, string> = key ? { authorization: `Bearer ${key}` } : {};
  /** A request; a non-2xx answer throws with the API's message. */
  const request = async (method: string, path: string, init: RequestInit & { headers?: Record<string, string> } = {}) => {
    const res = await fetch(`${base}${path}`, { ...init, method, headers: { ...auth, ...init.headers } });
    if (!res.ok) {
      const body = (await res.json().catch(() => null)) as { error?: { code: string; message: string; gate?: unknown } } | null;
      // A refused promotion carries the gate's table: show it.
      const gate = body?.error?.gate ? `\n${JSON.stringify(body.error.gate, null, 2)}` : '';
      throw Object.assign(new Error(`${res.status}: ${body?.error?.message ?? res.statusText}${gate}`), { status: res.status, code: body?.error?.code });
    }
    return res;
  };
  return {
    base,
    request,
    json: async <T = unknown>(method: string, path: string, body?: unknown): Promise<T> =>
      (await (await request(method, path, body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } })).json()) as T,
  };
}
export type ApiClient = ReturnType<typeof apiClient>;
