import type { ApiClient } from './api-client.js';

/** `spotter rollout ...`: talks to the API (SPOTTER_URL, SPOTTER_API_KEY: an admin key). */
export async function rolloutCommand(api: ApiClient, args: string[], flags: { every?: string | undefined; share?: string | undefined; force?: boolean | undefined }) {
  const [action, candidate] = args;
  switch (action) {
    case 'status':
      return api.json('GET', '/v1/rollout');
    case 'shadow':
    case 'canary':
      if (!candidate) throw new Error(`usage: spotter rollout ${action} <candidate model>`);
      return api.json('POST', '/v1/rollout', {
        mode: action,
        candidate,
        ...(action === 'shadow' && flags.every ? { every: Number(flags.every) } : {}),
        ...(action === 'canary' && flags.share ? { share: Number(flags.share) } : {}),
      });
    case 'promote':
      return api.json('POST', '/v1/rollout/promote', flags.force ? { force: true } : {});
    case 'rollback':
      return api.json('POST', '/v1/rollout/rollback', {});
    default:
      throw new Error('usage: spotter rollout status | shadow <model> [--every N] | canary <model> [--share S] | promote [--force] | rollback');
  }
}
