import type { SpotterClient } from '@spotter/client';

/** `spotter rollout ...`: talks to the API (SPOTTER_URL, SPOTTER_API_KEY: an admin key). */
export async function rolloutCommand(client: SpotterClient, args: string[], flags: { every?: string | undefined; share?: string | undefined; force?: boolean | undefined }) {
  const [action, candidate] = args;
  switch (action) {
    case 'status':
      return (await client.api.GET('/v1/rollout')).data;
    case 'shadow':
    case 'canary':
      if (!candidate) throw new Error(`usage: spotter rollout ${action} <candidate model>`);
      return (
        await client.api.POST('/v1/rollout', {
          body: {
            mode: action,
            candidate,
            ...(action === 'shadow' && flags.every ? { every: Number(flags.every) } : {}),
            ...(action === 'canary' && flags.share ? { share: Number(flags.share) } : {}),
          } as never,
        })
      ).data;
    case 'promote':
      return (await client.api.POST('/v1/rollout/promote', { body: flags.force ? { force: true } : {} })).data;
    case 'rollback':
      return (await client.api.POST('/v1/rollout/rollback', {})).data;
    default:
      throw new Error('usage: spotter rollout status | shadow <model> [--every N] | canary <model> [--share S] | promote [--force] | rollback');
  }
}
