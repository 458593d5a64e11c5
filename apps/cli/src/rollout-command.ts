import type { Config } from '@spotter/config';

/** `spotter rollout ...`: talks to the API (SPOTTER_URL, SPOTTER_API_KEY). */
export async function rolloutCommand(args: string[], flags: { every?: string | undefined; share?: string | undefined; force?: boolean | undefined }, config: Config) {
  const [action, candidate] = args;
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${config.client.url}${path}`, {
      method,
      headers: {
        'content-type': 'application/json',
        ...(config.client.apiKey ? { authorization: `Bearer ${config.client.apiKey}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await res.json()) as { error?: { message: string; gate?: unknown } };
    // A refused promotion carries the gate's table: show it.
    if (!res.ok) throw new Error(`${res.status}: ${json.error?.message ?? 'request failed'}${json.error?.gate ? `\n${JSON.stringify(json.error.gate, null, 2)}` : ''}`);
    return json;
  };
  switch (action) {
    case 'status':
      return call('GET', '/v1/rollout');
    case 'shadow':
    case 'canary':
      if (!candidate) throw new Error(`usage: spotter rollout ${action} <candidate model>`);
      return call('POST', '/v1/rollout', {
        mode: action,
        candidate,
        ...(action === 'shadow' && flags.every ? { every: Number(flags.every) } : {}),
        ...(action === 'canary' && flags.share ? { share: Number(flags.share) } : {}),
      });
    case 'promote':
      return call('POST', '/v1/rollout/promote', flags.force ? { force: true } : {});
    case 'rollback':
      return call('POST', '/v1/rollout/rollback');
    default:
      throw new Error('usage: spotter rollout status | shadow <model> [--every N] | canary <model> [--share S] | promote [--force] | rollback');
  }
}
